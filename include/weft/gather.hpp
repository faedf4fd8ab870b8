// weft::gather: run awaitables concurrently and collect their results in argument order
// (asyncio.gather).
//
//     auto [a, b] = co_await weft::gather(fetch(1), some_task);   // std::tuple
//     std::vector<int> all = co_await weft::gather(std::move(coros));
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
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <weft/awaitable.hpp>
#include <weft/coro.hpp>
#include <weft/detail/gather_join.hpp>
#include <weft/detail/resume_waiter.hpp>
#include <weft/detail/symmetric_transfer.hpp>
#include <weft/errors.hpp>
#include <weft/future.hpp>
#include <weft/outcome.hpp>
#include <weft/task.hpp>

namespace weft {

struct return_exceptions_t {
    explicit return_exceptions_t() = default;
};
inline constexpr return_exceptions_t return_exceptions{};

namespace detail {

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
    std::coroutine_handle<> prepare(gather_join& join, std::size_t index) noexcept {
        handle_.promise().join_gather(join, static_cast<std::uint32_t>(index));
        return handle_;
    }
    outcome<T>& result() noexcept { return handle_.promise().result; }
    outcome<T> take_outcome() noexcept { return std::move(result()); }

    // The gather is cancelled: so is this child, wherever it runs.
    void cancel() noexcept { request_cancel(*handle_.promise().strand()); }

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
            throw invalid_state_error(Source::empty_message);
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
    std::coroutine_handle<> prepare(gather_join& join, std::size_t index) noexcept {
        join_ = &join;
        index_ = index;
        wake = &on_done;
        if (!completion_access::waiters(source_).enqueue(*this)) {
            arrive(); // never the last: the awaiting coroutine still holds its share
        }
        return {};
    }
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
        if constexpr (!Source::is_future) {
            if (request_cancel(completion_access::strand(source_)) != cancel_result::cycle) {
                return;
            }
        }
        if (completion_access::waiters(source_).remove(*this)) {
            // Never read the pending result: the gather throws cancelled_error.
            if (join_->arrive()) {
                schedule(*join_->home, join_->parent);
            }
        }
    }

private:
    bool arrive() noexcept {
        if (result().has_exception()) {
            completion_access::mark_retrieved(source_); // the gather rethrows or returns it
            join_->record_failure(index_);
        }
        return join_->arrive();
    }
    static void on_done(waiter_node& node) noexcept {
        auto& self = static_cast<gather_waiting_child&>(node);
        gather_join& join = *self.join_;
        if (self.arrive()) {
            schedule(*join.home, join.parent);
        }
    }

    Source source_;
    gather_join* join_ = nullptr;
    std::size_t index_ = 0;
};

template <class A>
inline constexpr bool is_task_or_future_v = is_task_v<A> || is_future_v<A>;

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

template <class Child>
stored_t<typename Child::value_type> take_value(Child& child) {
    if constexpr (std::is_void_v<typename Child::value_type>) {
        return {};
    } else {
        return child.take_outcome().value();
    }
}

template <bool ReturnExceptions, class... Children>
class [[nodiscard]] gather_awaiter : public cancel_target {
public:
    explicit gather_awaiter(Children&&... children)
        : children_(std::move(children)...), join_(sizeof...(Children)) {}
    // Movable until awaited, so a gather can be handed to create_task.
    gather_awaiter(gather_awaiter&& other) noexcept
        : children_(std::move(other.children_)), join_(sizeof...(Children)) {}

    bool await_ready() {
        if (awaited_) {
            throw invalid_state_error("a weft::gather can be awaited only once");
        }
        awaited_ = true;
        return sizeof...(Children) == 0;
    }

    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) {
        join_.home = &require_running_runtime("weft::gather");
        join_.parent = awaiting;
        std::array<std::coroutine_handle<>, sizeof...(Children)> forks;
        std::size_t count = 0;
        std::apply(
            [&](Children&... child) {
                std::size_t index = 0;
                ((add_fork(forks, count, child.prepare(join_, index++))), ...);
            },
            children_);
        // Published once every child is prepared and before any can end the gather (the
        // join waits for this coroutine's own arrival in launch_children).
        strand_ = strand_of(awaiting);
        interrupt = &on_cancel;
        if (strand_ != nullptr && !publish_target(*strand_, *this)) {
            cancel_children(); // a cancellation was pending: the children start cancelled
        }
        return transfer_to(awaiting, launch_children(join_, forks.data(), count));
    }

    auto await_resume() {
        if (strand_ != nullptr && leave_target(*strand_, *this)) {
            throw cancelled_error(); // every child has ended
        }
        if constexpr (ReturnExceptions) {
            return std::apply(
                [](Children&... child) { return std::tuple{child.take_outcome()...}; }, children_);
        } else {
            rethrow_failure(std::make_index_sequence<sizeof...(Children)>{});
            return std::apply(
                [](Children&... child) {
                    return std::tuple<stored_t<typename Children::value_type>...>{
                        take_value(child)...};
                },
                children_);
        }
    }

