// Tests weft::wait_for, weft::timeout and weft::timeout_at (include/weft/timeout.hpp): work
// that ends in time, work cancelled at its deadline and awaited to its end, work that
// swallows the cancellation, tasks and futures under a deadline, one deadline over several
// awaits, deadlines moved while running, cancellation of the awaiting task, and races of
// deadlines against work in real time. Timing is checked in virtual time.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::one_virtual_worker;
using weft::testing::timers_pending;
using weft::testing::two_virtual_workers;
using weft::testing::value_after;

// Sleeps `delay`; if cancelled, spends `cleanup` (virtual) time cleaning up, then rethrows.
weft::coro<int> slow_to_stop(std::chrono::nanoseconds delay, std::chrono::nanoseconds cleanup,
                             std::atomic<int>& cleaned) {
    bool cancelled = false;
    try {
        co_await weft::sleep(delay);
    } catch (const weft::cancelled_error&) {
        cancelled = true;
    }
    if (cancelled) {
        co_await weft::sleep(cleanup);
        cleaned.fetch_add(1);
        throw weft::cancelled_error();
    }
    co_return 1;
}

TEST(WaitFor, WorkThatEndsInTimeGivesItsValue) {
    weft::run(
        []() -> weft::coro<> {
            const weft::clock::time_point start = weft::clock::now();
            EXPECT_EQ(co_await weft::wait_for(value_after(2s, 7), 5s), 7);
            EXPECT_EQ(weft::clock::now() - start, 2s);
            EXPECT_EQ(timers_pending(), 0u); // the watchdog's timer is gone
        }(),
        one_virtual_worker);
}

TEST(WaitFor, LateWorkIsCancelledAndAwaitedBeforeTimeoutError) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> cleaned{0};
            const weft::clock::time_point start = weft::clock::now();
            EXPECT_THROW(co_await weft::wait_for(slow_to_stop(10s, 2s, cleaned), 1s),
                         weft::timeout_error);
            EXPECT_EQ(cleaned.load(), 1);
            EXPECT_EQ(weft::clock::now() - start, 3s); // 1 s deadline + 2 s of cleanup
            EXPECT_EQ(timers_pending(), 0u);
        }(),
        two_virtual_workers);
}

TEST(WaitFor, TimeoutErrorSaysWhatHappened) {
    weft::run(
        []() -> weft::coro<> {
            try {
                co_await weft::wait_for(weft::sleep(1h), 1ms);
                ADD_FAILURE() << "no timeout";
            } catch (const weft::timeout_error& error) {
                EXPECT_NE(std::string(error.what()).find("weft::wait_for"), std::string::npos);
                EXPECT_NE(std::string(error.what()).find("deadline"), std::string::npos);
            }
        }(),
        one_virtual_worker);
}

TEST(WaitFor, WorkThatSwallowsTheCancellationGivesWhatItReturns) {
    const int result = weft::run(
        []() -> weft::coro<int> {
            co_return co_await weft::wait_for(
                []() -> weft::coro<int> {
                    try {
                        co_await weft::sleep(1h);
                    } catch (const weft::cancelled_error&) {
                        co_return -1;
                    }
                    co_return 1;
                }(),
                1s);
        }(),
        one_virtual_worker);
    EXPECT_EQ(result, -1);
}

TEST(WaitFor, OwnErrorsOfTheWorkPassThrough) {
    weft::run(
        []() -> weft::coro<> {
            EXPECT_THROW(co_await weft::wait_for(
                             []() -> weft::coro<> {
                                 co_await weft::sleep(1s);
                                 throw std::out_of_range("boom");
                             }(),
                             5s),
                         std::out_of_range);
        }(),
        one_virtual_worker);
}

TEST(WaitFor, ATaskIsCancelledAtTheDeadline) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<int> t = weft::create_task(value_after(1h, 3));
            EXPECT_THROW(co_await weft::wait_for(t, 1s), weft::timeout_error);
            EXPECT_TRUE(t.done());
            EXPECT_TRUE(t.cancelled());

            weft::task<int> quick = weft::create_task(value_after(1s, 4));
            EXPECT_EQ(co_await weft::wait_for(quick, 1h), 4);
        }(),
        two_virtual_workers);
}

