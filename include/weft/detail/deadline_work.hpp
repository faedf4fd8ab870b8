// What a deadline runs (include/weft/timeout.hpp): the awaitable given to wait_for, or the
// body of timeout called with its scope when the await starts, and the wrapper that stops
// the watchdog whenever the work ends.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>

#include <weft/awaitable.hpp>
#include <weft/coro.hpp>
#include <weft/detail/deadline_state.hpp>
#include <weft/outcome.hpp>
#include <weft/task.hpp>

namespace weft {

class timeout_scope;

namespace detail {

// Awaits a deadline; defined in deadline_awaiter.hpp, since it holds a complete
// timeout_scope.
template <class T, class Start>
class deadline_awaiter;

// Runs the work and, whatever its end, stops the watchdog.
template <class T>
coro<T> work_then_stop(coro<T> work, deadline_state& state) {
    outcome<T> result;
    try {
        if constexpr (std::is_void_v<T>) {
            co_await std::move(work);
            result.emplace_value();
        } else {
            result.emplace_value(co_await std::move(work));
        }
    } catch (...) {
        result.set_exception(std::current_exception());
    }
    state.stop_watchdog();
    co_return std::move(result).value();
}

// The work of wait_for: an awaitable given up front.
template <class T>
struct given_work {
    coro<T> work;
    // The awaitable was a coroutine, which asyncio's wait_for runs as a Task: at a deadline
    // already passed it is dropped unstarted, and one cancelled before its first step never
    // runs. Anything else is awaited through a wrapper that must start to pass a
    // cancellation on to it, and one already done still gives its result.
    bool unstarted_coroutine;
    coro<T> start(timeout_scope&) { return std::move(work); }
    bool empty() const noexcept { return !work; }
    bool runs_as_task() const noexcept { return unstarted_coroutine; }
};

// The work of timeout: a body called with the scope when the await starts.
template <class Body>
struct body_work {
    Body body;
    auto start(timeout_scope& scope) {
        if constexpr (std::is_invocable_v<Body&, timeout_scope&>) {
            return body(scope);
        } else {
            return body();
        }
    }
    static constexpr bool empty() noexcept { return false; }
    // asyncio.timeout's block runs inline in the awaiting task: it starts whatever is
    // pending, and a cancellation reaches it at its first suspension.
    static constexpr bool runs_as_task() noexcept { return false; }
};

template <class A>
auto as_coro(A&& awaitable) {
    using plain = std::remove_cvref_t<A>;
    if constexpr (is_coro_v<plain>) {
        return plain(std::move(awaitable));
    } else {
        return await_in_coro<plain>(std::forward<A>(awaitable));
    }
}

} // namespace detail

} // namespace weft
