// weft::semaphore and weft::bounded_semaphore: a count of permits that tasks acquire and
// release (asyncio.Semaphore, asyncio.BoundedSemaphore).
//
//     weft::semaphore slots(4);
//     co_await slots.acquire();     // suspends while no permit is free
//     ...                           // at most four tasks here at once
//     slots.release();
//
// Waiters are served first in, first out: a release hands its permit straight to the
// longest waiting task, and while anyone waits a new acquire queues behind them. Any thread
// may release. Cancelling a waiting task takes it off the list at once (cancelled_error) and
// costs no permit: a release that raced with the cancellation either gave the permit to
// that task (which then resumes normally, holding it, and meets the cancellation at its
// next suspension point) or passes it to the next waiter. A bounded_semaphore throws
// invalid_state_error when released more often than acquired. A semaphore must outlive its
// waiters; it is neither copied nor moved.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <limits>

#include <weft/detail/cancellation.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/errors.hpp>

namespace weft {

class semaphore;

namespace detail {

// One task waiting for a permit: a node of the FIFO list, and the target a cancellation
// interrupts. Only touched under the semaphore's lock while linked.
struct permit_waiter : cancel_target {
    permit_waiter* prev = nullptr;
    permit_waiter* next = nullptr;
    std::coroutine_handle<> awaiting;
    scheduler* home = nullptr;
    semaphore* owner = nullptr;
    strand_word* strand = nullptr;
    bool linked = false;
};

// Out of line (runtime/semaphore.cpp). False if the waiter must not suspend: it took a
// permit, or a cancellation was pending (then the strand's word says so).
[[gnu::noinline]] bool begin_acquire(semaphore& target, permit_waiter& waiter);

} // namespace detail

class semaphore {
public:
    explicit semaphore(std::size_t permits = 1) noexcept : semaphore(permits, no_bound) {}
    semaphore(const semaphore&) = delete;
    semaphore& operator=(const semaphore&) = delete;

    // Takes a permit if one is free and nobody waits; never suspends.
    bool try_acquire() noexcept;
    // Gives a permit back: to the longest waiting task, or to the count.
    void release();
    // Permits free now (asyncio's locked() is available() == 0).
    std::size_t available() noexcept;

    class [[nodiscard]] acquirer {
    public:
        explicit acquirer(semaphore& target) noexcept { node_.owner = &target; }
        acquirer(const acquirer&) = delete;

        bool await_ready() noexcept { return node_.owner->try_acquire(); }
        template <class Promise>
        bool await_suspend(std::coroutine_handle<Promise> awaiting) {
            node_.awaiting = awaiting;
            node_.home = &detail::require_scheduler("weft::semaphore::acquire");
            node_.strand = detail::strand_of(awaiting);
            return detail::begin_acquire(*node_.owner, node_);
        }
        void await_resume() {
            if (node_.strand != nullptr && detail::leave_target(*node_.strand, node_)) {
                throw cancelled_error();
            }
        }

    private:
        detail::permit_waiter node_;
    };

    // co_await s.acquire(): returns holding a permit.
    acquirer acquire() noexcept { return acquirer(*this); }

protected:
    static constexpr std::size_t no_bound = std::numeric_limits<std::size_t>::max();

    semaphore(std::size_t permits, std::size_t bound) noexcept : permits_(permits), bound_(bound) {}

    // release(), with the message of the invalid_state_error a bounded one throws.
    void release_or_throw(const char* over_release_message);

private:
    friend bool detail::begin_acquire(semaphore& target, detail::permit_waiter& waiter);

    // A cancellation's interruption of a waiter: unlinks it if no release has taken it.
    static detail::interruption withdraw(detail::cancel_target& target) noexcept;
    void lock() noexcept;
    void unlock() noexcept;

    std::atomic<bool> locked_{false};
    std::size_t permits_;
    const std::size_t bound_;
    detail::permit_waiter* head_ = nullptr;
    detail::permit_waiter* tail_ = nullptr;
};

// A semaphore that may not be released past its initial count.
class bounded_semaphore : public semaphore {
public:
    explicit bounded_semaphore(std::size_t permits = 1) noexcept : semaphore(permits, permits) {}
};

} // namespace weft
