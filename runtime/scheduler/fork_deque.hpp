// A worker's fork stack: gather children waiting to run, as a Chase-Lev deque. The owner
// pushes and pops at the bottom (newest first, so fork-join trees run depth-first and
// stay small); thieves take the oldest at the top, which is the largest pending subtree.
//
// Where the published algorithm (Le et al., PPoPP'13) puts seq_cst fences, this version
// makes the adjacent operations on top_ and bottom_ seq_cst, which gives the same single
// order and is visible to ThreadSanitizer. The buffer grows to a power of two; old buffers
// are kept until the deque dies, because a thief may still read a slot of one.
//
// The owner takes its items a share at a time. A pop that finds several items of the last
// batch pushed (one gather's children) reserves the newest of them, as many as leave the
// thieves (workers - 1)/workers of the deque (the older items below the batch count first),
// with the one seq_cst store and load that a single pop costs, and runs them from a private
// stack before it touches the deque again. Reserved items are the owner's alone: no thief
// can see them, so the loop returns them to the deque when it ends. Pops keep the
// newest-first order: each reserved item is newer than what the deque held below it, and
// older than what was pushed after it, which pop() therefore takes (or reserves in turn)
// before it goes back to the item.
//
// A runtime of one worker has no thieves, and makes its deque without them: a pop is then a
// release store of bottom_, with no reservation, no seq_cst pair and no CAS. With
// thieves, a claim or a reservation made while no thief is armed (armed_thieves.hpp) is a
// release store of bottom_ and a load of top_ with only a compiler fence between them: the
// thief that arms itself pays for the fence the owner leaves out.
#pragma once

#include <algorithm>
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "scheduler/armed_thieves.hpp"

namespace weft::detail {

class fork_deque {
public:
    // `workers`: how many workers share the work; the owner's reservations leave the others
    // (workers - 1)/workers of the deque. Without `thieves` (a runtime of one worker) nobody
    // but the owner ever touches the deque, and its pops need no fence. With `armed`, the
    // thieves' count of armed_thieves, the pops made while none is armed fence only against
    // the compiler; without it, every pop fences.
    explicit fork_deque(std::size_t workers = 1, bool thieves = true,
                        const armed_thieves* armed = nullptr)
        : share_divisor_(static_cast<std::int64_t>(workers)), thieves_(thieves), armed_(armed) {
        rings_.push_back(std::make_unique<ring>(256));
        ring_.store(rings_.back().get());
    }

    // Owner only: pushes handles[count - 1] first and handles[0] last, so handles[0] is
    // popped first. Grows at most once, straight to the size needed: one large gather
    // leaves no trail of outgrown rings.
    void push(std::coroutine_handle<>* handles, std::size_t count) {
        // relaxed: only the owner writes bottom_.
        const std::int64_t bottom = bottom_.load(std::memory_order_relaxed);
        // acquire: slots below a thief's top_ update are no longer read by it.
        const std::int64_t top = top_.load(std::memory_order_acquire);
        // relaxed: only the owner writes ring_.
        ring* buffer = ring_.load(std::memory_order_relaxed);
        const auto needed = bottom - top + static_cast<std::int64_t>(count);
        if (needed > buffer->capacity) {
            buffer = grow(buffer, top, bottom, needed);
        }
        for (std::size_t i = 0; i < count; ++i) {
            buffer->put(bottom + static_cast<std::int64_t>(i), handles[count - 1 - i].address());
        }
        batch_floor_ = bottom;
        // release: a thief that sees the new bottom sees every slot.
        bottom_.store(bottom + static_cast<std::int64_t>(count), std::memory_order_release);
    }

    // Owner only: push() of one handle (a gather of two children pushes one) if the ring
    // has room; false, having pushed nothing, if it is full. It calls nothing, so a caller
    // that leaves the growth to a function of its own keeps no registers across a call.
    bool push_one_if_room(std::coroutine_handle<> handle) noexcept {
        // relaxed, acquire, relaxed: as in push().
        const std::int64_t bottom = bottom_.load(std::memory_order_relaxed);
        const std::int64_t top = top_.load(std::memory_order_acquire);
        ring* buffer = ring_.load(std::memory_order_relaxed);
        if (bottom - top >= buffer->capacity) [[unlikely]] {
            return false;
        }
        buffer->put(bottom, handle.address());
        batch_floor_ = bottom + 1; // a batch of one: nothing to reserve
        // release: as in push().
        bottom_.store(bottom + 1, std::memory_order_release);
        return true;
    }

