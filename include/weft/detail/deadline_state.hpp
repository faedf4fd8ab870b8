// The shared state of one deadline (weft::wait_for, weft::timeout; include/weft/timeout.hpp)
// and its watchdog: the deadline, whether it expired, whether the watchdog must stop, and
// the strands of the work and of the watchdog. Any thread may move the deadline while the
// work runs; moving it wakes the watchdog, which sleeps again until the new one. The strands
// are set before either child is launched and live until both have ended.
#pragma once

#include <atomic>

#include <weft/clock.hpp>
#include <weft/coro.hpp>
#include <weft/detail/cancellation.hpp>
#include <weft/errors.hpp>
#include <weft/future.hpp>
#include <weft/sleep.hpp>

namespace weft::detail {

class deadline_state {
public:
    // The deadline, on weft::clock.
    clock::time_point when() const noexcept {
        // acquire: pairs with reschedule's release.
        return clock::time_point(clock::duration(deadline_ns_.load(std::memory_order_acquire)));
    }

    void reschedule(clock::time_point deadline) noexcept {
        // release: the watchdog reads the new deadline after the wake-up below.
        deadline_ns_.store(deadline.time_since_epoch().count(), std::memory_order_release);
        request_child_cancel(*watchdog_); // wakes the watchdog to sleep again
    }

    bool expired() const noexcept {
        // acquire: pairs with the watchdog's release.
        return expired_.load(std::memory_order_acquire);
    }

    // The awaiter, before it creates the work: the first deadline.
    void set_first_deadline(clock::rep deadline_ns) noexcept {
        // relaxed: launching the children publishes it.
        deadline_ns_.store(deadline_ns, std::memory_order_relaxed);
    }

    // The awaiter, before it launches them: the strands of the two children.
    void set_strands(strand_word* work, strand_word* watchdog) noexcept {
        work_ = work;
        watchdog_ = watchdog;
    }

    // The awaiter, before it launches the children: the deadline had passed already.
    void expire_before_start() noexcept {
        // relaxed: launching the children publishes it; the awaiter reads it after they
        // have ended.
        expired_.store(true, std::memory_order_relaxed);
    }

    // The work ended, or the awaiting task was cancelled: the watchdog leaves.
    void stop_watchdog() noexcept {
        // release: the watchdog, woken by the cancellation below, sees it.
        stopping_.store(true, std::memory_order_release);
        request_child_cancel(*watchdog_);
    }

    void cancel_work() noexcept { request_child_cancel(*work_); }

    // The watchdog, woken: true once told to stop.
    bool stopping() const noexcept {
        // acquire: pairs with stop_watchdog's release.
        return stopping_.load(std::memory_order_acquire);
    }

    // The watchdog, at the deadline: marks it passed and cancels the work.
    void expire() noexcept {
        // release: the awaiter reads it after the work, cancelled below, has ended.
        expired_.store(true, std::memory_order_release);
        request_child_cancel(*work_);
    }

private:
    std::atomic<clock::rep> deadline_ns_{0};
    std::atomic<bool> expired_{false};
    std::atomic<bool> stopping_{false};
    strand_word* work_ = nullptr;
    strand_word* watchdog_ = nullptr;
};

// Sleeps until the deadline, again whenever it moves, and cancels the work when it comes;
// returns early once told to stop.
inline coro<> watch_deadline(deadline_state& state) {
    for (;;) {
        const clock::time_point deadline = state.when();
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
        if (state.stopping()) {
            co_return;
        }
        if (!woken && state.when() == deadline) {
            break;
        }
    }
    state.expire();
}

} // namespace weft::detail
