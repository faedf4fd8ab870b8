// weft::to_thread: run a blocking call on the runtime's blocking pool and await its result
// (asyncio.to_thread).
//
//     std::string text = co_await weft::to_thread(read_file, path);
//
// The callable and its arguments are decay-copied when to_thread is called (as std::thread
// does) and invoked once, as rvalues, on a pool thread; worker threads never run it. Like
// a coroutine the call is lazy: it is submitted when the result is awaited, and awaiting
// consumes it. The await yields the callable's value (moved; a reference result is copied)
// or rethrows its exception. The pool starts threads on demand up to
// run_options::max_blocking_threads and queues further calls in FIFO order; a thread idle
// for run_options::blocking_keep_alive ends.
//
// Cancelling the awaiting task ends the await at once with cancelled_error. A call that has
// not started then never starts; one that is running is not interrupted (a blocking call
// cannot be), runs to its end on its thread, and its result is dropped there.
//
// In virtual time the runtime's clock stands still while a call is queued or running (the
// call takes real time), so a deadline around it does not pass while the workers wait.
//
// With g++ 12, name a lambda that captures by value before awaiting it: g++ 12 destroys a
// capturing lambda temporary written inside a co_await expression twice (GCC bug 101367).
//
//     auto save_config = [shared] { save(*shared); };
//     co_await weft::to_thread(save_config);            // copied; std::move(save_config) moves
//
// Calling to_thread outside a runtime throws weft::runtime_error. At shutdown, after the
// drain, calls not yet started are dropped (an awaiter still waiting gets runtime_error)
// and run waits for the calls running to return before it returns.
#pragma once

#include <type_traits>
#include <utility>

#include <weft/detail/blocking_call.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/detail/to_thread_call.hpp>

namespace weft {

// Returns an awaitable that runs `fn(args...)` on the runtime's blocking pool and yields
// its result. Throws weft::runtime_error outside a runtime.
template <class F, class... Args>
requires detail::decay_invocable<F, Args...>
[[nodiscard]] detail::to_thread_call<detail::to_thread_result_t<F, Args...>>
to_thread(F&& fn, Args&&... args) {
    using result = detail::to_thread_result_t<F, Args...>;
    detail::require_running_runtime("weft::to_thread");
    return detail::to_thread_call<result>(
        new detail::bound_call<result, std::decay_t<F>, std::decay_t<Args>...>(
            std::forward<F>(fn), std::forward<Args>(args)...));
}

} // namespace weft
