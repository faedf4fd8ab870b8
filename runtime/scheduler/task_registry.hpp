// Every task that has been launched and has not ended, so that shutdown can cancel and then
// destroy the ones still pending, and all_tasks() can list them. One shard per worker, each
// an array of slots under its own spin lock: a task takes a slot of the shard of the worker
// that created it and gives it back from whichever worker completes it, so the lock is
// rarely contended.
//
// Neither touches any header but the task's own. A list linked through the headers would
// write a neighbour's header at each end, and in a burst of spawns that neighbour is a frame
// spawned long ago, a cache line the write waits for (docs/architecture.md, "Registry").
//
// Invariants, under the shard's lock: slots [0, used) were handed out since the shard was
// last empty; each holds a pending task's header (an even address: headers are 16-byte
// aligned) or, free, the index of the next free slot shifted left by one with the low bit
// set; `free_head` starts that list (no_slot: empty); `pending` counts the headers. A shard
// whose last task ends starts afresh (used = 0), so a scan reads only slots in use since.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>

#include <weft/detail/frame_header.hpp>
#include <weft/detail/spinlock.hpp>
#include <weft/run.hpp>

namespace weft::detail {

// A task's shard is the id of the worker that created it, kept in 16 bits of its header.
static_assert(max_workers - 1 <= std::numeric_limits<decltype(frame_header::registry_shard)>::max(),
              "a worker id must fit in frame_header::registry_shard");

// A shard's array of slots.
struct slot_array {
    std::unique_ptr<std::uintptr_t[]> slots;
    std::uint32_t capacity = 0;
};

// Arrays outlive the runtime that grew them: a new runtime's shards take them back instead
// of growing, and page-faulting, anew (every weft::run starts a runtime), as the frame
// allocator keeps frames. The process keeps the largest few that ended runtimes leave
// (task_registry.cpp).
//
// The largest kept array of at least `at_least` slots, or none (capacity 0).
slot_array take_spare_slots(std::uint32_t at_least) noexcept;
// Keeps `array` if it is among the largest few, and frees what that leaves out.
void keep_spare_slots(slot_array array) noexcept;

class task_registry {
public:
    explicit task_registry(std::size_t shards)
        : shards_(std::make_unique<shard[]>(shards)), count_(shards) {}
    ~task_registry() {
        for (std::size_t i = 0; i < count_; ++i) {
            keep_spare_slots(std::move(shards_[i].array));
        }
    }
    task_registry(const task_registry&) = delete;
    task_registry& operator=(const task_registry&) = delete;

    // Growing a shard's array allocates; running out of memory there ends the program,
    // as a spawn's other bookkeeping does (the caller is noexcept).
    void add(frame_header* header, std::size_t shard_index) {
        header->registry_shard = static_cast<std::uint16_t>(shard_index);
        shard& s = shards_[shard_index];
        s.lock.lock();
        std::uint32_t slot = 0;
        if (s.free_head != no_slot) {
            slot = s.take_free_slot();
        } else if (s.used != s.array.capacity) [[likely]] {
            slot = s.used++;
        } else {
            slot = s.take_slot_growing();
        }
        s.array.slots[slot] = reinterpret_cast<std::uintptr_t>(header);
        header->registry_slot = slot;
        ++s.pending;
        s.lock.unlock();
    }

    void remove(frame_header* header) noexcept {
        shard& s = shards_[header->registry_shard];
        s.lock.lock();
        if (--s.pending == 0) {
            s.used = 0;
            s.free_head = no_slot;
        } else {
            s.array.slots[header->registry_slot] = free_slot(s.free_head);
            s.free_head = header->registry_slot;
        }
        s.lock.unlock();
    }

    // Hands every pending task to `visit`, each shard under its lock, so none of them can
    // end (and be freed) while visited.
    template <class Visit>
    void for_each(Visit&& visit) {
        for (std::size_t i = 0; i < count_; ++i) {
            shard& s = shards_[i];
            s.lock.lock();
            for (std::uint32_t slot = 0; slot < s.used; ++slot) {
                if (frame_header* header = s.header_in(slot)) {
                    visit(header);
                }
            }
            s.lock.unlock();
        }
    }

    // How many tasks are pending; exact when no task starts or ends meanwhile.
    std::size_t size() noexcept {
        std::size_t pending = 0;
        for (std::size_t i = 0; i < count_; ++i) {
            shard& s = shards_[i];
            s.lock.lock();
            pending += s.pending;
            s.lock.unlock();
        }
        return pending;
    }

    // Whether no task is pending, in O(shards).
    bool empty() noexcept {
        for (std::size_t i = 0; i < count_; ++i) {
            shard& s = shards_[i];
            s.lock.lock();
            const bool shard_empty = s.pending == 0;
            s.lock.unlock();
            if (!shard_empty) {
                return false;
            }
        }
        return true;
    }

    // Single-threaded, at shutdown: unregisters every pending task and hands it to `visit`.
    // Nothing registers a task meanwhile: no thread is a worker of the runtime any more.
    template <class Visit>
    void drain(Visit&& visit) {
        for (std::size_t i = 0; i < count_; ++i) {
            shard& s = shards_[i];
            // The last removal empties the shard and sets `used` to 0, which ends the loop.
            for (std::uint32_t slot = 0; slot < s.used; ++slot) {
                if (frame_header* header = s.header_in(slot)) {
                    remove(header);
                    visit(header);
                }
            }
        }
    }

private:
    static constexpr std::uint32_t no_slot = std::numeric_limits<std::uint32_t>::max();
    static constexpr std::uint32_t first_capacity = 256;
    // The largest array: its free slots' links, shifted left by one, must fit a slot word.
    static constexpr std::uint32_t largest_capacity = std::uint32_t{1} << 31;

    static std::uintptr_t free_slot(std::uint32_t next) noexcept {
        return (static_cast<std::uintptr_t>(next) << 1) | 1;
    }

    struct alignas(64) shard {
        spinlock lock;
        std::uint32_t pending = 0;
        std::uint32_t used = 0;
        std::uint32_t free_head = no_slot;
        slot_array array;

        frame_header* header_in(std::uint32_t slot) const noexcept {
            const std::uintptr_t word = array.slots[slot];
            return (word & 1) != 0 ? nullptr : reinterpret_cast<frame_header*>(word);
        }

        // Called locked, with a free slot: unlinks the first.
        std::uint32_t take_free_slot() noexcept {
            const std::uint32_t slot = free_head;
            free_head = static_cast<std::uint32_t>(array.slots[slot] >> 1);
            return slot;
        }

        // Called locked, with every slot in use; returns, still locked, a slot to take. Out
        // of line, so that add() needs few registers (task_registry.cpp).
        [[gnu::noinline]] std::uint32_t take_slot_growing();
    };

    std::unique_ptr<shard[]> shards_;
    std::size_t count_;
};

} // namespace weft::detail
