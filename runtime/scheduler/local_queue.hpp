// A worker's FIFO run queue: a ring of 256 slots with one owner and many thieves (the
// design of Tokio's queue). The owner pushes at the tail and pops at the head; a thief
// claims the older half at the head and copies it into its own queue.
//
// `head_` packs two 32-bit indexes: `real`, where the next pop or steal starts, and
// `steal`, the start of a range a thief has claimed but not finished copying. steal ==
// real when no thief is copying. Slots in [steal, tail) are live; the owner never writes a
// slot at or past steal + capacity, so a thief's copy is never overwritten. Only one
// thief copies at a time (a second gives up), which keeps the claim to one range. Indexes
// wrap modulo 2^32; only differences are compared.
//
// A full queue moves its older half, with the new item, to the injector in one batch. A
// runtime of one worker has no thieves, and makes its queue without them: its pops are a
// load and a store (pop_alone), with no CAS, and a full queue doubles its ring instead of
// spilling into the injector, so a burst of spawns stays in order and off the injector's
// lock. The grown ring is kept for the next burst, as the frame allocator keeps frames, and
// once the queue is destroyed for the next queue without thieves (kept_ring.hpp).
#pragma once

#include <array>
#include <atomic>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <utility>

#include "scheduler/injector.hpp"
#include "scheduler/kept_ring.hpp"

namespace weft::detail {

class local_queue {
public:
    // The ring's size with thieves, and the one it starts at without.
    static constexpr std::uint32_t capacity = 256;
    // What a ring without thieves may grow to: the indexes' range.
    static constexpr std::uint32_t max_capacity = std::uint32_t{1} << 31;

    // Without `thieves` (a runtime of one worker) nobody but the owner ever takes items, a
    // pop needs no CAS and a full ring grows.
    explicit local_queue(bool thieves = true) : thieves_(thieves) { slots_ = first_slots_.data(); }
    local_queue(const local_queue&) = delete;
    local_queue& operator=(const local_queue&) = delete;
    ~local_queue() {
        if (grown_) {
            keep_ring({std::move(grown_), mask_ + 1});
        }
    }

    // Owner only.
    // The queue with room is the inline path; a full one goes out of line, so that the
    // callers on the spawn path keep few registers.
    void push(std::coroutine_handle<> handle, injector& overflow) {
        // relaxed: only the owner writes tail_.
        const std::uint32_t tail = tail_.load(std::memory_order_relaxed);
        // acquire: a thief's finishing CAS (release) hands back the slots it copied.
        if (tail - unpack(head_.load(std::memory_order_acquire)).first < mask_ + 1) [[likely]] {
            store_at_tail(tail, handle);
            return;
        }
        push_when_full(handle, overflow);
    }

    // Owner only: how many pushes fit before the queue overflows.
    std::uint32_t room() const noexcept {
        // relaxed: only the owner writes tail_. acquire: as in push.
        const std::uint32_t tail = tail_.load(std::memory_order_relaxed);
        return mask_ + 1 - (tail - unpack(head_.load(std::memory_order_acquire)).first);
    }

    // Owner only: appends `count` handles, at most room(), with one publishing store.
    void push_batch(const std::coroutine_handle<>* handles, std::uint32_t count) noexcept {
        // relaxed: only the owner writes tail_.
        const std::uint32_t tail = tail_.load(std::memory_order_relaxed);
        for (std::uint32_t i = 0; i < count; ++i) {
            // relaxed: published by the release store of tail_ below.
            slot(tail + i).store(handles[i].address(), std::memory_order_relaxed);
        }
        // release: a thief that reads this tail sees the slots written.
        tail_.store(tail + count, std::memory_order_release);
    }

