// weft::lock: a mutex for tasks (asyncio.Lock). Waiting for it suspends the task, never the
// worker thread, and the lock passes to waiters first in, first out.
//
//     weft::lock guard_balance;
//     {
//         auto held = co_await guard_balance.scoped();   // released when `held` goes
//         balance += co_await fetch_delta();             // may suspend while holding it
//     }
//     co_await guard_balance.acquire();                  // or by hand
//     guard_balance.unlock();
//
// It is a binary semaphore (see semaphore.hpp for the FIFO handoff and cancellation). Any
// thread may unlock it, not only the task that locked it, as in asyncio; unlocking it when
// it is not locked throws invalid_state_error. C++ cannot give a member the name of its
// class, so asyncio's `acquire()` names the await, not `lock()`.
#pragma once

#include <utility>

#include <weft/detail/scoped_lock_awaiter.hpp>
#include <weft/semaphore.hpp>

namespace weft {

class lock {
public:
    using scoped_acquirer = detail::scoped_lock_awaiter<lock>;
    class guard;

    lock() = default;
    lock(const lock&) = delete;
    lock& operator=(const lock&) = delete;

    // co_await l.acquire(): returns holding the lock.
    semaphore::acquirer acquire() noexcept { return permit_.acquire(); }
    // co_await l.scoped(): returns a guard holding the lock.
    scoped_acquirer scoped() noexcept { return scoped_acquirer(*this); }

    // Takes the lock if it is free and nobody waits; never suspends.
    bool try_lock() noexcept { return permit_.try_acquire(); }
    // Passes the lock to the longest waiting task, or frees it.
    void unlock() { permit_.unlock_permit(); }
    bool locked() noexcept { return permit_.available() == 0; }

private:
    friend class condition;

    class binary_semaphore : public semaphore {
    public:
        binary_semaphore() noexcept : semaphore(1, 1) {}
        void unlock_permit() { release_or_throw("weft::lock::unlock: the lock is not locked"); }
        bool unlock_if_locked() noexcept { return give_back(); }
    };

    // For a condition: unlocks without throwing (false: it was not locked), and takes the
    // lock back with a wait that a cancellation does not interrupt.
    bool unlock_if_locked() noexcept { return permit_.unlock_if_locked(); }
    detail::queue_awaiter<semaphore, false> acquire_uncancellable() noexcept {
        return {permit_, "weft::condition::wait"};
    }

    binary_semaphore permit_;
};

// Releases the lock it holds when destroyed (or moved from, into another guard).
class [[nodiscard]] lock::guard {
public:
    explicit guard(lock& held) noexcept : held_(&held) {}
    guard(guard&& other) noexcept : held_(std::exchange(other.held_, nullptr)) {}
    guard& operator=(guard&& other) noexcept {
        if (this != &other) {
            release();
            held_ = std::exchange(other.held_, nullptr);
        }
        return *this;
    }
    ~guard() { release(); }

    // Unlocks now instead of at the end of the scope.
    void release() {
        if (held_ != nullptr) {
            std::exchange(held_, nullptr)->unlock();
        }
    }

private:
    lock* held_;
};

} // namespace weft
