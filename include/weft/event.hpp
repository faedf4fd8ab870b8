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
#include <coroutine>

#include <weft/detail/cancellation.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/errors.hpp>

namespace weft {

class event;

namespace detail {

// One task waiting on an event: a node of its FIFO list, and the target a cancellation
// interrupts. Only touched under the event's lock while linked.
struct event_waiter : cancel_target {
    event_waiter* prev = nullptr;
    event_waiter* next = nullptr;
    std::coroutine_handle<> awaiting;
    scheduler* home = nullptr;
    event* owner = nullptr;
    strand_word* strand = nullptr;
    bool linked = false;
};

// Out of line (runtime/event.cpp). False if the waiter must not suspend: the event is set,
// or a cancellation was pending (then the strand's word says so).
[[gnu::noinline]] bool begin_event_wait(event& target, event_waiter& waiter);

} // namespace detail

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

    class [[nodiscard]] waiter {
    public:
        explicit waiter(event& target) noexcept { node_.owner = &target; }
        waiter(const waiter&) = delete;

        bool await_ready() const noexcept { return node_.owner->is_set(); }
        template <class Promise>
        bool await_suspend(std::coroutine_handle<Promise> awaiting) {
            node_.awaiting = awaiting;
            node_.home = &detail::require_scheduler("weft::event::wait");
            node_.strand = detail::strand_of(awaiting);
            return detail::begin_event_wait(*node_.owner, node_);
        }
        void await_resume() {
            if (node_.strand != nullptr && detail::leave_target(*node_.strand, node_)) {
                throw cancelled_error();
            }
        }

    private:
        detail::event_waiter node_;
    };

    // co_await e.wait(): returns once the event is set.
    waiter wait() noexcept { return waiter(*this); }

private:
    friend bool detail::begin_event_wait(event& target, detail::event_waiter& waiter);

    // A cancellation's interruption of a waiter: unlinks it if set() has not taken it.
    static detail::interruption withdraw(detail::cancel_target& target) noexcept;
    void lock() noexcept;
    void unlock() noexcept;

    std::atomic<bool> set_{false};
    std::atomic<bool> locked_{false};
    detail::event_waiter* head_ = nullptr;
    detail::event_waiter* tail_ = nullptr;
};

} // namespace weft
