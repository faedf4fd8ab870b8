// Tests weft::semaphore and weft::bounded_semaphore (include/weft/semaphore.hpp,
// runtime/sync/semaphore.cpp): the permit count bounds concurrency, waiters get permits first in,
// first out, try_acquire never suspends, a bounded semaphore refuses extra releases, a
// cancelled waiter costs no permit, and acquire, release and cancellation racing across
// workers and a foreign thread neither lose nor duplicate a permit.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::one_virtual_worker;

TEST(Semaphore, PermitsBoundHowManyTasksHoldOne) {
    weft::run(
        []() -> weft::coro<> {
            weft::semaphore slots(2);
            int inside = 0;
            int most_inside = 0;
            std::vector<weft::task<>> users;
            for (int i = 0; i < 6; ++i) {
                users.push_back(weft::create_task(
                    [](weft::semaphore& slots, int& inside, int& most) -> weft::coro<> {
                        co_await slots.acquire();
                        most = std::max(most, ++inside);
                        co_await weft::sleep(1s);
                        --inside;
                        slots.release();
                    }(slots, inside, most_inside)));
            }
            const weft::clock::time_point start = weft::clock::now();
            for (weft::task<>& each : users) {
                co_await each;
            }
            EXPECT_EQ(most_inside, 2);
            EXPECT_EQ(weft::clock::now() - start, 3s);
            EXPECT_EQ(slots.available(), 2u);
        }(),
        one_virtual_worker);
}

TEST(Semaphore, WaitersGetPermitsInTheOrderTheyAsked) {
    weft::run(
        []() -> weft::coro<> {
            weft::semaphore one(1);
            co_await one.acquire();
            std::vector<int> order;
            std::vector<weft::task<>> waiters;
            for (int id = 0; id < 5; ++id) {
                waiters.push_back(weft::create_task(
                    [](weft::semaphore& one, std::vector<int>& order, int id) -> weft::coro<> {
                        co_await one.acquire();
                        order.push_back(id);
                        co_await weft::sleep(1s);
                        one.release();
                    }(one, order, id)));
            }
            co_await weft::sleep(1s);
            EXPECT_FALSE(one.try_acquire()); // held, and others wait: no jumping the queue
            one.release();
            for (weft::task<>& each : waiters) {
                co_await each;
            }
            EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
        }(),
        one_virtual_worker);
}

TEST(Semaphore, TryAcquireAndAvailableNeverSuspend) {
    weft::semaphore two(2);
    EXPECT_EQ(two.available(), 2u);
    EXPECT_TRUE(two.try_acquire());
    EXPECT_TRUE(two.try_acquire());
    EXPECT_FALSE(two.try_acquire());
    EXPECT_EQ(two.available(), 0u);
    two.release();
    two.release();
    two.release(); // a plain semaphore may grow past its start
    EXPECT_EQ(two.available(), 3u);
}

TEST(Semaphore, ABoundedSemaphoreRefusesAReleaseItDidNotLend) {
    weft::bounded_semaphore one(1);
    EXPECT_THROW(one.release(), weft::invalid_state_error);
    EXPECT_TRUE(one.try_acquire());
    one.release();
    try {
        one.release();
        FAIL() << "no error";
    } catch (const weft::invalid_state_error& error) {
        EXPECT_NE(std::string(error.what()).find("released more often than acquired"),
                  std::string::npos);
    }
    weft::bounded_semaphore none(0);
    EXPECT_THROW(none.release(), weft::invalid_state_error);
}

TEST(Semaphore, ACancelledWaiterCostsNoPermit) {
    weft::run(
        []() -> weft::coro<> {
            weft::semaphore one(1);
            co_await one.acquire();
            bool second_got_it = false;
            weft::task<> first = weft::create_task(
                [](weft::semaphore& one) -> weft::coro<> { co_await one.acquire(); }(one));
            weft::task<> second =
                weft::create_task([](weft::semaphore& one, bool& got) -> weft::coro<> {
                    co_await one.acquire();
                    got = true;
                    one.release();
                }(one, second_got_it));
            co_await weft::sleep(1s);
            first.cancel();
            EXPECT_THROW(co_await first, weft::cancelled_error);
            one.release(); // goes to the second waiter, the first having left
            co_await second;
            EXPECT_TRUE(second_got_it);
            EXPECT_EQ(one.available(), 1u);
        }(),
        one_virtual_worker);
}

// Tasks on two workers take and give back permits while others are cancelled from a task
// and from a foreign thread: no more than the permits are ever held at once, every task
// ends once, and all permits are back at the end.
// Counted by the bodies of AcquireReleaseAndCancellationLoseNoPermit, which capture nothing.
std::atomic<int> semaphore_users_started{0};

