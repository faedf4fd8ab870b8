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

#include <future>
#include <memory>
#include <type_traits>
#include <utility>

#include <weft/coro.hpp>
#include <weft/detail/threadsafe_launch.hpp>
#include <weft/errors.hpp>

namespace weft {

// A way into one runtime, usable from any thread; copy it freely.
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