    // Owner only: push() of one handle, growing a full ring.
    void push_one(std::coroutine_handle<> handle) {
        if (!push_one_if_room(handle)) [[unlikely]] {
            // relaxed, acquire, relaxed: as in push().
            const std::int64_t bottom = bottom_.load(std::memory_order_relaxed);
            const std::int64_t top = top_.load(std::memory_order_acquire);
            grow(ring_.load(std::memory_order_relaxed), top, bottom, bottom - top + 1);
            push_one_if_room(handle);
        }
    }

    // Owner only: the newest item, or null.
    std::coroutine_handle<> pop() noexcept {
        // relaxed, both: the owner's own bottom_, and a top_ that can only have grown since
        // the value read. If even that says empty, the deque is empty, and the worker loop
        // skips the seq_cst store of claim() on every step that finds no fork.
        const std::int64_t bottom = bottom_.load(std::memory_order_relaxed);
        const std::int64_t newest_floor = newest_floor_;
        if (bottom == newest_floor) {
            return take_reserved(); // nothing left that was pushed after it
        }
        const std::int64_t top = top_.load(std::memory_order_relaxed);
        if (bottom <= top) {
            // Empty, though items may have been pushed after the newest reserved one (and
            // stolen since).
            return newest_floor != no_reserved ? take_reserved() : std::coroutine_handle<>();
        }
        // Without thieves nobody else takes items, so a reservation would only copy them.
        if (thieves_ && reserve_share(bottom, top, newest_floor)) {
            return take_reserved();
        }
        if (claim(bottom - 1)) {
            // relaxed: only the owner writes ring_ and the slots; a claimed slot is its own.
            return std::coroutine_handle<>::from_address(
                ring_.load(std::memory_order_relaxed)->get(bottom - 1));
        }
        return reserved_count_ != 0 ? take_reserved() : std::coroutine_handle<>();
    }

    // Owner only: pop(), but only if the newest item is `handle`; true if it took it. A look
    // at the newest item first, so that a deque whose newest item is another costs no
    // seq_cst store.
    bool pop_if(std::coroutine_handle<> handle) noexcept {
        // relaxed, all three: the owner's own bottom_, ring_ and slot; top_ only grows, so
        // a stale value can only make the look pass, and claim() decides.
        const std::int64_t bottom = bottom_.load(std::memory_order_relaxed);
        if (bottom == newest_floor_) {
            if (reserved_[reserved_count_].item != handle.address()) {
                return false;
            }
            take_reserved();
            return true;
        }
        return bottom > top_.load(std::memory_order_relaxed) &&
               ring_.load(std::memory_order_relaxed)->get(bottom - 1) == handle.address() &&
               claim(bottom - 1);
    }

    // Owner only, as its loop ends: puts the reserved items back where thieves can take
    // them (a runner's worker leaves its loop between runs).
    void return_reserved() {
        for (std::size_t i = 1; i <= reserved_count_; ++i) {
            push_one(std::coroutine_handle<>::from_address(reserved_[i].item));
        }
        reserved_count_ = 0;
        newest_floor_ = no_reserved;
    }

    // Any thread, armed (armed_thieves::arm) if the deque was made with a count: the oldest
    // item, or null (also when it lost a race).
    std::coroutine_handle<> steal() noexcept {
        // seq_cst: the thief's half of the fence pairing described in pop().
        std::int64_t top = top_.load(std::memory_order_seq_cst);
        const std::int64_t bottom = bottom_.load(std::memory_order_seq_cst);
        if (top >= bottom) {
            return {};
        }
        // acquire: pairs with grow()'s release, so a new ring's slots are visible.
        void* item = ring_.load(std::memory_order_acquire)->get(top);
        // seq_cst: claims the item against the owner and other thieves.
        if (!top_.compare_exchange_strong(top, top + 1, std::memory_order_seq_cst,
                                          std::memory_order_relaxed)) {
            return {};
        }
        return std::coroutine_handle<>::from_address(item);
    }

    // Any thread: whether the deque looks empty (the owner's reserved items are not seen).
    bool empty() const noexcept {
        // seq_cst: the load half of the parker's store->load check (see idle.hpp).
        return top_.load(std::memory_order_seq_cst) >= bottom_.load(std::memory_order_seq_cst);
    }

