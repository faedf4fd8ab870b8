// weft::semaphore's compiled half: the permit count lives under the wait queue's lock, and
// a release hands its permit straight to the longest waiter, which the queue unlinks before
// a canceller can, so every permit is held by one task, in transit to one, or counted, never
// two of these (see include/weft/detail/wait_queue.hpp for the race with a cancellation).
// A waiter in transit (handed_) resumes through end_handoff, which gives the permit back if
// a cancellation reached it meanwhile; permits freed while waiters queued behind one in
// transit are handed out there, so free permits and waiters never meet with nobody left
// to bring them together.
#include <weft/semaphore.hpp>

namespace weft {

bool semaphore::take_permit() noexcept {
    if (permits_ == 0 || !waiters_.empty() || handed_ != 0) {
        return false;
    }
    --permits_;
    return true;
}

bool semaphore::hand_to_first() noexcept {
    detail::queued_waiter* first = waiters_.pop_front();
    if (first == nullptr) {
        return false;
    }
    ++handed_;
    // Scheduled under the lock: once it runs, its end_handoff waits for this section to end.
    detail::schedule(*first->home, first->awaiting);
    return true;
}

bool semaphore::try_acquire() noexcept {
    waiters_.lock();
    const bool taken = take_permit();
    waiters_.unlock();
    return taken;
}

std::size_t semaphore::available() noexcept {
    waiters_.lock();
    const std::size_t free = permits_;
    waiters_.unlock();
    return free;
}

void semaphore::release() {
    release_or_throw("weft::bounded_semaphore::release: released more often than acquired");
}

void semaphore::release_or_throw(const char* over_release_message) {
    if (!give_back()) {
        throw invalid_state_error(over_release_message);
    }
}

bool semaphore::give_back() noexcept {
    std::lock_guard held(waiters_);
    if (hand_to_first()) {
        return true;
    }
    if (permits_ == bound_) {
        return false;
    }
    ++permits_;
    return true;
}

void semaphore::end_handoff(bool cancelled) noexcept {
    std::lock_guard held(waiters_);
    --handed_;
    if (cancelled) {
        ++permits_; // the permit it was handed; it was never counted, so the bound holds
    }
    while (permits_ != 0 && hand_to_first()) {
        --permits_;
    }
}

bool semaphore::begin_wait(detail::queued_waiter& waiter) noexcept {
    return waiters_.wait_unless(waiter, [this] { return take_permit(); });
}

} // namespace weft
