// A worker's timers under their lock; see timer_driver.hpp for who calls what from where.
#include "time/timer_driver.hpp"

namespace weft::detail {

bool timer_driver::add(timer_entry& entry, strand_word* strand, cancel_target* target) {
    lock_.lock();
    if (strand != nullptr && !publish_target(*strand, *target)) {
        lock_.unlock();
        return false;
    }
    wheel_.insert(entry);
    publish();
    lock_.unlock();
    return true;
}

bool timer_driver::cancel(timer_entry& entry) noexcept {
    lock_.lock();
    const bool was_pending = timer_wheel::pending(entry);
    if (was_pending) {
        wheel_.cancel(entry);
        publish();
    }
    lock_.unlock();
    return was_pending;
}

std::size_t timer_driver::fire_due(std::uint64_t now) noexcept {
    lock_.lock();
    const std::size_t fired = wheel_.advance(now);
    publish();
    lock_.unlock();
    return fired;
}

std::optional<std::uint64_t> timer_driver::next_deadline() noexcept {
    lock_.lock();
    const std::optional<std::uint64_t> deadline = wheel_.next_deadline();
    lock_.unlock();
    return deadline;
}

void timer_driver::publish() noexcept {
    // relaxed: read without the lock only as a hint (pending()).
    count_.store(wheel_.size(), std::memory_order_relaxed);
    if (!publish_deadline_) {
        return; // only the virtual clock reads it; real time is each worker's own business
    }
    // seq_cst: see published_next_deadline().
    next_deadline_.store(wheel_.next_deadline().value_or(no_timer), std::memory_order_seq_cst);
}

} // namespace weft::detail
