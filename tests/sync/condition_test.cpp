// Tests weft::condition (include/weft/condition.hpp, runtime/sync/condition.cpp): wait releases
// the lock and returns holding it, notify wakes waiters first in, first out and only as
// many as asked, wait_for re-checks its predicate, waiting or notifying without the lock is
// refused, a cancelled waiter takes the lock back before it throws and consumes no
// notification, and producers, consumers and cancellations racing on two workers lose no
// wake-up; a condition made without a lock owns one.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::one_virtual_worker;

// A waiter's task body: takes the lock and waits for one notification.
weft::coro<> waits_once(weft::condition& changed) {
    auto held = co_await changed.scoped();
    co_await changed.wait();
}

TEST(Condition, WaitReleasesTheLockAndReturnsHoldingIt) {
    weft::run(
        []() -> weft::coro<> {
            weft::lock guard;
            weft::condition changed(guard);
            bool ready = false;
            bool lock_held_after_wait = false;
            weft::task<> waiter =
                weft::create_task([](weft::lock& guard, weft::condition& changed, bool& ready,
                                     bool& held_after) -> weft::coro<> {
                    auto held = co_await guard.scoped();
                    while (!ready) {
                        co_await changed.wait();
                    }
                    held_after = guard.locked();
                }(guard, changed, ready, lock_held_after_wait));
            co_await weft::sleep(1s);
            EXPECT_FALSE(guard.locked()); // the waiter released it while waiting
            {
                auto held = co_await guard.scoped();
                ready = true;
                changed.notify();
                co_await weft::sleep(1s);
                EXPECT_FALSE(waiter.done()); // notified, but the lock is still ours
            }
            co_await waiter;
            EXPECT_TRUE(lock_held_after_wait);
            EXPECT_FALSE(guard.locked());
        }(),
        one_virtual_worker);
}

TEST(Condition, NotifyWakesAsManyAsAskedLongestWaitingFirst) {
    weft::run(
        []() -> weft::coro<> {
            weft::lock guard;
            weft::condition changed(guard);
            std::vector<int> woken;
            std::vector<weft::task<>> waiters;
            for (int id = 0; id < 5; ++id) {
                waiters.push_back(weft::create_task(
                    [](weft::condition& changed, std::vector<int>& woken, int id) -> weft::coro<> {
                        auto held = co_await changed.scoped();
                        co_await changed.wait();
                        woken.push_back(id);
                    }(changed, woken, id)));
                co_await weft::sleep(1s); // a known order of arrival
            }
            co_await changed.acquire();
            changed.notify(2);
            changed.unlock();
            co_await weft::sleep(1s);
            EXPECT_EQ(woken, (std::vector<int>{0, 1}));
            co_await changed.acquire();
            changed.notify_all();
            changed.unlock();
            for (weft::task<>& each : waiters) {
                co_await each;
            }
            EXPECT_EQ(woken, (std::vector<int>{0, 1, 2, 3, 4}));
        }(),
        one_virtual_worker);
}

TEST(Condition, WaitForReturnsThePredicateOnceItHolds) {
    weft::run(
        []() -> weft::coro<> {
            weft::lock guard;
            weft::condition changed(guard);
            int stock = 0;
            int predicate_calls = 0;
            weft::task<int> buyer = weft::create_task(
                [](weft::condition& changed, int& stock, int& calls) -> weft::coro<int> {
                    auto held = co_await changed.scoped();
                    const int seen = co_await changed.wait_for([&] {
                        ++calls;
                        return stock >= 3 ? stock : 0;
                    });
                    stock -= 3;
                    co_return seen;
                }(changed, stock, predicate_calls));
            for (int i = 0; i < 4; ++i) {
                co_await weft::sleep(1s);
                auto held = co_await guard.scoped();
                ++stock;
                changed.notify();
            }
            EXPECT_EQ(co_await buyer, 3); // woken at 1, 2 and 3: true at the third
            EXPECT_EQ(predicate_calls, 4);
            EXPECT_EQ(stock, 1);

            auto held = co_await guard.scoped();
            EXPECT_EQ(co_await changed.wait_for([] { return 7; }), 7); // true at once
        }(),
        one_virtual_worker);
}

