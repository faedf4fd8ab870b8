// weft::coro<T>: the return type of a weft coroutine. Like an asyncio coroutine object it
// is lazy: calling the function allocates the frame and runs nothing. It runs when it is
// awaited (inline, in the awaiting task, by symmetric transfer so deep chains do not grow
// the stack), wrapped by create_task, passed to gather, or given to run.
//
//     weft::coro<int> answer() { co_return 42; }
//     weft::coro<> caller() { int x = co_await answer(); }
//
// A coro is move-only and runs at most once; awaiting it consumes it.
#pragma once

#include <coroutine>
#include <utility>

#include <weft/detail/coro_awaiter.hpp>
#include <weft/detail/promise.hpp>

namespace weft {

template <class T = void>
class [[nodiscard]] coro {
public:
    using promise_type = detail::coro_promise<T>;
    using value_type = T;

    // An empty coro (operator bool false), to move one into: an array of gather children.
    coro() noexcept = default;

    coro(coro&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    coro& operator=(coro&& other) noexcept {
        if (this != &other) {
            destroy();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }
    ~coro() { destroy(); }

    // False once the coroutine was moved away or consumed.
    explicit operator bool() const noexcept { return static_cast<bool>(handle_); }

    auto operator co_await() && { return detail::coro_awaiter<T>(std::exchange(handle_, {})); }
    auto operator co_await() & { return detail::coro_awaiter<T>(std::exchange(handle_, {})); }

private:
    friend promise_type;
    friend struct detail::coro_access;

    explicit coro(detail::coro_handle<T> handle) noexcept : handle_(handle) {}

    void destroy() noexcept {
        if (handle_) {
            detail::destroy_frame(handle_);
        }
    }

    detail::coro_handle<T> handle_{};
};

namespace detail {
template <class T>
coro<T> coro_promise<T>::get_return_object() noexcept {
    return coro<T>(coro_handle<T>::from_promise(*this));
}
inline coro<void> coro_promise<void>::get_return_object() noexcept {
    return coro<void>(coro_handle<void>::from_promise(*this));
}
} // namespace detail

} // namespace weft