TEST(WaitFor, AFutureTimesOutAndStaysPending) {
    weft::run(
        []() -> weft::coro<> {
            weft::future<int> f;
            EXPECT_THROW(co_await weft::wait_for(f, 1s), weft::timeout_error);
            EXPECT_FALSE(f.done());
            f.set_result(2);
            EXPECT_EQ(co_await weft::wait_for(f, 1s), 2);
        }(),
        one_virtual_worker);
}

TEST(WaitFor, CancellingTheAwaiterCancelsTheWorkAndThrowsCancelledError) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> cleaned{0};
            weft::task<int> outer =
                weft::create_task([](std::atomic<int>& cleaned) -> weft::coro<int> {
                    co_return co_await weft::wait_for(slow_to_stop(1h, 1s, cleaned), 2h);
                }(cleaned));
            co_await weft::sleep(1s);
            outer.cancel();
            EXPECT_THROW(co_await outer, weft::cancelled_error);
            EXPECT_EQ(cleaned.load(), 1);
            EXPECT_EQ(timers_pending(), 0u);
        }(),
        two_virtual_workers);
}

// The bug class asyncio 3.11 fixed with cancelling()/uncancel(): a timeout whose deadline
// fires as the awaiting task is cancelled from outside must end in that cancellation, not
// in a timeout_error that swallows it. Both orders of the two at the same instant, and the
// outer cancellation arriving while the work still cleans up after the deadline.
weft::coro<> cancel_at(std::chrono::nanoseconds when, const weft::task<>& target) {
    co_await weft::sleep(when);
    target.cancel("from outside");
}

weft::coro<> under_timeout(std::chrono::nanoseconds limit, std::chrono::nanoseconds cleanup,
                           std::atomic<int>& cleaned) {
    co_await weft::timeout(limit,
                           [&]() -> weft::coro<> { co_await slow_to_stop(1h, cleanup, cleaned); });
}

TEST(Timeout, AnOuterCancellationAtTheDeadlineIsNotSwallowed) {
    for (const bool canceller_first : {true, false}) {
        for (const std::chrono::milliseconds cancel_after :
             {10000ms, 10500ms}) { // at the deadline, in cleanup
            weft::run(
                [](bool canceller_first, std::chrono::nanoseconds cancel_after) -> weft::coro<> {
                    std::atomic<int> cleaned{0};
                    weft::task<> victim;
                    weft::task<> canceller;
                    if (canceller_first) {
                        canceller = weft::create_task(cancel_at(cancel_after, victim));
                        co_await weft::sleep(0s); // its timer goes in first
                        victim = weft::create_task(under_timeout(10s, 1s, cleaned));
                    } else {
                        victim = weft::create_task(under_timeout(10s, 1s, cleaned));
                        co_await weft::sleep(0s);
                        canceller = weft::create_task(cancel_at(cancel_after, victim));
                    }
                    try {
                        co_await victim;
                        ADD_FAILURE() << "the task was not cancelled";
                    } catch (const weft::cancelled_error& error) {
                        EXPECT_EQ(error.message(), "from outside");
                    } catch (const weft::timeout_error&) {
                        ADD_FAILURE() << "the timeout swallowed the outer cancellation";
                    }
                    EXPECT_TRUE(victim.cancelled());
                    EXPECT_EQ(victim.cancelling(), 1u);
                    co_await canceller;
                }(canceller_first, cancel_after),
                one_virtual_worker);
        }
    }
}

// An outer cancellation that comes just after the timeout ended in timeout_error is not
// lost either: the task's next suspension point delivers it.
TEST(Timeout, AnOuterCancellationJustAfterTheTimeoutIsDeliveredNext) {
    weft::run(
        []() -> weft::coro<> {
            bool timed_out = false;
            bool went_on = false;
            weft::task<> victim;
            victim = weft::create_task([](const weft::task<>& self, bool& timed_out,
                                          bool& went_on) -> weft::coro<> {
                try {
                    co_await weft::timeout(10s, []() -> weft::coro<> { co_await weft::sleep(1h); });
                } catch (const weft::timeout_error&) {
                    timed_out = true;
                }
                self.cancel("right after"); // as if from outside, before the next await
                co_await weft::sleep(1s);
                went_on = true;
            }(victim, timed_out, went_on));
            EXPECT_EQ(
                co_await [](const weft::task<>& t) -> weft::coro<std::string> {
                    try {
                        co_await t;
                    } catch (const weft::cancelled_error& error) {
                        co_return std::string(error.message());
                    }
                    co_return std::string("not cancelled");
                }(victim),
                "right after");
            EXPECT_TRUE(timed_out);
            EXPECT_FALSE(went_on);
        }(),
        one_virtual_worker);
}

