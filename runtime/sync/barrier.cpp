// weft::barrier's compiled half: asyncio.Barrier's state machine (filling, draining,
// resetting, broken) under the spin lock of its one wait queue. Every change of phase wakes
// every waiter, and each looks at the phase again under the lock, as asyncio's tasks do
// around their Condition; a waiter that finds nothing for it waits again. Invariants, all
// under the lock: `inside_` counts the tasks that took an index and have not left; the
// barrier drains or resets only while one is inside, and the last to leave sets it filling;
// a task is let in (takes an index) only while it fills, so indices restart from 0 each
// round.
#include <weft/barrier.hpp>

namespace weft {

namespace {

std::size_t checked_parties(std::size_t parties) {
    if (parties == 0) {
        throw invalid_argument("weft::barrier: parties must be at least 1, was 0");
    }
    return parties;
}

} // namespace

// Waits until the barrier lets a task in, then takes its index; or finds it broken.
class barrier::admission {
public:
    explicit admission(barrier& target) noexcept : target_(target) {}

    bool decided() const noexcept { return decided_; }
    bool refused() const noexcept { return refused_; }
    bool last() const noexcept { return index_ + 1 == target_.parties_; }
    std::size_t index() const noexcept { return index_; }

    // The wait queue primitive: the decision needs the lock, so it is taken in begin_wait.
    bool ready_at_once() const noexcept { return false; }
    bool begin_wait(detail::queued_waiter& waiter) noexcept {
        return target_.waiters_.wait_unless(waiter, [this] { return try_enter(); });
    }

private:
    // Under the lock: false while the barrier drains or resets.
    bool try_enter() noexcept {
        barrier& shared = target_;
        if (shared.phase_ == phase::draining || shared.phase_ == phase::resetting) {
            return false;
        }
        decided_ = true;
        if (shared.phase_ == phase::broken) {
            refused_ = true;
            return true;
        }
        index_ = shared.inside_++;
        if (last()) { // it releases the others and leaves at once
            shared.phase_ = phase::draining;
            shared.wake_all();
            shared.leave();
        }
        return true;
    }

    barrier& target_;
    std::size_t index_ = 0;
    bool decided_ = false;
    bool refused_ = false;
};

// Waits, inside the barrier, until it stops filling; then leaves it, released or broken.
class barrier::release {
public:
    explicit release(barrier& target) noexcept : target_(target) {}

    bool decided() const noexcept { return decided_; }
    bool broken() const noexcept { return broken_; }

    bool ready_at_once() const noexcept { return false; }
    bool begin_wait(detail::queued_waiter& waiter) noexcept {
        return target_.waiters_.wait_unless(waiter, [this] { return try_leave(); });
    }

    // A cancelled waiter leaves all the same.
    void leave_cancelled() noexcept {
        target_.waiters_.lock();
        target_.leave();
        target_.waiters_.unlock();
    }

private:
    // Under the lock: false while the barrier fills.
    bool try_leave() noexcept {
        barrier& shared = target_;
        if (shared.phase_ == phase::filling) {
            return false;
        }
        decided_ = true;
        broken_ = shared.phase_ != phase::draining;
        shared.leave();
        return true;
    }

    barrier& target_;
    bool decided_ = false;
    bool broken_ = false;
};

barrier::barrier(std::size_t parties) : parties_(checked_parties(parties)) {}

coro<std::size_t> barrier::wait() {
    admission entry(*this);
    while (!entry.decided()) {
        co_await detail::queue_awaiter<admission>(entry, "weft::barrier::wait");
    }
    if (entry.refused()) {
        throw broken_barrier_error("weft::barrier::wait: the barrier is broken (aborted); "
                                   "reset() it to use it again");
    }
    if (entry.last()) {
        co_return entry.index();
    }
    release released(*this);
    try {
        while (!released.decided()) {
            co_await detail::queue_awaiter<release>(released, "weft::barrier::wait");
        }
    } catch (...) { // a cancellation
        released.leave_cancelled();
        throw;
    }
    if (released.broken()) {
        throw broken_barrier_error("weft::barrier::wait: the barrier was reset or aborted "
                                   "while this task waited at it");
    }
    co_return entry.index();
}

void barrier::reset() noexcept {
    waiters_.lock();
    phase_ = inside_ > 0 ? phase::resetting : phase::filling;
    wake_all();
    waiters_.unlock();
}

void barrier::abort() noexcept {
    waiters_.lock();
    phase_ = phase::broken;
    wake_all();
    waiters_.unlock();
}

std::size_t barrier::n_waiting() noexcept {
    waiters_.lock();
    const std::size_t waiting = phase_ == phase::filling ? inside_ : 0;
    waiters_.unlock();
    return waiting;
}

bool barrier::broken() noexcept {
    waiters_.lock();
    const bool is_broken = phase_ == phase::broken;
    waiters_.unlock();
    return is_broken;
}

void barrier::leave() noexcept {
    if (--inside_ != 0) {
        return;
    }
    if (phase_ == phase::draining || phase_ == phase::resetting) {
        phase_ = phase::filling;
    }
    wake_all();
}

void barrier::wake_all() noexcept {
    while (detail::queued_waiter* waiter = waiters_.pop_front()) {
        detail::schedule(*waiter->home, waiter->awaiting);
    }
}

} // namespace weft
