// Tests weft::detail::injector (runtime/scheduler/injector.hpp): FIFO order across push and
// push_batch, pop_batch's limit and its answer on an empty queue, order kept across the
// blocks the handles are stored in (batches that straddle them, pops that empty and reuse
// them), close() dropping what is queued and every later push, and a race of four producers
// and one consumer in which every item arrives exactly once and each producer's items
// arrive in the order it pushed them.
#include "scheduler/injector.hpp"

#include <gtest/gtest.h>

#include <array>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "fake_handles.hpp"

namespace {

using weft::detail::injector;
using weft::testing::fake_handle;
using weft::testing::range;
using weft::testing::value_of;

// Pops batches of at most `batch` until the queue is empty.
std::vector<std::uint32_t> drain(injector& queue, std::size_t batch) {
    std::vector<std::uint32_t> values;
    std::vector<std::coroutine_handle<>> out(batch);
    while (const std::size_t count = queue.pop_batch(out.data(), batch)) {
        EXPECT_LE(count, batch);
        for (std::size_t i = 0; i < count; ++i) {
            values.push_back(value_of(out[i]));
        }
    }
    return values;
}

TEST(Injector, StartsEmpty) {
    injector queue;
    std::coroutine_handle<> out;
    EXPECT_TRUE(queue.empty());
    EXPECT_EQ(queue.pop_batch(&out, 1), 0u);
}

TEST(Injector, PopsInTheOrderPushedAcrossPushAndPushBatch) {
    injector queue;
    for (std::uint32_t value = 1; value <= 10; ++value) {
        queue.push(fake_handle(value));
    }
    std::vector<std::coroutine_handle<>> batch;
    for (std::uint32_t value = 11; value <= 25; ++value) {
        batch.push_back(fake_handle(value));
    }
    queue.push_batch(batch.data(), batch.size());
    queue.push(fake_handle(26));
    EXPECT_FALSE(queue.empty());
    EXPECT_EQ(drain(queue, 4), range(1, 26));
    EXPECT_TRUE(queue.empty());
}

TEST(Injector, PopBatchTakesAtMostMaxAndLeavesTheRest) {
    injector queue;
    for (std::uint32_t value = 1; value <= 5; ++value) {
        queue.push(fake_handle(value));
    }
    std::array<std::coroutine_handle<>, 8> out{};
    ASSERT_EQ(queue.pop_batch(out.data(), 3), 3u);
    EXPECT_EQ(value_of(out[0]), 1u);
    EXPECT_EQ(value_of(out[2]), 3u);
    EXPECT_FALSE(queue.empty());
    // Asking for more than is queued takes what there is.
    ASSERT_EQ(queue.pop_batch(out.data(), out.size()), 2u);
    EXPECT_EQ(value_of(out[0]), 4u);
    EXPECT_EQ(value_of(out[1]), 5u);
    EXPECT_TRUE(queue.empty());
    EXPECT_EQ(queue.pop_batch(out.data(), out.size()), 0u);
}

// Batches the size of a full local queue's overflow (129) and of a worker's take (128), odd
// sizes besides, across many blocks: pushes and pops interleave, so emptied blocks are
// reused while others are still queued.
TEST(Injector, KeepsOrderAcrossBlocksAndTheirReuse) {
    injector queue;
    std::uint32_t next_pushed = 1;
    const auto push_run = [&](std::uint32_t count) {
        std::vector<std::coroutine_handle<>> batch;
        for (std::uint32_t i = 0; i < count; ++i) {
            batch.push_back(fake_handle(next_pushed++));
        }
        queue.push_batch(batch.data(), batch.size());
    };
    std::vector<std::uint32_t> popped;
    const auto pop_run = [&](std::size_t max) {
        std::vector<std::coroutine_handle<>> out(max);
        const std::size_t count = queue.pop_batch(out.data(), max);
        for (std::size_t i = 0; i < count; ++i) {
            popped.push_back(value_of(out[i]));
        }
        return count;
    };
    for (int round = 0; round < 20; ++round) {
        push_run(129);
        push_run(129);
        push_run(7);
        queue.push(fake_handle(next_pushed++));
        EXPECT_EQ(pop_run(128), 128u);
        EXPECT_EQ(pop_run(3), 3u);
    }
    // 20 rounds queue 5,320 and take 2,620: the rest spans several blocks.
    EXPECT_EQ(popped, range(1, 2'620));
    while (pop_run(200) != 0) {
    }
    EXPECT_EQ(popped, range(1, next_pushed - 1));
    EXPECT_TRUE(queue.empty());
    // A queue emptied this way takes more and gives it back in order.
    push_run(600);
    while (pop_run(128) != 0) {
    }
    EXPECT_EQ(popped, range(1, next_pushed - 1));
    // Left queued: the destructor frees these blocks (AddressSanitizer's leak check).
    push_run(300);
    EXPECT_FALSE(queue.empty());
}

TEST(Injector, CloseDropsWhatIsQueuedAndEveryLaterPush) {
    injector queue;
    for (std::uint32_t value = 1; value <= 3; ++value) {
        queue.push(fake_handle(value));
    }
    // Enough to fill several blocks, which close() frees (AddressSanitizer's leak check).
    std::vector<std::coroutine_handle<>> many;
    for (std::uint32_t value = 4; value <= 1'000; ++value) {
        many.push_back(fake_handle(value));
    }
    queue.push_batch(many.data(), many.size());
    queue.close();
    EXPECT_TRUE(queue.empty());
    queue.push(fake_handle(4));
    const std::array<std::coroutine_handle<>, 2> late{fake_handle(5), fake_handle(6)};
    queue.push_batch(late.data(), late.size());
    EXPECT_TRUE(queue.empty());
    EXPECT_TRUE(drain(queue, 4).empty());
}

// Producer p pushes the values p * per_producer + 1 ... (p + 1) * per_producer, alternating
// single pushes and batches of three; the consumer pops batches of five until it has them
// all. Each value must arrive once, and each producer's in increasing order.
TEST(Injector, RaceOfManyProducersAndOneConsumerLosesAndReordersNothing) {
    constexpr std::uint32_t producers = 4;
    constexpr std::uint32_t per_producer = 10'000; // a multiple of 4: one push, one batch of 3
    injector queue;
    std::vector<std::thread> threads;
    for (std::uint32_t p = 0; p < producers; ++p) {
        threads.emplace_back([&queue, p] {
            const std::uint32_t first = p * per_producer + 1;
            for (std::uint32_t value = first; value < first + per_producer; value += 4) {
                queue.push(fake_handle(value));
                const std::array<std::coroutine_handle<>, 3> batch{
                    fake_handle(value + 1), fake_handle(value + 2), fake_handle(value + 3)};
                queue.push_batch(batch.data(), batch.size());
            }
        });
    }
    std::vector<std::uint32_t> last_seen(producers, 0);
    std::vector<bool> seen(producers * per_producer + 1, false);
    std::size_t received = 0;
    std::size_t out_of_order = 0;
    std::size_t duplicates = 0;
    std::array<std::coroutine_handle<>, 5> out{};
    while (received < producers * per_producer) {
        const std::size_t count = queue.pop_batch(out.data(), out.size());
        if (count == 0) {
            std::this_thread::yield();
            continue;
        }
        for (std::size_t i = 0; i < count; ++i) {
            const std::uint32_t value = value_of(out[i]);
            ASSERT_GE(value, 1u);
            ASSERT_LE(value, producers * per_producer);
            const std::uint32_t producer = (value - 1) / per_producer;
            out_of_order += value <= last_seen[producer] ? 1 : 0;
            last_seen[producer] = value;
            duplicates += seen[value] ? 1 : 0;
            seen[value] = true;
            ++received;
        }
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(out_of_order, 0u);
    EXPECT_EQ(duplicates, 0u);
    EXPECT_TRUE(queue.empty());
    for (std::uint32_t p = 0; p < producers; ++p) {
        EXPECT_EQ(last_seen[p], (p + 1) * per_producer);
    }
}

} // namespace
