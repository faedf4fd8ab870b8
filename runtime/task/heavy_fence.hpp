// The heavy fence: Linux's membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which makes every
// running thread of the process execute a full memory barrier before it returns. It lets a
// rare side of a store-then-load pairing pay for both: the frequent side fences only against
// the compiler while the rare side is armed by this fence (armed_thieves.hpp for the fork
// stacks' pops, cancellation.cpp for a gather's publication as its strand's cancel target).
// Whichever point of another thread's instruction stream the barrier lands on, that
// thread's stores before it are visible once the fence returns, and its loads after it see
// what the fencing thread wrote before the fence.
#pragma once

namespace weft::detail {

// Whether this process can use the heavy fence; registers it on the first call. A kernel
// that does not know the command, or a sandbox that refuses it, answers false,
// and the pairings it would arm keep their full fences on both sides.
bool heavy_fence_available() noexcept;

// The fence itself; false if it failed (it does not once registered).
bool heavy_fence() noexcept;

} // namespace weft::detail
