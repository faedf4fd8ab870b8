// The machinery of weft::as_completed. as_completed_state keeps the tasks, a node on each
// task's waiter list for the stream's whole life, and the arrival queue those nodes push
// on when their task ends. as_completed_awaiter, what next() returns, claims that queue for
// one suspension; the next arrival or a canceller resumes it, and a cancellation leaves the
// arrival queued for the next call. Every node is removed from its list before the state
// dies, which waits out an arrival still running. A stream with a time limit keeps its
// deadline here too; as_completed_next, what next() returns, then awaits the stream's
// awaiter through wait_for until that deadline, and once one next() has timed out every
// later one throws timeout_error at once (asyncio's remaining awaitables all raise).
#pragma once

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <weft/clock.hpp>
#include <weft/coro.hpp>
#include <weft/detail/arrival_queue.hpp>
#include <weft/detail/cancellation.hpp>
#include <weft/detail/completion_awaiter.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/errors.hpp>
#include <weft/task.hpp>
#include <weft/timeout.hpp>

namespace weft::detail {

// Now plus `limit` on weft::clock, saturating at time_point::max() (no deadline).
inline clock::time_point deadline_after(std::chrono::nanoseconds limit) noexcept {
    const clock::time_point now = clock::now();
    if (limit >= clock::time_point::max() - now) {
        return clock::time_point::max();
    }
    return now + limit;
}

// The tasks of one weft::as_completed and their arrivals: a node on each task's waiter list
// from construction to destruction, whose wake pushes it on the arrival queue. Neither
// copied nor moved: the nodes point at it.
template <class T>
class as_completed_state {
public:
    // `deadline`: time_point::max() for a stream without a time limit.
    as_completed_state(std::vector<task<T>> tasks, clock::time_point deadline)
        : tasks_(std::move(tasks)), deadline_(deadline) {
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
            if (!completion_access::waiters(tasks_[index]).enqueue(node)) {
                arrivals_.push(node);
            }
        }
    }
    as_completed_state(const as_completed_state&) = delete;
    as_completed_state& operator=(const as_completed_state&) = delete;
    ~as_completed_state() {
        for (std::size_t index = 0; index < tasks_.size(); ++index) {
            completion_access::waiters(tasks_[index]).remove(nodes_[index]);
        }
    }

    std::size_t remaining() const noexcept { return tasks_.size() - yielded_; }

    bool has_deadline() const noexcept { return deadline_ != clock::time_point::max(); }
    clock::time_point deadline() const noexcept { return deadline_; }
    bool timed_out() const noexcept { return timed_out_; }
    // A next() ended in timeout_error: it counts as one of the remaining, as asyncio's
    // awaitable that raised TimeoutError does.
    void yield_timeout() noexcept {
        timed_out_ = true;
        ++yielded_;
    }

    arrival_queue& arrivals() noexcept { return arrivals_; }

    bool has_arrival() const noexcept { return taken_ != nullptr || !arrivals_.empty(); }

    // Yields the oldest arrival; one is queued or taken.
    task<T> take_arrival() {
        if (taken_ == nullptr) {
            taken_ = arrivals_.take_all();
        }
        const arrival_node* next = taken_;
        taken_ = next->next_arrival;
        ++yielded_;
        return tasks_[next->index];
    }

private:
    struct watch_node : arrival_node {
        as_completed_state* owner = nullptr;
    };
    static void on_done(waiter_node& node) noexcept {
        auto& self = static_cast<watch_node&>(node);
        self.owner->arrivals_.push(self);
    }

    std::vector<task<T>> tasks_;
    std::unique_ptr<watch_node[]> nodes_;
    arrival_queue arrivals_{false};
    arrival_node* taken_ = nullptr; // taken from the queue, not yet yielded; oldest first
    std::size_t yielded_ = 0;
    const clock::time_point deadline_;
    bool timed_out_ = false;
};

// co_await stream.next(): waits for the stream's next arrival. Cancelling the awaiting task
// withdraws the wait; the arrival stays queued for the next call.
template <class T>
class [[nodiscard]] as_completed_awaiter : public cancel_target {
public:
    explicit as_completed_awaiter(as_completed_state<T>& stream) noexcept : stream_(&stream) {}

    bool await_ready() const noexcept { return stream_->has_arrival(); }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) {
        arrival_queue& arrivals = stream_->arrivals();
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
        resume_in(strand_);
        if (strand_ != nullptr && leave_target(*strand_, *this)) {
            throw_delivered_cancellation();
        }
        return stream_->take_arrival();
    }

private:
    static interruption on_cancel(cancel_target& target) noexcept {
        return static_cast<as_completed_awaiter&>(target).stream_->arrivals().withdraw();
    }

    as_completed_state<T>* stream_;
    strand_word* strand_ = nullptr;
};

// The next() of a stream with a time limit: the arrival, if one comes before the deadline
// (or is queued already); timeout_error otherwise. A cancellation of the awaiting task
// withdraws the wait as without a limit.
template <class T>
coro<task<T>> next_before_deadline(as_completed_state<T>& stream) {
    if (!stream.timed_out()) {
        try {
            co_return co_await wait_for(as_completed_awaiter<T>(stream),
                                        stream.deadline() - clock::now());
        } catch (const timeout_error&) {
        }
    }
    stream.yield_timeout();
    throw timeout_error("weft::as_completed::next: the time limit passed before every task "
                        "ended");
}

// What next() returns: the stream's awaiter, or for a stream with a time limit the
// coroutine above. It may be moved until it is awaited.
template <class T>
class [[nodiscard]] as_completed_next {
public:
    explicit as_completed_next(as_completed_state<T>& stream) {
        if (stream.has_deadline()) {
            before_deadline_.emplace(next_before_deadline(stream).operator co_await());
        } else {
            untimed_.emplace(stream);
        }
    }

    bool await_ready() {
        return untimed_ ? untimed_->await_ready() : before_deadline_->await_ready();
    }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) {
        if (!untimed_) {
            return before_deadline_->await_suspend(awaiting);
        }
        if (untimed_->await_suspend(awaiting)) {
            return std::noop_coroutine();
        }
        return awaiting; // not suspended after all: resumes at once
    }
    task<T> await_resume() {
        return untimed_ ? untimed_->await_resume() : before_deadline_->await_resume();
    }

private:
    std::optional<as_completed_awaiter<T>> untimed_;
    std::optional<coro_awaiter<task<T>>> before_deadline_;
};

} // namespace weft::detail
