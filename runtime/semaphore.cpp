// weft::semaphore's compiled half: the permit count lives under the wait queue's lock, and
// a release hands its permit straight to the longest waiter, which the queue unlinks before
// a canceller can, so every permit is held by one task or counted, never both (see
// include/weft/detail/wait_queue.hpp for the race with a cancellation).
#include <weft/semaphore.hpp>

namespace weft {

bool semaphore::take_permit() noexcept {
    if (permits_ == 0 || !waiters_.empty()) {
        return false;
    }
    --permits_;
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
    waiters_.lock();
    detail::queued_waiter* first = waiters_.pop_front();
    if (first == nullptr) {
        const bool counted = permits_ != bound_;
        if (counted) {
            ++permits_;
        }
        waiters_.unlock();
        return counted;
    }
    // Read before the waiter is scheduled: from then on its frame may resume and end.
    const std::coroutine_handle<> awaiting = first->awaiting;
    detail::scheduler& home = *first->home;
    waiters_.unlock();
    detail::schedule(home, awaiting);
    return true;
}

bool semaphore::begin_wait(detail::queued_waiter& waiter) noexcept {
    return waiters_.wait_unless(waiter, [this] { return take_permit(); });
}

} // namespace weft
