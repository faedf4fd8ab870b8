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

#include <coroutine>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

#include <weft/detail/resume_waiter.hpp>
#include <weft/detail/waiter_list.hpp>
#include <weft/errors.hpp>
#include <weft/outcome.hpp>

namespace weft {

namespace detail {
template <class T>
struct future_state {
    waiter_list waiters;
    outcome<T> result;
};
} // namespace detail

template <class T = void>
class future {
public:
    using value_type = T;

    // A new, pending future.
    future() : state_(std::make_shared<detail::future_state<T>>()) {}

    void set_result(detail::stored_t<T> value)
        requires(!std::is_void_v<T>)
    {
        complete([&] { state_->result.emplace_value(std::move(value)); });
    }
    void set_result()
        requires std::is_void_v<T>
    {
        complete([&] { state_->result.emplace_value(); });
    }
    void set_exception(std::exception_ptr error) {
        if (!error) {
            throw invalid_state_error("weft::future::set_exception needs a non-null exception");
        }
        complete([&] { state_->result.set_exception(error); });
    }

    bool done() const noexcept { return state_->waiters.done(); }

    // The value; rethrows the stored exception. Throws invalid_state_error if not done.
    T result() const { return checked_result().value(); }

    // The stored exception, or null. Throws invalid_state_error if not done.
    std::exception_ptr exception() const { return checked_result().exception(); }

    auto operator co_await() const& { return awaiter<false>(*this); }
    auto operator co_await() && { return awaiter<true>(std::move(*this)); }

private:
    friend struct detail::completion_access;

    detail::waiter_list& waiters() const noexcept { return state_->waiters; }
    outcome<T>& stored_result() const noexcept { return state_->result; }

    template <class Publish>
    void complete(Publish&& publish) {
        if (!state_->waiters.complete(std::forward<Publish>(publish))) {
            throw invalid_state_error("weft::future is already done: a future can be "
                                      "completed only once");
        }
    }

    const outcome<T>& checked_result() const {
        if (!done()) {
            throw invalid_state_error("weft::future::result() called before the future "
                                      "was completed");
        }
        return state_->result;
    }

    template <bool Owning>
    class awaiter : public detail::resume_waiter {
    public:
        explicit awaiter(const future& f) noexcept : state_(f.state_.get()) {}
        explicit awaiter(future&& f) noexcept
            : owner_(std::move(f.state_)), state_(owner_.get()) {}
        ~awaiter() { state_->waiters.remove(*this); }

        bool await_ready() const noexcept { return state_->waiters.done(); }
        bool await_suspend(std::coroutine_handle<> awaiting) {
            prepare(awaiting, "awaiting a weft::future");
            return state_->waiters.enqueue(*this);
        }
        T await_resume() {
            if constexpr (Owning) {
                return std::move(state_->result).value();
            } else {
                return state_->result.value();
            }
        }

    private:
        std::shared_ptr<detail::future_state<T>> owner_;
        detail::future_state<T>* state_;
    };

    std::shared_ptr<detail::future_state<T>> state_;
};

} // namespace weft
