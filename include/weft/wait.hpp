// weft::wait and weft::as_completed: wait for some of several tasks (asyncio.wait), or take
// them one at a time in the order they end (asyncio.as_completed). Neither cancels a task.
//
//     auto [done, pending] = co_await weft::wait(std::move(tasks),
//                                                weft::return_when::first_completed);
//     auto [finished, late] = co_await weft::wait(tasks, weft::return_when::all_completed, 2s);
//
//     weft::as_completed stream(tasks);
//     while (stream.remaining() > 0) {
//         weft::task<int> t = co_await stream.next();   // done: t.result() is ready
//     }
//
// Both put one waiter node on each task's waiter list. A node whose task ends is an
// arrival; the arrivals and the awaiting coroutine's claim to be resumed share one word (an
// arrival_queue), so the arrival that satisfies the wait and a canceller race on that word
// and exactly one of them resumes the coroutine. Every node is removed from its list before
// its owner dies, which waits out an arrival still running. The argument is in
// docs/architecture.md ("wait and as_completed").
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <utility>
#include <vector>

#include <weft/detail/cancellation.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/resume_waiter.hpp>
#include <weft/detail/saturating_duration.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/detail/waiter_list.hpp>
#include <weft/errors.hpp>
#include <weft/task.hpp>
#include <weft/timeout.hpp>

namespace weft {

// When weft::wait resumes (asyncio's FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED).
enum class return_when { first_completed, first_exception, all_completed };

// What weft::wait yields: the tasks done when it resumed, and the others, in input order.
template <class T>
struct wait_result {
    std::vector<task<T>> done;
    std::vector<task<T>> pending;
};

template <class T>
class as_completed;

namespace detail {

// How an arrival resumes a wait that ends before all its tasks do: through one more trip
// through the ready queue, so the waiter runs after every task woken by the step that
// satisfied it (asyncio's waiter likewise resumes after the ready callbacks of that step),
// and `done` holds the tasks that ended in that step. The frame is made suspended; the
// first resume queues it again, the second hands over to the waiter and parks at the
// final suspension, where its owner destroys it.
class requeue_then_resume {
public:
    struct promise_type {
        promise_type(runtime& home, std::coroutine_handle<> waiter) noexcept
            : home(&home), waiter(waiter) {}

        requeue_then_resume get_return_object() noexcept {
            return requeue_then_resume(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_always initial_suspend() noexcept { return {}; }
        auto final_suspend() noexcept {
            struct to_waiter {
                bool await_ready() const noexcept { return false; }
                std::coroutine_handle<>
                await_suspend(std::coroutine_handle<promise_type> self) noexcept {
                    return self.promise().waiter;
                }
                void await_resume() const noexcept {}
            };
            return to_waiter{};
        }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }

        runtime* home;
        std::coroutine_handle<> waiter;
    };

    requeue_then_resume() noexcept = default;
    requeue_then_resume(requeue_then_resume&& other) noexcept
        : frame_(std::exchange(other.frame_, {})) {}
    requeue_then_resume& operator=(requeue_then_resume&& other) noexcept {
        std::swap(frame_, other.frame_);
        return *this;
    }
    ~requeue_then_resume() {
        if (frame_) {
            frame_.destroy();
        }
    }

    // What an arrival schedules.
    std::coroutine_handle<> handle() const noexcept { return frame_; }

private:
    explicit requeue_then_resume(std::coroutine_handle<promise_type> frame) noexcept
        : frame_(frame) {}