    // Owner only, at shutdown: forgets every item.
    void clear() noexcept {
        // relaxed: no other thread runs at shutdown.
        top_.store(bottom_.load(std::memory_order_relaxed), std::memory_order_relaxed);
        reserved_count_ = 0;
        newest_floor_ = no_reserved;
    }

private:
    // Owner only: takes the item at `bottom` (the newest, bottom_ - 1) against the thieves;
    // true if this thread has it. Either way the deque then holds the items below it,
    // [top_, bottom): all of them when it was not the last, none when it was.
    bool claim(std::int64_t bottom) noexcept {
        if (!thieves_) {
            // release: keeps bottom_ a publishing store; nobody else takes items.
            bottom_.store(bottom, std::memory_order_release);
            return true;
        }
        std::int64_t top = store_bottom_then_load_top(bottom);
        if (top < bottom) [[likely]] {
            return true; // items remain below it: no thief can reach this one
        }
        // seq_cst: races the thieves for the last item (top == bottom); if top passed it,
        // a thief took it.
        const bool taken =
            top == bottom && top_.compare_exchange_strong(top, top + 1, std::memory_order_seq_cst,
                                                          std::memory_order_relaxed);
        // release: the deque is empty either way; keeps bottom_ a publishing store for the
        // slots below it.
        bottom_.store(bottom + 1, std::memory_order_release);
        return taken;
    }

    // Owner only, in pop(): reserves the owner's share of the last batch, of what was pushed
    // after the newest reserved item (`newest_floor`), counted on a `top` that may be stale
    // (then more items seem to be there than are, and reserve() finds out); false if it
    // reserved nothing, and pop() claims one item.
    bool reserve_share(std::int64_t bottom, std::int64_t top, std::int64_t newest_floor) noexcept {
        const std::int64_t batch_start = std::max({batch_floor_, top, newest_floor});
        const std::int64_t batch = bottom - batch_start;
        // The thieves keep (workers - 1)/workers of the deque, the older items below the
        // batch first.
        const std::int64_t total = bottom - top;
        const std::int64_t thieves_keep =
            share_divisor_ == 1 ? 0 : total - (total + share_divisor_ - 1) / share_divisor_;
        const std::int64_t share =
            std::min(batch - std::max<std::int64_t>(0, thieves_keep - (batch_start - top)),
                     static_cast<std::int64_t>(reserve_capacity - reserved_count_));
        return share > 1 && reserve(bottom, share);
    }

    // Owner only: takes the `count` newest items, [bottom - count, bottom), onto the private
    // stack (all of them, or all but the oldest if a thief won that one), if no thief took
    // any but the oldest; else leaves the rest in the deque and returns false.
    bool reserve(std::int64_t bottom, std::int64_t count) noexcept {
        std::int64_t floor = bottom - count;
        // claim()'s fence, for all `count` items at once. A thief takes index i after it
        // read top_ == i, then bottom_. If it read bottom_ after this store, i < floor; if
        // before, its read of top_ came before this store, and so before the load below,
        // which then reads at least i. So no index above the top read here can go to a
        // thief, and only that index itself can be contended.
        std::int64_t top = store_bottom_then_load_top(floor);
        std::int64_t first = floor;
        if (top == floor) {
            // The reservation reaches the top: race the thieves for that item, as claim()
            // does for the last one. seq_cst: as there. Either way top_ is now floor + 1,
            // and bottom_ goes there too (release, as in claim()), leaving the deque empty.
            if (!top_.compare_exchange_strong(top, top + 1, std::memory_order_seq_cst,
                                              std::memory_order_relaxed)) {
                first = floor + 1; // a thief took it
            }
            floor += 1;
            bottom_.store(floor, std::memory_order_release);
        } else if (top > floor) {
            // Thieves took some of the items: restore bottom_ (release, as in claim()) and
            // let the caller take one.
            bottom_.store(bottom, std::memory_order_release);
            return false;
        }
        take_onto_reserved(first, bottom, floor);
        return true;
    }

