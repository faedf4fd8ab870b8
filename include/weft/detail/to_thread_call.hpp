// The machinery of weft::to_thread (include/weft/to_thread.hpp): the call to_thread returns,
// not yet submitted, and its awaiter, which submits it to the blocking pool and waits for
// it like a future await. The awaiter abandons a call it did not see end; the pool and the
// awaiter share the call (detail/blocking_call.hpp).
#pragma once

#include <concepts>
#include <coroutine>
#include <functional>
#include <type_traits>
#include <utility>

#include <weft/detail/blocking_call.hpp>
#include <weft/detail/completion_awaiter.hpp>
#include <weft/detail/scheduler.hpp>

namespace weft::detail {

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

} // namespace weft::detail