    std::coroutine_handle<promise_type> frame_;
};

// Behind whatever is ready on `home` now.
struct requeue_on {
    runtime* home;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> self) const noexcept { schedule(*home, self); }
    void await_resume() const noexcept {}
};

// The promise keeps `waiter`; the body only queues the frame once more.
inline requeue_then_resume resume_after_the_ready(runtime& home,
                                                  [[maybe_unused]] std::coroutine_handle<> waiter) {
    co_await requeue_on{&home};
}

// A waiter on one watched task's list. When the task ends it may become an arrival.
struct arrival_node : waiter_node {
    arrival_node* next_arrival = nullptr; // queued: the previous arrival; taken: the next one
    std::size_t index = 0;                // the task's position in the input
};

// The arrivals of one wait and the claim to resume its consumer (the awaiting coroutine),
// in one word:
//
//   0         nothing queued; the consumer is not suspending
//   arming    the consumer is setting up a suspension; nobody may resume it yet
//   armed     the consumer is suspended; whoever clears the flag resumes it
//   node      the newest queued arrival (linked to older ones); no flag
//
// A push replaces the flags with a node: the arrival that finds `armed` resumes the
// consumer, one that finds `arming` makes its arm() fail, so it does not suspend. A
// canceller clears a flag instead (withdraw()). Only the consumer sets flags, and only
// while no arrival is queued; only it takes arrivals.
class arrival_queue {
public:
    // `arming`: the queue belongs to a consumer that suspends once, already setting up.
    explicit arrival_queue(bool arming) noexcept : word_(arming ? arming_flag : 0) {}
    arrival_queue(const arrival_queue&) = delete;
    arrival_queue& operator=(const arrival_queue&) = delete;

    // The consumer: whom a canceller resumes, and on which runtime; the arrival that finds
    // it suspended schedules `wake` instead, which resumes it (the consumer itself unless
    // given).
    void set_consumer(std::coroutine_handle<> consumer, runtime& home,
                      std::coroutine_handle<> wake = {}) noexcept {
        consumer_ = consumer;
        home_ = &home;
        wake_ = wake ? wake : consumer;
    }

    // The consumer: starts setting up a suspension. False if an arrival is queued.
    bool begin() noexcept {
        std::uintptr_t idle = 0;
        // relaxed: `arming` publishes nothing (an arrival that clears it resumes nobody), and
        // a queued arrival found instead is read by take_all(), which acquires.
        return word_.compare_exchange_strong(idle, arming_flag, std::memory_order_relaxed);
    }

    // The consumer: finishes setting up. True if it suspends; false if an arrival or a
    // canceller cleared `arming` meanwhile.
    bool arm() noexcept {
        std::uintptr_t expected = arming_flag;
        // release: whoever clears `armed` reads consumer_ and home_ to resume the consumer.
        // relaxed on failure: the consumer does not suspend, and reads an arrival through
        // take_all() or a cancellation through leave_target(), both of which acquire.
        return word_.compare_exchange_strong(expected, armed_flag, std::memory_order_release,
                                             std::memory_order_relaxed);
    }

    // The consumer: gives up a suspension it began (a cancellation was pending).
    void abandon() noexcept {
        std::uintptr_t expected = arming_flag;
        // relaxed: nothing is published; on failure an arrival has already cleared the flag.
        word_.compare_exchange_strong(expected, 0, std::memory_order_relaxed);
    }

    // Any thread, once per node: queues the arrival; resumes the consumer if it was
    // suspended. Touches neither the queue nor the node after resuming the consumer.
    void push(arrival_node& node) noexcept {
        // relaxed: a first guess for the CAS, which decides.
        std::uintptr_t seen = word_.load(std::memory_order_relaxed);
        do {
            node.next_arrival = queued(seen);
            // release: the consumer that takes the node sees its link and index. acquire:
            // when it finds `armed`, the consumer_ and home_ stored before arm() are visible.
            // relaxed on failure: the next attempt links the node again.
        } while (!word_.compare_exchange_weak(seen, reinterpret_cast<std::uintptr_t>(&node),
                                              std::memory_order_acq_rel,
                                              std::memory_order_relaxed));
        if (seen == armed_flag) {
            schedule(*home_, wake_);
        }
    }

    // A canceller, holding the consumer's cancel target: takes the claim back if the
    // consumer is suspended (withdrawn: the canceller resumes it) or arming (it sees the
    // flag gone, does not suspend, and its suspension ends in cancelled_error: reported as
    // forwarded, which resumes nobody). too_late if an arrival cleared the flag first.
    interruption withdraw() noexcept {
        // relaxed: a first guess for the CAS, which decides.
        std::uintptr_t seen = word_.load(std::memory_order_relaxed);
        while (seen == armed_flag || seen == arming_flag) {
            // acquire: pairs with arm()'s release, so consumer_ and home_ are visible.
            if (word_.compare_exchange_weak(seen, 0, std::memory_order_acquire,
                                            std::memory_order_relaxed)) {
                if (seen == armed_flag) {
                    return {interruption::outcome::withdrawn, consumer_, home_};
                }
                return {interruption::outcome::forwarded};
            }
        }
        return {};
    }