private:
    template <std::size_t N>
    static void add_fork(std::array<std::coroutine_handle<>, N>& forks, std::size_t& count,
                         std::coroutine_handle<> child) noexcept {
        if (child) {
            forks[count++] = child;
        }
    }

    template <std::size_t... I>
    void rethrow_failure(std::index_sequence<I...>) {
        std::size_t failed = join_.failed_child();
        if (failed != gather_join::no_failure) {
            ((I == failed ? std::rethrow_exception(std::get<I>(children_).result().exception())
                          : void()),
             ...);
        }
    }

    void cancel_children() noexcept {
        std::apply([](Children&... child) { (child.cancel(), ...); }, children_);
    }
    static interruption on_cancel(cancel_target& target) noexcept {
        static_cast<gather_awaiter&>(target).cancel_children();
        return {interruption::outcome::forwarded};
    }

    std::tuple<Children...> children_;
    gather_join join_;
    strand_word* strand_ = nullptr;
    bool awaited_ = false;
};

template <bool ReturnExceptions, class T>
class [[nodiscard]] gather_range_awaiter : public cancel_target {
public:
    explicit gather_range_awaiter(std::vector<coro<T>>&& bodies) : join_(bodies.size()) {
        if (bodies.size() > std::numeric_limits<std::uint32_t>::max()) {
            throw runtime_error("weft::gather: more than 2^32 - 1 coroutines in one gather");
        }
        children_.reserve(bodies.size());
        for (coro<T>& body : bodies) {
            coro_handle<T> handle = coro_access::release(body);
            if (!handle) {
                destroy_children();
                throw invalid_state_error("weft::gather: a coro in the vector is empty (moved "
                                          "from or already awaited)");
            }
            children_.push_back(handle);
        }
        // The vector of emptied coros would otherwise live, as gather's parameter, until
        // the gather ends: a word per child.
        std::vector<coro<T>>().swap(bodies);
    }
    gather_range_awaiter(gather_range_awaiter&& other) noexcept
        : children_(std::move(other.children_)), join_(children_.size()) {}
    ~gather_range_awaiter() { destroy_children(); }

    bool await_ready() {
        if (awaited_) {
            throw invalid_state_error("a weft::gather can be awaited only once");
        }
        awaited_ = true;
        return children_.empty();
    }

    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) {
        join_.home = &require_running_runtime("weft::gather");
        join_.parent = awaiting;
        for (std::size_t index = 0; index < children_.size(); ++index) {
            typed(children_[index]).promise().join_gather(join_, static_cast<std::uint32_t>(index));
        }
        // As in gather_awaiter: published before any child can end the gather.
        strand_ = strand_of(awaiting);
        interrupt = &on_cancel;
        if (strand_ != nullptr && !publish_target(*strand_, *this)) {
            cancel_children();
        }
        return transfer_to(awaiting, launch_children(join_, children_.data(), children_.size()));
    }

    auto await_resume() {
        if (strand_ != nullptr && leave_target(*strand_, *this)) {
            throw cancelled_error(); // every child has ended
        }
        if constexpr (ReturnExceptions) {
            std::vector<outcome<T>> results;
            results.reserve(children_.size());
            for (std::coroutine_handle<> child : children_) {
                results.push_back(std::move(typed(child).promise().result));
            }
            return results;
        } else {
            std::size_t failed = join_.failed_child();
            if (failed != gather_join::no_failure) {
                std::rethrow_exception(typed(children_[failed]).promise().result.exception());
            }
            std::vector<stored_t<T>> results;
            results.reserve(children_.size());
            for (std::coroutine_handle<> child : children_) {
                if constexpr (std::is_void_v<T>) {
                    results.emplace_back();
                } else {
                    results.push_back(std::move(typed(child).promise().result).value());
                }
            }
            return results;
        }
    }

private:
    static coro_handle<T> typed(std::coroutine_handle<> child) noexcept {
        return coro_handle<T>::from_address(child.address());
    }
    void destroy_children() noexcept {
        for (std::coroutine_handle<> child : children_) {
            destroy_frame(typed(child));
        }
        children_.clear();
    }

    void cancel_children() noexcept {
        for (std::coroutine_handle<> child : children_) {
            request_cancel(*typed(child).promise().strand());
        }
    }
    static interruption on_cancel(cancel_target& target) noexcept {
        static_cast<gather_range_awaiter&>(target).cancel_children();
        return {interruption::outcome::forwarded};
    }

    std::vector<std::coroutine_handle<>> children_;
    gather_join join_;
    strand_word* strand_ = nullptr;
    bool awaited_ = false;
};

} // namespace detail

template <awaitable... As>
auto gather(As&&... awaitables) {
    return detail::gather_awaiter<false, decltype(detail::make_gather_child(
                                             std::forward<As>(awaitables)))...>(
        detail::make_gather_child(std::forward<As>(awaitables))...);
}

template <awaitable... As>
auto gather(return_exceptions_t, As&&... awaitables) {
    return detail::gather_awaiter<true, decltype(detail::make_gather_child(
                                            std::forward<As>(awaitables)))...>(
        detail::make_gather_child(std::forward<As>(awaitables))...);
}

template <class T>
auto gather(std::vector<coro<T>> bodies) {
    return detail::gather_range_awaiter<false, T>(std::move(bodies));
}

template <class T>
auto gather(return_exceptions_t, std::vector<coro<T>> bodies) {
    return detail::gather_range_awaiter<true, T>(std::move(bodies));
}

} // namespace weft
