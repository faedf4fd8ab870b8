// Futex-based parking; see parker.hpp. The futex only blocks and wakes; every hand-off of
// data goes through state_, so the synchronisation is visible to ThreadSanitizer.
#include "parker.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace weft::detail {
namespace {

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
            nullptr, nullptr, 0);
}

void futex_wake_one(std::atomic<std::uint32_t>& word) noexcept {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr,
            nullptr, 0);
}

} // namespace

void parker::park() noexcept {
    // acquire: a consumed token brings the waker's writes with it.
    if (state_.exchange(empty, std::memory_order_acquire) == notified) {
        return;
    }
    std::uint32_t expected = empty;
    // acquire: on failure the token arrived meanwhile and is consumed below; success
    // publishes nothing, but the failure order may not be stronger than the success one.
    if (!state_.compare_exchange_strong(expected, parked, std::memory_order_acquire)) {
        state_.store(empty, std::memory_order_relaxed); // relaxed: only we read it now
        return;
    }
    for (;;) {
        futex_wait(state_, parked);
        expected = notified;
        // acquire: as above. A failure is a spurious wake-up: sleep again.
        if (state_.compare_exchange_strong(expected, empty, std::memory_order_acquire,
                                           std::memory_order_relaxed)) {
            return;
        }
    }
}

void parker::unpark() noexcept {
    // release: the sleeper's acquire sees what the waker wrote before waking it.
    if (state_.exchange(notified, std::memory_order_release) == parked) {
        futex_wake_one(state_);
    }
}

} // namespace weft::detail
