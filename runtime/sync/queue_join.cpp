// The queue's unfinished-item count; the invariants are in
// include/weft/detail/queue_join.hpp. Decrements that stay above zero are a plain
// compare-and-swap; the last one to zero takes the joiners' lock so that reaching zero and
// waking the joiners are one step to any joiner.
#include <weft/detail/queue_join.hpp>

namespace weft::detail {

bool queue_join::finish(std::size_t done) noexcept {
    // relaxed: only a starting value for the compare-and-swap, which checks it.
    std::size_t seen = count_.load(std::memory_order_relaxed);
    for (;;) {
        if (seen < done) {
            return false;
        }
        if (seen > done) {
            // release: a joiner that reads the count as zero later sees this consumer's work.
            // relaxed on failure: the loop retries with the value read.
            if (count_.compare_exchange_weak(seen, seen - done, std::memory_order_release,
                                             std::memory_order_relaxed)) {
                return true;
            }
            continue;
        }
        joiners_.lock();
        // release: as above; the joiners woken here also synchronise through the lock and
        // their scheduling. relaxed on failure: a put or another task_done moved the count;
        // retry outside the lock.
        if (count_.compare_exchange_strong(seen, 0, std::memory_order_release,
                                           std::memory_order_relaxed)) {
            while (queued_waiter* joiner = joiners_.pop_front()) {
                schedule(*joiner->home, joiner->awaiting);
            }
            joiners_.unlock();
            return true;
        }
        joiners_.unlock();
    }
}

bool queue_join::begin_wait(queued_waiter& waiter) noexcept {
    return joiners_.wait_unless(waiter, [this] { return unfinished() == 0; });
}

} // namespace weft::detail
