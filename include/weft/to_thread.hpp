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

#include <concepts>
#include <coroutine>
#include <functional>
#include <type_traits>
#include <utility>

#include <weft/detail/blocking_call.hpp>
#include <weft/detail/completion_awaiter.hpp>
#include <weft/detail/scheduler.hpp>

namespace weft {

namespace detail {

// What to_thread accepts: a callable and arguments it can copy, invocable as rvalues.
template <class F, class... Args>
concept decay_invocable = std::invocable<std::decay_t<F>, std::decay_t<Args>...> &&
    std::constructible_from<std::decay_t<F>, F> &&
    (std::constructible_from<std::decay_t<Args>, Args>&&...);

template <class F, class... Args>
using to_thread_result_t =
    std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>>;

// co_await on a to_thread call: submits it to the pool, then waits like a future await (a
// cancellation withdraws the wait). Destroyed without the result, it abandons the call.
template <class R>
class [[nodiscard]] to_thread_awaiter {
public:
    explicit to_thread_awaiter(blocking_call_ref<R>&& call) noexcept
        : call_(call.get()), wait_(std::move(call)) {}
    to_thread_awaiter(const to_thread_awaiter&) = delete;
    ~to_thread_awaiter() {
        if (call_ != nullptr) {
            call_->abandon();
        }
    }

    // Throws invalid_state_error for a call already awaited.
    bool await_ready() const { return wait_.await_ready(); }

    // Submits before publishing the wait, so nothing here touches this awaiter once the
    // coroutine can be resumed elsewhere; a call that ends first makes the wait not
    // suspend. With a cancellation already pending the wait does not suspend either, and
    // the destructor abandons the call, which then almost always never starts.
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) {
        submit_blocking(require_running_runtime("weft::to_thread"), *call_);
        return wait_.await_suspend(awaiting);
    }

    R await_resume() {
        try {
            return wait_.await_resume();
        } catch (...) {
            forget_failure();
            throw;
        }
    }

private:
    // The call's copy of an exception being rethrown here is dropped here, so this thread
    // drops its last reference too, whichever thread deletes the call: the exception's
    // count lives in the uninstrumented C++ runtime, and ThreadSanitizer would not see it
    // order this thread's reads of the exception before a pool thread freeing it. A call
    // that has not ended (the await was cancelled) is left to its pool thread.
    void forget_failure() noexcept {
        if (call_->waiters.done()) {
            call_->result.set_exception(nullptr);
        }
    }

    blocking_call<R>* call_;
    completion_awaiter<blocking_call_ref<R>, true> wait_;
};

// What to_thread returns: the call, not yet submitted. Awaiting it, as an rvalue or an
// lvalue, consumes it; it can be moved until then (into create_task or gather).
template <class R>
class [[nodiscard]] to_thread_call {
public:
    using value_type = R;

    explicit to_thread_call(blocking_call<R>* call) noexcept : call_(call) {}

    to_thread_awaiter<R> operator co_await() && { return to_thread_awaiter<R>(std::move(call_)); }
    to_thread_awaiter<R> operator co_await() & { return to_thread_awaiter<R>(std::move(call_)); }

private:
    blocking_call_ref<R> call_;
};

} // namespace detail

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