    // The consumer: whether an arrival is queued. Only called while it sets no flag.
    bool empty() const noexcept {
        // relaxed: only the consumer takes arrivals, so one seen here is still there for
        // take_all(), which acquires.
        return word_.load(std::memory_order_relaxed) == 0;
    }

    // The consumer, while it sets no flag: takes every queued arrival, oldest first.
    arrival_node* take_all() noexcept {
        // acquire: the pushes are RMWs on this word, one release sequence, so the links and
        // indices of every node taken are visible.
        arrival_node* newest = queued(word_.exchange(0, std::memory_order_acquire));
        arrival_node* oldest = nullptr;
        while (newest != nullptr) {
            arrival_node* older = newest->next_arrival;
            newest->next_arrival = oldest;
            oldest = newest;
            newest = older;
        }
        return oldest;
    }

private:
    static constexpr std::uintptr_t arming_flag = 1;
    static constexpr std::uintptr_t armed_flag = 2;
    static constexpr std::uintptr_t flags = arming_flag | armed_flag;
    static_assert(alignof(arrival_node) > flags);

    static arrival_node* queued(std::uintptr_t word) noexcept {
        return reinterpret_cast<arrival_node*>(word & ~flags);
    }

    std::atomic<std::uintptr_t> word_;
    std::coroutine_handle<> consumer_;
    std::coroutine_handle<> wake_;
    runtime* home_ = nullptr;
};

// co_await weft::wait(...): one node per task, linked when the wait suspends and removed
// when it resumes. The arrivals that satisfy the condition are pushed on the queue; the
// first one resumes the awaiter (through requeue_then_resume unless all must end).
// Cancelling the awaiting task withdraws the wait.
template <class T>
class [[nodiscard]] wait_awaiter : public cancel_target {
public:
    wait_awaiter(std::vector<task<T>>&& tasks, return_when when)
        : tasks_(std::move(tasks)), when_(when) {
        for (const task<T>& each : tasks_) {
            if (!each) {
                throw invalid_state_error("weft::wait: a task in the vector is empty "
                                          "(default-constructed or moved from)");
            }
        }
    }
    // Movable until awaited, so a wait can be handed to create_task.
    wait_awaiter(wait_awaiter&& other) noexcept
        : tasks_(std::move(other.tasks_)), when_(other.when_) {}
    ~wait_awaiter() { stop_watching(); }

    bool await_ready() {
        if (awaited_) {
            throw invalid_state_error("a weft::wait can be awaited only once");
        }
        awaited_ = true;
        std::size_t done = 0;
        for (const task<T>& each : tasks_) {
            if (each.done()) {
                if (ends_wait(each)) {
                    return true;
                }
                ++done;
            }
        }
        return done == tasks_.size();
    }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) {
        runtime& home = require_running_runtime("weft::wait");
        // all_completed ends with the last task: nothing can end in the same step after it.
        if (when_ != return_when::all_completed) {
            resumer_ = resume_after_the_ready(home, awaiting);
        }
        arrivals_.set_consumer(awaiting, home, resumer_.handle());
        nodes_ = std::make_unique<watch_node[]>(tasks_.size());
        // Published while arming, before any node is linked: from here a canceller and
        // the arrivals race on the queue.
        strand_ = strand_of(awaiting);
        if (strand_ != nullptr) {
            interrupt = &on_cancel;
            if (!publish_target(*strand_, *this)) {
                return false; // a cancellation was pending: the wait ends in cancelled_error
            }
        }
        // relaxed: written before any node is linked; the lists' locks publish it.
        unfinished_.store(tasks_.size(), std::memory_order_relaxed);
        for (; linked_ < tasks_.size(); ++linked_) {
            watch_node& node = nodes_[linked_];
            node.index = linked_;
            node.owner = this;
            node.wake = &on_done;
            if (!completion_access::waiters(tasks_[linked_]).enqueue(node)) {
                arrive(node); // it ended since await_ready; the queue is still arming
            }
        }
        return arrivals_.arm();
    }

