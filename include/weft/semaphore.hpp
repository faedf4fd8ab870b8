// weft::semaphore and weft::bounded_semaphore: a count of permits that tasks acquire and
// release (asyncio.Semaphore, asyncio.BoundedSemaphore).
//
//     weft::semaphore slots(4);
//     co_await slots.acquire();     // suspends while no permit is free
//     ...                           // at most four tasks here at once
//     slots.release();
//
// Waiters are served first in, first out: a release hands its permit straight to the
// longest waiting task, and while anyone waits, or was handed a permit and has not run yet,
// a new acquire queues behind them (so a task that releases and acquires again waits its
// turn, as in asyncio). Any thread may release. Cancelling a waiting task takes it off the
// list at once (cancelled_error) and costs no permit; a task cancelled after a release
// handed it a permit but before it ran passes the permit to the next waiter (or back to
// the count) and throws cancelled_error too. A bounded_semaphore throws
// invalid_state_error when released more often than acquired. A semaphore must outlive its
// waiters; it is neither copied nor moved.
#pragma once

#include <cstddef>
#include <limits>

#include <weft/detail/wait_queue.hpp>

namespace weft {

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

    using acquirer = detail::queue_awaiter<semaphore>;
    // co_await s.acquire(): returns holding a permit.
    acquirer acquire() noexcept { return {*this, "weft::semaphore::acquire"}; }

private:
    // The bounded kinds: a bounded_semaphore, and the binary one inside a weft::lock.
    friend class bounded_semaphore;
    friend class lock;
    template <class, bool>
    friend class detail::queue_awaiter;

    static constexpr std::size_t no_bound = std::numeric_limits<std::size_t>::max();

    semaphore(std::size_t permits, std::size_t bound) noexcept : permits_(permits), bound_(bound) {}

    // release(), with the message of the invalid_state_error a bounded one throws.
    void release_or_throw(const char* over_release_message);
    // release() that reports an over-release by returning false instead of throwing.
    bool give_back() noexcept;

    static constexpr bool hands_over = true;
    bool ready_at_once() noexcept { return try_acquire(); }
    bool begin_wait(detail::queued_waiter& waiter) noexcept;
    // A waiter handed a permit resumes: it gives the permit back if `cancelled`, and
    // hands the permits free to the waiters that queued meanwhile.
    void end_handoff(bool cancelled) noexcept;
    // Under the lock: takes a permit if one is free and nobody waits or was woken and has
    // yet to run (asyncio's locked() is false).
    bool take_permit() noexcept;
    // Under the lock: the longest waiter gets a permit; false if nobody waits.
    bool hand_to_first() noexcept;

    std::size_t permits_;
    // Waiters handed a permit that have not resumed yet. While there are any, new acquires
    // queue behind them (asyncio counts them as waiters until they run), and free permits
    // may meet queued waiters: the last of them to resume hands those permits out.
    std::size_t handed_ = 0;
    const std::size_t bound_;
    detail::wait_queue waiters_;
};

// A semaphore that may not be released past its initial count.
class bounded_semaphore : public semaphore {
public:
    explicit bounded_semaphore(std::size_t permits = 1) noexcept : semaphore(permits, permits) {}
};

} // namespace weft