TEST(Condition, WaitingOrNotifyingWithoutTheLockIsRefused) {
    weft::run(
        []() -> weft::coro<> {
            weft::lock guard;
            weft::condition changed(guard);
            try {
                co_await changed.wait();
                ADD_FAILURE() << "waited without the lock";
            } catch (const weft::invalid_state_error& error) {
                EXPECT_NE(std::string(error.what()).find("lock is not locked"), std::string::npos);
            }
            EXPECT_FALSE(guard.locked());
            EXPECT_THROW(changed.notify(), weft::invalid_state_error);
            EXPECT_THROW(changed.notify_all(), weft::invalid_state_error);
        }(),
        one_virtual_worker);
}

TEST(Condition, ACancelledWaiterTakesTheLockBackBeforeItThrows) {
    weft::run(
        []() -> weft::coro<> {
            weft::lock guard;
            weft::condition changed(guard);
            bool held_when_cancelled = false;
            weft::task<> waiter = weft::create_task(
                [](weft::lock& guard, weft::condition& changed, bool& held) -> weft::coro<> {
                    auto holding = co_await guard.scoped();
                    try {
                        co_await changed.wait();
                    } catch (const weft::cancelled_error&) {
                        held = guard.locked();
                        throw;
                    }
                }(guard, changed, held_when_cancelled));
            co_await weft::sleep(1s);
            co_await guard.acquire();
            waiter.cancel();
            co_await weft::sleep(1s);
            EXPECT_FALSE(waiter.done()); // withdrawn, now waiting for the lock we hold
            guard.unlock();
            EXPECT_THROW(co_await waiter, weft::cancelled_error);
            EXPECT_TRUE(held_when_cancelled);
            EXPECT_FALSE(guard.locked());
        }(),
        one_virtual_worker);
}

TEST(Condition, ACancelledWaiterConsumesNoNotification) {
    weft::run(
        []() -> weft::coro<> {
            weft::lock guard;
            weft::condition changed(guard);
            weft::task<> first = weft::create_task(waits_once(changed));
            co_await weft::sleep(1s);
            weft::task<> second = weft::create_task(waits_once(changed));
            co_await weft::sleep(1s);
            first.cancel();
            EXPECT_THROW(co_await first, weft::cancelled_error);
            co_await guard.acquire();
            changed.notify(1); // goes to the second: the first left the list
            guard.unlock();
            co_await second;
        }(),
        one_virtual_worker);
}

// Producers add to a shared count and notify one waiter each; consumers on two workers
// wait_for a positive count and take one; some consumers are cancelled meanwhile, from a
// task and from a foreign thread. Every unit is taken exactly once, so no notification was
// lost to a cancelled consumer (a lost one would leave a unit with every survivor asleep,
// and the deadline below would fail the test instead of hanging it).
constexpr int racing_consumers = 64;
constexpr int units = 20'000;

