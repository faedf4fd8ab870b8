// weft::shield: await something without letting a cancellation of the awaiting task reach
// it (asyncio.shield).
//
//     int x = co_await weft::shield(save(record));   // save runs to its end whatever happens
//
// A coroutine or another awaitable is started as a task of its own; a task is awaited as
// it is. If the awaiting task is cancelled meanwhile, the await throws cancelled_error at
// once and the shielded task runs on, detached unless another handle keeps it.
#pragma once

#include <type_traits>
#include <utility>

#include <weft/awaitable.hpp>
#include <weft/detail/resume_waiter.hpp>
#include <weft/future.hpp>
#include <weft/task.hpp>

namespace weft {

template <class T>
auto shield(task<T> work) {
    return detail::completion_awaiter<task<T>, true, false>(std::move(work));
}

// A future is never cancelled by its awaiters anyway; shield is the plain await.
template <class T>
auto shield(future<T> result) {
    return detail::completion_awaiter<future<T>, true, false>(std::move(result));
}

template <awaitable A>
requires(!detail::is_task_v<std::remove_cvref_t<A>> &&
         !detail::is_future_v<std::remove_cvref_t<A>>) auto shield(A&& work) {
    return shield(create_task(std::forward<A>(work)));
}

} // namespace weft
