// Futex-based parking; see parker.hpp. The futex only blocks and wakes; every hand-off of
// data goes through state_, so the synchronisation is visible to ThreadSanitizer.
#include "park/parker.hpp"

#include <linux/futex.h>
#include <time.h>

#include <cerrno>
#include <sys/syscall.h>
#include <unistd.h>

namespace weft::detail {
namespace {

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
            nullptr, nullptr, 0);
}

// Returns false once CLOCK_MONOTONIC has reached `deadline_ns`.
bool futex_wait_until(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                      std::uint64_t deadline_ns) noexcept {
    timespec deadline{};
    deadline.tv_sec = static_cast<time_t>(deadline_ns / 1'000'000'000);
    deadline.tv_nsec = static_cast<long>(deadline_ns % 1'000'000'000);
    // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time (no FUTEX_CLOCK_REALTIME).
    const long result =
        syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_BITSET_PRIVATE,
                expected, &deadline, nullptr, FUTEX_BITSET_MATCH_ANY);
    return !(result == -1 && errno == ETIMEDOUT);
}

void futex_wake_one(std::atomic<std::uint32_t>& word) noexcept {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr,
            nullptr, 0);
}

} // namespace

bool parker::announce(std::uint32_t sleeping_state) noexcept {
    // acquire: a consumed token brings the waker's writes with it.
    if (state_.exchange(empty, std::memory_order_acquire) == notified) {
        return false;
    }
    std::uint32_t expected = empty;
    // release: a waker that reads waiting_elsewhere (acquire) sees elsewhere_, stored
    // before this. acquire, also on failure: then the token arrived meanwhile; take it.
    if (!state_.compare_exchange_strong(expected, sleeping_state, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
        state_.store(empty, std::memory_order_relaxed); // relaxed: only we read it now
        return false;
    }
    return true;
}

void parker::park() noexcept {
    if (!announce(parked)) {
        return;
    }
    for (;;) {
        futex_wait(state_, parked);
        std::uint32_t expected = notified;
        // acquire: as in announce(). A failure is a spurious wake-up: sleep again.
        if (state_.compare_exchange_strong(expected, empty, std::memory_order_acquire,
                                           std::memory_order_relaxed)) {
            return;
        }
    }
}

bool parker::park_until(std::uint64_t deadline_ns) noexcept {
    if (!announce(parked)) {
        return true;
    }
    for (;;) {
        const bool before_deadline = futex_wait_until(state_, parked, deadline_ns);
        std::uint32_t expected = notified;
        // acquire: as in park().
        if (state_.compare_exchange_strong(expected, empty, std::memory_order_acquire,
                                           std::memory_order_relaxed)) {
            return true;
        }
        if (!before_deadline) {
            expected = parked;
            // acquire on failure: the token arrived just now; take it.
            if (state_.compare_exchange_strong(expected, empty, std::memory_order_acquire)) {
                return false;
            }
            state_.store(empty, std::memory_order_relaxed); // relaxed: only we read it now
            return true;
        }
    }
}

bool parker::park_in(interruptible_wait& wait, std::uint64_t deadline_ns) noexcept {
    // relaxed: published by announce's compare-and-swap.
    elsewhere_.store(&wait, std::memory_order_relaxed);
    if (!announce(waiting_elsewhere)) {
        return true;
    }
    wait.wait_until(deadline_ns);
    // acquire: a token consumed here brings the waker's writes, as in park().
    return state_.exchange(empty, std::memory_order_acquire) == notified;
}

void parker::unpark() noexcept {
    // acq_rel: release, so the sleeper's acquire sees what the waker wrote before waking
    // it; acquire, so a waker that finds waiting_elsewhere sees elsewhere_.
    const std::uint32_t previous = state_.exchange(notified, std::memory_order_acq_rel);
    if (previous == parked) {
        futex_wake_one(state_);
    } else if (previous == waiting_elsewhere) {
        // relaxed: the exchange above synchronised with the store's publication.
        elsewhere_.load(std::memory_order_relaxed)->interrupt();
    }
}

} // namespace weft::detail
