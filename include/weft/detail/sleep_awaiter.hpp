// The machinery of weft::sleep (weft/sleep.hpp): the timer a sleeping coroutine keeps in its
// frame, the awaiter that arms it, and the one that also yields a result. The compiled half is
// runtime/time/sleep.cpp, which puts the timer in the timer driver of the worker the sleep starts
// on (runtime/time/timer_driver.hpp); the timer fires or is cancelled there.
#pragma once

#include <coroutine>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <weft/clock.hpp>
#include <weft/detail/cancellation.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/running_strand.hpp>
#include <weft/detail/timer_entry.hpp>
#include <weft/errors.hpp>

namespace weft::detail {

class timer_driver;

// The state of one sleeping coroutine, all of it inside the coroutine's frame: the wheel's
// entry, who to resume, whose timer driver holds the entry, and how a cancellation reaches
// it.
struct sleep_timer : timer_entry, cancel_target {
    std::coroutine_handle<> sleeper;
    // The driver whose wheel holds the entry; null for a yield (a zero delay), which is no
    // longer the strand's cancel target when it suspends.
    timer_driver* driver = nullptr;
    strand_word* strand = nullptr; // the sleeper's strand (null: not a weft coroutine's)
};

// How a sleep's amount reads: a duration from now, or a time point on weft::clock.
enum class deadline_kind : bool { after, at };

// Out of line (runtime/time/sleep.cpp): they reach the current worker's timer driver.
// begin_sleep reads the amount, in nanoseconds, from timer.deadline and replaces it with the
// deadline; it returns false when the sleeper must not suspend (a cancellation was pending).
[[gnu::noinline]] bool begin_sleep(sleep_timer& timer, std::coroutine_handle<> sleeper,
                                   deadline_kind kind, strand_word* strand);
[[gnu::noinline]] void abandon_sleep(sleep_timer& timer) noexcept;

// Throws: a cancellation ends the sleep with cancelled_error. Without it (the runtime's own
// watchdogs, for which a cancellation is routine), await_resume says whether the sleep
// reached its deadline instead, and no exception is thrown.
template <deadline_kind Kind, bool Throws = true>
class [[nodiscard]] sleep_awaiter {
public:
    // Until the sleep begins, the timer's deadline field holds the amount (two's complement
    // for a negative one), so the awaiter is exactly its timer.
    explicit sleep_awaiter(std::int64_t amount_ns) noexcept {
        timer_.deadline = static_cast<std::uint64_t>(amount_ns);
    }
    sleep_awaiter(sleep_awaiter&& other) noexcept { timer_.deadline = other.timer_.deadline; }
    ~sleep_awaiter() { abandon_sleep(timer_); }

    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> sleeper) {
        return begin_sleep(timer_, sleeper, Kind, strand_of(sleeper));
    }
    auto await_resume() {
        resume_in(timer_.strand);
        const bool cancelled = timer_.strand != nullptr && timer_.driver != nullptr &&
                               leave_target(*timer_.strand, timer_);
        if constexpr (Throws) {
            if (cancelled) {
                throw_delivered_cancellation();
            }
        } else {
            return !cancelled;
        }
    }

private:
    sleep_timer timer_;
};

// weft::sleep(delay, result): a sleep that yields `result` when it ends. It owns the result
// from the call until the await yields it.
template <class T>
class [[nodiscard]] sleep_yielding : public sleep_awaiter<deadline_kind::after> {
public:
    sleep_yielding(std::int64_t amount_ns,
                   T result) noexcept(std::is_nothrow_move_constructible_v<T>)
        : sleep_awaiter(amount_ns), result_(std::move(result)) {}

    // The result is taken before the cancellation check, so a cancelled sleep drops it here,
    // not when its frame goes (clang keeps a task's awaitable until the last handle goes).
    T await_resume() {
        T result = std::move(result_);
        sleep_awaiter::await_resume();
        return result;
    }

private:
    T result_;
};

// co_await yields true if the deadline came, false if the sleep was cancelled.
inline sleep_awaiter<deadline_kind::at, false>
sleep_until_or_cancelled(clock::time_point deadline) {
    return sleep_awaiter<deadline_kind::at, false>(deadline.time_since_epoch().count());
}

} // namespace weft::detail
