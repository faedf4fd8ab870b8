// The concepts that say what weft's functions accept: an `awaiter` has the three await_*
// members; an `awaitable` is an awaiter or has operator co_await (member or free).
#pragma once

#include <concepts>
#include <coroutine>
#include <type_traits>
#include <utility>

namespace weft {

template <class A>
concept awaiter = requires(A a, std::coroutine_handle<> h) {
    { a.await_ready() } -> std::convertible_to<bool>;
    a.await_suspend(h);
    a.await_resume();
};

namespace detail {
template <class A>
concept has_member_co_await = requires(A&& a) {
    { std::forward<A>(a).operator co_await() } -> awaiter;
};
template <class A>
concept has_free_co_await = requires(A&& a) {
    { operator co_await(std::forward<A>(a)) } -> awaiter;
};

template <class A>
decltype(auto) get_awaiter(A&& a) {
    if constexpr (has_member_co_await<A>) {
        return std::forward<A>(a).operator co_await();
    } else if constexpr (has_free_co_await<A>) {
        return operator co_await(std::forward<A>(a));
    } else {
        return std::forward<A>(a);
    }
}
} // namespace detail

template <class A>
concept awaitable = awaiter<A> || detail::has_member_co_await<A> || detail::has_free_co_await<A>;

// The type `co_await std::declval<A>()` produces.
template <awaitable A>
using await_result_t = decltype(detail::get_awaiter(std::declval<A>()).await_resume());

} // namespace weft
