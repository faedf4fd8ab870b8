// The machinery shared by weft::queue, priority_queue and lifo_queue (see queue.hpp for
// their behaviour): one store of items, one FIFO list of waiting tasks, one spin lock over
// both, and the task_done()/join() count.
//
// Invariants, under the lock:
//   - the tasks waiting are all getters or all putters: getters wait only while the store
//     is empty, putters only while it holds maxsize items (maxsize >= 1), and neither state
//     changes while anyone waits (a put with getters waiting hands its item to the first
//     getter; a get with putters waiting refills the store from the first putter);
//   - a waiter leaves the list exactly once: taken by the queue (served, or woken by
//     shutdown, with its outcome written first) or withdrawn by a cancellation (served
//     with nothing), so no item is lost to a cancelled waiter or given to two;
//   - after shutdown nobody waits: shutdown wakes every waiter, and no new one links.
#pragma once

#include <coroutine>
#include <cstddef>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include <weft/detail/queue_join.hpp>
#include <weft/detail/wait_queue.hpp>
#include <weft/errors.hpp>

namespace weft::detail {

// A waiting get (item empty until a put fills it) or put (item holds what it puts).
template <class T>
struct queue_waiter : queued_waiter {
    std::optional<T> item;
    bool shut_down = false;
};

template <class T, class Order>
class basic_queue {
    static_assert(std::is_nothrow_move_constructible_v<T>,
                  "weft queues move items inside a critical section that must not fail "
                  "halfway: the item type needs a noexcept move constructor");

public:
    explicit basic_queue(std::size_t maxsize) noexcept : maxsize_(maxsize) {}
    basic_queue(const basic_queue&) = delete;
    basic_queue& operator=(const basic_queue&) = delete;

    class [[nodiscard]] putter {
    public:
        putter(basic_queue& target, T&& item) noexcept : target_(target) {
            waiter_.item.emplace(std::move(item));
        }
        putter(const putter&) = delete;

        // The attempt is made in await_suspend, under the one lock that also links the
        // waiter if it must wait: a contended queue is locked once per put, not twice.
        bool await_ready() const noexcept { return false; }
        template <class Promise>
        bool await_suspend(std::coroutine_handle<Promise> awaiting) {
            target_.prepare(waiter_, awaiting, "weft::queue::put");
            return target_.begin_put(waiter_);
        }
        void await_resume() { end_wait(waiter_, "weft::queue::put: the queue is shut down"); }

    private:
        basic_queue& target_;
        queue_waiter<T> waiter_;
    };

    class [[nodiscard]] getter {
    public:
        explicit getter(basic_queue& target) noexcept : target_(target) {}
        getter(const getter&) = delete;

        bool await_ready() const noexcept { return false; } // as for put

        template <class Promise>
        bool await_suspend(std::coroutine_handle<Promise> awaiting) {
            target_.prepare(waiter_, awaiting, "weft::queue::get");
            return target_.begin_get(waiter_);
        }
        T await_resume() {
            end_wait(waiter_, "weft::queue::get: the queue is shut down and empty");
            return std::move(*waiter_.item);
        }

    private:
        basic_queue& target_;
        queue_waiter<T> waiter_;
    };

    putter put(T item) noexcept { return putter(*this, std::move(item)); }
    getter get() noexcept { return getter(*this); }

    bool try_put(T&& item) { return offer(item); }
    bool try_put(const T& item) {
        T copy = item; // copied outside the lock: only noexcept moves happen inside
        return offer(copy);
    }
    std::optional<T> try_get() {
        queue_waiter<T> probe;
        if (get_at_once(probe) && probe.shut_down) {
            throw queue_shut_down("weft::queue::try_get: the queue is shut down and empty");
        }
        return std::move(probe.item);
    }

    void task_done() {
        if (!join_.finish(1)) {
            throw invalid_state_error("weft::queue::task_done: called more times than items "
                                      "were put");
        }
    }
    queue_join::awaiter join() noexcept { return join_.wait(); }

    void shutdown(bool immediate = false) noexcept {
        Order dropped;
        std::size_t dropped_count = 0;
        {
            std::lock_guard held(waiters_);
            shut_down_ = true;
            if (immediate) {
                dropped_count = items_.size();
                std::swap(dropped, items_);
            }
            while (queued_waiter* waiter = waiters_.pop_front()) {
                static_cast<queue_waiter<T>*>(waiter)->shut_down = true;
                schedule(*waiter->home, waiter->awaiting);
            }
        }
        if (dropped_count != 0) {
            join_.finish(dropped_count); // each dropped item was counted when it entered
        }
    }

