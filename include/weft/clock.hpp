// weft::clock: the runtime's steady clock. Inside a runtime it reads the runtime's time:
// CLOCK_MONOTONIC, or, with run_options::virtual_time, a virtual time that starts at zero
// and jumps to the next timer whenever every worker is idle. Outside a runtime it reads
// CLOCK_MONOTONIC.
//
//     const weft::clock::time_point start = weft::clock::now();
//     co_await weft::sleep(10s);
//     auto waited = weft::clock::now() - start;   // exactly 10 s in virtual time
#pragma once

#include <chrono>

namespace weft {

struct clock {
    using duration = std::chrono::nanoseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<clock, duration>;
    static constexpr bool is_steady = true;

    static time_point now() noexcept;
};

} // namespace weft
