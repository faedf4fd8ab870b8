// Deadlines: weft::wait_for (asyncio.wait_for) and weft::timeout / weft::timeout_at
// (asyncio.timeout).
//
//     int x = co_await weft::wait_for(fetch(), 2s);          // or throws weft::timeout_error
//
//     co_await weft::timeout(5s, [&](weft::timeout_scope& scope) -> weft::coro<> {
//         co_await connect();                                 // one deadline for all three
//         scope.reschedule(weft::clock::now() + 10s);         // moved while running
//         co_await handshake();
//         co_await send();
//     });
//
// The work runs as its own line of control beside a watchdog that sleeps until the
// deadline. If the work ends first, the watchdog is stopped; if the deadline comes first,
// the work is cancelled and awaited to its end, and then the await throws timeout_error
// (or, if the work caught the cancellation and returned, yields what it returned). The
// deadline is taken when the await starts. A deadline already passed then (a limit of zero
// or less, a time point not later than now) expires at once, as in asyncio: wait_for drops
// a coroutine without running it and throws timeout_error; any other work is started with
// its cancellation already requested, so a task or future already done gives its result,
// and a body runs until its first suspension, where the cancellation reaches it. A limit
// beyond the clock's range saturates at time_point::max(), which never comes; a NaN limit
// throws weft::invalid_argument. Cancelling the awaiting task cancels the work too, and
// the await then throws cancelled_error. C++ has no asynchronous scope exit, so the
// awaits that share one deadline go in a coroutine (the body) instead of a `with` block;
// the body is called when the await starts and lives as long as it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include <weft/awaitable.hpp>
#include <weft/clock.hpp>
#include <weft/coro.hpp>
#include <weft/detail/cancellation.hpp>
#include <weft/detail/gather_join.hpp>
#include <weft/detail/saturating_duration.hpp>
#include <weft/detail/symmetric_transfer.hpp>
#include <weft/errors.hpp>
#include <weft/future.hpp>
#include <weft/outcome.hpp>
#include <weft/sleep.hpp>
#include <weft/task.hpp>

namespace weft {

class timeout_scope;

namespace detail {
template <class T, class Start>
class deadline_awaiter;
inline coro<> watch_deadline(timeout_scope& scope);
template <class T>
coro<T> work_then_stop(coro<T> work, timeout_scope& scope);
} // namespace detail

// The deadline of one timeout, handed to its body. Any thread may use it while the body
// runs.
class timeout_scope {
public:
    // The deadline, on weft::clock.
    clock::time_point when() const noexcept {
        // acquire: pairs with reschedule's release.
        return clock::time_point(clock::duration(deadline_ns_.load(std::memory_order_acquire)));
    }

    // Moves the deadline, earlier or later; time_point::max() means never. After the
    // deadline has passed it changes nothing: the body is being cancelled.
    void reschedule(clock::time_point deadline) noexcept {
        // release: the watchdog reads the new deadline after the wake-up below.
        deadline_ns_.store(deadline.time_since_epoch().count(), std::memory_order_release);
        detail::request_cancel(*watchdog_); // wakes the watchdog to sleep again
    }

    // True once the deadline passed and the body was cancelled for it.
    bool expired() const noexcept {
        // acquire: pairs with the watchdog's release.
        return expired_.load(std::memory_order_acquire);
    }

private:
    template <class T, class Start>
    friend class detail::deadline_awaiter;
    friend coro<> detail::watch_deadline(timeout_scope& scope);
    template <class T>
    friend coro<T> detail::work_then_stop(coro<T> work, timeout_scope& scope);

    // The work ended, or the awaiting task was cancelled: the watchdog leaves.
    void stop_watchdog() noexcept {
        // release: the watchdog, woken by the cancellation below, sees it.
        stopping_.store(true, std::memory_order_release);
        detail::request_cancel(*watchdog_);
    }

