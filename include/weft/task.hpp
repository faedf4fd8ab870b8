// weft::task<T>: a coroutine scheduled on the runtime (asyncio.Task), and create_task.
//
//     weft::task<int> t = weft::create_task(compute());
//     int x = co_await t;        // any number of coroutines may await the same task
//
// A task handle is copyable; the copies share the task. Dropping every handle detaches
// the task: it runs on and its frame is freed when it ends. `co_await t` copies the
// result to each awaiter; `co_await std::move(t)` moves it out, which is how a move-only
// result is taken (other handles then see the moved-from value).
#pragma once

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <weft/awaitable.hpp>
#include <weft/coro.hpp>
#include <weft/detail/await_in_coro.hpp>
#include <weft/detail/awaitable_kind.hpp>
#include <weft/detail/completion_awaiter.hpp>
#include <weft/detail/done_callbacks.hpp>
#include <weft/detail/task_access.hpp>
#include <weft/detail/task_ref.hpp>
#include <weft/done_callback_id.hpp>
#include <weft/errors.hpp>

namespace weft {

template <class T = void>
class task;

// A handle to a task. The reference counting and the frame it refers to are in
// detail::task_ref, which completion_access and task_access reach through the friendships.
template <class T>
class task : private detail::task_ref<T> {
public:
    using value_type = T;

    // An empty handle, refers to no task.
    task() noexcept = default;

    explicit operator bool() const noexcept { return !this->empty(); }

    // True once the task ended, with a result or an exception.
    bool done() const noexcept { return this->finished(); }

    // Requests the task's cancellation (asyncio's Task.cancel): weft::cancelled_error is
    // thrown into it at its current suspension point, or at its next one if it is running,
    // and what it awaits there is cancelled too (a task, a gather's children). The task may
    // catch it, clean up, awaits included, and rethrow. A request still pending when the
    // task returns ends it cancelled, and one made before its first step means it never
    // runs. Any thread may call it. Returns false if the task has ended (its exception then
    // counts as retrieved, as in asyncio), was destroyed at shutdown, or the handle is empty.
    // Each true return counts one request (cancelling()); a second request before the first
    // is delivered is counted but delivers nothing more.
    bool cancel() const noexcept { return this->cancel_task(nullptr); }

    // The same, the cancelled_error the task sees carrying `message` (its message() and
    // what()), as asyncio's CancelledError(msg). Requests made while the task runs replace
    // each other's message (the last wins); one made while a cancellation is already being
    // delivered to it neither delivers its message nor changes the one delivered.
    bool cancel(std::string message) const {
        return this->cancel_task(std::make_shared<const std::string>(std::move(message)));
    }

    // asyncio's Task.add_done_callback: calls `callback(task)` once the task is done, on a
    // worker of the runtime calling this, never inline, in the order added; what it throws
    // goes to the exception handler. Throws runtime_error outside a runtime, and
    // invalid_state_error for an empty handle (docs/api.md, "Done callbacks").
    template <std::invocable<const task&> Callback>
    done_callback_id add_done_callback(Callback&& callback) const {
        return detail::add_done_callback(*this, std::forward<Callback>(callback),
                                         "weft::task::add_done_callback");
    }

    // Takes back a callback that has not started; false if it ran, runs or was removed.
    bool remove_done_callback(done_callback_id id) const noexcept {
        return !this->empty() && detail::remove_done_callback(this->waiters(), id);
    }

    // The cancellation requests counted by cancel() and not withdrawn by uncancel()
    // (asyncio's Task.cancelling()); 0 for an empty handle.
    std::size_t cancelling() const noexcept { return this->cancel_requests(); }

    // Withdraws one counted request, never going below 0, and returns how many are left
    // (asyncio's Task.uncancel()). Reaching 0 also drops a request not yet delivered, as
    // asyncio 3.13 does. For a task that caught cancelled_error and goes on on purpose.
    std::size_t uncancel() const noexcept { return this->withdraw_cancel_request(); }

    // The task's name (asyncio's Task.get_name): the one given to create_task or set_name,
    // or "Task-N", N counting the tasks whose default name was needed, in that order. Any
    // thread may ask or rename; a name must not be empty (weft::invalid_argument).
    std::string name() const { return this->task_name(); }
    void set_name(std::string name) const { this->rename(std::move(name)); }

    // True once the task ended by cancelled_error (asyncio's Task.cancelled).
    bool cancelled() const noexcept {
        return done() && detail::is_cancellation(this->stored_result().exception());
    }

    // The task's value; rethrows its exception. Throws invalid_state_error if not done.
    T result() const { return this->checked_result().value(); }

    // The task's exception, or null if it returned a value. Throws invalid_state_error
    // if not done.
    std::exception_ptr exception() const { return this->checked_result().exception(); }

    auto operator co_await() const& { return detail::completion_awaiter<task, false>(*this); }
    auto operator co_await() && { return detail::completion_awaiter<task, true>(std::move(*this)); }

private:
    friend struct detail::task_access;
    friend struct detail::completion_access;

    explicit task(detail::coro_handle<T> handle) noexcept : detail::task_ref<T>(handle) {}
};

// How create_task makes a task: `create_task(work(), {.name = "worker-1"})`. The name is
// copied by create_task: a view is all it needs (and g++ 12 would mis-copy a string that
// lives in a co_await expression's temporaries).
struct task_options {
    std::string_view name; // empty: the default name (task::name)
};

// Schedules `body` on the current runtime and returns its task at once; the body starts
// at a later scheduling point, not inside create_task. Throws weft::runtime_error outside
// a runtime, invalid_state_error for an empty coro. The task starts with a copy of the
// creating code's context (weft::context_var).
template <class T>
task<T> create_task(coro<T> body) {
    return detail::task_access::launch(body, {});
}

// The same with options; a name given must not be empty (weft::invalid_argument).
template <class T>
task<T> create_task(coro<T> body, task_options options) {
    return detail::task_access::launch(body, options.name);
}

// Any other awaitable (a sleep, a gather, a future) runs inside a coroutine made for it.
template <awaitable A>
requires(!detail::is_coro_v<std::remove_cvref_t<A>>) auto create_task(A&& awaitable,
                                                                      task_options options = {}) {
    return create_task(detail::await_in_coro<std::remove_cvref_t<A>>(std::forward<A>(awaitable)),
                       std::move(options));
}

} // namespace weft
