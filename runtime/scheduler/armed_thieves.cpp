// The heavy fence of armed_thieves: membarrier(2), registered once per process.
#include "scheduler/armed_thieves.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace weft::detail {
namespace {

long membarrier(int command) noexcept {
    return syscall(__NR_membarrier, command, 0, 0);
}

} // namespace

bool armed_thieves::available() noexcept {
    // The expedited private barrier must be registered before use; a kernel that does not
    // know it, or a sandbox that refuses the call, leaves every fork stack fencing.
    static const bool registered = membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
    return registered;
}

bool armed_thieves::arm() noexcept {
    // seq_cst: the count is in place before the barrier below runs on the owners' CPUs.
    count_.fetch_add(1, std::memory_order_seq_cst);
    if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) {
        return true;
    }
    // Registered, it does not fail; should it, the thief stays unarmed and steals no fork.
    disarm();
    return false;
}

} // namespace weft::detail