    std::atomic<clock::rep> deadline_ns_{0};
    std::atomic<bool> expired_{false};
    std::atomic<bool> stopping_{false};
    detail::strand_word* work_ = nullptr;
    detail::strand_word* watchdog_ = nullptr;
};

namespace detail {

// Sleeps until the scope's deadline, again whenever it moves, and cancels the work when it
// comes; returns early once told to stop.
inline coro<> watch_deadline(timeout_scope& scope) {
    for (;;) {
        const clock::time_point deadline = scope.when();
        bool woken = false; // moved, stopped, or the awaiting task cancelled
        if (deadline == clock::time_point::max()) {
            try {
                co_await future<>(); // no deadline: only a wake-up ends this wait
            } catch (const cancelled_error&) {
                woken = true;
            }
        } else {
            // Cancelling the watchdog is how it is stopped every time the work ends in
            // time: no exception for that.
            woken = !co_await sleep_until_or_cancelled(deadline);
        }
        // acquire: pairs with stop_watchdog's release.
        if (scope.stopping_.load(std::memory_order_acquire)) {
            co_return;
        }
        if (!woken && scope.when() == deadline) {
            break;
        }
    }
    // release: the awaiter reads it after the work, cancelled below, has ended.
    scope.expired_.store(true, std::memory_order_release);
    request_cancel(*scope.work_);
}

// Runs the work and, whatever its end, stops the watchdog.
template <class T>
coro<T> work_then_stop(coro<T> work, timeout_scope& scope) {
    outcome<T> result;
    try {
        if constexpr (std::is_void_v<T>) {
            co_await std::move(work);
            result.emplace_value();
        } else {
            result.emplace_value(co_await std::move(work));
        }
    } catch (...) {
        result.set_exception(std::current_exception());
    }
    scope.stop_watchdog();
    co_return std::move(result).value();
}

// The work of wait_for: an awaitable given up front.
template <class T>
struct given_work {
    coro<T> work;
    // The awaitable was a coroutine, which asyncio's wait_for runs as a Task: at a deadline
    // already passed it is dropped unstarted, and one cancelled before its first step never
    // runs. Anything else is awaited through a wrapper that must start to pass a
    // cancellation on to it, and one already done still gives its result.
    bool unstarted_coroutine;
    coro<T> start(timeout_scope&) { return std::move(work); }
    bool empty() const noexcept { return !work; }
    bool runs_as_task() const noexcept { return unstarted_coroutine; }
};

// The work of timeout: a body called with the scope when the await starts.
template <class Body>
struct body_work {
    Body body;
    auto start(timeout_scope& scope) {
        if constexpr (std::is_invocable_v<Body&, timeout_scope&>) {
            return body(scope);
        } else {
            return body();
        }
    }
    static constexpr bool empty() noexcept { return false; }
    // asyncio.timeout's block runs inline in the awaiting task: it starts whatever is
    // pending, and a cancellation reaches it at its first suspension.
    static constexpr bool runs_as_task() noexcept { return false; }
};

// The work and the watchdog run as the two children of a join, each with its own strand,
// so either can be cancelled alone. The awaiter is a forwarding cancellation target: a
// cancellation of the awaiting task cancels both, and the await ends once both ended.
template <class T, class Start>
class [[nodiscard]] deadline_awaiter : public cancel_target {
public:
    deadline_awaiter(Start start, std::int64_t amount_ns, deadline_kind kind, const char* what)
        : start_(std::move(start)), amount_ns_(amount_ns), kind_(kind), what_(what) {}
    deadline_awaiter(deadline_awaiter&& other) noexcept
        : start_(std::move(other.start_)), amount_ns_(other.amount_ns_), kind_(other.kind_),
          what_(other.what_) {}
    ~deadline_awaiter() {
        if (work_) {
            destroy_frame(work_);
            destroy_frame(watchdog_);
        }
    }

    bool await_ready() const {
        if (start_.empty()) {
            throw invalid_state_error("weft::wait_for: the coro is empty (moved from or "
                                      "already awaited)");
        }
        if (work_ || dropped_) {
            throw invalid_state_error("a weft::wait_for or weft::timeout can be awaited once");
        }
        return false;
    }

    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) {
        join_.home = &require_running_runtime(what_);
        const clock::rep now = clock::now().time_since_epoch().count();
        const clock::rep deadline = deadline_from(now);
        const bool passed = deadline <= now;
        if (passed && start_.runs_as_task()) {
            dropped_ = true;
            return awaiting; // at once, to await_resume's timeout_error
        }
        join_.parent = awaiting;
        scope_.deadline_ns_.store(deadline, std::memory_order_relaxed);
        coro<T> work = work_then_stop<T>(start_.start(scope_), scope_);
        coro<> watchdog = watch_deadline(scope_);
        work_ = coro_access::release(work);
        watchdog_ = coro_access::release(watchdog);
        work_.promise().join_gather(join_, 0);
        if (!start_.runs_as_task()) {
            work_.promise().ignore_pending_cancel_at_ends();
        }
        watchdog_.promise().join_gather(join_, 1);
        watchdog_.promise().ignore_pending_cancel_at_ends(); // a request only wakes it
        scope_.work_ = work_.promise().strand();
        scope_.watchdog_ = watchdog_.promise().strand();
        if (passed) {
            // relaxed: launching the children publishes it; the awaiter reads it after
            // they have ended.
            scope_.expired_.store(true, std::memory_order_relaxed);
            cancel_both();
        }
        strand_ = strand_of(awaiting);
        interrupt = &on_cancel;
        if (strand_ != nullptr && !publish_target(*strand_, *this)) {
            cancel_both();
        }
        std::array<std::coroutine_handle<>, 2> children{work_, watchdog_};
        return transfer_to(awaiting, launch_children(join_, children.data(), children.size()));
    }

