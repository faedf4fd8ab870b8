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

#include <atomic>
#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>

#include <weft/awaitable.hpp>
#include <weft/coro.hpp>
#include <weft/detail/resume_waiter.hpp>
#include <weft/errors.hpp>

namespace weft {

template <class T = void>
class task;

namespace detail {
struct task_access;
}

template <class T>
class task {
public:
    using value_type = T;

    // An empty handle, refers to no task.
    task() noexcept = default;
    task(const task& other) noexcept : handle_(other.handle_) {
        if (handle_) {
            // relaxed: a new reference is made from an existing one, which keeps the
            // task alive meanwhile; nothing else is published by the count going up.
            header()->refs.fetch_add(1, std::memory_order_relaxed);
        }
    }
    task(task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    task& operator=(task other) noexcept {
        std::swap(handle_, other.handle_);
        return *this;
    }
    ~task() {
        if (handle_) {
            detail::release_task(header(), &detail::report_if_unretrieved<detail::coro_promise<T>>);
        }
    }

    explicit operator bool() const noexcept { return static_cast<bool>(handle_); }

    // True once the task ended, with a result or an exception.
    bool done() const noexcept { return handle_ && header()->waiters.done(); }

    // Requests the task's cancellation (asyncio's Task.cancel): weft::cancelled_error is
    // thrown into it at its current suspension point, or at its next one if it is running,
    // and what it awaits there is cancelled too (a task, a gather's children). The task may
    // catch it, clean up, awaits included, and rethrow. A request still pending when the
    // task returns ends it cancelled, and one made before its first step means it never
    // runs. Any thread may call it. Returns false if the task has ended (its exception then
    // counts as retrieved, as in asyncio), was destroyed at shutdown, or the handle is empty;
    // a second request before the first is delivered adds nothing.
    bool cancel() const noexcept {
        if (!handle_) {
            return false;
        }
        if (done()) {
            mark_retrieved();
            return false;
        }
        // A task that ended, or that the runtime's teardown destroyed, has its strand marked
        // ended; the frame's memory lives as long as this handle.
        return detail::request_cancel(strand()) == detail::cancel_result::accepted;
    }

    // True once the task ended by cancelled_error (asyncio's Task.cancelled).
    bool cancelled() const noexcept {
        return done() && detail::is_cancellation(stored_result().exception());
    }

    // The task's value; rethrows its exception. Throws invalid_state_error if not done.
    T result() const { return checked_result().value(); }

    // The task's exception, or null if it returned a value. Throws invalid_state_error
    // if not done.
    std::exception_ptr exception() const { return checked_result().exception(); }

    auto operator co_await() const& { return detail::completion_awaiter<task, false>(*this); }
    auto operator co_await() && { return detail::completion_awaiter<task, true>(std::move(*this)); }

    static constexpr const char* empty_message = "awaiting an empty weft::task";
    static constexpr const char* destroyed_message =
        "weft::task was destroyed unfinished when its runtime shut down";
    static constexpr const char* await_description = "awaiting a weft::task";
    static constexpr bool is_future = false;

private:
    friend struct detail::task_access;
    friend struct detail::completion_access;

    explicit task(detail::coro_handle<T> handle) noexcept : handle_(handle) {}

    detail::frame_header* header() const noexcept {
        return detail::frame_header::of(handle_.address());
    }
    detail::waiter_list& waiters() const noexcept { return header()->waiters; }
    outcome<T>& stored_result() const noexcept { return handle_.promise().result; }
    // Through the header, which outlives a frame destroyed at shutdown.
    detail::strand_word& strand() const noexcept { return header()->task_strand(); }
    bool torn_down() const noexcept {
        // relaxed: set by the teardown before run() returned, which ordered it before any
        // later use of the handle; within the run it is never set.
        return header()->torn_down.load(std::memory_order_relaxed);
    }

    // The task's exception has been seen: it is not reported as never retrieved.
    void mark_retrieved() const noexcept {
        // relaxed: read only by the last reference's release, which orders it.
        header()->exception_retrieved.store(true, std::memory_order_relaxed);
    }

    const outcome<T>& checked_result() const {
        if (!handle_) {
            throw invalid_state_error("weft::task is empty");
        }
        if (!done()) {
            // relaxed: only chooses the message; a torn-down task never becomes done.
            throw invalid_state_error(torn_down() ? destroyed_message
                                                  : "weft::task::result() called before the "
                                                    "task finished");
        }
        mark_retrieved();
        return handle_.promise().result;
    }

    detail::coro_handle<T> handle_;
};

namespace detail {

struct task_access {
    // Wraps a launched or about-to-be-launched frame in a handle without counting it:
    // the count was already set for this handle.
    template <class T>
    static task<T> adopt(coro_handle<T> handle) noexcept {
        return task<T>(handle);
    }
    template <class T>
    static T take_result(task<T>& t) {
        t.mark_retrieved();
        return std::move(t.handle_.promise().result).value();
    }
};

template <class A>
coro<await_result_t<A>> await_in_coro(A awaitable) {
    co_return co_await std::move(awaitable);
}

template <class A>
inline constexpr bool is_coro_v = false;
template <class T>
inline constexpr bool is_coro_v<coro<T>> = true;

template <class A>
inline constexpr bool is_task_v = false;
template <class T>
inline constexpr bool is_task_v<task<T>> = true;

} // namespace detail

// Schedules `body` on the current runtime and returns its task at once; the body starts
// at a later scheduling point, not inside create_task. Throws weft::runtime_error outside
// a runtime, invalid_state_error for an empty coro.
template <class T>
task<T> create_task(coro<T> body) {
    detail::runtime& here = detail::require_running_runtime("weft::create_task");
    detail::coro_handle<T> handle = detail::coro_access::release(body);
    if (!handle) {
        throw invalid_state_error("weft::create_task: the coro is empty (moved from or "
                                  "already awaited)");
    }
    detail::launch_task(here, detail::make_task(handle), handle);
    return detail::task_access::adopt(handle);
}

// Any other awaitable (a sleep, a gather, a future) runs inside a coroutine made for it.
template <awaitable A>
requires(!detail::is_coro_v<std::remove_cvref_t<A>>) auto create_task(A&& awaitable) {
    return create_task(detail::await_in_coro<std::remove_cvref_t<A>>(std::forward<A>(awaitable)));
}

} // namespace weft
