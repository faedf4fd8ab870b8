// weft::shield: await something without letting a cancellation of the awaiting task reach
// it (asyncio.shield).
//
//     int x = co_await weft::shield(save(record));   // save runs to its end whatever happens
//
// A coroutine or another awaitable is started as a task of its own; a task is awaited as
// it is. If the awaiting task is cancelled meanwhile, the await throws cancelled_error at
// once and the shielded task runs on, detached unless another handle keeps it. What shield
// returns is awaited once; it may be moved until then (to create_task, wait_for, gather).
#pragma once

#include <type_traits>
#include <utility>

#include <weft/awaitable.hpp>
#include <weft/detail/completion_awaiter.hpp>
#include <weft/future.hpp>
#include <weft/task.hpp>

namespace weft {

namespace detail {

// The awaitable shield returns: it holds the task or future, and makes the awaiter (which
// cannot move: it is linked into a waiter list while suspended) only when awaited.
template <class Source>
class [[nodiscard]] shielded {
public:
    explicit shielded(Source work) noexcept : work_(std::move(work)) {}
    shielded(shielded&&) noexcept = default;
    shielded(const shielded&) = delete;

    // Withdraws its wait when the awaiter is cancelled: `work` is not cancelled with it.
    completion_awaiter<Source, true, false> operator co_await() && noexcept {
        return completion_awaiter<Source, true, false>(std::move(work_));
    }

private:
    Source work_;
};

} // namespace detail

template <class T>
detail::shielded<task<T>> shield(task<T> work) {
    return detail::shielded<task<T>>(std::move(work));
}

// A future is never cancelled by its awaiters anyway; shield is the plain await.
template <class T>
detail::shielded<future<T>> shield(future<T> result) {
    return detail::shielded<future<T>>(std::move(result));
}

template <awaitable A>
requires(!detail::is_task_v<std::remove_cvref_t<A>> &&
         !detail::is_future_v<std::remove_cvref_t<A>>) auto shield(A&& work) {
    return shield(create_task(std::forward<A>(work)));
}

} // namespace weft