    std::size_t size() noexcept {
        std::lock_guard held(waiters_);
        return items_.size();
    }
    bool empty() noexcept { return size() == 0; }
    bool full() noexcept {
        std::lock_guard held(waiters_);
        return full_locked();
    }
    std::size_t unfinished() const noexcept { return join_.unfinished(); }
    std::size_t maxsize() const noexcept { return maxsize_; }
    bool is_shut_down() noexcept {
        std::lock_guard held(waiters_);
        return shut_down_;
    }

private:
    // The waiter to resume once the lock is released.
    struct wake_up {
        std::coroutine_handle<> awaiting{};
        scheduler* home = nullptr;

        void operator()() const noexcept {
            if (awaiting) {
                schedule(*home, awaiting);
            }
        }
    };

    template <class Promise>
    static void prepare(queue_waiter<T>& waiter, std::coroutine_handle<Promise> awaiting,
                        const char* what) {
        waiter.awaiting = awaiting;
        waiter.home = &require_scheduler(what);
        waiter.strand = strand_of(awaiting);
    }

    static void end_wait(queue_waiter<T>& waiter, const char* shut_down_message) {
        if (waiter.strand != nullptr && leave_target(*waiter.strand, waiter)) {
            throw cancelled_error();
        }
        if (waiter.shut_down) {
            throw queue_shut_down(shut_down_message);
        }
    }

    bool full_locked() const noexcept { return maxsize_ != 0 && items_.size() >= maxsize_; }

    // Under the lock: the item goes to the longest waiting getter, or into the store if
    // there is room; false if the store is full. Store growth may throw, changing nothing.
    bool accept(T& item, wake_up& wake) {
        if (items_.size() == 0 && !waiters_.empty()) { // empty store: the waiters are getters
            auto& getter = static_cast<queue_waiter<T>&>(*waiters_.pop_front());
            getter.item.emplace(std::move(item));
            wake = {getter.awaiting, getter.home};
        } else if (full_locked()) {
            return false;
        } else {
            items_.push(std::move(item));
        }
        join_.add_one();
        return true;
    }

    // Under the lock: moves the next item into `out`, refilling the store from the longest
    // waiting putter; false if the store is empty.
    bool take(std::optional<T>& out, wake_up& wake) noexcept {
        if (items_.size() == 0) {
            return false;
        }
        out.emplace(items_.pop());
        if (!waiters_.empty()) { // a non-empty store: the waiters are putters
            auto& putter = static_cast<queue_waiter<T>&>(*waiters_.pop_front());
            items_.push(std::move(*putter.item)); // the slot just freed: no allocation
            join_.add_one();
            wake = {putter.awaiting, putter.home};
        }
        return true;
    }

    // Under the lock: whether a put of waiter's item is over without waiting (accepted, or
    // refused by shutdown).
    bool put_now(queue_waiter<T>& waiter, wake_up& wake) {
        if (shut_down_) {
            waiter.shut_down = true;
            return true;
        }
        return accept(*waiter.item, wake);
    }
    // Under the lock: whether a get is over without waiting (an item, or the end).
    bool get_now(queue_waiter<T>& waiter, wake_up& wake) noexcept {
        if (take(waiter.item, wake)) {
            return true;
        }
        waiter.shut_down = shut_down_;
        return shut_down_;
    }

    bool get_at_once(queue_waiter<T>& waiter) noexcept {
        wake_up wake;
        bool done;
        {
            std::lock_guard held(waiters_);
            done = get_now(waiter, wake);
        }
        wake();
        return done;
    }

    // Whether the put must wait. A push that grows the store may throw bad_alloc, which
    // changes nothing and leaves the lock.
    bool begin_put(queue_waiter<T>& waiter) {
        wake_up wake;
        const bool suspends = waiters_.wait_unless(waiter, [&] { return put_now(waiter, wake); });
        wake();
        return suspends;
    }
    bool begin_get(queue_waiter<T>& waiter) noexcept {
        wake_up wake;
        const bool suspends =
            waiters_.wait_unless(waiter, [&]() noexcept { return get_now(waiter, wake); });
        wake();
        return suspends;
    }

    bool offer(T& item) {
        wake_up wake;
        bool accepted;
        {
            std::lock_guard held(waiters_);
            if (shut_down_) {
                throw queue_shut_down("weft::queue::try_put: the queue is shut down");
            }
            accepted = accept(item, wake);
        }
        wake();
        return accepted;
    }

    const std::size_t maxsize_;
    Order items_;
    bool shut_down_ = false;
    wait_queue waiters_;
    queue_join join_;
};

} // namespace weft::detail
