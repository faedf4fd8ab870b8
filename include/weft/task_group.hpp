// weft::task_group and weft::with_task_group: tasks that end together (asyncio.TaskGroup).
//
//     int first = co_await weft::with_task_group([&](weft::task_group& group) -> weft::coro<int> {
//         weft::task<int> a = group.create_task(fetch(1));
//         group.create_task(store(2));                        // no handle needed
//         co_return co_await a;
//     });
//
// The body runs as a task of the group; it, and every member, may add members. The await
// ends once the body and every member have ended. The first of them to fail with anything
// but cancelled_error cancels all the others; the await then throws weft::exception_group
// holding every such failure, in the order they happened. Cancelling the awaiting task
// cancels the body and every member, and once all have ended the await throws
// cancelled_error (or the exception_group, if something failed). C++ has no asynchronous
// scope exit, so the block is a coroutine (the body). with_task_group keeps the body and
// the group inside the awaitable it returns, which must be awaited: members may refer to
// the awaiting coroutine's locals, as the await outlives them all.
#pragma once

#include <type_traits>
#include <utility>

#include <weft/awaitable.hpp>
#include <weft/coro.hpp>
#include <weft/detail/task_group_state.hpp>
#include <weft/errors.hpp>
#include <weft/task.hpp>

namespace weft {

// The group a with_task_group body receives. It lives until the await ends.
class task_group {
public:
    task_group(const task_group&) = delete;
    task_group& operator=(const task_group&) = delete;

    // Schedules `body` as a task that is a member of the group, as weft::create_task does,
    // and returns its task. Any coroutine of the runtime may call it while the group lives:
    // the body, a member, or another task. Throws weft::runtime_error if the group is
    // shutting down after a failure, or has ended, or outside a runtime;
    // invalid_state_error for an empty coro. A member created after the awaiting task was
    // cancelled starts cancelled.
    template <class T>
    task<T> create_task(coro<T> body) {
        if (!body) {
            throw invalid_state_error("weft::task_group::create_task: the coro is empty "
                                      "(moved from or already awaited)");
        }
        return state_.spawn(std::move(body));
    }

    // Any other awaitable (a sleep, a gather, a task, a future) runs in a member made for it.
    template <awaitable A>
    requires(!detail::is_coro_v<std::remove_cvref_t<A>>) auto create_task(A&& awaitable) {
        return state_.spawn(std::remove_cvref_t<A>(std::forward<A>(awaitable)));
    }

private:
    template <class Body>
    friend class detail::task_group_awaiter;

    task_group() = default;

    detail::group_state state_;
};

// Returns the awaitable that runs `body(group)` with a new group and ends once the body
// and every member of the group have ended. It yields the body's value; it throws
// weft::exception_group if the body or a member failed (other than by cancelled_error),
// or cancelled_error if the awaiting task was cancelled. `body` is kept inside the
// awaitable, so a lambda's captures outlive the await. It can be awaited once.
template <class Body>
requires detail::task_group_body<Body>
[[nodiscard]] auto with_task_group(Body body) {
    return detail::task_group_awaiter<Body>(std::move(body));
}

} // namespace weft

// The awaiter holds a task_group, so it is defined once task_group is complete.
#include <weft/detail/task_group_awaiter.hpp>
