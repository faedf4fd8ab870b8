// weft::event's compiled half. The flag is read without the lock (is_set) but changed under
// the wait queue's lock, where a waiter also checks it before linking itself, so no waiter
// links itself after a set() has emptied the queue while the flag stays set.
#include <weft/event.hpp>

namespace weft {

void event::set() noexcept {
    waiters_.lock();
    // release: a waiter that sees the flag without the lock sees what preceded set().
    set_.store(true, std::memory_order_release);
    while (detail::queued_waiter* waiter = waiters_.pop_front()) {
        detail::schedule(*waiter->home, waiter->awaiting);
    }
    waiters_.unlock();
}

void event::clear() noexcept {
    waiters_.lock();
    // relaxed: under the lock, and clearing publishes nothing.
    set_.store(false, std::memory_order_relaxed);
    waiters_.unlock();
}

bool event::begin_wait(detail::queued_waiter& waiter) noexcept {
    // relaxed: under the lock, which orders it with set() and clear().
    return waiters_.wait_unless(waiter, [this] { return set_.load(std::memory_order_relaxed); });
}

} // namespace weft
