// await_in_coro: a coroutine that only awaits one awaitable and returns its result. It is how
// something that is not a coro (a sleep, a gather, a future) becomes a task, a gather child
// or a deadline's work: all of them run coroutines. It owns the awaitable (taken by value).
#pragma once

#include <utility>

#include <weft/awaitable.hpp>
#include <weft/coro.hpp>

namespace weft::detail {

template <class A>
coro<await_result_t<A>> await_in_coro(A awaitable) {
    co_return co_await std::move(awaitable);
}

} // namespace weft::detail
