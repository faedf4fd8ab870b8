// Tests weft::event (include/weft/event.hpp, runtime/sync/event.cpp): waiters wake on set() in the
// order they began waiting, a set event lets waits through until clear(), a cancelled waiter
// leaves the list and later sets pass it by, and set() racing cancellations across workers
// and from a foreign thread ends each wait exactly once.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::one_virtual_worker;

weft::coro<> wait_then_record(weft::event& e, std::vector<int>& order, int id) {
    co_await e.wait();
    order.push_back(id);
}

TEST(Event, SetWakesEveryWaiterInTheOrderTheyBeganWaiting) {
    weft::run(
        []() -> weft::coro<> {
            weft::event e;
            std::vector<int> order;
            std::vector<weft::task<>> waiters;
            for (int id = 0; id < 5; ++id) {
                waiters.push_back(weft::create_task(wait_then_record(e, order, id)));
            }
            co_await weft::sleep(1s);
            EXPECT_TRUE(order.empty());
            EXPECT_FALSE(e.is_set());
            e.set();
            for (weft::task<>& each : waiters) {
                co_await each;
            }
            EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
        }(),
        one_virtual_worker);
}

TEST(Event, ASetEventLetsWaitsThroughUntilCleared) {
    weft::run(
        []() -> weft::coro<> {
            weft::event e;
            e.set();
            EXPECT_TRUE(e.is_set());
            const weft::clock::time_point start = weft::clock::now();
            co_await e.wait();
            co_await e.wait();
            EXPECT_EQ(weft::clock::now(), start);

            e.clear();
            EXPECT_FALSE(e.is_set());
            weft::task<> setter = weft::create_task([](weft::event& e) -> weft::coro<> {
                co_await weft::sleep(3s);
                e.set();
            }(e));
            co_await e.wait();
            EXPECT_EQ(weft::clock::now() - start, 3s);
            co_await setter;
        }(),
        one_virtual_worker);
}

TEST(Event, ACancelledWaiterLeavesTheListAndLaterSetsPassItBy) {
    weft::run(
        []() -> weft::coro<> {
            weft::event e;
            std::vector<int> order;
            weft::task<> first = weft::create_task(wait_then_record(e, order, 1));
            weft::task<> second = weft::create_task(wait_then_record(e, order, 2));
            co_await weft::sleep(1s);
            EXPECT_TRUE(first.cancel());
            EXPECT_THROW(co_await first, weft::cancelled_error);
            EXPECT_FALSE(e.is_set());
            e.set();
            co_await second;
            EXPECT_EQ(order, (std::vector<int>{2}));
        }(),
        one_virtual_worker);
}

TEST(Event, APendingCancellationEndsTheWaitAtOnce) {
    weft::run(
        []() -> weft::coro<> {
            weft::event e;
            weft::task<> waiter =
                weft::create_task([](weft::event& e) -> weft::coro<> { co_await e.wait(); }(e));
            waiter.cancel(); // before it started: delivered at its first suspension
            EXPECT_THROW(co_await waiter, weft::cancelled_error);
        }(),
        one_virtual_worker);
}

// Each round, waiters on two workers, a set() from one task and cancellations from another
// and from a foreign thread race: every waiter ends exactly once, woken or cancelled.
TEST(EventRace, SetAgainstCancellationEndsEachWaitOnce) {
    constexpr int rounds = 500;
    constexpr int waiters_per_round = 8;
    std::atomic<int> started{0};
    std::atomic<int> woken{0};
    std::atomic<int> cancelled{0};
    weft::run(
        [](std::atomic<int>& started, std::atomic<int>& woken,
           std::atomic<int>& cancelled) -> weft::coro<> {
            std::minstd_rand random(9);
            for (int round = 0; round < rounds; ++round) {
                weft::event e;
                std::vector<weft::task<>> waiters;
                for (int i = 0; i < waiters_per_round; ++i) {
                    waiters.push_back(weft::create_task(
                        [](weft::event& e, std::atomic<int>& started, std::atomic<int>& woken,
                           std::atomic<int>& cancelled) -> weft::coro<> {
                            started.fetch_add(1);
                            try {
                                co_await e.wait();
                                woken.fetch_add(1);
                            } catch (const weft::cancelled_error&) {
                                cancelled.fetch_add(1);
                            }
                        }(e, started, woken, cancelled)));
                }
                co_await weft::sleep(std::chrono::microseconds(random() % 20));
                std::thread foreign([&waiters] { waiters.back().cancel(); });
                weft::task<> canceller =
                    weft::create_task([](std::vector<weft::task<>>& waiters) -> weft::coro<> {
                        waiters.front().cancel();
                        co_return;
                    }(waiters));
                e.set();
                foreign.join();
                co_await canceller;
                for (weft::task<>& each : waiters) {
                    try {
                        co_await each; // cancelled if the request came after the wait ended
                    } catch (const weft::cancelled_error&) {
                    }
                }
            }
        }(started, woken, cancelled),
        weft::run_options{.workers = 2});
    // A waiter cancelled before its first step never runs its body (as asyncio never starts
    // such a task): only the two cancelled ones of a round may not start. Every wait that
    // began ended exactly once.
    EXPECT_GE(started.load(), rounds * (waiters_per_round - 2));
    EXPECT_EQ(woken.load() + cancelled.load(), started.load());
    EXPECT_LE(cancelled.load(), 2 * rounds);
}

TEST(Event, WaitCanBeHandedToCreateTaskWaitForAndGather) {
    weft::run(
        []() -> weft::coro<> {
            weft::event ready;
            weft::task<> waiting = weft::create_task(ready.wait());
            co_await weft::sleep(1s);
            EXPECT_FALSE(waiting.done());
            ready.set();
            co_await waiting;
            co_await weft::wait_for(ready.wait(), 1s);
            co_await weft::gather(ready.wait(), ready.wait());
            ready.clear();
            EXPECT_THROW(co_await weft::wait_for(ready.wait(), 1s), weft::timeout_error);
        }(),
        one_virtual_worker);
}

} // namespace
