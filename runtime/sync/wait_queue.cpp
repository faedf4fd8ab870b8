// The wait queue's list operations and its side of the race with a cancellation; the
// invariants are in include/weft/detail/wait_queue.hpp.
#include <weft/detail/wait_queue.hpp>

namespace weft::detail {

bool wait_queue::enqueue(queued_waiter& waiter) noexcept {
    waiter.queue = this;
    waiter.interrupt = &wait_queue::withdraw;
    if (waiter.strand != nullptr && !publish_target(*waiter.strand, waiter)) {
        return false;
    }
    waiter.prev = tail_;
    waiter.next = nullptr;
    (tail_ ? tail_->next : head_) = &waiter;
    tail_ = &waiter;
    waiter.linked = true;
    return true;
}

queued_waiter* wait_queue::pop_front() noexcept {
    queued_waiter* first = head_;
    if (first != nullptr) {
        unlink(*first);
    }
    return first;
}

void wait_queue::unlink(queued_waiter& waiter) noexcept {
    (waiter.prev ? waiter.prev->next : head_) = waiter.next;
    (waiter.next ? waiter.next->prev : tail_) = waiter.prev;
    waiter.linked = false;
}

interruption wait_queue::withdraw(cancel_target& target) noexcept {
    auto& waiter = static_cast<queued_waiter&>(target);
    wait_queue& self = *waiter.queue;
    self.lock();
    const bool was_linked = waiter.linked;
    if (was_linked) {
        self.unlink(waiter);
    }
    self.unlock();
    if (!was_linked) {
        return {}; // too late: the primitive took it and resumes it
    }
    return {interruption::outcome::withdrawn, waiter.awaiting, waiter.home};
}

} // namespace weft::detail