    // Owner only: the oldest item, or null.
    std::coroutine_handle<> pop() noexcept {
        if (!thieves_) {
            return pop_alone();
        }
        // acquire: as in push; also orders the slot read after the claim.
        std::uint64_t head = head_.load(std::memory_order_acquire);
        for (;;) {
            const auto [steal, real] = unpack(head);
            // relaxed: only the owner writes tail_.
            if (real == tail_.load(std::memory_order_relaxed)) {
                return {};
            }
            const std::uint64_t next =
                steal == real ? pack(real + 1, real + 1) : pack(steal, real + 1);
            // acq_rel: the claim of slot `real` must be ordered against thieves' claims.
            if (head_.compare_exchange_weak(head, next, std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
                // relaxed: the owner wrote this slot itself.
                return std::coroutine_handle<>::from_address(
                    slot(real).load(std::memory_order_relaxed));
            }
        }
    }

    // Thief: moves about half of this queue into `into` (the caller's own queue) and
    // returns one of the moved items to run now, or null. `stolen` counts the items.
    std::coroutine_handle<> steal_into(local_queue& into, std::uint64_t& stolen) noexcept {
        // relaxed: the caller owns `into`.
        const std::uint32_t into_tail = into.tail_.load(std::memory_order_relaxed);
        // acquire: as in push.
        const auto [into_steal, into_real] = unpack(into.head_.load(std::memory_order_acquire));
        if (into_tail - into_steal > capacity / 2) {
            return {};
        }
        // acquire: as in push.
        std::uint64_t head = head_.load(std::memory_order_acquire);
        std::uint32_t first = 0;
        std::uint32_t count = 0;
        for (;;) {
            const auto [steal, real] = unpack(head);
            if (steal != real) {
                return {}; // another thief is copying
            }
            // acquire: pairs with the owner's release store, so the slots are written.
            const std::uint32_t available = tail_.load(std::memory_order_acquire) - real;
            count = available - available / 2;
            if (count == 0) {
                return {};
            }
            // acq_rel: acquire orders our slot reads after the claim; release is for the
            // owner's later acquire of head_ (nothing of ours to publish yet).
            if (head_.compare_exchange_weak(head, pack(steal, real + count),
                                            std::memory_order_acq_rel, std::memory_order_acquire)) {
                first = real;
                break;
            }
        }
        for (std::uint32_t i = 0; i < count; ++i) {
            // relaxed: the slots were published by the tail_ acquire above; the copies
            // into our own queue are published by our tail_ release store below.
            into.slot(into_tail + i)
                .store(slot(first + i).load(std::memory_order_relaxed), std::memory_order_relaxed);
        }
        head = pack(first, first + count);
        for (;;) {
            const auto [steal, real] = unpack(head);
            // acq_rel: release hands the copied slots back to the owner (see push).
            if (head_.compare_exchange_weak(head, pack(real, real), std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
                break;
            }
            (void)steal;
        }
        stolen += count;
        const std::uint32_t keep = count - 1;
        std::coroutine_handle<> run_now = std::coroutine_handle<>::from_address(
            // relaxed: we wrote it just above.
            into.slot(into_tail + keep).load(std::memory_order_relaxed));
        if (keep > 0) {
            // release: publishes the copied slots to thieves of our queue.
            into.tail_.store(into_tail + keep, std::memory_order_release);
        }
        return run_now;
    }

    // Any thread: whether the queue looks empty.
    bool empty() const noexcept {
        // seq_cst: the load half of the parker's store->load check (see idle.hpp).
        const auto [steal, real] = unpack(head_.load(std::memory_order_seq_cst));
        return real == tail_.load(std::memory_order_seq_cst);
    }

    // Owner only, at shutdown: forgets every queued item.
    void clear() noexcept {
        // relaxed: no other thread runs at shutdown.
        const std::uint32_t tail = tail_.load(std::memory_order_relaxed);
        head_.store(pack(tail, tail), std::memory_order_relaxed);
    }

private:
    static constexpr std::uint64_t pack(std::uint32_t steal, std::uint32_t real) noexcept {
        return (std::uint64_t{steal} << 32) | real;
    }
    static constexpr std::pair<std::uint32_t, std::uint32_t> unpack(std::uint64_t head) noexcept {
        return {static_cast<std::uint32_t>(head >> 32), static_cast<std::uint32_t>(head)};
    }

    // The slot of index `index`. With thieves the ring never changes, so a thief reads the
    // same slots_ and mask_ as the owner; without, only the owner reads them. Every access
    // to a slot goes through this reference, so a ring can be plain storage that nothing
    // zeroes: a slot is read only once a push has written it.
    std::atomic_ref<void*> slot(std::uint32_t index) const noexcept {
        return std::atomic_ref<void*>(slots_[index & mask_]);
    }

    void store_at_tail(std::uint32_t tail, std::coroutine_handle<> handle) noexcept {
        // relaxed: published by the release store of tail_ below.
        slot(tail).store(handle.address(), std::memory_order_relaxed);
        // release: a thief that reads this tail sees the slot written.
        tail_.store(tail + 1, std::memory_order_release);
    }

    // push() found the queue full: sends half of it, with `handle`, to the injector, unless
    // a thief is copying out of it (then only `handle`) or frees room first. Without
    // thieves it doubles the ring instead, up to max_capacity.
    [[gnu::noinline]] void push_when_full(std::coroutine_handle<> handle, injector& overflow) {
        // relaxed: only the owner writes tail_.
        const std::uint32_t tail = tail_.load(std::memory_order_relaxed);
        if (!thieves_ && mask_ + 1 < max_capacity) {
            grow();
            store_at_tail(tail, handle);
            return;
        }
        for (;;) {
            // acquire: as in push.
            const auto [steal, real] = unpack(head_.load(std::memory_order_acquire));
            if (tail - steal < capacity) {
                store_at_tail(tail, handle);
                return;
            }
            if (steal != real) {
                overflow.push(handle);
                return;
            }
            if (move_half_to(overflow, real, handle)) {
                return;
            }
        }
    }

    // Moves the older half plus `extra` to the injector; false if a thief got in first.
    [[gnu::noinline]] bool move_half_to(injector& overflow, std::uint32_t real,
                                        std::coroutine_handle<> extra) {
        constexpr std::uint32_t half = capacity / 2;
        std::uint64_t expected = pack(real, real);
        // acq_rel: claims the half against thieves, as a steal would.
        if (!head_.compare_exchange_strong(expected, pack(real + half, real + half),
                                           std::memory_order_acq_rel, std::memory_order_relaxed)) {
            return false;
        }
        std::array<std::coroutine_handle<>, half + 1>& batch = overflow_batch_;
        for (std::uint32_t i = 0; i < half; ++i) {
            // relaxed: the owner wrote these slots.
            batch[i] = std::coroutine_handle<>::from_address(
                slot(real + i).load(std::memory_order_relaxed));
        }
        batch[half] = extra;
        overflow.push_batch(batch.data(), batch.size());
        return true;
    }

    // pop() with no thieves: only this thread writes head_.
    std::coroutine_handle<> pop_alone() noexcept {
        // relaxed, both: the owner's own indexes.
        const std::uint32_t real = unpack(head_.load(std::memory_order_relaxed)).second;
        if (real == tail_.load(std::memory_order_relaxed)) {
            return {};
        }
        // release: keeps head_ the store that hands slots back, as a thief's CAS is.
        head_.store(pack(real + 1, real + 1), std::memory_order_release);
        // relaxed: the owner wrote this slot itself.
        return std::coroutine_handle<>::from_address(slot(real).load(std::memory_order_relaxed));
    }

    // Without thieves, owner only: moves the items into a ring twice the size, or into the
    // kept ring if the queue may take it (kept_ring.hpp), each to the slot of its own index,
    // so that no index changes. Throws std::bad_alloc, leaving the queue as it was.
    [[gnu::noinline]] void grow() {
        const std::uint32_t doubled = 2 * (mask_ + 1);
        ring_storage grown = take_kept_ring(doubled);
        if (!grown.slots) {
            // Left uninitialised: the slots outside [head, tail) are written before they are
            // read.
            grown = {std::unique_ptr<void*[]>(new void*[doubled]), doubled};
        }
        const std::uint32_t grown_mask = grown.size - 1;
        // relaxed, all: only the owner reads or writes a queue without thieves.
        const std::uint32_t tail = tail_.load(std::memory_order_relaxed);
        for (std::uint32_t index = unpack(head_.load(std::memory_order_relaxed)).second;
             index != tail; ++index) {
            std::atomic_ref<void*>(grown.slots[index & grown_mask])
                .store(slot(index).load(std::memory_order_relaxed), std::memory_order_relaxed);
        }
        grown_ = std::move(grown.slots);
        slots_ = grown_.get();
        mask_ = grown_mask;
    }

    alignas(64) std::atomic<std::uint64_t> head_{0};
    alignas(64) std::atomic<std::uint32_t> tail_{0};
    const bool thieves_;
    std::uint32_t mask_ = capacity - 1;
    void** slots_;
    std::array<void*, capacity> first_slots_{};
    // The grown ring, once a queue without thieves has outgrown first_slots_.
    std::unique_ptr<void*[]> grown_;
    // move_half_to's batch, a member so that no overflow zeroes an array first. Owner only.
    std::array<std::coroutine_handle<>, capacity / 2 + 1> overflow_batch_;
};

} // namespace weft::detail