TEST(WaitFor, AwaitingAnEmptyCoroOrTwiceIsAnError) {
    weft::run(
        []() -> weft::coro<> {
            weft::coro<int> used = value_after(1s, 1);
            co_await std::move(used);
            EXPECT_THROW(co_await weft::wait_for(std::move(used), 1s), weft::invalid_state_error);
            auto twice = weft::wait_for(value_after(1s, 1), 5s);
            EXPECT_EQ(co_await twice, 1);
            EXPECT_THROW(co_await twice, weft::invalid_state_error);
        }(),
        one_virtual_worker);
}

// Counts its starts and yields `value` without suspending.
weft::coro<int> counted(int& starts, int value) {
    ++starts;
    co_return value;
}

TEST(WaitFor, ZeroOrNegativeLimitNeverStartsACoro) {
    weft::run(
        []() -> weft::coro<> {
            int starts = 0;
            EXPECT_THROW(co_await weft::wait_for(counted(starts, 1), 0s), weft::timeout_error);
            EXPECT_THROW(co_await weft::wait_for(counted(starts, 1), -1s), weft::timeout_error);
            EXPECT_THROW(co_await weft::wait_for(counted(starts, 1), std::chrono::hours::min() / 2),
                         weft::timeout_error);
            EXPECT_THROW(
                co_await weft::wait_for(counted(starts, 1), std::chrono::duration<double>(-1e30)),
                weft::timeout_error);
            EXPECT_EQ(starts, 0);
            EXPECT_EQ(weft::clock::now().time_since_epoch(), 0ns);
            EXPECT_EQ(timers_pending(), 0u);
        }(),
        one_virtual_worker);
}

TEST(WaitFor, ZeroLimitGivesWhatIsDoneAndCancelsWhatIsNot) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<int> finished = weft::create_task(value_after(0s, 4));
            co_await weft::sleep(1s);
            EXPECT_EQ(co_await weft::wait_for(finished, 0s), 4);

            std::atomic<int> cleaned{0};
            weft::task<int> running = weft::create_task(slow_to_stop(1h, 2s, cleaned));
            co_await weft::sleep(0s); // it starts and sleeps
            const weft::clock::time_point start = weft::clock::now();
            EXPECT_THROW(co_await weft::wait_for(running, 0s), weft::timeout_error);
            EXPECT_TRUE(running.cancelled());
            EXPECT_EQ(cleaned.load(), 1);
            EXPECT_EQ(weft::clock::now() - start, 2s); // awaited through its cleanup

            weft::future<int> set;
            set.set_result(5);
            EXPECT_EQ(co_await weft::wait_for(set, 0s), 5);
            weft::future<int> unset;
            EXPECT_THROW(co_await weft::wait_for(unset, -1ns), weft::timeout_error);
            EXPECT_FALSE(unset.done());
            EXPECT_EQ(timers_pending(), 0u);
        }(),
        one_virtual_worker);
}

TEST(WaitFor, LimitsBeyondTheClocksRangeNeverExpire) {
    weft::run(
        []() -> weft::coro<> {
            EXPECT_EQ(co_await weft::wait_for(value_after(1h, 1), std::chrono::hours::max()), 1);
            EXPECT_EQ(co_await weft::wait_for(value_after(1h, 2), std::chrono::seconds::max()), 2);
            EXPECT_EQ(co_await weft::wait_for(value_after(1h, 3), std::chrono::years(1000)), 3);
            EXPECT_EQ(
                co_await weft::wait_for(value_after(1h, 4), std::chrono::duration<double>(1e30)),
                4);
            EXPECT_EQ(weft::clock::now().time_since_epoch(), 4h);
            EXPECT_EQ(timers_pending(), 0u);
        }(),
        one_virtual_worker);
}