    T await_resume() {
        if (dropped_) {
            throw timeout_error(std::string(what_) + ": the deadline had passed when the await "
                                                     "began; the work was not started");
        }
        if (strand_ != nullptr && leave_target(*strand_, *this)) {
            throw cancelled_error(); // the work and the watchdog have ended
        }
        outcome<T>& result = work_.promise().result;
        if (scope_.expired() && result.has_exception() && is_cancellation(result.exception())) {
            throw timeout_error(std::string(what_) + ": the deadline passed before the work "
                                                     "ended; the work was cancelled");
        }
        return std::move(result).value();
    }

private:
    // Saturates at time_point::max(), which never comes.
    clock::rep deadline_from(clock::rep now) const noexcept {
        if (kind_ == deadline_kind::at) {
            return amount_ns_;
        }
        const bool overflows =
            amount_ns_ > 0 && now > std::numeric_limits<clock::rep>::max() - amount_ns_;
        return overflows ? std::numeric_limits<clock::rep>::max() : now + amount_ns_;
    }

    void cancel_both() noexcept {
        scope_.stop_watchdog();
        request_cancel(*scope_.work_);
    }
    static interruption on_cancel(cancel_target& target) noexcept {
        static_cast<deadline_awaiter&>(target).cancel_both();
        return {interruption::outcome::forwarded};
    }

    Start start_;
    std::int64_t amount_ns_;
    deadline_kind kind_;
    const char* what_;
    timeout_scope scope_;
    gather_join join_{2};
    coro_handle<T> work_;
    coro_handle<void> watchdog_;
    strand_word* strand_ = nullptr;
    bool dropped_ = false; // the deadline had passed and the work was never started
};

template <class A>
auto as_coro(A&& awaitable) {
    using plain = std::remove_cvref_t<A>;
    if constexpr (is_coro_v<plain>) {
        return plain(std::move(awaitable));
    } else {
        return await_in_coro<plain>(std::forward<A>(awaitable));
    }
}

} // namespace detail

// Awaits `awaitable` (a coro, a task, a future, a gather, ...) for at most `limit`: its
// result, or, once the limit passes, cancels it, waits for it to end and throws
// weft::timeout_error (asyncio.wait_for). A task given here is cancelled on timeout. With a
// limit of zero or less, a coro never runs and the await throws timeout_error; a task or
// future already done gives its result, and one not done is cancelled (a task) and
// awaited, then timeout_error.
template <awaitable A, class Rep, class Period>
auto wait_for(A&& awaitable, std::chrono::duration<Rep, Period> limit) {
    using result = await_result_t<std::remove_cvref_t<A>>;
    using start = detail::given_work<result>;
    const std::chrono::nanoseconds amount = detail::saturating_nanoseconds(limit, "weft::wait_for");
    return detail::deadline_awaiter<result, start>(
        start{detail::as_coro(std::forward<A>(awaitable)),
              detail::is_coro_v<std::remove_cvref_t<A>>},
        amount.count(), detail::deadline_kind::after, "weft::wait_for");
}

// Runs `body` (a callable taking weft::timeout_scope&, or nothing, and returning a
// weft::coro) under one deadline `limit` from now (asyncio.timeout): its result, or
// weft::timeout_error once the deadline passed and the body, cancelled, has ended.
template <class Rep, class Period, class Body>
auto timeout(std::chrono::duration<Rep, Period> limit, Body body) {
    using start = detail::body_work<Body>;
    using result =
        typename decltype(std::declval<start&>().start(std::declval<timeout_scope&>()))::value_type;
    const std::chrono::nanoseconds amount = detail::saturating_nanoseconds(limit, "weft::timeout");
    return detail::deadline_awaiter<result, start>(start{std::move(body)}, amount.count(),
                                                   detail::deadline_kind::after, "weft::timeout");
}

// The same with a deadline on weft::clock (asyncio.timeout_at); time_point::max() is none.
template <class Body>
auto timeout_at(clock::time_point deadline, Body body) {
    using start = detail::body_work<Body>;
    using result =
        typename decltype(std::declval<start&>().start(std::declval<timeout_scope&>()))::value_type;
    return detail::deadline_awaiter<result, start>(start{std::move(body)},
                                                   deadline.time_since_epoch().count(),
                                                   detail::deadline_kind::at, "weft::timeout_at");
}

} // namespace weft
