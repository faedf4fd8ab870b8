// weft::future<T>: a result that someone will provide later (asyncio.Future).
//
//     weft::future<int> f;
//     std::thread([f]() mutable { f.set_result(7); }).detach();
//     int x = co_await f;
//
// Copies share one state. It may be completed from any thread, a thread outside the
// runtime included; its awaiters resume on the runtime they suspended on. Completing it
// twice throws invalid_state_error. `co_await f` copies the result to each awaiter;
// `co_await std::move(f)` moves it out.
#pragma once

#include <atomic>
#include <concepts>
#include <coroutine>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

#include <weft/detail/awaitable_kind.hpp>
#include <weft/detail/completion_awaiter.hpp>
#include <weft/detail/done_callbacks.hpp>
#include <weft/detail/future_state.hpp>
#include <weft/done_callback_id.hpp>
#include <weft/errors.hpp>
#include <weft/outcome.hpp>

namespace weft {

template <class T = void>
class future {
public:
    using value_type = T;

    // A new, pending future.
    future() : state_(std::make_shared<detail::future_state<T>>()) {}

    void set_result(detail::stored_t<T> value) requires(!std::is_void_v<T>) {
        complete([&] { state_->result.emplace_value(std::move(value)); });
    }
    void set_result() requires std::is_void_v<T> {
        complete([&] { state_->result.emplace_value(); });
    }
    void set_exception(std::exception_ptr error) {
        if (!error) {
            throw invalid_state_error("weft::future::set_exception needs a non-null exception");
        }
        complete([&] { state_->result.set_exception(error); });
    }

    // False for a moved-from future.
    explicit operator bool() const noexcept { return static_cast<bool>(state_); }

    bool done() const noexcept { return state_ && state_->waiters.done(); }

    // The value; rethrows the stored exception. Throws invalid_state_error if not done.
    T result() const { return checked_result().value(); }

    // The stored exception, or null. Throws invalid_state_error if not done.
    std::exception_ptr exception() const { return checked_result().exception(); }

    // As task::add_done_callback (asyncio's Future.add_done_callback), on the calling
    // runtime even when a thread outside it completes the future. Callbacks still waiting
    // when the runtime shuts down are dropped unrun (docs/api.md, "Done callbacks").
    template <std::invocable<const future&> Callback>
    done_callback_id add_done_callback(Callback&& callback) const {
        return detail::add_done_callback(*this, std::forward<Callback>(callback),
                                         "weft::future::add_done_callback");
    }

    // As task::remove_done_callback.
    bool remove_done_callback(done_callback_id id) const noexcept {
        return state_ && detail::remove_done_callback(state_->waiters, id);
    }

    auto operator co_await() const& { return detail::completion_awaiter<future, false>(*this); }
    auto operator co_await() && {
        return detail::completion_awaiter<future, true>(std::move(*this));
    }

private:
    friend struct detail::completion_access;

    // Read by the awaiters through completion_access.
    static constexpr const char* empty_message = "awaiting an empty (moved-from) weft::future";
    static constexpr const char* await_description = "awaiting a weft::future";
    static constexpr bool is_future = true;

    // The future's exception has been seen: it is not reported as never retrieved.
    void mark_retrieved() const noexcept {
        // relaxed: read only by the last copy's destruction, which the count orders.
        state_->retrieved.store(true, std::memory_order_relaxed);
    }

    detail::waiter_list& waiters() const noexcept { return state_->waiters; }
    outcome<T>& stored_result() const noexcept { return state_->result; }

    template <class Publish>
    void complete(Publish&& publish) {
        if (!state_) {
            throw invalid_state_error("completing an empty (moved-from) weft::future");
        }
        if (!state_->waiters.complete(std::forward<Publish>(publish))) {
            throw invalid_state_error("weft::future is already done: a future can be "
                                      "completed only once");
        }
    }

    const outcome<T>& checked_result() const {
        if (!state_) {
            throw invalid_state_error("weft::future is empty (moved from)");
        }
        if (!done()) {
            throw invalid_state_error("weft::future::result() called before the future "
                                      "was completed");
        }
        mark_retrieved();
        return state_->result;
    }

    std::shared_ptr<detail::future_state<T>> state_;
};

} // namespace weft
