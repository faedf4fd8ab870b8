// Tests weft::queue, priority_queue and lifo_queue (include/weft/queue.hpp,
// include/weft/detail/queue_state.hpp, queue_awaiters.hpp, queue_order.hpp, queue_join.hpp,
// runtime/sync/queue_join.cpp): order of items, a bound that suspends putters, getters served
// first in, first out, the never-suspending forms, task_done/join, shutdown, cancelled
// waiters that lose and take nothing, and a million items and many cancellations through
// bounded queues on two workers, none lost or duplicated and every producer's order kept.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::one_virtual_worker;

// Task bodies for the getters and putters the tests line up: one get, one put.
template <class Queue>
weft::coro<int> get_one(Queue& items) {
    co_return co_await items.get();
}

template <class Queue>
weft::coro<> put_one(Queue& items, int item) {
    co_await items.put(item);
}

template <class Queue>
std::vector<int> drain(Queue& items) {
    std::vector<int> out;
    while (std::optional<int> next = items.try_get()) {
        out.push_back(*next);
    }
    return out;
}

TEST(Queue, ItemsComeOutInTheirQueuesOrder) {
    weft::queue<int> fifo;
    weft::lifo_queue<int> lifo;
    weft::priority_queue<int> least_first;
    weft::priority_queue<int, std::greater<int>> greatest_first;
    for (int each : {5, 1, 4, 2, 3}) {
        EXPECT_TRUE(fifo.try_put(each));
        EXPECT_TRUE(lifo.try_put(each));
        EXPECT_TRUE(least_first.try_put(each));
        EXPECT_TRUE(greatest_first.try_put(each));
    }
    EXPECT_EQ(fifo.size(), 5u);
    EXPECT_EQ(drain(fifo), (std::vector<int>{5, 1, 4, 2, 3}));
    EXPECT_EQ(drain(lifo), (std::vector<int>{3, 2, 4, 1, 5}));
    EXPECT_EQ(drain(least_first), (std::vector<int>{1, 2, 3, 4, 5}));
    EXPECT_EQ(drain(greatest_first), (std::vector<int>{5, 4, 3, 2, 1}));
    EXPECT_TRUE(fifo.empty());
    EXPECT_FALSE(fifo.try_get().has_value());
}

TEST(Queue, TheRingKeepsOrderAcrossWrapsAndGrowth) {
    weft::queue<int> fifo;
    std::vector<int> expected;
    int next = 0;
    for (int round = 0; round < 50; ++round) {
        for (int i = 0; i < round; ++i) {
            EXPECT_TRUE(fifo.try_put(next++));
        }
        for (int i = 0; i < round / 2; ++i) {
            expected.push_back(*fifo.try_get());
        }
    }
    for (int item : drain(fifo)) {
        expected.push_back(item);
    }
    ASSERT_EQ(expected.size(), static_cast<std::size_t>(next));
    for (int i = 0; i < next; ++i) {
        EXPECT_EQ(expected[i], i);
    }
}

TEST(Queue, ABoundedQueueRefusesTryPutWhenFullAndKeepsTheArgument) {
    weft::queue<std::string> two(2);
    EXPECT_EQ(two.maxsize(), 2u);
    EXPECT_TRUE(two.try_put(std::string("a")));
    EXPECT_TRUE(two.try_put(std::string("b")));
    EXPECT_TRUE(two.full());
    std::string kept = "c";
    EXPECT_FALSE(two.try_put(std::move(kept)));
    EXPECT_EQ(kept, "c");
    const std::string copied = "d";
    EXPECT_FALSE(two.try_put(copied));
    EXPECT_EQ(two.try_get(), "a");
    EXPECT_TRUE(two.try_put(copied));
    EXPECT_EQ(two.try_get(), "b");
    EXPECT_EQ(two.try_get(), "d");
}

TEST(Queue, MoveOnlyItemsPassThrough) {
    weft::run(
        []() -> weft::coro<> {
            weft::queue<std::unique_ptr<int>> boxes(1);
            weft::task<int> reader =
                weft::create_task([](weft::queue<std::unique_ptr<int>>& boxes) -> weft::coro<int> {
                    int sum = 0;
                    for (int i = 0; i < 3; ++i) {
                        std::unique_ptr<int> box = co_await boxes.get();
                        sum += *box;
                    }
                    co_return sum;
                }(boxes));
            for (int i = 1; i <= 3; ++i) {
                co_await boxes.put(std::make_unique<int>(i));
            }
            EXPECT_EQ(co_await reader, 6);
        }(),
        one_virtual_worker);
}

