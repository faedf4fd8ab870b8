// coro_awaiter: what `co_await` on a weft::coro returns. It owns the frame it took from the
// coro, starts it inline by symmetric transfer with the awaiting coroutine as its
// continuation (and its strand, so a cancellation reaches it), and yields its result. The
// frame is destroyed with the awaiter, whether or not it ran.
#pragma once

#include <coroutine>
#include <utility>

#include <weft/detail/promise.hpp>
#include <weft/detail/symmetric_transfer.hpp>
#include <weft/errors.hpp>

namespace weft::detail {

template <class T>
class coro_awaiter {
public:
    explicit coro_awaiter(coro_handle<T> handle) noexcept : handle_(handle) {}
    coro_awaiter(coro_awaiter&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    ~coro_awaiter() {
        if (handle_) {
            destroy_frame(handle_);
        }
    }

    bool await_ready() const {
        if (!handle_) {
            throw invalid_state_error("awaiting an empty weft::coro (moved from or "
                                      "already awaited)");
        }
        return false;
    }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) noexcept {
        handle_.promise().set_continuation(awaiting, strand_of(awaiting));
        return transfer_to(awaiting, handle_);
    }
    T await_resume() { return std::move(handle_.promise().result).value(); }

private:
    coro_handle<T> handle_;
};

} // namespace weft::detail