    wait_result<T> await_resume() {
        if (strand_ != nullptr && leave_target(*strand_, *this)) {
            throw cancelled_error();
        }
        stop_watching();
        wait_result<T> result;
        for (task<T>& each : tasks_) {
            (each.done() ? result.done : result.pending).push_back(std::move(each));
        }
        return result;
    }

private:
    struct watch_node : arrival_node {
        wait_awaiter* owner = nullptr;
    };

    // Whether the end of `ended` satisfies the wait on its own. As in asyncio, a task that
    // was cancelled does not satisfy first_exception.
    bool ends_wait(const task<T>& ended) const noexcept {
        if (when_ == return_when::first_completed) {
            return true;
        }
        const std::exception_ptr error = completion_access::result(ended).exception();
        return when_ == return_when::first_exception && error && !is_cancellation(error);
    }

    // Under the task's list lock, or on the awaiting thread while it arms.
    void arrive(watch_node& node) noexcept {
        // acq_rel: each arrival releases its task's end; the last one acquires them all
        // (the RMWs form one release sequence), and its push carries them to the awaiter,
        // which then sees every task done.
        const bool last = unfinished_.fetch_sub(1, std::memory_order_acq_rel) == 1;
        if (last || ends_wait(tasks_[node.index])) {
            arrivals_.push(node);
        }
    }
    static void on_done(waiter_node& node) noexcept {
        auto& self = static_cast<watch_node&>(node);
        self.owner->arrive(self);
    }

    static interruption on_cancel(cancel_target& target) noexcept {
        return static_cast<wait_awaiter&>(target).arrivals_.withdraw();
    }

    // Unlinks every node; when it returns, no arrival is running.
    void stop_watching() noexcept {
        for (std::size_t index = 0; index < linked_; ++index) {
            completion_access::waiters(tasks_[index]).remove(nodes_[index]);
        }
        linked_ = 0;
    }

    std::vector<task<T>> tasks_;
    std::unique_ptr<watch_node[]> nodes_;
    std::size_t linked_ = 0;      // nodes_[0, linked_) were enqueued
    requeue_then_resume resumer_; // first_completed and first_exception
    arrival_queue arrivals_{true};
    std::atomic<std::size_t> unfinished_{0};
    strand_word* strand_ = nullptr;
    return_when when_;
    bool awaited_ = false;
};

// co_await stream.next(): waits for the stream's next arrival. Cancelling the awaiting task
// withdraws the wait; the arrival stays queued for the next call.
template <class T>
class [[nodiscard]] as_completed_awaiter : public cancel_target {
public:
    explicit as_completed_awaiter(as_completed<T>& stream) noexcept : stream_(&stream) {}

    bool await_ready() const noexcept { return stream_->has_arrival(); }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) {
        arrival_queue& arrivals = stream_->arrivals_;
        arrivals.set_consumer(awaiting, require_running_runtime("weft::as_completed::next"));
        if (!arrivals.begin()) {
            return false; // a task ended since await_ready
        }
        strand_ = strand_of(awaiting);
        if (strand_ != nullptr) {
            interrupt = &on_cancel;
            if (!publish_target(*strand_, *this)) {
                arrivals.abandon(); // a cancellation was pending
                return false;
            }
        }
        return arrivals.arm();
    }

    task<T> await_resume() {
        if (strand_ != nullptr && leave_target(*strand_, *this)) {
            throw cancelled_error();
        }
        return stream_->take_arrival();
    }

private:
    static interruption on_cancel(cancel_target& target) noexcept {
        return static_cast<as_completed_awaiter&>(target).stream_->arrivals_.withdraw();
    }

    as_completed<T>* stream_;
    strand_word* strand_ = nullptr;
};

} // namespace detail

// Waits until `when` holds for `tasks`, then yields which are done and which are pending
// (asyncio.wait). It cancels nothing, and does not suspend if `when` already holds:
//   first_completed  any task is done;
//   first_exception  any task ended with an exception other than cancelled_error (as in
//                    asyncio, a cancelled task does not count), or all are done;
//   all_completed    every task is done.
// An empty vector yields two empty vectors at once; an empty task handle makes it throw
// invalid_state_error. Cancelling the awaiting task ends the wait with cancelled_error and
// leaves the tasks running. The result can be awaited once.
template <class T>
[[nodiscard]] detail::wait_awaiter<T> wait(std::vector<task<T>> tasks,
                                           return_when when = return_when::all_completed) {
    return detail::wait_awaiter<T>(std::move(tasks), when);
}

