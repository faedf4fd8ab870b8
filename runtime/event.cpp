// weft::event's compiled half: its lock, the wait list and the race between set() and a
// cancellation. Both take the event's lock, and a waiter is published as its strand's
// cancellation target inside that lock, so a canceller finds a waiter either still linked
// (it unlinks and resumes it) or already taken by set() (which resumes it); never both.
#include <weft/event.hpp>

#include <weft/detail/cpu_relax.hpp>

namespace weft {

void event::lock() noexcept {
    // acquire: the critical section sees the previous holder's writes.
    while (locked_.exchange(true, std::memory_order_acquire)) {
        // relaxed: a hint to retry; the exchange does the synchronising.
        while (locked_.load(std::memory_order_relaxed)) {
            detail::cpu_relax();
        }
    }
}

void event::unlock() noexcept {
    // release: hands the critical section's writes to the next holder.
    locked_.store(false, std::memory_order_release);
}

void event::set() noexcept {
    lock();
    // release: a waiter that sees the flag without the lock sees what preceded set().
    set_.store(true, std::memory_order_release);
    detail::event_waiter* waiter = head_;
    head_ = tail_ = nullptr;
    while (waiter != nullptr) {
        // Read before the waiter is scheduled: from then on its frame may resume and end.
        detail::event_waiter* next = waiter->next;
        const std::coroutine_handle<> awaiting = waiter->awaiting;
        detail::scheduler& home = *waiter->home;
        waiter->linked = false;
        detail::schedule(home, awaiting);
        waiter = next;
    }
    unlock();
}

void event::clear() noexcept {
    lock();
    // relaxed: under the lock, and clearing publishes nothing.
    set_.store(false, std::memory_order_relaxed);
    unlock();
}

detail::interruption event::withdraw(detail::cancel_target& target) noexcept {
    auto& waiter = static_cast<detail::event_waiter&>(target);
    event& self = *waiter.owner;
    self.lock();
    const bool was_linked = waiter.linked;
    if (was_linked) {
        (waiter.prev ? waiter.prev->next : self.head_) = waiter.next;
        (waiter.next ? waiter.next->prev : self.tail_) = waiter.prev;
        waiter.linked = false;
    }
    self.unlock();
    if (!was_linked) {
        return {}; // too late: set() took it and resumes it
    }
    return {detail::interruption::outcome::withdrawn, waiter.awaiting, waiter.home};
}

namespace detail {

bool begin_event_wait(event& target, event_waiter& waiter) {
    waiter.interrupt = &event::withdraw;
    target.lock();
    // relaxed: under the lock, which orders it with set() and clear().
    if (target.set_.load(std::memory_order_relaxed)) {
        target.unlock();
        waiter.strand = nullptr; // nothing published: nothing to leave
        return false;
    }
    if (waiter.strand != nullptr && !publish_target(*waiter.strand, waiter)) {
        target.unlock();
        return false; // a cancellation was pending: await_resume throws
    }
    waiter.prev = target.tail_;
    waiter.next = nullptr;
    (target.tail_ ? target.tail_->next : target.head_) = &waiter;
    target.tail_ = &waiter;
    waiter.linked = true;
    target.unlock();
    return true;
}

} // namespace detail
} // namespace weft
