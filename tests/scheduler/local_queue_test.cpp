// Tests weft::detail::local_queue (runtime/scheduler/local_queue.hpp): FIFO order for the owner,
// overflow of the older half to the injector, steal_into's half-rounded-up claim and its refusal to
// fill a thief's queue past half, and a race of one owner and three thieves in which every
// item, including those that overflowed, is taken exactly once; and the queue of a runtime of
// one worker, which has no thieves, pops without a CAS, grows, and leaves its grown ring to the
// next such queue.
#include "scheduler/local_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fake_handles.hpp"
#include "scheduler/injector.hpp"

namespace {

using weft::detail::injector;
using weft::detail::local_queue;
using weft::testing::fake_handle;
using weft::testing::forget_kept_ring;
using weft::testing::range;
using weft::testing::value_of;

constexpr std::uint32_t capacity = local_queue::capacity;

void push_range(local_queue& queue, injector& overflow, std::uint32_t first, std::uint32_t last) {
    for (std::uint32_t value = first; value <= last; ++value) {
        queue.push(fake_handle(value), overflow);
    }
}

// Pops the owner's queue until it is empty.
std::vector<std::uint32_t> drain(local_queue& queue) {
    std::vector<std::uint32_t> values;
    while (std::coroutine_handle<> handle = queue.pop()) {
        values.push_back(value_of(handle));
    }
    return values;
}

std::vector<std::uint32_t> drain(injector& queue) {
    std::vector<std::uint32_t> values;
    std::coroutine_handle<> batch[64];
    while (std::size_t count = queue.pop_batch(batch, 64)) {
        for (std::size_t i = 0; i < count; ++i) {
            values.push_back(value_of(batch[i]));
        }
    }
    return values;
}

TEST(LocalQueue, NewQueueIsEmpty) {
    local_queue queue;
    EXPECT_TRUE(queue.empty());
    EXPECT_FALSE(queue.pop());
}

TEST(LocalQueue, OwnerPopsInPushOrder) {
    local_queue queue;
    injector overflow;
    push_range(queue, overflow, 1, 100);

    EXPECT_FALSE(queue.empty());
    EXPECT_EQ(drain(queue), range(1, 100));
    EXPECT_TRUE(queue.empty());
    EXPECT_TRUE(overflow.empty());
}

TEST(LocalQueue, FifoOrderHoldsWhileTheIndexesWrapTheRingManyTimes) {
    local_queue queue;
    injector overflow;
    std::vector<std::uint32_t> popped;
    std::uint32_t next = 1;
    for (int i = 0; i < 100; ++i) {
        queue.push(fake_handle(next++), overflow);
    }
    for (int cycle = 0; cycle < 40; ++cycle) {
        for (int i = 0; i < 150; ++i) {
            queue.push(fake_handle(next++), overflow);
        }
        for (int i = 0; i < 150; ++i) {
            popped.push_back(value_of(queue.pop()));
        }
    }
    for (std::uint32_t value : drain(queue)) {
        popped.push_back(value);
    }

    EXPECT_EQ(popped, range(1, next - 1));
    EXPECT_TRUE(overflow.empty());
}

// A runtime of one worker has no thieves, and its queue pops without a CAS: the same order,
// through wraps of the ring and an overflow to the injector.
TEST(LocalQueue, WithoutThievesTheOwnerPopsInOrderThroughWraps) {
    local_queue queue(false);
    injector overflow;
    EXPECT_TRUE(queue.empty());
    std::vector<std::uint32_t> popped;
    std::uint32_t next = 1;
    for (int cycle = 0; cycle < 40; ++cycle) {
        for (int i = 0; i < 150; ++i) {
            queue.push(fake_handle(next++), overflow);
        }
        for (int i = 0; i < 150; ++i) {
            popped.push_back(value_of(queue.pop()));
        }
    }
    EXPECT_TRUE(queue.empty());
    EXPECT_FALSE(queue.pop());
    EXPECT_EQ(popped, range(1, next - 1));
    EXPECT_TRUE(overflow.empty());
}

// Without thieves a full ring doubles instead of spilling into the injector, whatever
// position its items have wrapped to, and keeps their order through several doublings and
// the pops between them.
TEST(LocalQueue, WithoutThievesAFullRingGrowsAndKeepsItsOrder) {
    local_queue queue(false);
    injector overflow;
    // Moves the head past the middle of the ring, so the first doubling finds it wrapped.
    push_range(queue, overflow, 1, 200);
    EXPECT_EQ(drain(queue), range(1, 200));
    EXPECT_EQ(queue.room(), capacity);

    const std::uint32_t burst = 8 * capacity + 3;
    push_range(queue, overflow, 1, burst / 2);
    std::vector<std::uint32_t> popped;
    for (int i = 0; i < 100; ++i) {
        popped.push_back(value_of(queue.pop()));
    }
    push_range(queue, overflow, burst / 2 + 1, burst);
    for (std::uint32_t value : drain(queue)) {
        popped.push_back(value);
    }
    EXPECT_EQ(popped, range(1, burst));
    EXPECT_TRUE(overflow.empty());
    EXPECT_TRUE(queue.empty());
    // The grown ring stays, room for as many as were queued at once.
    EXPECT_GE(queue.room(), burst - 100);
}

// Grows a queue without thieves to `size` slots with a burst, empties it and destroys it.
void grow_and_destroy_a_queue(std::uint32_t size) {
    local_queue queue(false);
    injector overflow;
    push_range(queue, overflow, 1, size);
    EXPECT_EQ(drain(queue), range(1, size));
}

// The next queue without thieves grows into the ring a destroyed one left, at its first
// growth, if it needs at least an eighth of it; the items keep their order, and a slot the
// earlier queue left written is never read as an item.
TEST(LocalQueue, WithoutThievesAQueueGrowsIntoTheRingADestroyedOneLeft) {
    forget_kept_ring();
    grow_and_destroy_a_queue(4 * capacity);

    local_queue queue(false);
    injector overflow;
    push_range(queue, overflow, 1, capacity + 1);
    EXPECT_EQ(queue.room(), 4 * capacity - (capacity + 1)); // not 2 * capacity: the kept ring
    push_range(queue, overflow, capacity + 2, 3 * capacity);
    EXPECT_EQ(drain(queue), range(1, 3 * capacity));
    EXPECT_TRUE(overflow.empty());
}

TEST(LocalQueue, WithoutThievesAQueueLeavesAKeptRingMoreThanEightTimesItsNeedAlone) {
    forget_kept_ring();
    grow_and_destroy_a_queue(32 * capacity);

    local_queue queue(false);
    injector overflow;
    push_range(queue, overflow, 1, capacity + 1);
    EXPECT_EQ(queue.room(), 2 * capacity - (capacity + 1));
    EXPECT_EQ(drain(queue), range(1, capacity + 1));
    // Still kept for a queue that needs more.
    EXPECT_EQ(weft::detail::take_kept_ring(4 * capacity).size, 32 * capacity);
}

TEST(LocalQueue, FullQueueHoldsCapacityItemsWithoutOverflowing) {
    local_queue queue;
    injector overflow;
    push_range(queue, overflow, 1, capacity);

    EXPECT_TRUE(overflow.empty());
    EXPECT_EQ(drain(queue), range(1, capacity));
}

TEST(LocalQueue, PushOntoFullQueueMovesOlderHalfAndTheNewItemToTheInjector) {
    local_queue queue;
    injector overflow;
    push_range(queue, overflow, 1, capacity + 1);

    std::vector<std::uint32_t> expected_overflow = range(1, capacity / 2);
    expected_overflow.push_back(capacity + 1);
    EXPECT_EQ(drain(overflow), expected_overflow);
    EXPECT_EQ(drain(queue), range(capacity / 2 + 1, capacity));
}

TEST(LocalQueue, RepeatedOverflowKeepsEveryItemExactlyOnceAndInOrderPerPlace) {
    local_queue queue;
    injector overflow;
    constexpr std::uint32_t total = 5 * capacity + 17;
    push_range(queue, overflow, 1, total);

    const std::vector<std::uint32_t> in_queue = drain(queue);
    const std::vector<std::uint32_t> in_injector = drain(overflow);
    std::vector<int> seen(total + 1, 0);
    for (std::uint32_t value : in_queue) {
        ++seen[value];
    }
    for (std::uint32_t value : in_injector) {
        ++seen[value];
    }
    for (std::uint32_t value = 1; value <= total; ++value) {
        EXPECT_EQ(seen[value], 1) << "item " << value;
    }
    for (std::size_t i = 1; i < in_queue.size(); ++i) {
        EXPECT_LT(in_queue[i - 1], in_queue[i]);
    }
    EXPECT_LE(in_queue.size(), capacity);
}

TEST(LocalQueue, StealTakesHalfRoundedUpReturnsOneAndQueuesTheRestForTheThief) {
    for (std::uint32_t size : {1u, 2u, 5u, 8u, 255u, capacity}) {
        SCOPED_TRACE(size);
        local_queue victim;
        local_queue thief;
        injector overflow;
        push_range(victim, overflow, 1, size);
        const std::uint32_t expected_count = size - size / 2;
        std::uint64_t stolen = 0;

        const std::coroutine_handle<> run_now = victim.steal_into(thief, stolen);

        ASSERT_TRUE(run_now);
        EXPECT_EQ(stolen, expected_count);
        std::vector<std::uint32_t> thief_items = drain(thief);
        EXPECT_EQ(thief_items.size(), expected_count - 1);
        thief_items.push_back(value_of(run_now));
        std::sort(thief_items.begin(), thief_items.end());
        EXPECT_EQ(thief_items, range(1, expected_count));
        EXPECT_EQ(drain(victim), range(expected_count + 1, size));
        EXPECT_TRUE(overflow.empty());
    }
}

TEST(LocalQueue, StolenItemsKeepTheirOrderInTheThiefsQueue) {
    local_queue victim;
    local_queue thief;
    injector overflow;
    push_range(victim, overflow, 1, 20);
    std::uint64_t stolen = 0;

    const std::coroutine_handle<> run_now = victim.steal_into(thief, stolen);

    ASSERT_TRUE(run_now);
    std::vector<std::uint32_t> thief_items = drain(thief);
    for (std::size_t i = 1; i < thief_items.size(); ++i) {
        EXPECT_LT(thief_items[i - 1], thief_items[i]);
    }
}

TEST(LocalQueue, StealAppendsAfterTheThiefsOwnItems) {
    local_queue victim;
    local_queue thief;
    injector overflow;
    push_range(victim, overflow, 1, 10);
    push_range(thief, overflow, 1001, 1010);
    std::uint64_t stolen = 0;

    const std::coroutine_handle<> run_now = victim.steal_into(thief, stolen);

    ASSERT_TRUE(run_now);
    EXPECT_EQ(stolen, 5u);
    const std::vector<std::uint32_t> thief_items = drain(thief);
    ASSERT_EQ(thief_items.size(), 14u);
    EXPECT_EQ(std::vector<std::uint32_t>(thief_items.begin(), thief_items.begin() + 10),
              range(1001, 1010));
}

TEST(LocalQueue, StealAddsToTheStolenCount) {
    local_queue victim;
    local_queue thief;
    injector overflow;
    push_range(victim, overflow, 1, 7);
    std::uint64_t stolen = 10;

    ASSERT_TRUE(victim.steal_into(thief, stolen));

    EXPECT_EQ(stolen, 14u);
}

TEST(LocalQueue, StealFromAnEmptyQueueReturnsNullAndCountsNothing) {
    local_queue victim;
    local_queue thief;
    std::uint64_t stolen = 0;

    EXPECT_FALSE(victim.steal_into(thief, stolen));

    EXPECT_EQ(stolen, 0u);
    EXPECT_TRUE(thief.empty());
}

TEST(LocalQueue, StealFromAQueueWhoseItemsWerePoppedReturnsNull) {
    local_queue victim;
    local_queue thief;
    injector overflow;
    push_range(victim, overflow, 1, 3);
    drain(victim);
    std::uint64_t stolen = 0;

    EXPECT_FALSE(victim.steal_into(thief, stolen));
    EXPECT_EQ(stolen, 0u);
}

TEST(LocalQueue, ThiefDoesNotStealIntoAQueueMoreThanHalfFull) {
    local_queue victim;
    local_queue thief;
    injector overflow;
    push_range(victim, overflow, 1, 10);
    push_range(thief, overflow, 1001, 1000 + capacity / 2 + 1);
    std::uint64_t stolen = 0;

    EXPECT_FALSE(victim.steal_into(thief, stolen));

    EXPECT_EQ(stolen, 0u);
    EXPECT_EQ(drain(victim), range(1, 10));
    EXPECT_EQ(drain(thief), range(1001, 1000 + capacity / 2 + 1));
}

TEST(LocalQueue, ThiefStealsIntoAQueueExactlyHalfFull) {
    local_queue victim;
    local_queue thief;
    injector overflow;
    push_range(victim, overflow, 1, capacity);
    push_range(thief, overflow, 1001, 1000 + capacity / 2);
    std::uint64_t stolen = 0;

    ASSERT_TRUE(victim.steal_into(thief, stolen));

    EXPECT_EQ(stolen, capacity / 2);
    EXPECT_EQ(drain(thief).size(), capacity - 1);
    EXPECT_TRUE(overflow.empty());
}

TEST(LocalQueue, StealWorksAfterTheVictimsIndexesHaveWrapped) {
    local_queue victim;
    local_queue thief;
    injector overflow;
    for (std::uint32_t value = 1; value <= 3 * capacity + 100; ++value) {
        victim.push(fake_handle(value), overflow);
        ASSERT_EQ(value_of(victim.pop()), value);
    }
    push_range(victim, overflow, 5001, 5010);
    std::uint64_t stolen = 0;

    const std::coroutine_handle<> run_now = victim.steal_into(thief, stolen);

    ASSERT_TRUE(run_now);
    std::vector<std::uint32_t> taken = drain(thief);
    taken.push_back(value_of(run_now));
    std::sort(taken.begin(), taken.end());
    EXPECT_EQ(taken, range(5001, 5005));
    EXPECT_EQ(drain(victim), range(5006, 5010));
}

TEST(LocalQueue, EmptyTurnsFalseOnPushAndTrueWhenTheLastItemLeaves) {
    local_queue victim;
    local_queue thief;
    injector overflow;
    victim.push(fake_handle(1), overflow);
    EXPECT_FALSE(victim.empty());
    std::uint64_t stolen = 0;

    ASSERT_TRUE(victim.steal_into(thief, stolen));

    EXPECT_TRUE(victim.empty());
    EXPECT_TRUE(thief.empty());
}

TEST(LocalQueue, ClearForgetsEveryItem) {
    local_queue queue;
    injector overflow;
    push_range(queue, overflow, 1, 50);

    queue.clear();

    EXPECT_TRUE(queue.empty());
    EXPECT_FALSE(queue.pop());
    queue.push(fake_handle(77), overflow);
    EXPECT_EQ(drain(queue), (std::vector<std::uint32_t>{77}));
}

// One owner pushes `items` distinct items, in bursts that outrun the thieves so some overflow
// to the injector, and pops some itself. Three thieves steal from the owner and from each
// other into their own queues, pop those, and drain the injector. Every item must be taken
// exactly once. The deadline only turns a lost item into a failure instead of a hang.
TEST(LocalQueueStress, OwnerAndThreeThievesTakeEveryItemExactlyOnce) {
    constexpr std::uint32_t items = 200'000;
    constexpr int thieves = 3;

    local_queue owner_queue;
    injector overflow;
    std::vector<local_queue> thief_queues(thieves);
    std::vector<std::atomic<std::uint8_t>> taken(items + 1);
    std::atomic<std::uint32_t> taken_total{0};
    std::atomic<bool> give_up{false};
    std::atomic<std::uint64_t> from_injector{0};
    std::atomic<std::uint64_t> stolen_total{0};

    auto take = [&](std::coroutine_handle<> handle) {
        const std::uint32_t value = value_of(handle);
        if (value == 0 || value > items) {
            ADD_FAILURE() << "a handle that was never pushed: " << value;
            return;
        }
        taken[value].fetch_add(1, std::memory_order_relaxed);
        taken_total.fetch_add(1, std::memory_order_relaxed);
    };
    auto finished = [&] {
        return taken_total.load(std::memory_order_relaxed) >= items || give_up.load();
    };

    auto thief = [&](int self) {
        std::minstd_rand random(static_cast<unsigned>(self) + 7);
        local_queue& mine = thief_queues[static_cast<std::size_t>(self)];
        std::uint64_t stolen = 0;
        std::coroutine_handle<> batch[16];
        while (!finished()) {
            bool found_work = false;
            for (unsigned pops = random() % 8 + 1; pops > 0; --pops) {
                if (std::coroutine_handle<> handle = mine.pop()) {
                    take(handle);
                    found_work = true;
                } else {
                    break;
                }
            }
            const unsigned pick = random() % 8;
            local_queue& victim =
                pick < 6 ? owner_queue
                         : thief_queues[(static_cast<std::size_t>(self) + pick - 5) % thieves];
            if (std::coroutine_handle<> handle = victim.steal_into(mine, stolen)) {
                take(handle);
                found_work = true;
            }
            if (random() % 4 == 0) {
                const std::size_t count = overflow.pop_batch(batch, 16);
                from_injector.fetch_add(count, std::memory_order_relaxed);
                for (std::size_t i = 0; i < count; ++i) {
                    take(batch[i]);
                }
                found_work = found_work || count > 0;
            }
            if (!found_work) {
                std::this_thread::yield(); // leaves the core to the owner on a small machine
            }
        }
        stolen_total.fetch_add(stolen, std::memory_order_relaxed);
    };
    std::vector<std::thread> threads;
    for (int self = 0; self < thieves; ++self) {
        threads.emplace_back(thief, self);
    }

    std::minstd_rand random(1);
    std::uint32_t next = 1;
    while (next <= items) {
        const std::uint32_t burst = random() % 256 == 0 ? 300 : random() % 4 + 1;
        for (std::uint32_t i = 0; i < burst && next <= items; ++i) {
            owner_queue.push(fake_handle(next++), overflow);
        }
        for (unsigned pops = random() % 4; pops > 0; --pops) {
            if (std::coroutine_handle<> handle = owner_queue.pop()) {
                take(handle);
            }
        }
        if (random() % 32 == 0) {
            std::this_thread::yield(); // lets the thieves run on a machine with few cores
        }
    }
    while (std::coroutine_handle<> handle = owner_queue.pop()) {
        take(handle);
    }

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (taken_total.load() < items && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
    give_up.store(true);
    for (std::thread& thread : threads) {
        thread.join();
    }

    EXPECT_EQ(taken_total.load(), items);
    int reported = 0;
    for (std::uint32_t value = 1; value <= items; ++value) {
        const int count = taken[value].load();
        if (count != 1 && ++reported <= 10) {
            ADD_FAILURE() << "item " << value << " was taken " << count << " times";
        }
    }
    EXPECT_EQ(reported, 0) << "items not taken exactly once";
    EXPECT_TRUE(owner_queue.empty());
    EXPECT_TRUE(overflow.empty());
    for (const local_queue& queue : thief_queues) {
        EXPECT_TRUE(queue.empty());
    }
    RecordProperty("items_through_injector", std::to_string(from_injector.load()));
    RecordProperty("items_stolen", std::to_string(stolen_total.load()));
}

} // namespace
