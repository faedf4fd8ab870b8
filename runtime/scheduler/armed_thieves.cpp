// The thieves' count and its heavy fence (task/heavy_fence.hpp).
#include "scheduler/armed_thieves.hpp"

#include "task/heavy_fence.hpp"

namespace weft::detail {

bool armed_thieves::available() noexcept {
    return heavy_fence_available();
}

bool armed_thieves::arm() noexcept {
    // seq_cst: the count is in place before the barrier below runs on the owners' CPUs.
    count_.fetch_add(1, std::memory_order_seq_cst);
    if (heavy_fence()) {
        return true;
    }
    // Registered, it does not fail; should it, the thief stays unarmed and steals no fork.
    disarm();
    return false;
}

} // namespace weft::detail
