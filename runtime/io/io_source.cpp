// The readiness count and its waiters; the argument is in io_source.hpp.
#include "io/io_source.hpp"

#include <weft/detail/scheduler.hpp>

namespace weft::detail {

std::size_t io_readiness::signal(waker& driver) noexcept {
    std::size_t woken = 0;
    waiters_.lock();
    // release: see observe(). Under the lock, so a waiter's re-check is ordered with it.
    edges_.store(edges_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    while (queued_waiter* waiter = waiters_.pop_front()) {
        // A stream is used inside the runtime that made it, so its waiters are the
        // driver's own tasks; anything else goes through schedule() like any wake-up.
        if (waiter->home == &driver.home()) {
            driver.wake(waiter->awaiting);
        } else {
            schedule(*waiter->home, waiter->awaiting);
        }
        ++woken;
    }
    waiters_.unlock();
    return woken;
}

bool io_readiness::wait::begin_wait(queued_waiter& waiter) noexcept {
    return direction_.waiters_.wait_unless(waiter, [this]() noexcept {
        // relaxed: under the lock that signal() raises the count in.
        return direction_.edges_.load(std::memory_order_relaxed) != seen_;
    });
}

} // namespace weft::detail
