// The runtime's clocks in nanoseconds: CLOCK_MONOTONIC (real time), the end of weft::clock's
// range, and the time of the runtime running on this thread, which may be virtual.
#pragma once

#include <cstdint>

#include <weft/clock.hpp>

namespace weft::detail {

// CLOCK_MONOTONIC in nanoseconds: the real time of runtimes, of futex deadlines and of
// std::chrono::steady_clock on Linux.
std::uint64_t monotonic_ns() noexcept;

// The end of weft::clock's range, clock::time_point::max(), in nanoseconds. Deadlines
// saturate here and a timer here never fires: virtual time never jumps to it, and
// CLOCK_MONOTONIC would need 292 years of uptime. It lies below timer_driver::no_timer, so
// a wheel holding only such timers still reads as holding one.
inline constexpr auto clock_end_ns =
    static_cast<std::uint64_t>(clock::time_point::max().time_since_epoch().count());

// The time of the runtime whose worker runs on this thread (its virtual clock, or
// CLOCK_MONOTONIC), or monotonic_ns() on any other thread. Defined by the scheduler, which
// owns the virtual clock (scheduler/layer_hooks.cpp).
[[gnu::noinline]] std::uint64_t running_clock_ns() noexcept;

} // namespace weft::detail