TEST(ConditionRace, NotificationsAreNotLostToCancelledWaiters) {
    weft::run(
        []() -> weft::coro<> {
            weft::lock guard;
            weft::condition changed(guard);
            int available = 0;
            int taken = 0;
            bool closing = false;
            std::vector<weft::task<>> takers;
            for (int i = 0; i < racing_consumers; ++i) {
                takers.push_back(weft::create_task([](weft::condition& changed, int& available,
                                                      int& taken, bool& closing) -> weft::coro<> {
                    for (;;) {
                        auto held = co_await changed.scoped();
                        co_await changed.wait_for([&] { return available > 0 || closing; });
                        if (available == 0) {
                            co_return;
                        }
                        --available;
                        ++taken;
                    }
                }(changed, available, taken, closing)));
            }
            std::thread foreign([&takers] {
                for (int i = 1; i < racing_consumers; i += 4) {
                    takers[i].cancel();
                    std::this_thread::sleep_for(50us);
                }
            });
            std::minstd_rand random(11);
            for (int unit = 0; unit < units; ++unit) {
                {
                    auto held = co_await guard.scoped();
                    ++available;
                    changed.notify();
                }
                if (unit % 500 == 0) {
                    takers[(random() % (racing_consumers / 4)) * 4 + 3].cancel();
                }
                if (unit % 8 == 0) {
                    co_await weft::sleep(0s);
                }
            }
            foreign.join();
            bool all_taken = false;
            const auto deadline = std::chrono::steady_clock::now() + 60s;
            while (!all_taken && std::chrono::steady_clock::now() < deadline) {
                co_await weft::sleep(1ms);
                auto held = co_await guard.scoped();
                all_taken = taken == units;
            }
            EXPECT_TRUE(all_taken) << "a notification was lost";
            {
                auto held = co_await guard.scoped();
                closing = true;
                changed.notify_all();
            }
            for (weft::task<>& each : takers) {
                try {
                    co_await each;
                } catch (const weft::cancelled_error&) {
                }
            }
            EXPECT_EQ(taken, units);
            EXPECT_EQ(available, 0);
            EXPECT_FALSE(guard.locked());
        }(),
        weft::run_options{.workers = 2});
}

TEST(Condition, AWaiterCancelledAfterItWasNotifiedPassesTheNotificationOn) {
    weft::run(
        []() -> weft::coro<> {
            weft::lock guard;
            weft::condition changed(guard);
            weft::task<> first = weft::create_task(waits_once(changed));
            weft::task<> second = weft::create_task(waits_once(changed));
            co_await weft::sleep(1s);
            co_await guard.acquire();
            changed.notify(1); // the first is notified but has not run yet
            first.cancel();
            guard.unlock();
            EXPECT_THROW(co_await first, weft::cancelled_error);
            co_await weft::sleep(1s);
            EXPECT_TRUE(second.done()); // it got the notification the first gave up
            if (!second.done()) {
                co_await guard.acquire();
                changed.notify(1);
                guard.unlock();
            }
            co_await second;
            EXPECT_FALSE(guard.locked());
        }(),
        one_virtual_worker);
}

// A condition made without a lock has its own: lock(), try_lock(), unlock() and locked()
// act on it, and wait() and notify() require it as they require a given one.
TEST(Condition, WithoutALockItOwnsOne) {
    weft::run(
        []() -> weft::coro<> {
            weft::condition changed;
            EXPECT_FALSE(changed.locked());
            EXPECT_THROW(changed.notify(), weft::invalid_state_error);
            EXPECT_THROW(co_await changed.wait(), weft::invalid_state_error);
            EXPECT_THROW(changed.unlock(), weft::invalid_state_error);
            co_await changed.lock();
            EXPECT_TRUE(changed.locked());
            EXPECT_FALSE(changed.try_lock());
            changed.unlock();
            EXPECT_TRUE(changed.try_lock());
            changed.unlock();

            bool ready = false;
            weft::task<> waiter =
                weft::create_task([](weft::condition& changed, bool& ready) -> weft::coro<> {
                    co_await changed.acquire();
                    co_await changed.wait_for([&ready] { return ready; });
                    EXPECT_TRUE(changed.locked());
                    changed.unlock();
                }(changed, ready));
            co_await weft::sleep(1s);
            EXPECT_FALSE(changed.locked()); // the waiter released it while waiting
            {
                auto held = co_await changed.scoped();
                ready = true;
                changed.notify_all();
            }
            co_await waiter;
            EXPECT_FALSE(changed.locked());
        }(),
        one_virtual_worker);
}

// Two conditions made without a lock do not share one.
TEST(Condition, OwnedLocksAreSeparate) {
    weft::run(
        []() -> weft::coro<> {
            weft::condition first;
            weft::condition second;
            co_await first.lock();
            EXPECT_FALSE(second.locked());
            EXPECT_TRUE(second.try_lock());
            first.unlock();
            second.unlock();
        }(),
        one_virtual_worker);
}

} // namespace
