// weft::runtime_handle and weft::current_runtime: reach a running runtime from any thread
// (asyncio's run_coroutine_threadsafe and call_soon_threadsafe).
//
//     weft::runtime_handle runtime = weft::current_runtime();   // inside the runtime
//     std::thread([runtime] {
//         std::future<int> answer = runtime.spawn(compute());   // a task on that runtime
//         runtime.call_soon([] { std::puts("on a worker"); });
//         int x = answer.get();
//     }).detach();
//
// A handle is a small copyable value, usable from any thread: a thread outside every
// runtime, a blocking pool thread, a worker of another runtime or of its own. It stays
// valid after the runtime ended; the runtime ends for handles when its main coroutine
// ends, before run's shutdown drain, and from then on spawn and call_soon throw
// weft::runtime_error ("... the weft runtime has ended"). A spawn or call_soon that got in
// before is a task like any other: it runs, or the shutdown drain cancels it.
//
// spawn's std::future is always completed, once: with the coroutine's value or exception
// (cancelled_error if the drain cancelled it), or with weft::runtime_error if the runtime
// destroyed the task unfinished (it ignored the cancellation past run_options::shutdown_grace).
// Do not block a worker on it (get() on a worker of the same runtime can deadlock it).
#pragma once

#include <concepts>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <type_traits>
#include <utility>

#include <weft/coro.hpp>
#include <weft/errors.hpp>

namespace weft {

namespace detail {

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

} // namespace detail

class runtime_handle {
public:
    // Starts `body` as a task on the handle's runtime and returns a std::future for its
    // result. Throws weft::runtime_error if the runtime has ended (`body` is destroyed
    // without running), invalid_state_error for an empty coro.
    template <class T>
    std::future<T> spawn(coro<T> body) const {
        if (!body) {
            throw invalid_state_error("weft::runtime_handle::spawn: the coro is empty (moved "
                                      "from or already awaited)");
        }
        std::promise<T> promise;
        std::future<T> result = promise.get_future();
        detail::launch_through(
            *gate_,
            detail::settle_when_done(std::move(body), detail::spawn_promise<T>(std::move(promise))),
            "weft::runtime_handle::spawn");
        return result;
    }

    // Runs `fn()` (decay-copied, invoked once as an rvalue) on one of the runtime's workers,
    // as a step of its own. An exception it throws is reported like a task exception nobody
    // retrieved. Throws weft::runtime_error if the runtime has ended.
    template <detail::void_callable F>
    void call_soon(F&& fn) const {
        detail::launch_through(*gate_, detail::run_callable<std::decay_t<F>>(std::forward<F>(fn)),
                               "weft::runtime_handle::call_soon");
    }

private:
    friend runtime_handle current_runtime();

    explicit runtime_handle(std::shared_ptr<detail::runtime_gate> gate) noexcept
        : gate_(std::move(gate)) {}

    std::shared_ptr<detail::runtime_gate> gate_;
};

// The runtime of the calling worker. Throws weft::runtime_error outside a runtime.
runtime_handle current_runtime();

} // namespace weft
