// weft::wait and weft::as_completed: wait for some of several tasks (asyncio.wait), or take
// them one at a time in the order they end (asyncio.as_completed). Neither cancels a task.
//
//     auto [done, pending] = co_await weft::wait(std::move(tasks),
//                                                weft::return_when::first_completed);
//     auto [finished, late] = co_await weft::wait(tasks, weft::return_when::all_completed, 2s);
//
//     weft::as_completed stream(tasks);
//     while (stream.remaining() > 0) {
//         weft::task<int> t = co_await stream.next();   // done: t.result() is ready
//     }
//     weft::as_completed within(tasks, 5s);   // next() throws timeout_error after 5 s
//
// Both watch each task with a node on its waiter list and are woken through a lock-free
// arrival queue (detail/arrival_queue.hpp; the argument is in docs/architecture.md, "wait
// and as_completed"). The wait's awaiter, detail/wait_awaiter.hpp, is included at the end:
// it needs return_when and wait_result, declared here first.
#pragma once

#include <chrono>
#include <cstddef>
#include <utility>
#include <vector>

#include <weft/coro.hpp>
#include <weft/detail/as_completed_awaiter.hpp>
#include <weft/detail/saturating_duration.hpp>
#include <weft/errors.hpp>
#include <weft/task.hpp>

namespace weft {

// When weft::wait resumes (asyncio's FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED).
enum class return_when { first_completed, first_exception, all_completed };

// What weft::wait yields: the tasks done when it resumed, and the others, in input order.
template <class T>
struct wait_result {
    std::vector<task<T>> done;
    std::vector<task<T>> pending;
};

// Defined in detail/wait_awaiter.hpp, included at the end.
namespace detail {
template <class T>
class wait_awaiter;
template <class T>
coro<wait_result<T>> wait_at_most(std::vector<task<T>> tasks, return_when when,
                                  std::chrono::nanoseconds limit);
} // namespace detail

// Waits until `when` holds for `tasks`, then yields which are done and which are pending
// (asyncio.wait). It cancels nothing, and does not suspend if `when` already holds:
//   first_completed  any task is done;
//   first_exception  any task ended with an exception other than cancelled_error (as in
//                    asyncio, a cancelled task does not count), or all are done;
//   all_completed    every task is done.
// An empty vector yields two empty vectors at once; an empty task handle makes it throw
// invalid_state_error. Cancelling the awaiting task ends the wait with cancelled_error and
// leaves the tasks running. The result can be awaited once.
template <class T>
[[nodiscard]] detail::wait_awaiter<T> wait(std::vector<task<T>> tasks,
                                           return_when when = return_when::all_completed) {
    return detail::wait_awaiter<T>(std::move(tasks), when);
}

// The same, but for at most `limit`: once it passes, yields the tasks done by then and the
// others as pending, without an error (asyncio.wait's timeout). A limit of zero or less
// yields at once what is done; one beyond the clock's range never passes; a NaN limit
// throws weft::invalid_argument. Empty handles are reported when the result is awaited.
template <class T, class Rep, class Period>
[[nodiscard]] coro<wait_result<T>> wait(std::vector<task<T>> tasks, return_when when,
                                        std::chrono::duration<Rep, Period> limit) {
    return detail::wait_at_most(std::move(tasks), when,
                                detail::saturating_nanoseconds(limit, "weft::wait"));
}

// The tasks in the order they end (asyncio.as_completed). Each co_await next() yields the
// next task to end, done, so its result() or exception() is ready; tasks that were done
// when the stream was made come first, in input order. Cancelling the task awaiting
// next() ends that await with cancelled_error; nothing is taken from the stream and no
// task is cancelled. One coroutine at a time reads a stream; it keeps its tasks' handles,
// is neither copied nor moved, and must outlive every next() awaited on it.
template <class T>
class as_completed {
public:
    // Throws invalid_state_error if a handle in `tasks` is empty.
    explicit as_completed(std::vector<task<T>> tasks)
        : state_(std::move(tasks), clock::time_point::max()) {}
    // With a time limit for the whole stream, counted from now (asyncio's timeout): a next()
    // that would wait past it throws timeout_error instead, and so does every later one,
    // each counting as one of the remaining. Tasks done before then are yielded first; no
    // task is cancelled. A limit of zero or less yields the tasks already done, then
    // throws; one beyond the clock's range never passes; a NaN limit throws
    // weft::invalid_argument.
    template <class Rep, class Period>
    as_completed(std::vector<task<T>> tasks, std::chrono::duration<Rep, Period> limit)
        : state_(std::move(tasks), detail::deadline_after(detail::saturating_nanoseconds(
                                       limit, "weft::as_completed"))) {}
    as_completed(const as_completed&) = delete;
    as_completed& operator=(const as_completed&) = delete;

    // How many tasks next() has yet to yield.
    std::size_t remaining() const noexcept { return state_.remaining(); }

    // An awaitable yielding the next task to end. Throws invalid_state_error if
    // remaining() is 0.
    detail::as_completed_next<T> next() {
        if (remaining() == 0) {
            throw invalid_state_error("weft::as_completed::next: every task was already "
                                      "yielded");
        }
        return detail::as_completed_next<T>(state_);
    }

private:
    detail::as_completed_state<T> state_;
};

} // namespace weft

// The wait's awaiter, which needs the declarations above.
#include <weft/detail/wait_awaiter.hpp>
