// Puts one worker thread to sleep on a futex and wakes it. A wake-up that arrives before
// the sleep is kept as a token, so park() after unpark() returns at once: no wake-up is
// lost between a worker deciding to sleep and actually sleeping. A timed park sleeps until
// an absolute CLOCK_MONOTONIC deadline with nanosecond precision (a futex wait with a
// timespec, not a millisecond poll).
#pragma once

#include <atomic>
#include <cstdint>

namespace weft::detail {

class parker {
public:
    // Blocks until unpark() has been called since the last park() returned.
    void park() noexcept;
    // Like park(), but also returns when CLOCK_MONOTONIC reaches `deadline_ns`. True if it
    // consumed a wake-up, false if the deadline passed first.
    bool park_until(std::uint64_t deadline_ns) noexcept;
    // Wakes the parked thread, or lets its next park() return at once.
    void unpark() noexcept;

private:
    static constexpr std::uint32_t empty = 0;
    static constexpr std::uint32_t parked = 1;
    static constexpr std::uint32_t notified = 2;

    std::atomic<std::uint32_t> state_{empty};
};

} // namespace weft::detail
