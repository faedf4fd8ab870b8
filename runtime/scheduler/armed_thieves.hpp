// Which side of the fork stacks' fence pairing pays for it. A Chase-Lev pop and a steal each
// need a full fence between their store and their load (fork_deque.hpp), so that the owner
// and a thief cannot both miss each other on the last item. The owner pops far more often
// than anyone steals: in a fork-join tree at two workers a thief steals a few dozen subtrees
// a run while the owner pops a million children. So a thief arms itself before it steals
// from a fork stack: it counts itself here and runs the heavy fence (task/heavy_fence.hpp,
// Linux's membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)), which makes every running thread of
// the process execute a full barrier before it returns. While no thief is armed, the owners'
// pops fence only against the compiler; while one is, they fence as the algorithm says, and
// a steal needs no more than its own.
//
// Why that is enough, for an owner's pop (store bottom_, then load top_) that read the count
// as zero, against a thief that armed itself and then steals (load top_, then bottom_):
// the heavy fence runs a barrier on the owner's CPU at some point of the owner's instruction
// stream. If that point falls before the pop's store, the pop's load comes after it and
// after the thief's read of top_, as the fence would have ordered them. If it falls after
// the store, the store is visible to the thief's later load of bottom_. Either way one of
// them sees the other, which is all the algorithm's fence pair gives. Armed thieves stay
// armed while they keep stealing (a burst of small forks is stolen at the fence's usual
// cost) and disarm once they have run a while without a steal, or before they sleep.
//
// Without membarrier (an old kernel, a sandbox that refuses it) there is no armed
// state to offer: fork stacks are made without one and always fence.
#pragma once

#include <atomic>
#include <cstdint>

namespace weft::detail {

class armed_thieves {
public:
    // Whether this process can use the heavy fence; registers it on the first call.
    static bool available() noexcept;

    // An owner, before a pop: true if no thief is armed, so that the pop may fence only
    // against the compiler (light_fence).
    bool none() const noexcept {
        // relaxed: a thief that armed itself after this load ran the heavy fence, whose
        // barrier on this thread stands in for the fence the pop leaves out (see the top).
        return count_.load(std::memory_order_relaxed) == 0;
    }

    // A thief, before its first steal from a fork stack: counts itself, then makes every
    // owner either see the count or have its pops' stores visible. False if the heavy
    // fence failed: the thief is not armed and must not steal a fork.
    bool arm() noexcept;
    // A thief that will not steal again before arm().
    void disarm() noexcept {
        // release: nothing to publish beyond what the steals did; ordered after them.
        count_.fetch_sub(1, std::memory_order_release);
    }

private:
    alignas(64) std::atomic<std::uint32_t> count_{0};
};

// The owner's half: keeps the compiler from moving a load above an earlier store. The
// hardware may still (a store buffer), which the heavy fence covers.
inline void light_fence() noexcept {
    std::atomic_signal_fence(std::memory_order_seq_cst);
}

} // namespace weft::detail
