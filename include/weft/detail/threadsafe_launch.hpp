// How a weft::runtime_handle (include/weft/runtime_handle.hpp) starts work on its runtime
// from any thread: the gate it launches through (runtime/scheduler/runtime_handle.cpp), the
// coroutine that settles spawn's std::future exactly once, and the one that runs a
// call_soon callable.
#pragma once

#include <concepts>
#include <exception>
#include <functional>
#include <future>
#include <type_traits>
#include <utility>

#include <weft/coro.hpp>
#include <weft/errors.hpp>

namespace weft::detail {

class runtime_gate; // runtime/scheduler/runtime_gate.hpp

// Starts `body` as a task of the gate's runtime, or throws weft::runtime_error naming `what`
// if the runtime has ended (then `body` is destroyed without running). The task starts even
// if the shutdown cancels it first: a call_soon callback is not a Task in asyncio and runs,
// and spawn's wrapper settles its std::future with the cancellation itself.
void launch_through(runtime_gate& gate, coro<> body, const char* what);

// The std::promise behind spawn's std::future, settled exactly once: by the coroutine's
// outcome, or, if the frame that holds it is destroyed first, with runtime_error.
template <class T>
class spawn_promise {
public:
    explicit spawn_promise(std::promise<T>&& promise) noexcept : promise_(std::move(promise)) {}
    spawn_promise(spawn_promise&& other) noexcept
        : promise_(std::move(other.promise_)), settled_(std::exchange(other.settled_, true)) {}
    spawn_promise& operator=(spawn_promise&&) = delete;
    ~spawn_promise() {
        if (!settled_) {
            settle_with(std::make_exception_ptr(
                runtime_error("weft::runtime_handle::spawn: the runtime ended before the "
                              "coroutine finished, and destroyed it")));
        }
    }

    template <class... Value>
    void set_value(Value&&... value) {
        promise_.set_value(std::forward<Value>(value)...);
        settled_ = true;
    }
    void set_exception(std::exception_ptr error) noexcept { settle_with(error); }

private:
    // set_exception throws only for a promise moved from or already satisfied, which
    // settled_ rules out.
    void settle_with(std::exception_ptr error) noexcept {
        promise_.set_exception(error);
        settled_ = true;
    }

    std::promise<T> promise_;
    bool settled_ = false;
};

// Started despite a pending cancellation (see launch_through), so that a body cancelled
// before its first step never runs and still settles the std::future with cancelled_error.
template <class T>
coro<> settle_when_done(coro<T> body, spawn_promise<T> result) {
    try {
        co_await cancellation_point{};
        if constexpr (std::is_void_v<T>) {
            co_await std::move(body);
            result.set_value();
        } else {
            result.set_value(co_await std::move(body));
        }
    } catch (...) {
        result.set_exception(std::current_exception());
    }
}

// What call_soon accepts: a callable it can copy, invoked once as an rvalue with nothing,
// returning void (a coroutine lambda, which returns a coro, belongs to spawn).
template <class F>
concept void_callable = std::constructible_from<std::decay_t<F>, F> &&
    std::invocable<std::decay_t<F>> && std::is_void_v<std::invoke_result_t<std::decay_t<F>>>;

// A callable's exception ends this task with it; nobody holds the task, so it is reported
// as never retrieved (run_options::exception_handler, or stderr).
template <class F>
coro<> run_callable(F fn) {
    std::invoke(std::move(fn));
    co_return;
}

} // namespace weft::detail
