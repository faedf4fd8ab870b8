// The slot arrays that outlive their runtime (task_registry.hpp). The process keeps the
// largest few, under a mutex: an array moves only when a runtime ends, or when a shard of a
// new one first grows.
#include "scheduler/task_registry.hpp"

#include <array>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <utility>

namespace weft::detail {
namespace {

// Enough for every shard of a few runtimes of a few workers each.
constexpr std::size_t kept_arrays = 8;

struct spare_arrays {
    std::mutex mutex;
    std::array<slot_array, kept_arrays> arrays;
};

// Never destroyed: a runtime may end while static destructors run.
spare_arrays& spares() {
    static spare_arrays* const instance = new spare_arrays;
    return *instance;
}

} // namespace

slot_array take_spare_slots(std::uint32_t at_least) noexcept {
    spare_arrays& kept = spares();
    const std::lock_guard guard(kept.mutex);
    slot_array* best = nullptr;
    for (slot_array& candidate : kept.arrays) {
        if (candidate.capacity >= at_least &&
            (best == nullptr || candidate.capacity > best->capacity)) {
            best = &candidate;
        }
    }
    return best != nullptr ? std::exchange(*best, slot_array{}) : slot_array{};
}

void keep_spare_slots(slot_array array) noexcept {
    if (array.capacity == 0) {
        return;
    }
    spare_arrays& kept = spares();
    {
        const std::lock_guard guard(kept.mutex);
        slot_array* smallest = &kept.arrays[0];
        for (slot_array& candidate : kept.arrays) {
            if (candidate.capacity < smallest->capacity) {
                smallest = &candidate;
            }
        }
        if (smallest->capacity < array.capacity) {
            std::swap(*smallest, array);
        }
    }
    // `array` is now what the kept ones leave out (empty, or the smallest), freed unlocked.
}

// Doubles the array, with the lock released while it finds one (the lock guards a few
// instructions, never an allocation), until a slot is free: another thread may grow the array
// or free a slot meanwhile. The array replaced is freed, not kept: a runtime keeps only its
// largest for the next, or a burst's peak memory would hold every smaller one too.
std::uint32_t task_registry::shard::take_slot_growing() {
    while (free_head == no_slot && used == array.capacity) {
        if (array.capacity == largest_capacity) {
            lock.unlock();
            throw std::bad_alloc();
        }
        const std::uint32_t wanted = array.capacity == 0 ? first_capacity : array.capacity * 2;
        lock.unlock();
        slot_array fresh = take_spare_slots(wanted);
        if (fresh.capacity == 0) {
            // Not zeroed: slots beyond `used` are never read.
            fresh.slots = std::make_unique_for_overwrite<std::uintptr_t[]>(wanted);
            fresh.capacity = wanted;
        }
        lock.lock();
        if (array.capacity < fresh.capacity) {
            if (used != 0) {
                std::memcpy(fresh.slots.get(), array.slots.get(), used * sizeof(std::uintptr_t));
            }
            std::swap(array, fresh);
        }
        // `fresh` is now the array nobody needs: freed unlocked.
        lock.unlock();
        fresh.slots.reset();
        lock.lock();
    }
    return free_head != no_slot ? take_free_slot() : used++;
}

} // namespace weft::detail
