// The state behind a weft::basic_queue (see queue.hpp for its behaviour): one store of
// items, a FIFO list of waiting getters and one of waiting putters under one spin lock (the
// getters' list's, which the putters' list shares), and the task_done()/join() count. The
// queue's members and its awaiters (queue_awaiters.hpp) call it; nothing else does.
//
// A waiter the queue serves is handed what it waited for before it runs: a getter the item
// (handed_ counts those in flight), a putter its slot (let_in_; the putter moves its item in
// when it runs). Until it runs, what it was handed is still the queue's, as in asyncio: it
// takes up room, and a cancellation that reaches the waiter first makes it give the thing
// back (the item to the next getter or to the front of the store, the slot to the next
// putter) and throw cancelled_error.
//
// Invariants, under the lock:
//   - getters wait only while the store is empty, and an item enters the store only when
//     no getter waits (otherwise the longest waiting one is handed it);
//   - store + handed_ + let_in_ <= maxsize (when bounded), and putters wait only while that
//     sum is maxsize: whenever it drops, the longest waiting putters are let in;
//   - the store's capacity is at least store + handed_, so an item given back never
//     allocates;
//   - a waiter leaves its list exactly once: taken by the queue (served, or woken by
//     shutdown, with its outcome written first) or withdrawn by a cancellation (served
//     with nothing), so no item is lost to a cancelled waiter or given to two;
//   - after shutdown nobody waits: shutdown wakes every waiter, and no new one links.
#pragma once

#include <coroutine>
#include <cstddef>
#include <mutex>
#include <optional>
#include <utility>

#include <weft/detail/queue_join.hpp>
#include <weft/detail/wait_queue.hpp>
#include <weft/errors.hpp>

namespace weft::detail {

// A waiting get (item empty until the queue hands it one) or put (item holds what it puts).
template <class T>
struct queue_waiter : queued_waiter {
    std::optional<T> item;
    bool served = false; // handed an item, or let in, after waiting
    bool shut_down = false;
};

template <class T, class Order>
class queue_state {
public:
    explicit queue_state(std::size_t maxsize) noexcept : maxsize_(maxsize) {}
    queue_state(const queue_state&) = delete;
    queue_state& operator=(const queue_state&) = delete;

    // Whether the put must wait. A push that grows the store may throw bad_alloc, which
    // changes nothing and leaves the lock.
    bool begin_put(queue_waiter<T>& waiter) {
        wake_up wake;
        const bool suspends = putters_.wait_unless(waiter, [&] { return put_now(waiter, wake); });
        wake();
        return suspends;
    }
    bool begin_get(queue_waiter<T>& waiter) noexcept {
        return getters_.wait_unless(waiter, [&]() noexcept { return get_now(waiter); });
    }

    void end_put(queue_waiter<T>& waiter) {
        const bool cancelled = cancelled_after_service(waiter);
        bool shut_down = waiter.shut_down;
        if (waiter.served) { // let in: the item goes in now, or its slot to the next putter
            wake_up wake;
            {
                std::lock_guard held(getters_);
                --let_in_;
                shut_down = shut_down_;
                if (!cancelled && !shut_down) {
                    try {
                        accept(*waiter.item, wake);
                    } catch (...) {
                        let_putters_in();
                        throw;
                    }
                }
                let_putters_in();
            }
            wake();
            if (cancelled) {
                throw_delivered_cancellation();
            }
        }
        if (shut_down) {
            throw queue_shut_down("weft::queue::put: the queue is shut down");
        }
    }

    T end_get(queue_waiter<T>& waiter) {
        const bool cancelled = cancelled_after_service(waiter);
        if (waiter.served) { // handed an item: keeps it, or gives it back
            wake_up wake;
            {
                std::lock_guard held(getters_);
                if (cancelled) {
                    give_back(std::move(*waiter.item), wake);
                } else {
                    --handed_;
                    let_putters_in();
                }
            }
            wake();
            if (cancelled) {
                throw_delivered_cancellation();
            }
        } else if (waiter.shut_down) {
            throw queue_shut_down("weft::queue::get: the queue is shut down and empty");
        }
        return std::move(*waiter.item);
    }

    // try_put's attempt: false, leaving `item` untouched, when full.
    bool offer(T& item) {
        wake_up wake;
        {
            std::lock_guard held(getters_);
            if (shut_down_) {
                throw queue_shut_down("weft::queue::try_put: the queue is shut down");
            }
            if (full_locked()) {
                return false;
            }
            accept(item, wake);
        }
        wake();
        return true;
    }