    // The owner's store of bottom_ and load of top_ in claim() and reserve(), with the
    // algorithm's fence between them: a seq_cst pair, or, while no thief is armed, a release
    // store and a relaxed load with the compiler's fence, the hardware's being the armed
    // thief's heavy fence (armed_thieves.hpp).
    std::int64_t store_bottom_then_load_top(std::int64_t bottom) noexcept {
        if (armed_ != nullptr && armed_->none()) {
            // release: keeps bottom_ a publishing store, so a thief that reads it still
            // synchronises with the push that wrote the slots below it.
            bottom_.store(bottom, std::memory_order_release);
            light_fence();
            // relaxed: the order against the store is the fences' (see armed_thieves.hpp).
            return top_.load(std::memory_order_relaxed);
        }
        // seq_cst (this store and the load of top_): stand where the algorithm's fence is,
        // so a thief and the owner cannot both miss each other on the last item.
        bottom_.store(bottom, std::memory_order_seq_cst);
        return top_.load(std::memory_order_seq_cst);
    }

    // Copies the items [first, bottom) onto the private stack, each with `floor`.
    void take_onto_reserved(std::int64_t first, std::int64_t bottom, std::int64_t floor) noexcept {
        // relaxed: only the owner writes ring_ and the slots.
        ring* buffer = ring_.load(std::memory_order_relaxed);
        reserved_item* next = reserved_ + reserved_count_ + 1;
        for (std::int64_t i = first; i < bottom; ++i) {
            *next++ = {buffer->get(i), floor};
        }
        reserved_count_ = static_cast<std::size_t>(next - reserved_) - 1;
        newest_floor_ = floor;
    }

    // A reserved item, and bottom_ as its reservation left it: while bottom_ is back there,
    // nothing pushed after the item is left in the deque, and the item is the newest.
    struct reserved_item {
        void* item;
        std::int64_t floor;
    };
    std::coroutine_handle<> take_reserved() noexcept {
        void* item = reserved_[reserved_count_--].item;
        newest_floor_ = reserved_[reserved_count_].floor;
        return std::coroutine_handle<>::from_address(item);
    }

    struct ring {
        explicit ring(std::int64_t size)
            : capacity(size), slots(std::make_unique<std::atomic<void*>[]>(size)) {}
        // relaxed slot accesses: published and acquired through bottom_ and ring_.
        void put(std::int64_t index, void* value) noexcept {
            slots[index & (capacity - 1)].store(value, std::memory_order_relaxed);
        }
        void* get(std::int64_t index) const noexcept {
            return slots[index & (capacity - 1)].load(std::memory_order_relaxed);
        }
        std::int64_t capacity;
        std::unique_ptr<std::atomic<void*>[]> slots;
    };

    // A ring of at least `needed` slots, and at least twice the old one.
    [[gnu::noinline]] ring* grow(ring* old, std::int64_t top, std::int64_t bottom,
                                 std::int64_t needed) {
        std::int64_t capacity = old->capacity * 2;
        while (capacity < needed) {
            capacity *= 2;
        }
        rings_.push_back(std::make_unique<ring>(capacity));
        ring* bigger = rings_.back().get();
        for (std::int64_t i = top; i < bottom; ++i) {
            bigger->put(i, old->get(i));
        }
        // release: a thief that loads the new ring sees the copied slots.
        ring_.store(bigger, std::memory_order_release);
        return bigger;
    }

    alignas(64) std::atomic<std::int64_t> top_{0};
    alignas(64) std::atomic<std::int64_t> bottom_{0};
    std::atomic<ring*> ring_{nullptr};
    std::vector<std::unique_ptr<ring>> rings_;

    // The owner's alone. A gather pushes its children in one batch; batch_floor_ is where the
    // last one starts, so a reservation takes one gather's children, never the older and
    // larger subtrees below them.
    static constexpr std::size_t reserve_capacity = 16;
    const std::int64_t share_divisor_;
    const bool thieves_;
    const armed_thieves* const armed_;
    std::int64_t batch_floor_ = 0;
    // The private stack, reserved_[1 .. reserved_count_], newest last, above an entry that
    // stands for none; and the floor of its newest item, or no_reserved (below every index)
    // when it is empty, so that one comparison with bottom_ tells whether that item is next.
    static constexpr std::int64_t no_reserved = -1;
    std::int64_t newest_floor_ = no_reserved;
    std::size_t reserved_count_ = 0;
    reserved_item reserved_[reserve_capacity + 1] = {{nullptr, no_reserved}};
};

} // namespace weft::detail
