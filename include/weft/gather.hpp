// weft::gather: run awaitables concurrently and collect their results in argument order
// (asyncio.gather).
//
//     auto [a, b] = co_await weft::gather(fetch(1), some_task);   // std::tuple
//     std::vector<int> all = co_await weft::gather(std::move(coros));
//     std::array<int, 2> pair = co_await weft::gather(std::array{f(), g()});
//     auto outcomes = co_await weft::gather(weft::return_exceptions, f(), g());
//
// Arguments may be coro<T>, task<T>, future<T> or any other awaitable (run in a coroutine
// made for it). Coroutines become children that run on any worker; tasks and futures are
// waited on. The awaiter resumes only after every child has ended, so children may refer
// to the awaiter's locals; then it rethrows the first exception in completion order, or,
// with return_exceptions, yields one weft::outcome<T> per child. void results appear as
// std::monostate.
#pragma once

#include <array>
#include <cstddef>
#include <utility>
#include <vector>

#include <weft/awaitable.hpp>
#include <weft/coro.hpp>
#include <weft/detail/gather_awaiter.hpp>
#include <weft/future.hpp>
#include <weft/outcome.hpp>
#include <weft/task.hpp>

namespace weft {

// The tag that makes gather yield a weft::outcome per child instead of throwing.
struct return_exceptions_t {
    explicit return_exceptions_t() = default;
};
inline constexpr return_exceptions_t return_exceptions{};

// Runs the awaitables concurrently; co_await yields a std::tuple of their results, or
// rethrows the first exception in completion order once every child has ended. Throws
// invalid_state_error at once for an empty coro, task or future. The result can be
// awaited once, on a runtime (weft::runtime_error outside one); until then it may be
// moved, for example into create_task. Cancelling the awaiting task cancels the coro and
// task children and stops waiting on the futures, then throws cancelled_error.
template <awaitable... As>
auto gather(As&&... awaitables) {
    return detail::gather_tuple_of<false>(std::forward<As>(awaitables)...);
}

// The same, yielding a std::tuple of weft::outcome<T>, one per child, instead of throwing.
template <awaitable... As>
auto gather(return_exceptions_t, As&&... awaitables) {
    return detail::gather_tuple_of<true>(std::forward<As>(awaitables)...);
}

// Runs every coro of the vector as a child; co_await yields a std::vector of the results
// in the vector's order, or rethrows the first exception in completion order.
template <class T>
auto gather(std::vector<coro<T>> bodies) {
    return detail::gather_vector_of<false>(std::move(bodies));
}

// The same, yielding a std::vector of weft::outcome<T> instead of throwing.
template <class T>
auto gather(return_exceptions_t, std::vector<coro<T>> bodies) {
    return detail::gather_vector_of<true>(std::move(bodies));
}

// Runs every coro of the array as a child; co_await yields a std::array of the results.
// Nothing is allocated beyond the children's frames: the form for a fixed fan-out. The
// array is taken by reference and its coros left empty, as moving it would leave them.
template <class T, std::size_t N>
auto gather(std::array<coro<T>, N>&& bodies) {
    return detail::gather_array_of<false>(bodies);
}

// The same, yielding a std::array of weft::outcome<T> instead of throwing.
template <class T, std::size_t N>
auto gather(return_exceptions_t, std::array<coro<T>, N>&& bodies) {
    return detail::gather_array_of<true>(bodies);
}

} // namespace weft