    std::optional<T> try_get() {
        queue_waiter<T> probe;
        bool done;
        {
            std::lock_guard held(getters_);
            done = get_now(probe);
        }
        if (done && probe.shut_down) {
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

    void shutdown(bool immediate) noexcept {
        Order dropped;
        std::size_t dropped_count = 0;
        {
            std::lock_guard held(getters_);
            shut_down_ = true;
            if (immediate) {
                dropped_count = items_.size();
                std::swap(dropped, items_);
                drop_given_back_ = true;
            }
            for (wait_queue* list : {&getters_, &putters_}) {
                while (queued_waiter* waiter = list->pop_front()) {
                    static_cast<queue_waiter<T>*>(waiter)->shut_down = true;
                    schedule(*waiter->home, waiter->awaiting);
                }
            }
        }
        if (dropped_count != 0) {
            join_.finish(dropped_count); // each dropped item was counted when it entered
        }
    }

    std::size_t size() noexcept {
        std::lock_guard held(getters_);
        return items_.size();
    }
    bool full() noexcept {
        std::lock_guard held(getters_);
        return full_locked();
    }
    std::size_t unfinished() const noexcept { return join_.unfinished(); }
    std::size_t maxsize() const noexcept { return maxsize_; }
    bool is_shut_down() noexcept {
        std::lock_guard held(getters_);
        return shut_down_;
    }

private:
    // The waiter to resume once the lock is released.
    struct wake_up {
        std::coroutine_handle<> awaiting{};
        runtime* home = nullptr;

        void operator()() const noexcept {
            if (awaiting) {
                schedule(*home, awaiting);
            }
        }
    };

    // As a put or get resumes: throws cancelled_error if its wait was cancelled; otherwise
    // whether it was served and a cancellation reached it before it ran.
    static bool cancelled_after_service(queue_waiter<T>& waiter) {
        if (waiter.strand != nullptr && leave_target(*waiter.strand, waiter)) {
            throw_delivered_cancellation();
        }
        return waiter.served && waiter.strand != nullptr && take_pending_cancel(*waiter.strand);
    }

    bool full_locked() const noexcept {
        return maxsize_ != 0 && items_.size() + handed_ + let_in_ >= maxsize_;
    }

    // Under the lock, with room: the item goes to the longest waiting getter, or into the
    // store. Store growth may throw, changing nothing.
    void accept(T& item, wake_up& wake) {
        items_.reserve(items_.size() + handed_ + 1); // so a handed item can come back
        if (auto* getter = static_cast<queue_waiter<T>*>(getters_.pop_front())) {
            getter->item.emplace(std::move(item));
            getter->served = true;
            ++handed_;
            wake = {getter->awaiting, getter->home};
        } else {
            items_.push(std::move(item));
        }
        join_.add_one();
    }

    // Under the lock: an item handed to a getter that was cancelled before it ran goes to
    // the next getter, or back where it came from (after an immediate shutdown it is
    // dropped, as it would have been in the store).
    void give_back(T&& item, wake_up& wake) noexcept {
        if (auto* getter = static_cast<queue_waiter<T>*>(getters_.pop_front())) {
            getter->item.emplace(std::move(item));
            getter->served = true;
            wake = {getter->awaiting, getter->home};
            return;
        }
        --handed_;
        if (drop_given_back_) {
            join_.finish(1);
        } else {
            items_.push_oldest(std::move(item));
        }
    }

    // Under the lock: lets the longest waiting putters in while there is room.
    void let_putters_in() noexcept {
        while (!full_locked()) {
            auto* putter = static_cast<queue_waiter<T>*>(putters_.pop_front());
            if (putter == nullptr) {
                return;
            }
            putter->served = true;
            ++let_in_;
            // Scheduled under the lock: as it runs, end_put waits for this section to end.
            schedule(*putter->home, putter->awaiting);
        }
    }

    // Under the lock: whether a get is over without waiting (an item, or the end).
    bool get_now(queue_waiter<T>& waiter) noexcept {
        if (items_.size() != 0) {
            waiter.item.emplace(items_.pop());
            let_putters_in();
            return true;
        }
        waiter.shut_down = shut_down_;
        return shut_down_;
    }
    // Under the lock: whether a put is over without waiting (accepted, or refused by
    // shutdown).
    bool put_now(queue_waiter<T>& waiter, wake_up& wake) {
        if (shut_down_) {
            waiter.shut_down = true;
            return true;
        }
        if (full_locked()) {
            return false;
        }
        accept(*waiter.item, wake);
        return true;
    }

    const std::size_t maxsize_;
    Order items_;
    std::size_t handed_ = 0;
    std::size_t let_in_ = 0;
    bool shut_down_ = false;
    bool drop_given_back_ = false;
    wait_queue getters_;
    wait_queue putters_{wait_queue::sharing_lock_of{getters_}};
    queue_join join_;
};

} // namespace weft::detail