TEST(WaitFor, NaNLimitIsAnInvalidArgument) {
    const std::chrono::duration<double> nan(std::numeric_limits<double>::quiet_NaN());
    try {
        (void)weft::wait_for(value_after(1s, 1), nan);
        ADD_FAILURE() << "a NaN limit was accepted";
    } catch (const weft::invalid_argument& error) {
        EXPECT_NE(std::string(error.what()).find("weft::wait_for"), std::string::npos);
        EXPECT_NE(std::string(error.what()).find("NaN"), std::string::npos);
    }
    const auto body = []() -> weft::coro<> { co_return; };
    EXPECT_THROW((void)weft::timeout(nan, body), weft::invalid_argument);
}

TEST(Timeout, OneDeadlineCoversSeveralAwaits) {
    weft::run(
        []() -> weft::coro<> {
            int steps = 0;
            const weft::clock::time_point start = weft::clock::now();
            EXPECT_THROW(co_await weft::timeout(2500ms,
                                                [&]() -> weft::coro<> {
                                                    for (int i = 0; i < 3; ++i) {
                                                        co_await weft::sleep(1s);
                                                        ++steps;
                                                    }
                                                }),
                         weft::timeout_error);
            EXPECT_EQ(steps, 2);
            EXPECT_EQ(weft::clock::now() - start, 2500ms);
        }(),
        one_virtual_worker);
}

TEST(Timeout, RescheduledLaterTheBodyFinishes) {
    weft::run(
        []() -> weft::coro<> {
            const weft::clock::time_point start = weft::clock::now();
            const int value =
                co_await weft::timeout(2s, [&](weft::timeout_scope& scope) -> weft::coro<int> {
                    co_await weft::sleep(1s);
                    scope.reschedule(weft::clock::now() + 5s);
                    EXPECT_EQ(scope.when(), start + 6s);
                    co_await weft::sleep(3s);
                    EXPECT_FALSE(scope.expired());
                    co_return 9;
                });
            EXPECT_EQ(value, 9);
            EXPECT_EQ(weft::clock::now() - start, 4s);
        }(),
        one_virtual_worker);
}

TEST(Timeout, RescheduledEarlierItExpiresEarlier) {
    weft::run(
        []() -> weft::coro<> {
            const weft::clock::time_point start = weft::clock::now();
            bool saw_expired = false;
            EXPECT_THROW(co_await weft::timeout(1h,
                                                [&](weft::timeout_scope& scope) -> weft::coro<> {
                                                    scope.reschedule(start + 2s);
                                                    try {
                                                        co_await weft::sleep(10s);
                                                    } catch (const weft::cancelled_error&) {
                                                        saw_expired = scope.expired();
                                                        throw;
                                                    }
                                                }),
                         weft::timeout_error);
            EXPECT_TRUE(saw_expired);
            EXPECT_EQ(weft::clock::now() - start, 2s);
        }(),
        two_virtual_workers);
}

TEST(Timeout, RescheduledToNeverItNeverExpires) {
    weft::run(
        []() -> weft::coro<> {
            const int value =
                co_await weft::timeout(1s, [](weft::timeout_scope& scope) -> weft::coro<int> {
                    scope.reschedule(weft::clock::time_point::max());
                    co_await weft::sleep(24h);
                    co_return 5;
                });
            EXPECT_EQ(value, 5);
            EXPECT_EQ(timers_pending(), 0u);
        }(),
        one_virtual_worker);
}

TEST(Timeout, DeadlineAlreadyPassedCancelsAtTheFirstSuspension) {
    weft::run(
        []() -> weft::coro<> {
            co_await weft::sleep(5s);
            int reached = 0;
            EXPECT_THROW(co_await weft::timeout_at(weft::clock::now() - 1s,
                                                   [&]() -> weft::coro<> {
                                                       ++reached;
                                                       co_await weft::sleep(1s);
                                                       ++reached;
                                                   }),
                         weft::timeout_error);
            EXPECT_EQ(reached, 1);
        }(),
        one_virtual_worker);
}