TEST(SemaphoreRace, AcquireReleaseAndCancellationLoseNoPermit) {
    constexpr int tasks = 2'000;
    constexpr std::size_t permits = 3;
    std::atomic<int> held{0};
    std::atomic<int> most_held{0};
    std::atomic<int> ended{0};
    int cancelled_tasks = 0;
    weft::semaphore slots(permits);
    weft::run(
        [](weft::semaphore& slots, std::atomic<int>& held, std::atomic<int>& most,
           std::atomic<int>& ended, int& cancelled_tasks) -> weft::coro<> {
            std::vector<weft::task<>> users;
            for (int i = 0; i < tasks; ++i) {
                users.push_back(weft::create_task([](weft::semaphore& slots, std::atomic<int>& held,
                                                     std::atomic<int>& most,
                                                     std::atomic<int>& ended) -> weft::coro<> {
                    semaphore_users_started.fetch_add(1);
                    bool holding = false;
                    try {
                        co_await slots.acquire();
                        holding = true;
                        const int now = held.fetch_add(1) + 1;
                        int seen = most.load();
                        while (now > seen && !most.compare_exchange_weak(seen, now)) {
                        }
                        co_await weft::sleep(0s); // held across a suspension, maybe cancelled
                    } catch (const weft::cancelled_error&) {
                    }
                    if (holding) {
                        held.fetch_sub(1);
                        slots.release();
                    }
                    ended.fetch_add(1);
                }(slots, held, most, ended)));
            }
            std::thread foreign([&users] {
                std::minstd_rand random(4);
                for (int i = 0; i < tasks / 4; ++i) {
                    users[random() % tasks].cancel();
                }
            });
            std::minstd_rand random(8);
            for (int i = 0; i < tasks / 4; ++i) {
                users[random() % tasks].cancel();
                if (i % 16 == 0) {
                    co_await weft::sleep(0s);
                }
            }
            foreign.join();
            for (weft::task<>& each : users) {
                try {
                    co_await each;
                } catch (const weft::cancelled_error&) {
                    ++cancelled_tasks; // before its first step, or as it returned
                }
            }
        }(slots, held, most_held, ended, cancelled_tasks),
        weft::run_options{.workers = 2});
    // Every task that started ended once; the others were cancelled before their first step.
    EXPECT_EQ(ended.load(), semaphore_users_started.load());
    EXPECT_GE(cancelled_tasks, tasks - semaphore_users_started.load());
    EXPECT_LE(most_held.load(), static_cast<int>(permits));
    EXPECT_EQ(slots.available(), permits);
}

// CPython 3.11's test_acquire_fifo_order_2: a task that releases and re-acquires while
// another, already woken, has not run yet queues behind it.
TEST(Semaphore, AReacquireQueuesBehindWaitersAlreadyWoken) {
    weft::run(
        []() -> weft::coro<> {
            weft::semaphore one(1);
            std::vector<int> order;
            weft::task<> first = weft::create_task(
                [](weft::semaphore& one, std::vector<int>& order) -> weft::coro<> {
                    co_await one.acquire();
                    order.push_back(1);
                }(one, order));
            weft::task<> second = weft::create_task(
                [](weft::semaphore& one, std::vector<int>& order) -> weft::coro<> {
                    co_await one.acquire();
                    order.push_back(2);
                    one.release();
                    co_await one.acquire();
                    order.push_back(4);
                }(one, order));
            weft::task<> third = weft::create_task(
                [](weft::semaphore& one, std::vector<int>& order) -> weft::coro<> {
                    co_await one.acquire();
                    order.push_back(3);
                }(one, order));
            co_await weft::sleep(0s);
            one.release();
            one.release();
            co_await first;
            co_await second;
            co_await third;
            EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
            EXPECT_EQ(one.available(), 0u);
        }(),
        one_virtual_worker);
}

TEST(Semaphore, AWaiterCancelledAfterItWasHandedAPermitPassesItOn) {
    weft::run(
        []() -> weft::coro<> {
            weft::semaphore one(1);
            co_await one.acquire();
            bool first_acquired = false;
            bool second_acquired = false;
            auto acquires = [](weft::semaphore& one, bool& acquired) -> weft::coro<> {
                co_await one.acquire();
                acquired = true;
                one.release();
            };
            weft::task<> first = weft::create_task(acquires(one, first_acquired));
            weft::task<> second = weft::create_task(acquires(one, second_acquired));
            co_await weft::sleep(1s);
            one.release(); // hands the permit to the first, which has not run yet
            first.cancel();
            EXPECT_THROW(co_await first, weft::cancelled_error);
            EXPECT_FALSE(first_acquired);
            co_await second;
            EXPECT_TRUE(second_acquired);
            EXPECT_EQ(one.available(), 1u);
        }(),
        one_virtual_worker);
}

TEST(Semaphore, AHandedPermitWithNobodyElseWaitingGoesBackToTheCount) {
    weft::run(
        []() -> weft::coro<> {
            weft::bounded_semaphore one(1);
            co_await one.acquire();
            weft::task<> waiter = weft::create_task(
                [](weft::bounded_semaphore& one) -> weft::coro<> { co_await one.acquire(); }(one));
            co_await weft::sleep(1s);
            one.release();
            waiter.cancel();
            EXPECT_THROW(co_await waiter, weft::cancelled_error);
            EXPECT_EQ(one.available(), 1u);
            EXPECT_THROW(one.release(), weft::invalid_state_error);
        }(),
        one_virtual_worker);
}

TEST(Semaphore, AcquireCanBeHandedToCreateTaskWaitForAndGather) {
    weft::run(
        []() -> weft::coro<> {
            weft::semaphore three(3);
            co_await weft::create_task(three.acquire());
            co_await weft::wait_for(three.acquire(), 1s);
            co_await weft::gather(three.acquire());
            EXPECT_EQ(three.available(), 0u);
            EXPECT_THROW(co_await weft::wait_for(three.acquire(), 1s), weft::timeout_error);
            three.release();
            EXPECT_EQ(three.available(), 1u); // the acquire that timed out took nothing
        }(),
        one_virtual_worker);
}

} // namespace
