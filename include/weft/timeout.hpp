// Deadlines: weft::wait_for (asyncio.wait_for) and weft::timeout / weft::timeout_at
// (asyncio.timeout).
//
//     int x = co_await weft::wait_for(fetch(), 2s);          // or throws weft::timeout_error
//
//     co_await weft::timeout(5s, [&](weft::timeout_scope& scope) -> weft::coro<> {
//         co_await connect();                                 // one deadline for all three
//         scope.reschedule(weft::clock::now() + 10s);         // moved while running
//         co_await handshake();
//         co_await send();
//     });
//
// The work runs as its own line of control beside a watchdog that sleeps until the
// deadline. If the work ends first, the watchdog is stopped; if the deadline comes first,
// the work is cancelled and awaited to its end, and then the await throws timeout_error
// (or, if the work caught the cancellation and returned, yields what it returned). The
// deadline is taken when the await starts. A deadline already passed then (a limit of zero
// or less, a time point not later than now) expires at once, as in asyncio: wait_for drops
// a coroutine without running it and throws timeout_error; any other work is started with
// its cancellation already requested, so a task or future already done gives its result,
// and a body runs until its first suspension, where the cancellation reaches it. A limit
// beyond the clock's range saturates at time_point::max(), which never comes; a NaN limit
// throws weft::invalid_argument. Cancelling the awaiting task cancels the work too, and
// the await then throws cancelled_error. C++ has no asynchronous scope exit, so the
// awaits that share one deadline go in a coroutine (the body) instead of a `with` block;
// the body is called when the await starts and lives as long as it.
#pragma once

#include <chrono>
#include <type_traits>
#include <utility>

#include <weft/awaitable.hpp>
#include <weft/clock.hpp>
#include <weft/detail/deadline_state.hpp>
#include <weft/detail/deadline_work.hpp>
#include <weft/detail/saturating_duration.hpp>
#include <weft/sleep.hpp>

namespace weft {

// The deadline of one timeout, handed to its body. Any thread may use it while the body
// runs.
class timeout_scope {
public:
    // The deadline, on weft::clock.
    clock::time_point when() const noexcept { return state_.when(); }

    // Moves the deadline, earlier or later; time_point::max() means never. After the
    // deadline has passed it changes nothing: the body is being cancelled.
    void reschedule(clock::time_point deadline) noexcept { state_.reschedule(deadline); }

    // True once the deadline passed and the body was cancelled for it.
    bool expired() const noexcept { return state_.expired(); }

private:
    template <class T, class Start>
    friend class detail::deadline_awaiter;

    detail::deadline_state state_;
};

// Awaits `awaitable` (a coro, a task, a future, a gather, ...) for at most `limit`: its
// result, or, once the limit passes, cancels it, waits for it to end and throws
// weft::timeout_error (asyncio.wait_for). A task given here is cancelled on timeout. With a
// limit of zero or less, a coro never runs and the await throws timeout_error; a task or
// future already done gives its result, and one not done is cancelled (a task) and
// awaited, then timeout_error.
template <awaitable A, class Rep, class Period>
auto wait_for(A&& awaitable, std::chrono::duration<Rep, Period> limit) {
    using result = await_result_t<std::remove_cvref_t<A>>;
    using start = detail::given_work<result>;
    const std::chrono::nanoseconds amount = detail::saturating_nanoseconds(limit, "weft::wait_for");
    return detail::deadline_awaiter<result, start>(
        start{detail::as_coro(std::forward<A>(awaitable)),
              detail::is_coro_v<std::remove_cvref_t<A>>},
        amount.count(), detail::deadline_kind::after, "weft::wait_for");
}

// Runs `body` (a callable taking weft::timeout_scope&, or nothing, and returning a
// weft::coro) under one deadline `limit` from now (asyncio.timeout): its result, or
// weft::timeout_error once the deadline passed and the body, cancelled, has ended.
template <class Rep, class Period, class Body>
auto timeout(std::chrono::duration<Rep, Period> limit, Body body) {
    using start = detail::body_work<Body>;
    using result =
        typename decltype(std::declval<start&>().start(std::declval<timeout_scope&>()))::value_type;
    const std::chrono::nanoseconds amount = detail::saturating_nanoseconds(limit, "weft::timeout");
    return detail::deadline_awaiter<result, start>(start{std::move(body)}, amount.count(),
                                                   detail::deadline_kind::after, "weft::timeout");
}

// The same with a deadline on weft::clock (asyncio.timeout_at); time_point::max() is none.
template <class Body>
auto timeout_at(clock::time_point deadline, Body body) {
    using start = detail::body_work<Body>;
    using result =
        typename decltype(std::declval<start&>().start(std::declval<timeout_scope&>()))::value_type;
    return detail::deadline_awaiter<result, start>(start{std::move(body)},
                                                   deadline.time_since_epoch().count(),
                                                   detail::deadline_kind::at, "weft::timeout_at");
}

} // namespace weft

// The awaiter holds a timeout_scope, so it is defined once timeout_scope is complete.
#include <weft/detail/deadline_awaiter.hpp>
