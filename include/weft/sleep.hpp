// weft::sleep and weft::sleep_until: suspend the current task until a time has passed
// (asyncio.sleep); the other tasks run meanwhile.
//
//     co_await weft::sleep(10ms);
//     co_await weft::sleep_until(weft::clock::now() + 1s);
//     weft::task<> t = weft::create_task(weft::sleep(10s));
//
// The deadline is taken when the sleep is awaited. A zero or negative duration, or a
// time point already passed, yields instead: the task goes behind the tasks already ready
// and resumes without touching the timer wheel. Timers are kept in the wheel of the worker
// the task was running on; the task may resume on another worker.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>

#include <weft/clock.hpp>
#include <weft/detail/timer_entry.hpp>

namespace weft {

namespace detail {

// The timer of one sleeping coroutine: the wheel's entry, who to resume and whose wheel it
// is in. 64 bytes.
struct sleep_timer : timer_entry {
    std::coroutine_handle<> sleeper;
    void* wheel_owner = nullptr; // the worker whose wheel holds the entry
};

// Out of line (runtime/sleep.cpp): they reach the current worker.
[[gnu::noinline]] void begin_sleep(sleep_timer& timer, std::coroutine_handle<> sleeper,
                                   std::int64_t amount_ns, bool relative);
[[gnu::noinline]] void abandon_sleep(sleep_timer& timer) noexcept;

class [[nodiscard]] sleep_awaiter {
public:
    sleep_awaiter(std::int64_t amount_ns, bool relative) noexcept
        : amount_ns_(amount_ns), relative_(relative) {}
    sleep_awaiter(sleep_awaiter&& other) noexcept
        : amount_ns_(other.amount_ns_), relative_(other.relative_) {}
    ~sleep_awaiter() { abandon_sleep(timer_); }

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> sleeper) {
        begin_sleep(timer_, sleeper, amount_ns_, relative_);
    }
    void await_resume() const noexcept {}

private:
    sleep_timer timer_;
    std::int64_t amount_ns_;
    bool relative_;
};

} // namespace detail

template <class Rep, class Period>
detail::sleep_awaiter sleep(std::chrono::duration<Rep, Period> delay) {
    const auto nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(delay);
    return detail::sleep_awaiter(nanoseconds.count(), true);
}

inline detail::sleep_awaiter sleep_until(clock::time_point deadline) {
    return detail::sleep_awaiter(deadline.time_since_epoch().count(), false);
}

} // namespace weft
