// A worker's fork stack: gather children waiting to run, as a Chase-Lev deque. The owner
// pushes and pops at the bottom (newest first, so fork-join trees run depth-first and
// stay small); thieves take the oldest at the top, which is the largest pending subtree.
//
// Where the published algorithm (Le et al., PPoPP'13) puts seq_cst fences, this version
// makes the adjacent operations on top_ and bottom_ seq_cst, which gives the same single
// order and is visible to ThreadSanitizer. The buffer grows to a power of two; old buffers
// are kept until the deque dies, because a thief may still read a slot of one.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace weft::detail {

class fork_deque {
public:
    fork_deque() {
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
        // release: a thief that sees the new bottom sees every slot.
        bottom_.store(bottom + static_cast<std::int64_t>(count), std::memory_order_release);
    }

    // Owner only: push() of one handle, with the growth out of the inline path (a gather
    // of two children pushes one).
    void push_one(std::coroutine_handle<> handle) {
        // relaxed, acquire, relaxed: as in push().
        const std::int64_t bottom = bottom_.load(std::memory_order_relaxed);
        const std::int64_t top = top_.load(std::memory_order_acquire);
        ring* buffer = ring_.load(std::memory_order_relaxed);
        if (bottom - top >= buffer->capacity) [[unlikely]] {
            buffer = grow(buffer, top, bottom, bottom - top + 1);
        }
        buffer->put(bottom, handle.address());
        // release: as in push().
        bottom_.store(bottom + 1, std::memory_order_release);
    }

    // Owner only: the newest item, or null.
    std::coroutine_handle<> pop() noexcept {
        // relaxed, both: the owner's own bottom_, and a top_ that can only have grown since
        // the value read. If even that says empty, the deque is empty, and the worker loop
        // skips the seq_cst store of claim() on every step that finds no fork.
        const std::int64_t bottom = bottom_.load(std::memory_order_relaxed) - 1;
        if (bottom < top_.load(std::memory_order_relaxed) || !claim(bottom)) {
            return {};
        }
        // relaxed: only the owner writes ring_ and the slots; a claimed slot is its own.
        return std::coroutine_handle<>::from_address(
            ring_.load(std::memory_order_relaxed)->get(bottom));
    }

    // Owner only: pop(), but only if the newest item is `handle`; true if it took it. A look
    // at the owner's own bottom slot first, so that a deque whose newest item is another
    // costs no seq_cst store.
    bool pop_if(std::coroutine_handle<> handle) noexcept {
        // relaxed, all three: the owner's own bottom_, ring_ and slot; top_ only grows, so
        // a stale value can only make the look pass, and claim() decides.
        const std::int64_t bottom = bottom_.load(std::memory_order_relaxed) - 1;
        return bottom >= top_.load(std::memory_order_relaxed) &&
               ring_.load(std::memory_order_relaxed)->get(bottom) == handle.address() &&
               claim(bottom);
    }

    // Any thread: the oldest item, or null (also when it lost a race).
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

    // Any thread: whether the deque looks empty.
    bool empty() const noexcept {
        // seq_cst: the load half of the parker's store->load check (see idle.hpp).
        return top_.load(std::memory_order_seq_cst) >= bottom_.load(std::memory_order_seq_cst);
    }

    // Owner only, at shutdown: forgets every item.
    void clear() noexcept {
        // relaxed: no other thread runs at shutdown.
        top_.store(bottom_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    }

private:
    // Owner only: takes the item at `bottom` (the newest, bottom_ - 1) against the thieves;
    // true if this thread has it. Either way the deque then holds the items below it,
    // [top_, bottom): all of them when it was not the last, none when it was.
    bool claim(std::int64_t bottom) noexcept {
        // seq_cst (this store and the load of top_): stand where the algorithm's fence
        // is, so a thief and the owner cannot both miss each other on the last item.
        bottom_.store(bottom, std::memory_order_seq_cst);
        std::int64_t top = top_.load(std::memory_order_seq_cst);
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
};

} // namespace weft::detail