TEST(Timeout, ZeroOrPastDeadlineExpiresAtTheBodysFirstYield) {
    weft::run(
        []() -> weft::coro<> {
            co_await weft::sleep(5s);
            int reached = 0;
            const auto yields = [&]() -> weft::coro<int> {
                ++reached;
                co_await weft::sleep(0s);
                ++reached;
                co_await weft::sleep(0s);
                ++reached;
                co_return 1;
            };
            EXPECT_THROW(co_await weft::timeout(0s, yields), weft::timeout_error);
            EXPECT_THROW(co_await weft::timeout(-1s, yields), weft::timeout_error);
            EXPECT_THROW(co_await weft::timeout(std::chrono::hours::min(), yields),
                         weft::timeout_error);
            EXPECT_THROW(co_await weft::timeout_at(weft::clock::now(), yields),
                         weft::timeout_error);
            EXPECT_THROW(co_await weft::timeout_at(weft::clock::now() - 1s, yields),
                         weft::timeout_error);
            EXPECT_EQ(reached, 5);
            // A body that never suspends is never interrupted, as in asyncio.
            const auto at_once = []() -> weft::coro<int> { co_return 7; };
            EXPECT_EQ(co_await weft::timeout(0s, at_once), 7);
            EXPECT_EQ(weft::clock::now().time_since_epoch(), 5s);
            EXPECT_EQ(timers_pending(), 0u);
        }(),
        one_virtual_worker);
}

TEST(Timeout, LimitsBeyondTheClocksRangeNeverExpire) {
    weft::run(
        []() -> weft::coro<> {
            const auto body = []() -> weft::coro<int> {
                co_await weft::sleep(1h);
                co_return 5;
            };
            EXPECT_EQ(co_await weft::timeout(std::chrono::hours::max(), body), 5);
            EXPECT_EQ(co_await weft::timeout(std::chrono::duration<double>(1e30), body), 5);
            EXPECT_EQ(co_await weft::timeout(std::chrono::years(1000), body), 5);
            EXPECT_EQ(weft::clock::now().time_since_epoch(), 3h);
            EXPECT_EQ(timers_pending(), 0u);
        }(),
        one_virtual_worker);
}

TEST(Timeout, ManyInARowLeaveNoTimerBehind) {
    weft::run(
        []() -> weft::coro<> {
            for (int i = 0; i < 2'000; ++i) {
                EXPECT_EQ(co_await weft::wait_for(value_after(1ms, i), 1s), i);
            }
            EXPECT_EQ(timers_pending(), 0u);
        }(),
        two_virtual_workers);
}

// Deadlines racing work in real time on two workers: each wait ends exactly once, with the
// value or with timeout_error, and the cancelled work always ended before it did.
TEST(TimeoutRace, DeadlinesAgainstWorkEndEachWaitOnce) {
    std::atomic<int> values{0};
    std::atomic<int> timeouts{0};
    std::atomic<int> work_running{0};
    weft::run(
        [](std::atomic<int>& values, std::atomic<int>& timeouts,
           std::atomic<int>& running) -> weft::coro<> {
            std::minstd_rand random(3);
            std::vector<weft::task<>> waits;
            for (int i = 0; i < 2'000; ++i) {
                const auto work_for = std::chrono::microseconds(random() % 200);
                const auto limit = std::chrono::microseconds(random() % 200);
                waits.push_back(weft::create_task(
                    [](std::chrono::microseconds work_for, std::chrono::microseconds limit,
                       std::atomic<int>& values, std::atomic<int>& timeouts,
                       std::atomic<int>& running) -> weft::coro<> {
                        try {
                            co_await weft::wait_for(
                                [](std::chrono::microseconds d,
                                   std::atomic<int>& running) -> weft::coro<> {
                                    running.fetch_add(1);
                                    bool cancelled = false;
                                    try {
                                        co_await weft::sleep(d);
                                    } catch (const weft::cancelled_error&) {
                                        cancelled = true;
                                    }
                                    running.fetch_sub(1);
                                    if (cancelled) {
                                        throw weft::cancelled_error();
                                    }
                                }(work_for, running),
                                limit);
                            values.fetch_add(1);
                        } catch (const weft::timeout_error&) {
                            timeouts.fetch_add(1);
                        }
                    }(work_for, limit, values, timeouts, running)));
            }
            for (weft::task<>& each : waits) {
                co_await each;
            }
            EXPECT_EQ(running.load(), 0);
        }(values, timeouts, work_running),
        weft::run_options{.workers = 2});
    EXPECT_EQ(values.load() + timeouts.load(), 2'000);
}

} // namespace
