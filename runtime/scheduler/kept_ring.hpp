// The largest ring a run queue without thieves grew to, kept for the process once its queue
// is destroyed, so that the next such queue (the next one-worker runtime's, as `weft::run`
// makes one per call) grows into memory already faulted in at the end of a burst like the
// last, rather than through fresh pages. The frame allocator keeps frames the same way
// (frame_allocator.cpp).
//
// Invariants: at most one ring is kept, the largest offered; sizes are powers of two. A queue
// takes it only when it needs at least an eighth of it, so that a small burst does not sweep
// its items through a large ring's cold lines (a ring's items advance through all of it).
// A ring is plain storage that nothing reads before a push writes it (local_queue.hpp).
#pragma once

#include <cstdint>
#include <memory>

namespace weft::detail {

struct ring_storage {
    std::unique_ptr<void*[]> slots;
    std::uint32_t size = 0;
};

// How much larger than the size a queue grows to the kept ring may be for the queue to take it.
inline constexpr std::uint32_t kept_ring_oversize = 8;

// Keeps `ring` if it is larger than the ring kept; frees whichever is not kept.
void keep_ring(ring_storage ring) noexcept;

// The kept ring (then no longer kept) if it holds at least `size` slots and at most
// kept_ring_oversize times as many; else none.
ring_storage take_kept_ring(std::uint32_t size) noexcept;

} // namespace weft::detail
