// weft::sleep's compiled half: a sleep registers a timer with the timer driver of the worker
// it runs on, which fires it when the deadline has come (the worker fires due timers
// between steps and parks no later than its next deadline) and makes the sleeper ready
// through the driver's waker.
#include <weft/detail/scheduler.hpp>
#include <weft/errors.hpp>
#include <weft/sleep.hpp>

#include "time/clock.hpp"
#include "time/timer_driver.hpp"

namespace weft::detail {
namespace {

void resume_sleeper(timer_entry& entry) noexcept {
    auto& timer = static_cast<sleep_timer&>(entry);
    timer.driver->owner().wake(timer.sleeper);
}

// A cancellation takes the timer out of its wheel, if it has not fired, and resumes the
// sleeper itself; the driver's lock decides between the two.
interruption interrupt_sleep(cancel_target& target) noexcept {
    auto& timer = static_cast<sleep_timer&>(target);
    if (!timer.driver->cancel(timer)) {
        return {};
    }
    return {interruption::outcome::withdrawn, timer.sleeper, &timer.driver->owner().home()};
}

// Saturates at the end of the clock's range, a deadline that never comes.
std::uint64_t deadline_after(std::uint64_t now, std::int64_t amount_ns) noexcept {
    const auto amount = static_cast<std::uint64_t>(amount_ns);
    return amount >= clock_end_ns - now ? clock_end_ns : now + amount;
}

} // namespace

bool begin_sleep(sleep_timer& timer, std::coroutine_handle<> sleeper, deadline_kind kind,
                 strand_word* strand) {
    timer_driver* here = running_timer_driver();
    if (here == nullptr) {
        throw runtime_error("weft::sleep: no running weft runtime on this thread");
    }
    const auto amount_ns = static_cast<std::int64_t>(timer.deadline);
    const std::uint64_t now = running_clock_ns();
    const bool passed = amount_ns <= 0 ||
                        (kind == deadline_kind::at && static_cast<std::uint64_t>(amount_ns) <= now);
    timer.fire = &resume_sleeper;
    timer.interrupt = &interrupt_sleep;
    timer.sleeper = sleeper;
    timer.driver = here;
    // Set before the timer is armed: once armed, the sleeper may resume on another thread.
    timer.strand = strand;
    if (passed) {
        // A yield, behind the tasks already ready. It is a suspension point, so a pending
        // cancellation is delivered here; one that comes during the yield waits for the
        // next (the target is left at once, and cancel() finds nothing pending).
        if (strand != nullptr) {
            if (!publish_target(*strand, timer)) {
                return false;
            }
            leave_target(*strand, timer);
            timer.driver = nullptr;
        }
        schedule(here->owner().home(), sleeper);
        return true;
    }
    timer.deadline = kind == deadline_kind::after ? deadline_after(now, amount_ns)
                                                  : static_cast<std::uint64_t>(amount_ns);
    return here->add(timer, strand, &timer);
}

void abandon_sleep(sleep_timer& timer) noexcept {
    // Only a frame destroyed while it sleeps (runtime shutdown, workers stopped) still has
    // its timer in a wheel.
    if (timer.driver != nullptr && timer_wheel::pending(timer)) {
        timer.driver->cancel(timer);
    }
}

} // namespace weft::detail
