// Puts one worker thread to sleep on a futex and wakes it. A wake-up that arrives before
// the sleep is kept as a token, so park() after unpark() returns at once: no wake-up is
// lost between a worker deciding to sleep and actually sleeping. A timed park sleeps until
// an absolute CLOCK_MONOTONIC deadline with nanosecond precision (a futex wait with a
// timespec, not a millisecond poll). park_in() sleeps in another blocking wait instead (the
// reactor's poll), which unpark() then interrupts.
#pragma once

#include <atomic>
#include <cstdint>

namespace weft::detail {

// A blocking wait that another thread can cut short: the I/O reactor's poll.
class interruptible_wait {
public:
    static constexpr std::uint64_t no_deadline = ~std::uint64_t{0};

    // Blocks until interrupted, until something it waits for happens, or until
    // CLOCK_MONOTONIC reaches `deadline_ns`.
    virtual void wait_until(std::uint64_t deadline_ns) noexcept = 0;
    // Any thread: makes a wait_until in progress (or the next one) return soon.
    virtual void interrupt() noexcept = 0;

protected:
    ~interruptible_wait() = default;
};

class parker {
public:
    // Blocks until unpark() has been called since the last park() returned.
    void park() noexcept;
    // Like park(), but also returns when CLOCK_MONOTONIC reaches `deadline_ns`. True if it
    // consumed a wake-up, false if the deadline passed first.
    bool park_until(std::uint64_t deadline_ns) noexcept;
    // Like park_until(), but blocks in `wait` (which may also return early, for its own
    // reasons). True if it consumed a wake-up.
    bool park_in(interruptible_wait& wait, std::uint64_t deadline_ns) noexcept;
    // Wakes the parked thread, or lets its next park() return at once.
    void unpark() noexcept;

private:
    // How every park begins: takes a token an earlier unpark() left (false: return at
    // once), or announces the sleep by moving state_ from empty to `sleeping_state`
    // (true: now sleep). A token that arrives between the two is taken too.
    bool announce(std::uint32_t sleeping_state) noexcept;

    static constexpr std::uint32_t empty = 0;
    static constexpr std::uint32_t parked = 1;
    static constexpr std::uint32_t notified = 2;
    static constexpr std::uint32_t waiting_elsewhere = 3;

    std::atomic<std::uint32_t> state_{empty};
    // The wait of park_in, while state_ is waiting_elsewhere (atomic only because a late
    // waker may read it while the owner sets it for its next park_in).
    std::atomic<interruptible_wait*> elsewhere_{nullptr};
};

} // namespace weft::detail