TEST(Queue, PutSuspendsWhileFullAndWaitingPuttersGoInInOrder) {
    weft::run(
        []() -> weft::coro<> {
            weft::queue<int> two(2);
            std::vector<weft::task<>> putters;
            for (int id = 0; id < 5; ++id) {
                putters.push_back(weft::create_task(put_one(two, id)));
                co_await weft::sleep(1s); // a known order of arrival
            }
            EXPECT_EQ(two.size(), 2u);
            EXPECT_FALSE(putters[2].done());
            std::vector<int> got;
            for (int i = 0; i < 5; ++i) {
                got.push_back(co_await two.get());
            }
            EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4}));
            for (weft::task<>& each : putters) {
                co_await each;
            }
            EXPECT_TRUE(two.empty());
        }(),
        one_virtual_worker);
}

TEST(Queue, APutHandsItsItemToTheLongestWaitingGetter) {
    weft::run(
        []() -> weft::coro<> {
            weft::queue<int> items;
            std::vector<weft::task<int>> getters;
            for (int id = 0; id < 4; ++id) {
                getters.push_back(weft::create_task(get_one(items)));
                co_await weft::sleep(1s);
            }
            for (int item = 10; item < 14; ++item) {
                co_await items.put(item);
            }
            for (int id = 0; id < 4; ++id) {
                EXPECT_EQ(co_await getters[id], 10 + id);
            }
        }(),
        one_virtual_worker);
}

TEST(Queue, JoinWaitsUntilEveryItemIsDone) {
    weft::run(
        []() -> weft::coro<> {
            weft::queue<int> jobs;
            co_await jobs.join(); // nothing unfinished: at once
            for (int i = 0; i < 3; ++i) {
                co_await jobs.put(i);
            }
            EXPECT_EQ(jobs.unfinished(), 3u);
            weft::task<> worker = weft::create_task([](weft::queue<int>& jobs) -> weft::coro<> {
                for (int i = 0; i < 3; ++i) {
                    (void)co_await jobs.get();
                    co_await weft::sleep(1s);
                    jobs.task_done();
                }
            }(jobs));
            const weft::clock::time_point start = weft::clock::now();
            co_await jobs.join();
            EXPECT_EQ(weft::clock::now() - start, 3s);
            EXPECT_EQ(jobs.unfinished(), 0u);
            co_await worker;
            try {
                jobs.task_done();
                ADD_FAILURE() << "task_done accepted with nothing unfinished";
            } catch (const weft::invalid_state_error& error) {
                EXPECT_NE(std::string(error.what()).find("more times than items were put"),
                          std::string::npos);
            }
        }(),
        one_virtual_worker);
}

TEST(Queue, ShutdownFailsPutsAndLetsGetsDrainFirst) {
    weft::run(
        []() -> weft::coro<> {
            weft::queue<int> one(1);
            co_await one.put(1);
            weft::task<> blocked_putter = weft::create_task(put_one(one, 2));
            co_await weft::sleep(1s);
            one.shutdown();
            EXPECT_TRUE(one.is_shut_down());
            EXPECT_THROW(co_await blocked_putter, weft::queue_shut_down);
            EXPECT_THROW(co_await one.put(3), weft::queue_shut_down);
            EXPECT_THROW(one.try_put(3), weft::queue_shut_down);
            EXPECT_EQ(co_await one.get(), 1); // what was queued still comes out
            try {
                (void)co_await one.get();
                ADD_FAILURE() << "got from a shut-down, empty queue";
            } catch (const weft::queue_shut_down& error) {
                EXPECT_NE(std::string(error.what()).find("shut down and empty"), std::string::npos);
            }
            EXPECT_THROW(one.try_get(), weft::queue_shut_down);
        }(),
        one_virtual_worker);
}

TEST(Queue, ShutdownWakesWaitingGetters) {
    weft::run(
        []() -> weft::coro<> {
            weft::queue<int> empty;
            std::vector<weft::task<int>> getters;
            for (int i = 0; i < 3; ++i) {
                getters.push_back(weft::create_task(get_one(empty)));
            }
            co_await weft::sleep(1s);
            empty.shutdown();
            for (weft::task<int>& each : getters) {
                EXPECT_THROW(co_await each, weft::queue_shut_down);
            }
        }(),
        one_virtual_worker);
}

