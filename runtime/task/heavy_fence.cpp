// The heavy fence (heavy_fence.hpp): membarrier(2), registered once per process.
#include "task/heavy_fence.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace weft::detail {
namespace {

long membarrier(int command) noexcept {
    return syscall(__NR_membarrier, command, 0, 0);
}

} // namespace

bool heavy_fence_available() noexcept {
    // The expedited private barrier must be registered before use.
    static const bool registered = membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
    return registered;
}

bool heavy_fence() noexcept {
    return membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0;
}

} // namespace weft::detail
