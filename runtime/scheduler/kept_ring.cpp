// The kept ring (kept_ring.hpp), behind a spin lock: a queue offers it once as it is
// destroyed and looks for it once per growth, never on a path a task takes every time.
#include "scheduler/kept_ring.hpp"

#include <cstddef>
#include <utility>

#include <weft/detail/spinlock.hpp>

namespace weft::detail {
namespace {

// Trivially destructible, so that a runtime destroyed during the process's exit (a static
// runner's) can still offer its ring; what is kept then stays reachable until the end.
constinit spinlock kept_guard;
constinit void** kept_slots = nullptr;
constinit std::uint32_t kept_size = 0;

} // namespace

void keep_ring(ring_storage ring) noexcept {
    kept_guard.lock();
    if (ring.size > kept_size) {
        ring.slots.reset(std::exchange(kept_slots, ring.slots.release()));
        kept_size = ring.size;
    }
    kept_guard.unlock();
    // `ring` now frees the ring not kept, outside the lock.
}

ring_storage take_kept_ring(std::uint32_t size) noexcept {
    ring_storage taken;
    kept_guard.lock();
    if (kept_size >= size && std::size_t{kept_size} <= std::size_t{size} * kept_ring_oversize) {
        taken.slots.reset(std::exchange(kept_slots, nullptr));
        taken.size = std::exchange(kept_size, 0);
    }
    kept_guard.unlock();
    return taken;
}

} // namespace weft::detail