TEST(Queue, AnImmediateShutdownDropsTheItemsAndReleasesJoin) {
    weft::run(
        []() -> weft::coro<> {
            weft::lifo_queue<int> jobs;
            for (int i = 0; i < 3; ++i) {
                co_await jobs.put(i);
            }
            (void)co_await jobs.get();
            weft::task<> joiner = weft::create_task(
                [](weft::lifo_queue<int>& jobs) -> weft::coro<> { co_await jobs.join(); }(jobs));
            co_await weft::sleep(1s);
            jobs.shutdown(true);
            EXPECT_EQ(jobs.size(), 0u);
            EXPECT_EQ(jobs.unfinished(), 1u); // the item got and not yet done
            EXPECT_FALSE(joiner.done());
            jobs.task_done();
            co_await joiner;
            EXPECT_THROW(co_await jobs.get(), weft::queue_shut_down);
        }(),
        one_virtual_worker);
}

TEST(Queue, ACancelledGetterTakesNoItem) {
    weft::run(
        []() -> weft::coro<> {
            weft::queue<int> items;
            weft::task<int> first = weft::create_task(get_one(items));
            co_await weft::sleep(1s);
            weft::task<int> second = weft::create_task(get_one(items));
            co_await weft::sleep(1s);
            first.cancel();
            EXPECT_THROW(co_await first, weft::cancelled_error);
            co_await items.put(7);
            EXPECT_EQ(co_await second, 7);
            EXPECT_TRUE(items.empty());
        }(),
        one_virtual_worker);
}

TEST(Queue, ACancelledPutterPutsNothing) {
    weft::run(
        []() -> weft::coro<> {
            weft::queue<int> one(1);
            co_await one.put(1);
            weft::task<> putter = weft::create_task(put_one(one, 2));
            co_await weft::sleep(1s);
            putter.cancel();
            EXPECT_THROW(co_await putter, weft::cancelled_error);
            EXPECT_EQ(co_await one.get(), 1);
            EXPECT_TRUE(one.empty());
            EXPECT_EQ(one.unfinished(), 1u); // only the item that went in
        }(),
        one_virtual_worker);
}

