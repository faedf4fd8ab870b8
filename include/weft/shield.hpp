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
#include <weft/detail/shielded.hpp>
#include <weft/future.hpp>
#include <weft/task.hpp>

namespace weft {

// A task is awaited as it is; a cancellation of the awaiting task does not reach it.
template <class T>
detail::shielded<task<T>> shield(task<T> work) {
    return detail::shielded<task<T>>(std::move(work));
}

// A future is never cancelled by its awaiters anyway; shield is the plain await.
template <class T>
detail::shielded<future<T>> shield(future<T> result) {
    return detail::shielded<future<T>>(std::move(result));
}

// Any other awaitable is started as a task of its own, then shielded.
template <awaitable A>
requires(!detail::is_task_v<std::remove_cvref_t<A>> &&
         !detail::is_future_v<std::remove_cvref_t<A>>) auto shield(A&& work) {
    return shield(create_task(std::forward<A>(work)));
}

} // namespace weft
