// Tests weft::detail::task_registry (runtime/scheduler/task_registry.hpp): what for_each,
// size and empty report as tasks come and go, across shards and across the growth of a
// shard's array; the reuse of a freed slot, and the fresh start of a shard that empties;
// drain handing every pending task over once; the store of arrays that outlive their
// registry, which keeps the largest few; and tasks added on one thread while another
// removes them, each visited or not but never lost.
#include "scheduler/task_registry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <thread>
#include <utility>
#include <vector>

namespace {

using weft::detail::frame_header;
using weft::detail::keep_spare_slots;
using weft::detail::slot_array;
using weft::detail::take_spare_slots;
using weft::detail::task_registry;

// Headers to register; the registry reads and writes only their registry fields.
std::unique_ptr<frame_header[]> make_headers(std::size_t count) {
    return std::make_unique<frame_header[]>(count);
}

std::set<frame_header*> visited(task_registry& registry) {
    std::set<frame_header*> seen;
    registry.for_each([&](frame_header* header) { EXPECT_TRUE(seen.insert(header).second); });
    return seen;
}

TEST(TaskRegistry, StartsEmpty) {
    task_registry registry(2);
    EXPECT_TRUE(registry.empty());
    EXPECT_EQ(registry.size(), 0U);
    EXPECT_TRUE(visited(registry).empty());
}

// 3000 tasks outgrow a shard's first array (256 slots) several times; every one is still
// found, whichever order they leave in.
TEST(TaskRegistry, ListsEveryPendingTaskAcrossShardsAndGrowth) {
    constexpr std::size_t count = 3000;
    auto headers = make_headers(count);
    task_registry registry(3);
    std::set<frame_header*> expected;
    for (std::size_t i = 0; i < count; ++i) {
        registry.add(&headers[i], i % 3);
        expected.insert(&headers[i]);
    }
    EXPECT_EQ(registry.size(), count);
    EXPECT_FALSE(registry.empty());
    EXPECT_EQ(visited(registry), expected);

    // Every third task leaves, in a scattered order.
    for (std::size_t i = 0; i < count; i += 3) {
        const std::size_t index = (i * 7919) % count;
        if (expected.erase(&headers[index]) == 1) {
            registry.remove(&headers[index]);
        }
    }
    EXPECT_EQ(registry.size(), expected.size());
    EXPECT_EQ(visited(registry), expected);

    for (frame_header* header : expected) {
        registry.remove(header);
    }
    EXPECT_TRUE(registry.empty());
    EXPECT_EQ(registry.size(), 0U);
    EXPECT_TRUE(visited(registry).empty());
}

TEST(TaskRegistry, ATaskJoinsTheShardItIsAddedTo) {
    auto headers = make_headers(2);
    task_registry registry(4);
    registry.add(&headers[0], 3);
    registry.add(&headers[1], 1);
    EXPECT_EQ(headers[0].registry_shard, 3U);
    EXPECT_EQ(headers[1].registry_shard, 1U);
    registry.remove(&headers[0]);
    EXPECT_EQ(visited(registry), std::set<frame_header*>{&headers[1]});
    registry.remove(&headers[1]);
    EXPECT_TRUE(registry.empty());
}

// The slot a task frees is the next one taken, so a steady churn never grows the array.
TEST(TaskRegistry, AFreedSlotIsTakenNext) {
    auto headers = make_headers(4);
    task_registry registry(1);
    registry.add(&headers[0], 0);
    registry.add(&headers[1], 0);
    registry.add(&headers[2], 0);
    EXPECT_EQ(headers[0].registry_slot, 0U);
    EXPECT_EQ(headers[1].registry_slot, 1U);
    EXPECT_EQ(headers[2].registry_slot, 2U);
    registry.remove(&headers[1]);
    registry.add(&headers[3], 0);
    EXPECT_EQ(headers[3].registry_slot, 1U);
    EXPECT_EQ(visited(registry), (std::set<frame_header*>{&headers[0], &headers[2], &headers[3]}));
    registry.remove(&headers[0]);
    registry.remove(&headers[2]);
    registry.remove(&headers[3]);
}

// A shard whose last task leaves starts again at slot 0, whatever its free list held.
TEST(TaskRegistry, AShardThatEmptiesStartsAfresh) {
    auto headers = make_headers(600);
    task_registry registry(1);
    for (std::size_t i = 0; i < 600; ++i) {
        registry.add(&headers[i], 0);
    }
    for (std::size_t i = 0; i < 600; ++i) {
        registry.remove(&headers[(i * 7) % 600]);
    }
    EXPECT_TRUE(registry.empty());
    registry.add(&headers[5], 0);
    EXPECT_EQ(headers[5].registry_slot, 0U);
    EXPECT_EQ(visited(registry), std::set<frame_header*>{&headers[5]});
    registry.remove(&headers[5]);
}

TEST(TaskRegistry, DrainHandsOverEveryPendingTaskOnceAndLeavesItEmpty) {
    constexpr std::size_t count = 700;
    auto headers = make_headers(count);
    task_registry registry(2);
    std::set<frame_header*> expected;
    for (std::size_t i = 0; i < count; ++i) {
        registry.add(&headers[i], i % 2);
        expected.insert(&headers[i]);
    }
    for (std::size_t i = 0; i < count; i += 5) {
        registry.remove(&headers[i]);
        expected.erase(&headers[i]);
    }
    std::set<frame_header*> drained;
    registry.drain([&](frame_header* header) { EXPECT_TRUE(drained.insert(header).second); });
    EXPECT_EQ(drained, expected);
    EXPECT_TRUE(registry.empty());
}

slot_array array_of(std::uint32_t capacity) {
    return {std::make_unique<std::uintptr_t[]>(capacity), capacity};
}

// The store keeps the largest arrays it is given (eight) and hands out the largest that is
// big enough. Other registries in this process may use it too, so the test empties it first
// and takes back only what it can tell apart.
TEST(TaskRegistry, TheSpareStoreKeepsTheLargestArrays) {
    while (take_spare_slots(0).capacity != 0) {
    }
    for (std::uint32_t capacity = 256; capacity <= (256U << 9); capacity *= 2) {
        keep_spare_slots(array_of(capacity)); // ten arrays, 256 to 131072 slots
    }
    EXPECT_EQ(take_spare_slots(1U << 20).capacity, 0U) << "none is that large";
    EXPECT_EQ(take_spare_slots(1000).capacity, 256U << 9) << "the largest first";
    std::vector<std::uint32_t> kept;
    while (true) {
        const slot_array taken = take_spare_slots(0);
        if (taken.capacity == 0) {
            break;
        }
        kept.push_back(taken.capacity);
    }
    // The two smallest (256, 512) were left out; the largest was taken above.
    EXPECT_EQ(kept, (std::vector<std::uint32_t>{256U << 8, 256U << 7, 256U << 6, 256U << 5,
                                                256U << 4, 256U << 3, 256U << 2}));
}

// A registry that ends gives its grown array to the store, and the next one's shard starts
// with it: 5000 tasks need no growth there.
TEST(TaskRegistry, ANewRegistryTakesTheArrayAnEndedOneGrew) {
    while (take_spare_slots(0).capacity != 0) {
    }
    constexpr std::size_t count = 5000;
    auto headers = make_headers(count);
    {
        task_registry first(1);
        for (std::size_t i = 0; i < count; ++i) {
            first.add(&headers[i], 0);
        }
        for (std::size_t i = 0; i < count; ++i) {
            first.remove(&headers[i]);
        }
    }
    const slot_array spare = take_spare_slots(count);
    ASSERT_GE(spare.capacity, count);
    keep_spare_slots(array_of(spare.capacity));
}

// One thread adds tasks while another removes those already added, and a third lists them:
// nothing is lost or listed twice (ThreadSanitizer checks the locking).
TEST(TaskRegistryStress, AddsAndRemovesOnDifferentThreads) {
    constexpr std::size_t count = 20000;
    auto headers = make_headers(count);
    task_registry registry(2);
    std::atomic<std::size_t> added{0};
    std::atomic<bool> done{false};
    std::thread adder([&] {
        for (std::size_t i = 0; i < count; ++i) {
            registry.add(&headers[i], i % 2);
            // release: the remover reads the header only after this count covers it.
            added.store(i + 1, std::memory_order_release);
        }
    });
    std::thread lister([&] {
        while (!done.load(std::memory_order_acquire)) {
            const std::set<frame_header*> seen = visited(registry);
            EXPECT_LE(seen.size(), count);
        }
    });
    std::size_t removed = 0;
    while (removed < count) {
        // acquire: pairs with the adder's release.
        const std::size_t ready = added.load(std::memory_order_acquire);
        for (; removed < ready; ++removed) {
            registry.remove(&headers[removed]);
        }
    }
    adder.join();
    done.store(true, std::memory_order_release);
    lister.join();
    EXPECT_TRUE(registry.empty());
}

} // namespace