namespace detail {
template <class T>
coro<wait_result<T>> wait_at_most(std::vector<task<T>> tasks, return_when when,
                                  std::chrono::nanoseconds limit) {
    std::vector<task<T>> watched = tasks;
    try {
        co_return co_await wait_for(wait(std::move(tasks), when), limit);
    } catch (const timeout_error&) {
    }
    wait_result<T> result;
    for (task<T>& each : watched) {
        (each.done() ? result.done : result.pending).push_back(std::move(each));
    }
    co_return result;
}
} // namespace detail

// The same, but for at most `limit`: once it passes, yields the tasks done by then and the
// others as pending, without an error (asyncio.wait's timeout). A limit of zero or less
// yields at once what is done; one beyond the clock's range never passes; a NaN limit
// throws weft::invalid_argument. Empty handles are reported when the result is awaited.
template <class T, class Rep, class Period>
[[nodiscard]] coro<wait_result<T>> wait(std::vector<task<T>> tasks, return_when when,
                                        std::chrono::duration<Rep, Period> limit) {
    return detail::wait_at_most(std::move(tasks), when,
                                detail::saturating_nanoseconds(limit, "weft::wait"));
}

// The tasks in the order they end (asyncio.as_completed). Each co_await next() yields the
// next task to end, done, so its result() or exception() is ready; tasks that were done
// when the stream was made come first, in input order. Cancelling the task awaiting
// next() ends that await with cancelled_error; nothing is taken from the stream and no
// task is cancelled. One coroutine at a time reads a stream; it keeps its tasks' handles,
// is neither copied nor moved, and must outlive every next() awaited on it.
template <class T>
class as_completed {
public:
    // Throws invalid_state_error if a handle in `tasks` is empty.
    explicit as_completed(std::vector<task<T>> tasks) : tasks_(std::move(tasks)) {
        for (const task<T>& each : tasks_) {
            if (!each) {
                throw invalid_state_error("weft::as_completed: a task in the vector is empty "
                                          "(default-constructed or moved from)");
            }
        }
        nodes_ = std::make_unique<watch_node[]>(tasks_.size());
        for (std::size_t index = 0; index < tasks_.size(); ++index) {
            watch_node& node = nodes_[index];
            node.index = index;
            node.owner = this;
            node.wake = &on_done;
            if (!detail::completion_access::waiters(tasks_[index]).enqueue(node)) {
                arrivals_.push(node);
            }
        }
    }
    as_completed(const as_completed&) = delete;
    as_completed& operator=(const as_completed&) = delete;
    ~as_completed() {
        for (std::size_t index = 0; index < tasks_.size(); ++index) {
            detail::completion_access::waiters(tasks_[index]).remove(nodes_[index]);
        }
    }

    // How many tasks next() has yet to yield.
    std::size_t remaining() const noexcept { return tasks_.size() - yielded_; }

    // An awaitable yielding the next task to end. Throws invalid_state_error if
    // remaining() is 0.
    detail::as_completed_awaiter<T> next() {
        if (remaining() == 0) {
            throw invalid_state_error("weft::as_completed::next: every task was already "
                                      "yielded");
        }
        return detail::as_completed_awaiter<T>(*this);
    }

private:
    friend class detail::as_completed_awaiter<T>;

    struct watch_node : detail::arrival_node {
        as_completed* owner = nullptr;
    };
    static void on_done(detail::waiter_node& node) noexcept {
        auto& self = static_cast<watch_node&>(node);
        self.owner->arrivals_.push(self);
    }

    bool has_arrival() const noexcept { return taken_ != nullptr || !arrivals_.empty(); }

    // Yields the oldest arrival; one is queued or taken.
    task<T> take_arrival() {
        if (taken_ == nullptr) {
            taken_ = arrivals_.take_all();
        }
        const detail::arrival_node* next = taken_;
        taken_ = next->next_arrival;
        ++yielded_;
        return tasks_[next->index];
    }

    std::vector<task<T>> tasks_;
    std::unique_ptr<watch_node[]> nodes_;
    detail::arrival_queue arrivals_{false};
    detail::arrival_node* taken_ = nullptr; // taken from the queue, not yet yielded; oldest first
    std::size_t yielded_ = 0;
};

} // namespace weft