TEST(Queue, AForeignThreadFeedsWaitingTasks) {
    weft::queue<int> items(4);
    std::thread feeder([&items] {
        for (int i = 1; i <= 1000; ++i) {
            while (!items.try_put(i)) {
                std::this_thread::yield();
            }
        }
    });
    const int sum = weft::run(
        [](weft::queue<int>& items) -> weft::coro<int> {
            int total = 0;
            for (int i = 0; i < 1000; ++i) {
                total += co_await items.get();
            }
            co_return total;
        }(items),
        weft::run_options{.workers = 2});
    feeder.join();
    EXPECT_EQ(sum, 500'500);
}

// A million items from 8 producers to 8 consumers through a queue bounded at 64, on two
// workers: each item is taken exactly once, and each consumer sees every producer's items
// in the order they were put (a queue is first in, first out for all of them).
constexpr std::uint32_t producers = 8;
constexpr std::uint32_t consumers = 8;
constexpr std::uint32_t per_producer = 125'000;

TEST(QueueRace, AMillionItemsThroughABoundedQueueNoneLostNoneDuplicated) {
    std::vector<std::atomic<std::uint8_t>> seen(producers * per_producer);
    std::atomic<std::uint64_t> order_breaks{0};
    weft::run(
        [](std::vector<std::atomic<std::uint8_t>>& seen,
           std::atomic<std::uint64_t>& order_breaks) -> weft::coro<> {
            weft::queue<std::uint64_t> items(64);
            std::vector<weft::task<>> tasks;
            for (std::uint32_t p = 0; p < producers; ++p) {
                tasks.push_back(weft::create_task(
                    [](weft::queue<std::uint64_t>& items, std::uint32_t p) -> weft::coro<> {
                        for (std::uint32_t n = 0; n < per_producer; ++n) {
                            co_await items.put(std::uint64_t{p} << 32 | n);
                        }
                    }(items, p)));
            }
            for (std::uint32_t c = 0; c < consumers; ++c) {
                tasks.push_back(
                    weft::create_task([](weft::queue<std::uint64_t>& items,
                                         std::vector<std::atomic<std::uint8_t>>& seen,
                                         std::atomic<std::uint64_t>& order_breaks) -> weft::coro<> {
                        std::vector<std::int64_t> last(producers, -1);
                        for (std::uint32_t n = 0; n < producers * per_producer / consumers; ++n) {
                            const std::uint64_t item = co_await items.get();
                            const auto p = static_cast<std::uint32_t>(item >> 32);
                            const auto seq = static_cast<std::int64_t>(item & 0xffff'ffffu);
                            if (seq <= last[p]) {
                                order_breaks.fetch_add(1, std::memory_order_relaxed);
                            }
                            last[p] = seq;
                            seen[p * per_producer + static_cast<std::uint32_t>(seq)].fetch_add(
                                1, std::memory_order_relaxed);
                        }
                    }(items, seen, order_breaks)));
            }
            for (weft::task<>& each : tasks) {
                co_await each;
            }
            EXPECT_TRUE(items.empty());
            EXPECT_EQ(items.unfinished(), std::uint64_t{producers} * per_producer);
        }(seen, order_breaks),
        weft::run_options{.workers = 2});
    EXPECT_EQ(order_breaks.load(), 0u);
    std::uint64_t missing = 0;
    std::uint64_t duplicated = 0;
    for (const auto& count : seen) {
        missing += count.load() == 0 ? 1 : 0;
        duplicated += count.load() > 1 ? 1 : 0;
    }
    EXPECT_EQ(missing, 0u);
    EXPECT_EQ(duplicated, 0u);
}

// Putters and getters on two workers, many of them cancelled from a task and from a
// foreign thread while they wait. A put that returned normally delivered its item; one
// that was cancelled delivered nothing. So the items got, plus those left in the queue,
// are exactly the items whose put returned, each once.
constexpr int pairs = 3'000;

TEST(QueueRace, CancelledPutsAndGetsNeitherLoseNorInventItems) {
    std::vector<std::atomic<int>> put_done(pairs);
    std::vector<std::atomic<int>> got(pairs);
    weft::queue<int> items(8);
    weft::run(
        [](weft::queue<int>& items, std::vector<std::atomic<int>>& put_done,
           std::vector<std::atomic<int>>& got) -> weft::coro<> {
            std::vector<weft::task<>> tasks;
            for (int i = 0; i < pairs; ++i) {
                tasks.push_back(weft::create_task(
                    [](weft::queue<int>& items, std::atomic<int>& done, int item) -> weft::coro<> {
                        co_await items.put(item);
                        done.fetch_add(1);
                    }(items, put_done[i], i)));
                tasks.push_back(
                    weft::create_task([](weft::queue<int>& items,
                                         std::vector<std::atomic<int>>& got) -> weft::coro<> {
                        const int item = co_await items.get();
                        got[item].fetch_add(1);
                    }(items, got)));
            }
            std::thread foreign([&tasks] {
                std::minstd_rand random(5);
                for (int i = 0; i < pairs / 2; ++i) {
                    tasks[random() % tasks.size()].cancel();
                }
            });
            std::minstd_rand random(9);
            for (int i = 0; i < pairs / 2; ++i) {
                tasks[random() % tasks.size()].cancel();
                if (i % 16 == 0) {
                    co_await weft::sleep(0s);
                }
            }
            foreign.join();
            // Unblock whoever still waits: the getters left take what remains of the puts,
            // and this task takes the rest.
            items.shutdown();
            for (weft::task<>& each : tasks) {
                try {
                    co_await each;
                } catch (const weft::cancelled_error&) {
                } catch (const weft::queue_shut_down&) {
                }
            }
            while (!items.empty()) { // shut down: try_get throws once it is empty
                got[*items.try_get()].fetch_add(1);
            }
        }(items, put_done, got),
        weft::run_options{.workers = 2});
    int delivered = 0;
    for (int i = 0; i < pairs; ++i) {
        EXPECT_EQ(got[i].load(), put_done[i].load()) << "item " << i;
        delivered += got[i].load();
    }
    EXPECT_GT(delivered, 0);
}

TEST(Queue, AGetterCancelledAfterItWasHandedAnItemPassesItOn) {
    weft::run(
        []() -> weft::coro<> {
            weft::queue<int> items;
            weft::task<int> first = weft::create_task(get_one(items));
            weft::task<int> second = weft::create_task(get_one(items));
            co_await weft::sleep(1s);
            co_await items.put(7); // handed to the first, which has not run yet
            first.cancel();
            EXPECT_THROW(co_await first, weft::cancelled_error);
            co_await weft::sleep(1s);
            EXPECT_TRUE(second.done());
            if (!second.done()) {
                co_await items.put(-1);
            }
            EXPECT_EQ(co_await second, 7);
            EXPECT_TRUE(items.empty());
            EXPECT_EQ(items.unfinished(), 1u);
        }(),
        one_virtual_worker);
}

TEST(Queue, AnItemHandedToACancelledGetterGoesBackAheadOfLaterItems) {
    weft::run(
        []() -> weft::coro<> {
            weft::queue<int> items(2);
            weft::task<int> getter = weft::create_task(get_one(items));
            co_await weft::sleep(1s);
            EXPECT_TRUE(items.try_put(1)); // handed to the getter, which has not run yet
            getter.cancel();
            EXPECT_TRUE(items.try_put(2));
            EXPECT_FALSE(items.try_put(3)); // the item in the getter's hands still counts
            EXPECT_THROW(co_await getter, weft::cancelled_error);
            EXPECT_EQ(items.size(), 2u);
            EXPECT_EQ(co_await items.get(), 1);
            EXPECT_EQ(co_await items.get(), 2);
        }(),
        one_virtual_worker);
}

TEST(Queue, APutterCancelledAfterItWasLetInPassesItsSlotOn) {
    weft::run(
        []() -> weft::coro<> {
            weft::queue<int> one(1);
            co_await one.put(1);
            weft::task<> first = weft::create_task(put_one(one, 2));
            weft::task<> second = weft::create_task(put_one(one, 3));
            co_await weft::sleep(1s);
            EXPECT_EQ(co_await one.get(), 1); // lets the first putter in; it has not run yet
            first.cancel();
            EXPECT_THROW(co_await first, weft::cancelled_error);
            co_await weft::sleep(1s);
            EXPECT_TRUE(second.done()); // the slot went to it
            EXPECT_EQ(co_await one.get(), 3);
            co_await second;
            EXPECT_TRUE(one.empty());
            EXPECT_EQ(one.unfinished(), 2u); // 1 and 3 went in; 2 did not
        }(),
        one_virtual_worker);
}

TEST(Queue, GetPutAndJoinCanBeHandedToCreateTaskWaitForAndGather) {
    weft::run(
        []() -> weft::coro<> {
            weft::queue<int> items(2);
            co_await weft::create_task(items.put(1));
            co_await weft::wait_for(items.put(2), 1s);
            EXPECT_THROW(co_await weft::wait_for(items.put(9), 1s), weft::timeout_error);
            EXPECT_EQ(co_await weft::create_task(items.get()), 1);
            EXPECT_EQ(co_await weft::wait_for(items.get(), 1s), 2);
            EXPECT_THROW(co_await weft::wait_for(items.get(), 1s), weft::timeout_error);
            co_await weft::gather(items.put(3));
            auto [got] = co_await weft::gather(items.get());
            EXPECT_EQ(got, 3);
            EXPECT_EQ(items.unfinished(), 3u); // the put that timed out put nothing
            weft::task<> joining = weft::create_task(items.join());
            co_await weft::sleep(1s);
            EXPECT_FALSE(joining.done());
            for (int done = 0; done < 3; ++done) {
                items.task_done();
            }
            co_await joining;
            co_await weft::wait_for(items.join(), 1s);
            co_await weft::gather(items.join());
        }(),
        one_virtual_worker);
}

TEST(Queue, AnItemGivenBackToALifoQueueGoesUnderTheLaterOnes) {
    weft::run(
        []() -> weft::coro<> {
            weft::lifo_queue<int> items;
            weft::task<int> getter = weft::create_task(get_one(items));
            co_await weft::sleep(1s);
            EXPECT_TRUE(items.try_put(1)); // handed to the getter, which has not run yet
            getter.cancel();
            EXPECT_TRUE(items.try_put(2));
            EXPECT_TRUE(items.try_put(3));
            EXPECT_THROW(co_await getter, weft::cancelled_error);
            EXPECT_EQ(co_await items.get(), 3);
            EXPECT_EQ(co_await items.get(), 2);
            EXPECT_EQ(co_await items.get(), 1); // it was put first: it comes out last
        }(),
        one_virtual_worker);
}

} // namespace
