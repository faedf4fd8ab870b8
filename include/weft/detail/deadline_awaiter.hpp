// The awaiter of weft::wait_for and weft::timeout (include/weft/timeout.hpp): it launches
// the work and the watchdog and turns their ends into the await's result. It holds a
// timeout_scope, so timeout.hpp includes this file after defining it.
#pragma once

#include <array>
#include <coroutine>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include <weft/clock.hpp>
#include <weft/coro.hpp>
#include <weft/detail/await_once.hpp>
#include <weft/detail/cancellation.hpp>
#include <weft/detail/deadline_state.hpp>
#include <weft/detail/deadline_work.hpp>
#include <weft/detail/gather_join.hpp>
#include <weft/detail/symmetric_transfer.hpp>
#include <weft/errors.hpp>
#include <weft/outcome.hpp>
#include <weft/sleep.hpp>
#include <weft/timeout.hpp>

namespace weft::detail {

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

    bool await_ready() {
        if (start_.empty()) {
            throw invalid_state_error("weft::wait_for: the coro is empty (moved from or "
                                      "already awaited)");
        }
        once_.claim("weft::wait_for or weft::timeout");
        return false;
    }

    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) {
        enter_join(join_, what_);
        join_.parent_strand = strand_of(awaiting);
        const clock::rep now = clock::now().time_since_epoch().count();
        const clock::rep deadline = deadline_from(now);
        const bool passed = deadline <= now;
        if (passed && start_.runs_as_task()) {
            dropped_ = true;
            return awaiting; // at once, to await_resume's timeout_error
        }
        join_.parent = awaiting;
        state().set_first_deadline(deadline);
        coro<T> work = work_then_stop<T>(start_.start(scope_), state());
        coro<> watchdog = watch_deadline(state());
        work_ = coro_access::release(work);
        watchdog_ = coro_access::release(watchdog);
        work_.promise().join_gather(join_);
        if (!start_.runs_as_task()) {
            work_.promise().ignore_pending_cancel_at_ends();
        }
        watchdog_.promise().join_gather(join_);
        watchdog_.promise().ignore_pending_cancel_at_ends(); // a request only wakes it
        state().set_strands(work_.promise().strand(), watchdog_.promise().strand());
        if (passed) {
            state().expire_before_start();
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
        resume_in(strand_);
        if (dropped_) {
            throw timeout_error(std::string(what_) + ": the deadline had passed when the await "
                                                     "began; the work was not started");
        }
        if (strand_ != nullptr && leave_target(*strand_, *this)) {
            throw_delivered_cancellation(); // the work and the watchdog have ended
        }
        outcome<T>& result = work_.promise().result;
        if (state().expired() && result.has_exception() && is_cancellation(result.exception())) {
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

    deadline_state& state() noexcept { return scope_.state_; }

    void cancel_both() noexcept {
        state().stop_watchdog();
        state().cancel_work();
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
    await_once once_;
    bool dropped_ = false; // the deadline had passed and the work was never started
};

} // namespace weft::detail
