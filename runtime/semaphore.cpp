// weft::semaphore's compiled half: its lock, the FIFO list of waiters, the direct handoff of
// a released permit to the longest waiter, and the race between a release and a
// cancellation. Both take the semaphore's lock, and a waiter is published as its strand's
// cancellation target inside that lock, so a canceller finds a waiter either still linked
// (it unlinks it: no permit was given) or already handed a permit by a release (which
// resumes it): every permit ends up held by exactly one task or back in the count.
#include <weft/semaphore.hpp>

#include <weft/detail/cpu_relax.hpp>

namespace weft {

void semaphore::lock() noexcept {
    // acquire: the critical section sees the previous holder's writes.
    while (locked_.exchange(true, std::memory_order_acquire)) {
        // relaxed: a hint to retry; the exchange does the synchronising.
        while (locked_.load(std::memory_order_relaxed)) {
            detail::cpu_relax();
        }
    }
}

void semaphore::unlock() noexcept {
    // release: hands the critical section's writes to the next holder.
    locked_.store(false, std::memory_order_release);
}

bool semaphore::try_acquire() noexcept {
    lock();
    const bool taken = permits_ > 0 && head_ == nullptr;
    if (taken) {
        --permits_;
    }
    unlock();
    return taken;
}

std::size_t semaphore::available() noexcept {
    lock();
    const std::size_t free = permits_;
    unlock();
    return free;
}

void semaphore::release() {
    release_or_throw("weft::bounded_semaphore::release: released more often than acquired");
}

void semaphore::release_or_throw(const char* over_release_message) {
    lock();
    detail::permit_waiter* first = head_;
    if (first == nullptr) {
        if (permits_ == bound_) {
            unlock();
            throw invalid_state_error(over_release_message);
        }
        ++permits_;
        unlock();
        return;
    }
    head_ = first->next;
    (head_ ? head_->prev : tail_) = nullptr;
    first->linked = false;
    // Read before the waiter is scheduled: from then on its frame may resume and end.
    const std::coroutine_handle<> awaiting = first->awaiting;
    detail::scheduler& home = *first->home;
    unlock();
    detail::schedule(home, awaiting);
}

detail::interruption semaphore::withdraw(detail::cancel_target& target) noexcept {
    auto& waiter = static_cast<detail::permit_waiter&>(target);
    semaphore& self = *waiter.owner;
    self.lock();
    const bool was_linked = waiter.linked;
    if (was_linked) {
        (waiter.prev ? waiter.prev->next : self.head_) = waiter.next;
        (waiter.next ? waiter.next->prev : self.tail_) = waiter.prev;
        waiter.linked = false;
    }
    self.unlock();
    if (!was_linked) {
        return {}; // too late: a release handed it a permit and resumes it
    }
    return {detail::interruption::outcome::withdrawn, waiter.awaiting, waiter.home};
}

namespace detail {

bool begin_acquire(semaphore& target, permit_waiter& waiter) {
    waiter.interrupt = &semaphore::withdraw;
    target.lock();
    if (target.permits_ > 0 && target.head_ == nullptr) {
        --target.permits_;
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
