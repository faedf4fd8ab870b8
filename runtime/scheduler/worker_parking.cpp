// How a worker sleeps: the re-check after listing itself asleep (idle.hpp), then a futex
// sleep or, if it takes the reactor's driver role, a sleep in the reactor's poll
// (reactor.hpp), until woken or until its next timer is due; in virtual time the last
// worker to sleep moves the clock instead (runtime::advance_virtual_time). A worker leaves
// every sleep either awake (leave_sleep) or, if a producer claimed it meanwhile, searching
// with the producer's wake-up token taken, so no wake-up is lost and none is left over.
#include <optional>

#include <weft/detail/cpu_relax.hpp>

#include "scheduler/runtime.hpp"
#include "scheduler/worker.hpp"
#include "time/clock.hpp"

namespace weft::detail {
namespace {

// A futex wake-up arrives tens of microseconds after its deadline on a virtual machine, so a
// worker sleeps until this long before its next timer and spins on the clock for the rest:
// at most 80 us of CPU per timer that finds the worker idle.
constexpr std::uint64_t spin_before_deadline_ns = 80'000;

// When to wake for `deadline` (CLOCK_MONOTONIC): spin_before_deadline_ns before it, or 0
// if that moment has passed and the worker should only spin.
std::uint64_t wake_before(std::uint64_t deadline) noexcept {
    return deadline > monotonic_ns() + spin_before_deadline_ns ? deadline - spin_before_deadline_ns
                                                               : 0;
}

} // namespace

void worker::park() {
    disarm(); // a thief that sleeps steals nothing until it searches again
    const bool nobody_awake = owner().idle().enter_sleep(id_, searching_);
    searching_ = false;
    // The re-check after listing ourselves asleep (see idle.hpp).
    if (owner().stopping() || leave_requested() || owner().has_visible_work()) {
        leave_sleep_or_take_wake_up();
        return;
    }
    reactor& io = owner().reactor();
    if (io.in_use() && io.try_drive_to_park()) {
        park_polling(nobody_awake);
        return;
    }
    if (owner().virtual_time()) {
        if (move_virtual_clock(nobody_awake)) {
            leave_sleep_or_take_wake_up();
            return;
        }
        sleep_until_woken();
        return;
    }
    if (const std::optional<std::uint64_t> deadline = timers.next_deadline()) {
        count(parks_);
        if (const std::uint64_t wake_at = wake_before(*deadline); wake_at != 0) {
            if (sleeper.park_until(wake_at)) {
                searching_ = true; // a producer claimed us (or stop() woke us)
                return;
            }
        }
        leave_sleep_or_take_wake_up();
        spin_until(*deadline);
        return;
    }
    sleep_until_woken();
}

bool worker::move_virtual_clock(bool nobody_awake) {
    if (!nobody_awake) {
        return false;
    }
    const std::optional<std::size_t> due = owner().advance_virtual_time();
    if (!due) {
        return false;
    }
    if (*due == id_) {
        return true;
    }
    owner().wake_worker(*due);
    return false;
}

void worker::park_polling(bool nobody_awake) {
    reactor& io = owner().reactor();
    if (owner().virtual_time()) {
        // Time may jump only if no socket is ready: a peer's data already in the kernel
        // comes before the next timer, as it would in real time.
        io.wait_until(0);
        if (const std::size_t woken = io.dispatch(*this); woken != 0) {
            io.stop_driving();
            leave_sleep_or_take_wake_up();
            if (woken > 1) {
                notify_others();
            }
            return;
        }
        if (move_virtual_clock(nobody_awake)) {
            io.stop_driving();
            leave_sleep_or_take_wake_up();
            return;
        }
        poll_until(interruptible_wait::no_deadline);
        return;
    }
    const std::optional<std::uint64_t> deadline = timers.next_deadline();
    if (!deadline) {
        poll_until(interruptible_wait::no_deadline);
        return;
    }
    // As in park(): wake early and spin for the last stretch, unless the poll brought work
    // (a wake_at of 0 polls without blocking).
    if (!poll_until(wake_before(*deadline))) {
        spin_until(*deadline);
    }
}

bool worker::poll_until(std::uint64_t deadline) {
    reactor& io = owner().reactor();
    count(parks_);
    const bool woken = sleeper.park_in(io, deadline);
    const std::size_t ready_now = io.dispatch(*this);
    io.stop_driving();
    if (woken) {
        searching_ = true; // a producer claimed us (or stop() woke us)
    } else {
        leave_sleep_or_take_wake_up();
    }
    if (ready_now > 1) {
        notify_others();
    }
    return woken || ready_now != 0;
}

void worker::poll_io() {
    reactor& io = owner().reactor();
    if (io.in_use() && io.poll_if_free(*this) > 1) {
        notify_others();
    }
}

void worker::spin_until(std::uint64_t deadline) {
    while (monotonic_ns() < deadline && !owner().stopping() && !leave_requested() &&
           !owner().has_visible_work()) {
        cpu_relax();
    }
}

void worker::sleep_until_woken() {
    count(parks_);
    sleeper.park();
    // A producer that wakes us counts us as searching (stop() ends the loop instead).
    searching_ = true;
}

void worker::leave_sleep_or_take_wake_up() {
    if (owner().idle().leave_sleep(id_)) {
        return;
    }
    // A producer claimed us meanwhile; take its wake-up token and go on searching.
    sleeper.park();
    searching_ = true;
}

} // namespace weft::detail
