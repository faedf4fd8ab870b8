// weft::sleep and weft::sleep_until: suspend the current task until a time has passed
// (asyncio.sleep); the other tasks run meanwhile.
//
//     co_await weft::sleep(10ms);
//     int answer = co_await weft::sleep(10ms, 42);   // 42, ten milliseconds later
//     co_await weft::sleep_until(weft::clock::now() + 1s);
//     weft::task<> t = weft::create_task(weft::sleep(10s));
//
// The deadline is taken when the sleep is awaited. A zero or negative duration, or a
// time point already passed, yields instead: the task goes behind the tasks already ready
// and resumes without touching the timer wheel. Timers are kept in the wheel of the worker
// the task was running on; the task may resume on another worker. Cancelling a sleeping
// task ends its sleep at once with weft::cancelled_error, its timer taken out of the wheel.
//
// Deadlines saturate at the end of the clock's range, clock::time_point::max(), which never
// comes: sleep(hours::max()) or sleep_until(time_point::max()) ends only by cancellation.
// A duration below the range is negative, so it yields. A NaN duration throws
// weft::invalid_argument when sleep is called.
#pragma once

#include <chrono>
#include <type_traits>
#include <utility>

#include <weft/clock.hpp>
#include <weft/detail/saturating_duration.hpp>
#include <weft/detail/sleep_awaiter.hpp>

namespace weft {

// co_await sleep(delay): resumes once `delay` has passed on weft::clock.
template <class Rep, class Period>
detail::sleep_awaiter<detail::deadline_kind::after>
sleep(std::chrono::duration<Rep, Period> delay) {
    return detail::sleep_awaiter<detail::deadline_kind::after>(
        detail::saturating_nanoseconds(delay, "weft::sleep").count());
}

// co_await sleep(delay, result): sleeps as above, then yields `result` (asyncio.sleep's
// result argument), moved or copied in when sleep is called and moved out by the await.
template <class Rep, class Period, class T>
detail::sleep_yielding<std::decay_t<T>> sleep(std::chrono::duration<Rep, Period> delay,
                                              T&& result) {
    return detail::sleep_yielding<std::decay_t<T>>(
        detail::saturating_nanoseconds(delay, "weft::sleep").count(), std::forward<T>(result));
}

// co_await sleep_until(deadline): resumes once weft::clock reads `deadline` or later.
inline detail::sleep_awaiter<detail::deadline_kind::at> sleep_until(clock::time_point deadline) {
    return detail::sleep_awaiter<detail::deadline_kind::at>(deadline.time_since_epoch().count());
}

} // namespace weft
