// A test-and-test-and-set lock for critical sections of a few instructions (registry links,
// timer wheels, the waiters of events and semaphores). Never held across anything that can
// block.
#pragma once

#include <atomic>

#include <weft/detail/cpu_relax.hpp>

namespace weft::detail {

class spinlock {
public:
    void lock() noexcept {
        // acquire: the critical section sees the previous holder's writes.
        while (locked_.exchange(true, std::memory_order_acquire)) {
            // relaxed: a hint to retry; the exchange does the synchronising.
            while (locked_.load(std::memory_order_relaxed)) {
                cpu_relax();
            }
        }
    }
    // release: hands the critical section's writes to the next holder.
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

private:
    std::atomic<bool> locked_{false};
};

} // namespace weft::detail
