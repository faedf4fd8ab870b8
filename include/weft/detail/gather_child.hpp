// The children of a gather with several arguments, one class for each way a child runs.
// gather_coro_child: a coro (or another awaitable wrapped in one); the gather owns its
// frame, forks it, and the frame keeps the result. gather_waiting_child: a task or a
// future; it runs on its own and the child is a node on its waiter list. Both arrive at the
// gather's join when they end, and both answer prepare / cancel / result / take_outcome.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <weft/awaitable.hpp>
#include <weft/coro.hpp>
#include <weft/detail/await_in_coro.hpp>
#include <weft/detail/awaitable_kind.hpp>
#include <weft/detail/cancellation.hpp>
#include <weft/detail/completion_awaiter.hpp>
#include <weft/detail/gather_join.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/scheduler.hpp>
#include <weft/detail/waiter_list.hpp>
#include <weft/errors.hpp>
#include <weft/outcome.hpp>

namespace weft::detail {

// A coroutine child: its frame belongs to the gather and keeps the child's result.
template <class T>
class gather_coro_child {
public:
    using value_type = T;

    explicit gather_coro_child(coro<T>&& body) : handle_(coro_access::release(body)) {
        if (!handle_) {
            throw invalid_state_error("weft::gather: a coro argument is empty (moved from or "
                                      "already awaited)");
        }
    }
    gather_coro_child(gather_coro_child&& other) noexcept
        : handle_(std::exchange(other.handle_, {})) {}
    ~gather_coro_child() {
        if (handle_) {
            destroy_frame(handle_);
        }
    }

    // Points the frame at `join`; returns the coroutine to start.
    std::coroutine_handle<> prepare(gather_join& join) noexcept {
        handle_.promise().join_gather(join);
        return handle_;
    }
    // Whether `failed`, as gather_join::failed_child names it, is this child.
    bool is(const void* failed) const noexcept {
        return failed == static_cast<const promise_base*>(&handle_.promise());
    }
    outcome<T>& result() noexcept { return handle_.promise().result; }
    outcome<T> take_outcome() noexcept { return std::move(result()); }

    // The gather is cancelled: so is this child, wherever it runs.
    void cancel() noexcept { request_child_cancel(*handle_.promise().strand()); }

private:
    coro_handle<T> handle_;
};

// A task or future child: it runs on its own; the gather waits on its waiter list.
template <class Source>
class gather_waiting_child : public waiter_node {
public:
    using value_type = typename Source::value_type;

    explicit gather_waiting_child(Source source) : source_(std::move(source)) {
        if (completion_access::empty(source_)) {
            throw invalid_state_error(completion_access::empty_message<Source>);
        }
        completion_access::check_not_torn_down(source_);
    }
    gather_waiting_child(gather_waiting_child&& other) noexcept
        : source_(std::move(other.source_)) {}
    ~gather_waiting_child() {
        if (join_ != nullptr) {
            completion_access::waiters(source_).remove(*this);
        }
    }

    // Starts waiting; arrives at once when the source is already done. Nothing to fork.
    std::coroutine_handle<> prepare(gather_join& join) noexcept {
        join_ = &join;
        wake = &on_done;
        if (!completion_access::waiters(source_).enqueue(*this)) {
            arrive(); // never the last: the awaiting coroutine still holds its share
        }
        return {};
    }
    // Whether `failed`, as gather_join::failed_child names it, is this child.
    bool is(const void* failed) const noexcept { return failed == this; }
    const outcome<value_type>& result() const noexcept {
        return completion_access::result(source_);
    }
    // Copies: a task or future may have other awaiters.
    outcome<value_type> take_outcome() const { return result(); }

    // The gather is cancelled: a task child is cancelled and still awaited to its end; a
    // future child is no longer awaited, and arrives now if its result has not.
    // A task child that waits, further down, for this gather's own task is not awaited to
    // its end either: that would never come (the cancellation found the cycle).
    void cancel() noexcept {
        if constexpr (!completion_access::is_future<Source>) {
            if (completion_access::forward_cancel(source_) != cancel_result::cycle) {
                return;
            }
        }
        if (completion_access::waiters(source_).remove(*this)) {
            // Never read the pending result: the gather throws cancelled_error.
            if (join_->arrive()) {
                schedule_parent(*join_);
            }
        }
    }

private:
    bool arrive() noexcept {
        if (result().has_exception()) {
            completion_access::mark_retrieved(source_); // the gather rethrows or returns it
            join_->record_failure(this);
        }
        return join_->arrive();
    }
    static void on_done(waiter_node& node) noexcept {
        auto& self = static_cast<gather_waiting_child&>(node);
        gather_join& join = *self.join_;
        if (self.arrive()) {
            schedule_parent(join);
        }
    }

    Source source_;
    gather_join* join_ = nullptr;
};

// A coro becomes a coro child, a task or future a waiting child, anything else a coro
// child running it in a coroutine made for it.
template <class A>
auto make_gather_child(A&& awaitable) {
    using plain = std::remove_cvref_t<A>;
    if constexpr (is_coro_v<plain>) {
        return gather_coro_child<typename plain::value_type>(std::move(awaitable));
    } else if constexpr (is_task_or_future_v<plain>) {
        return gather_waiting_child<plain>(std::forward<A>(awaitable));
    } else {
        using result = await_result_t<plain>;
        return gather_coro_child<result>(await_in_coro<plain>(std::forward<A>(awaitable)));
    }
}

// The child that gather makes of `A`, as make_gather_child returns it.
template <class A>
using gather_child_t = decltype(make_gather_child(std::declval<A>()));

} // namespace weft::detail
