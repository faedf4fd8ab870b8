// weft::event: a flag that tasks wait for (asyncio.Event).
//
//     weft::event ready;
//     co_await ready.wait();   // in some tasks: suspends until set (returns at once if set)
//     ready.set();             // in another, or on any thread: wakes every waiter
//
// set() wakes every waiting task, in the order they started waiting, and leaves the event
// set until clear(). Any thread may call set, clear and is_set. Cancelling a waiting task
// takes it off the wait list at once (it gets cancelled_error); a set() racing with the
// cancellation wakes it or not, never both. The event must outlive its waiters; it is
// neither copied nor moved (share it by reference, as an asyncio.Event is shared).
#pragma once

#include <atomic>

#include <weft/detail/wait_queue.hpp>

namespace weft {

class event {
public:
    event() = default;
    event(const event&) = delete;
    event& operator=(const event&) = delete;

    bool is_set() const noexcept {
        // acquire: pairs with set()'s release, so what the setter wrote before is visible.
        return set_.load(std::memory_order_acquire);
    }

    // Sets the event and wakes every waiter, in the order they began waiting.
    void set() noexcept;
    // Unsets it: later waits suspend until the next set().
    void clear() noexcept;

    // co_await e.wait(): returns once the event is set.
    detail::queue_awaiter<event> wait() noexcept { return {*this, "weft::event::wait"}; }

private:
    friend class detail::queue_awaiter<event>;

    bool ready_at_once() const noexcept { return is_set(); }
    bool begin_wait(detail::queued_waiter& waiter) noexcept;

    std::atomic<bool> set_{false};
    detail::wait_queue waiters_;
};

} // namespace weft
