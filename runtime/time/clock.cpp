// CLOCK_MONOTONIC, and weft::clock::now on top of the running runtime's clock.
#include "time/clock.hpp"

#include <time.h>

namespace weft {
namespace detail {

std::uint64_t monotonic_ns() noexcept {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000u +
           static_cast<std::uint64_t>(now.tv_nsec);
}

} // namespace detail

// Never past time_point::max(): deadlines saturate there and virtual time stops short of it.
clock::time_point clock::now() noexcept {
    return time_point(duration(static_cast<rep>(detail::running_clock_ns())));
}

} // namespace weft
