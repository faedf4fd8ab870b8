// Tests weft::lock (include/weft/lock.hpp): mutual exclusion across suspensions and workers,
// the scoped guard, FIFO handoff, try_lock, and unlocking a lock that is not locked.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::one_virtual_worker;

// A waiter's task body: takes the lock and, holding it, records `id` in `order`.
weft::coro<> enters(weft::lock& l, std::vector<int>& order, int id) {
    auto held = co_await l.scoped();
    order.push_back(id);
}

TEST(Lock, HoldersExcludeEachOtherAcrossSuspensionsAndWorkers) {
    int balance = 0;
    weft::run(
        [](int& balance) -> weft::coro<> {
            weft::lock guard_balance;
            std::vector<weft::task<>> tellers;
            for (int i = 0; i < 200; ++i) {
                tellers.push_back(
                    weft::create_task([](weft::lock& guard_balance, int& balance) -> weft::coro<> {
                        for (int deposit = 0; deposit < 10; ++deposit) {
                            auto held = co_await guard_balance.scoped();
                            const int read = balance;
                            co_await weft::sleep(0s); // others run; none may enter
                            balance = read + 1;
                        }
                    }(guard_balance, balance)));
            }
            for (weft::task<>& each : tellers) {
                co_await each;
            }
            EXPECT_FALSE(guard_balance.locked());
        }(balance),
        weft::run_options{.workers = 2});
    EXPECT_EQ(balance, 2'000);
}

TEST(Lock, PassesToWaitersInOrderAndTryLockDoesNotJumpTheQueue) {
    weft::run(
        []() -> weft::coro<> {
            weft::lock l;
            co_await l.acquire();
            EXPECT_TRUE(l.locked());
            std::vector<int> order;
            std::vector<weft::task<>> waiters;
            for (int id = 0; id < 4; ++id) {
                waiters.push_back(weft::create_task(enters(l, order, id)));
            }
            co_await weft::sleep(1s);
            EXPECT_FALSE(l.try_lock());
            l.unlock();
            for (weft::task<>& each : waiters) {
                co_await each;
            }
            EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
            EXPECT_TRUE(l.try_lock());
            l.unlock();
        }(),
        one_virtual_worker);
}

TEST(Lock, AGuardReleasesEarlyOnceAndMovesItsHold) {
    weft::run(
        []() -> weft::coro<> {
            weft::lock l;
            weft::lock::guard first = co_await l.scoped();
            weft::lock::guard moved = std::move(first);
            EXPECT_TRUE(l.locked());
            moved.release();
            EXPECT_FALSE(l.locked());
            moved.release(); // nothing held any more: no second unlock
            EXPECT_FALSE(l.locked());
        }(),
        weft::run_options{.workers = 1});
}

TEST(Lock, UnlockingALockThatIsNotLockedIsAnError) {
    weft::lock l;
    try {
        l.unlock();
        FAIL() << "no error";
    } catch (const weft::invalid_state_error& error) {
        EXPECT_NE(std::string(error.what()).find("not locked"), std::string::npos);
    }
}

// As asyncio.Lock: a task that unlocks and locks again while the waiter it woke has not run
// yet queues behind that waiter (here the unlock comes from a third party, as any task
// may unlock; the lock stays with the woken waiter).
TEST(Lock, ALockAfterAHandoffQueuesBehindTheWokenWaiter) {
    weft::run(
        []() -> weft::coro<> {
            weft::lock l;
            co_await l.acquire();
            std::vector<int> order;
            auto locks = [](weft::lock& l, std::vector<int>& order, int id) -> weft::coro<> {
                auto held = co_await l.scoped();
                order.push_back(id);
                co_await weft::sleep(1s);
            };
            weft::task<> first = weft::create_task(locks(l, order, 1));
            co_await weft::sleep(1s);
            l.unlock(); // the lock passes to the first, which has not run yet
            EXPECT_FALSE(l.try_lock());
            weft::task<> second = weft::create_task(locks(l, order, 2));
            co_await weft::sleep(0s);
            co_await first;
            co_await second;
            EXPECT_EQ(order, (std::vector<int>{1, 2}));
            EXPECT_FALSE(l.locked());
        }(),
        one_virtual_worker);
}

TEST(Lock, AWaiterCancelledAfterTheLockPassedToItPassesItOn) {
    weft::run(
        []() -> weft::coro<> {
            weft::lock l;
            co_await l.acquire();
            std::vector<int> order;
            weft::task<> first = weft::create_task(enters(l, order, 1));
            weft::task<> second = weft::create_task(enters(l, order, 2));
            co_await weft::sleep(1s);
            l.unlock(); // passes the lock to the first, which has not run yet
            first.cancel();
            EXPECT_THROW(co_await first, weft::cancelled_error);
            co_await second;
            EXPECT_EQ(order, (std::vector<int>{2}));
            EXPECT_FALSE(l.locked());
        }(),
        one_virtual_worker);
}

TEST(Lock, AcquireCanBeHandedToCreateTaskWaitForAndGather) {
    weft::run(
        []() -> weft::coro<> {
            weft::lock l;
            co_await weft::create_task(l.acquire());
            EXPECT_TRUE(l.locked());
            EXPECT_THROW(co_await weft::wait_for(l.acquire(), 1s), weft::timeout_error);
            l.unlock();
            co_await weft::wait_for(l.acquire(), 1s);
            l.unlock();
            co_await weft::gather(l.acquire());
            l.unlock();
            weft::lock::guard held = co_await weft::create_task(l.scoped());
            EXPECT_TRUE(l.locked());
            held.release();
            EXPECT_FALSE(l.locked());
        }(),
        one_virtual_worker);
}

} // namespace
