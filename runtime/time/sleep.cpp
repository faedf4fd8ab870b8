// weft::sleep's compiled half and weft::clock::now: a sleep registers a timer in the
// wheel of the worker it runs on, and that worker resumes it when the deadline has come
// (worker.cpp fires due timers between steps and parks no later than its next deadline).
#include <weft/clock.hpp>
#include <weft/errors.hpp>
#include <weft/sleep.hpp>

#include "scheduler/runtime.hpp"

namespace weft {

// Never past time_point::max(): deadlines saturate there and virtual time stops short of it.
clock::time_point clock::now() noexcept {
    detail::runtime* here = detail::running_runtime();
    const std::uint64_t nanoseconds = here ? here->now_ns() : detail::monotonic_ns();
    return time_point(duration(static_cast<rep>(nanoseconds)));
}

namespace detail {
namespace {

void resume_sleeper(timer_entry& entry) noexcept {
    auto& timer = static_cast<sleep_timer&>(entry);
    static_cast<worker*>(timer.wheel_owner)->push_woken(timer.sleeper);
}

// A cancellation takes the timer out of its wheel, if it has not fired, and resumes the
// sleeper itself; the wheel's lock decides between the two.
interruption interrupt_sleep(cancel_target& target) noexcept {
    auto& timer = static_cast<sleep_timer&>(target);
    auto* owner = static_cast<worker*>(timer.wheel_owner);
    if (!owner->cancel_timer(timer)) {
        return {};
    }
    return {interruption::outcome::withdrawn, timer.sleeper, &owner->owner()};
}

// Saturates at the end of the clock's range, a deadline that never comes.
std::uint64_t deadline_after(std::uint64_t now, std::int64_t amount_ns) noexcept {
    const auto amount = static_cast<std::uint64_t>(amount_ns);
    return amount >= clock_end_ns - now ? clock_end_ns : now + amount;
}

} // namespace

bool begin_sleep(sleep_timer& timer, std::coroutine_handle<> sleeper, deadline_kind kind,
                 strand_word* strand) {
    worker* here = worker::current();
    if (here == nullptr) {
        throw runtime_error("weft::sleep: no running weft runtime on this thread");
    }
    const auto amount_ns = static_cast<std::int64_t>(timer.deadline);
    const std::uint64_t now = here->owner().now_ns();
    const bool passed = amount_ns <= 0 ||
                        (kind == deadline_kind::at && static_cast<std::uint64_t>(amount_ns) <= now);
    timer.fire = &resume_sleeper;
    timer.interrupt = &interrupt_sleep;
    timer.sleeper = sleeper;
    timer.wheel_owner = here;
    // Set before the timer is armed: once armed, the sleeper may resume on another thread.
    timer.strand = strand;
    if (passed) {
        // A yield, behind the tasks already ready. It is a suspension point, so a pending
        // cancellation is delivered here; one that comes during the yield waits for the
        // next (the target is left at once, and cancel_timer finds nothing pending).
        if (strand != nullptr) {
            if (!publish_target(*strand, timer)) {
                return false;
            }
            leave_target(*strand, timer);
            timer.strand = nullptr;
        }
        here->push_ready(sleeper);
        return true;
    }
    timer.deadline = kind == deadline_kind::after ? deadline_after(now, amount_ns)
                                                  : static_cast<std::uint64_t>(amount_ns);
    return here->add_timer(timer, strand, &timer);
}

void abandon_sleep(sleep_timer& timer) noexcept {
    // Only a frame destroyed while it sleeps (runtime shutdown, workers stopped) still has
    // its timer in a wheel.
    if (timer.wheel_owner != nullptr && timer_wheel::pending(timer)) {
        static_cast<worker*>(timer.wheel_owner)->cancel_timer(timer);
    }
}

} // namespace detail
} // namespace weft
