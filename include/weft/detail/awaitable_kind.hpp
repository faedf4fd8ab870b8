// Which kind of awaitable a type is. gather, timeout, shield and create_task treat a coro
// (run inline or as a child), a task or a future (waited on, never run) and any other
// awaitable (run inside a coroutine made for it) differently; these traits tell them apart.
#pragma once

namespace weft {
template <class T>
class coro;
template <class T>
class task;
template <class T>
class future;
} // namespace weft

namespace weft::detail {

template <class A>
inline constexpr bool is_coro_v = false;
template <class T>
inline constexpr bool is_coro_v<coro<T>> = true;

template <class A>
inline constexpr bool is_task_v = false;
template <class T>
inline constexpr bool is_task_v<task<T>> = true;

template <class A>
inline constexpr bool is_future_v = false;
template <class T>
inline constexpr bool is_future_v<future<T>> = true;

template <class A>
inline constexpr bool is_task_or_future_v = is_task_v<A> || is_future_v<A>;

} // namespace weft::detail
