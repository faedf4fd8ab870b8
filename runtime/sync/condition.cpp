// weft::condition's compiled half. A waiter links itself into the wait list and releases
// the lock inside one critical section of the list's spin lock; notify() pops waiters under
// that spin lock while the user's lock is locked, so a notification either finds the
// waiter linked or happens before it released the lock (and so before it began waiting,
// which is what asyncio's single thread guarantees too). A waiter that a notify took off
// the list, cancelled before it ran, passes the notification to the next waiter.
#include <weft/condition.hpp>

#include <optional>

namespace weft {

class condition::notification {
public:
    explicit notification(condition& target) noexcept : target_(target) {}

    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> awaiting) {
        waiter_.awaiting = awaiting;
        waiter_.home = &detail::require_running_runtime("weft::condition::wait");
        waiter_.strand = detail::strand_of(awaiting);
        // Nothing of this frame is touched once the waiter is linked: a notify on another
        // thread may resume it at once.
        weft::lock& bound = target_.lock_;
        bool& lock_not_held = lock_not_held_;
        return target_.waiters_.wait_unless(waiter_, [&bound, &lock_not_held] {
            lock_not_held = !bound.unlock_if_locked();
            return lock_not_held; // not held: do not wait, report it
        });
    }
    // Throws invalid_state_error if the lock was not locked (and so not released), and
    // cancelled_error if the wait was cancelled (the lock was released all the same).
    void await_resume() {
        detail::resume_in(waiter_.strand);
        if (lock_not_held_) {
            throw invalid_state_error("weft::condition::wait: the lock is not locked; acquire "
                                      "it before waiting");
        }
        if (waiter_.strand == nullptr) {
            return;
        }
        if (detail::leave_target(*waiter_.strand, waiter_)) {
            detail::throw_delivered_cancellation();
        }
        // Notified; a cancellation that arrived before it ran still ends the wait, as in
        // asyncio, and the notification is not lost with it.
        if (detail::take_pending_cancel(*waiter_.strand)) {
            target_.wake(1); // the next waiter gets the notification instead
            detail::throw_delivered_cancellation();
        }
    }

private:
    condition& target_;
    detail::queued_waiter waiter_;
    bool lock_not_held_ = false;
};

coro<> condition::wait() {
    std::optional<cancelled_error> cancelled; // kept to rethrow, with its message
    try {
        co_await notification(*this);
    } catch (const cancelled_error& error) {
        cancelled = error;
    }
    co_await lock_.acquire_uncancellable();
    if (cancelled) {
        throw *cancelled;
    }
}

void condition::notify(std::size_t count) {
    if (!lock_.locked()) {
        throw invalid_state_error("weft::condition::notify: the lock is not locked; notify "
                                  "while holding it");
    }
    wake(count);
}

void condition::wake(std::size_t count) noexcept {
    waiters_.lock();
    for (; count != 0; --count) {
        detail::queued_waiter* waiter = waiters_.pop_front();
        if (waiter == nullptr) {
            break;
        }
        detail::schedule(*waiter->home, waiter->awaiting);
    }
    waiters_.unlock();
}

} // namespace weft
