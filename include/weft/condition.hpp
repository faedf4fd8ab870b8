// weft::condition: tasks wait, holding a weft::lock, until another task notifies them
// (asyncio.Condition).
//
//     weft::condition changed;            // with a lock of its own, as asyncio.Condition()
//     weft::lock guard;
//     weft::condition changed(guard);     // or with a lock shared with other code
//     {
//         auto held = co_await guard.scoped();
//         co_await changed.wait_for([&] { return !jobs.empty(); });  // lock held again here
//         take(jobs);
//     }
//     // elsewhere, holding the lock:  jobs.push_back(j); changed.notify();
//
// wait() releases the lock, suspends until notified, then takes the lock back before it
// returns, whether it was notified or cancelled. Waiters are notified first in, first out.
// wait(), notify() and notify_all() require the lock to be locked (by anyone, as asyncio
// checks) and throw invalid_state_error otherwise. A task cancelled while waiting leaves
// the wait list at once, takes the lock back, and then throws cancelled_error; it consumes
// no notification, which goes to the next waiter. So does a task cancelled after it was
// notified but before it ran: it passes the notification to the next waiter, takes the
// lock back and throws cancelled_error. The lock is taken back with a wait that
// cancellation does not cut short, so wait() never returns or throws without the lock. The
// lock operations below act on the condition's lock, its own or the one given. The
// condition must outlive its waiters; it is neither copied nor moved.
#pragma once

#include <cstddef>
#include <limits>
#include <optional>
#include <type_traits>

#include <weft/coro.hpp>
#include <weft/detail/wait_queue.hpp>
#include <weft/lock.hpp>

namespace weft {

class condition {
public:
    // A condition with a lock of its own.
    condition() : owned_(std::in_place), lock_(*owned_) {}
    // A condition over `bound`, which must outlive it.
    explicit condition(weft::lock& bound) noexcept : lock_(bound) {}
    condition(const condition&) = delete;
    condition& operator=(const condition&) = delete;

    // co_await c.wait(), with the lock held: returns notified (or throws cancelled_error),
    // holding the lock again.
    coro<> wait();

    // co_await c.wait_for(predicate), with the lock held: waits until predicate() (called
    // with the lock held) is true, and returns its last result.
    template <class Predicate>
    coro<std::decay_t<std::invoke_result_t<Predicate&>>> wait_for(Predicate predicate) {
        auto result = predicate();
        while (!result) {
            co_await wait();
            result = predicate();
        }
        co_return result;
    }

    // Wakes up to `count` waiters, longest waiting first. The lock must be locked.
    void notify(std::size_t count = 1);
    // Wakes every waiter. The lock must be locked.
    void notify_all() { notify(std::numeric_limits<std::size_t>::max()); }

    // The lock, for asyncio's `async with condition:` spelling: co_await lock() (or
    // acquire(), asyncio's name) returns holding it, co_await scoped() returns a guard.
    semaphore::acquirer lock() noexcept { return lock_.acquire(); }
    semaphore::acquirer acquire() noexcept { return lock_.acquire(); }
    weft::lock::scoped_acquirer scoped() noexcept { return lock_.scoped(); }
    bool try_lock() noexcept { return lock_.try_lock(); }
    void unlock() { lock_.unlock(); }
    bool locked() noexcept { return lock_.locked(); }

private:
    // The first half of wait(): enqueued, then the lock released, in one critical section
    // of the wait list, so no notify can fall between them.
    class notification;

    // Wakes up to `count` waiters, longest waiting first, whoever holds the lock.
    void wake(std::size_t count) noexcept;

    std::optional<weft::lock> owned_; // the lock of a condition made without one
    weft::lock& lock_;
    detail::wait_queue waiters_;
};

} // namespace weft
