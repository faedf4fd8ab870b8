// Tests weft::sleep, weft::sleep_until and weft::clock (runtime/time/sleep.cpp and the timer
// handling of runtime/scheduler/worker.cpp): wake order and equal-deadline FIFO, sleep(0) fairness,
// virtual time, very long and very short deadlines, many concurrent sleeps, parking
// instead of spinning, shutdown with sleepers pending, and the asyncio tutorial's
// examples in virtual time.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "examples/asyncio_tutorial.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::one_virtual_worker;
using weft::testing::two_virtual_workers;

weft::coro<> record_after(std::chrono::milliseconds delay, std::vector<int>& order, int id) {
    co_await weft::sleep(delay);
    order.push_back(id);
}

TEST(Sleep, EarlierDeadlinesWakeFirst) {
    const std::vector<int> order = weft::run(
        []() -> weft::coro<std::vector<int>> {
            std::vector<int> seen;
            co_await weft::gather(record_after(30ms, seen, 3), record_after(10ms, seen, 1),
                                  record_after(20ms, seen, 2));
            co_return seen;
        }(),
        one_virtual_worker);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(Sleep, EqualDeadlinesWakeInTheOrderTheyWereSet) {
    const std::vector<int> order = weft::run(
        []() -> weft::coro<std::vector<int>> {
            std::vector<int> seen;
            const weft::clock::time_point at = weft::clock::now() + 5s;
            std::vector<weft::task<>> sleepers;
            for (int id = 0; id < 6; ++id) {
                sleepers.push_back(
                    weft::create_task([](weft::clock::time_point when, std::vector<int>& out,
                                         int me) -> weft::coro<> {
                        co_await weft::sleep_until(when);
                        out.push_back(me);
                    }(at, seen, id)));
            }
            for (weft::task<>& each : sleepers) {
                co_await each;
            }
            co_return seen;
        }(),
        one_virtual_worker);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

TEST(Sleep, SleepZeroYieldsSoTwoLoopsAlternate) {
    const std::string trace = weft::run(
        []() -> weft::coro<std::string> {
            std::string out;
            auto loop = [](std::string& log, char mark) -> weft::coro<> {
                for (int i = 0; i < 4; ++i) {
                    log += mark;
                    co_await weft::sleep(0s);
                }
            };
            weft::task<> x = weft::create_task(loop(out, 'x'));
            weft::task<> y = weft::create_task(loop(out, 'y'));
            co_await x;
            co_await y;
            co_return out;
        }(),
        weft::run_options{.workers = 1});
    EXPECT_EQ(trace, "xyxyxyxy");
}

TEST(Sleep, NegativeDurationAndPastDeadlineYield) {
    weft::run(
        []() -> weft::coro<> {
            const weft::clock::time_point before = weft::clock::now();
            co_await weft::sleep(-5s);
            co_await weft::sleep_until(before - 1s);
            EXPECT_EQ(weft::clock::now(), before);
        }(),
        one_virtual_worker);
}

TEST(Sleep, VirtualTimeStartsAtZeroAndJumpsExactly) {
    const auto real_start = std::chrono::steady_clock::now();
    weft::run(
        []() -> weft::coro<> {
            EXPECT_EQ(weft::clock::now().time_since_epoch(), 0ns);
            co_await weft::sleep(10s);
            EXPECT_EQ(weft::clock::now().time_since_epoch(), 10s);
            co_await weft::sleep(250ms);
            EXPECT_EQ(weft::clock::now().time_since_epoch(), 10250ms);
        }(),
        two_virtual_workers);
    EXPECT_LT(std::chrono::steady_clock::now() - real_start, 5s) << "virtual sleeps took real time";
}

TEST(Sleep, VeryLongAndVeryShortDeadlines) {
    weft::run(
        []() -> weft::coro<> {
            constexpr auto years = std::chrono::hours(24 * 365 * 200);
            co_await weft::sleep(years);
            EXPECT_EQ(weft::clock::now().time_since_epoch(), years);
            co_await weft::sleep(1ns);
            EXPECT_EQ(weft::clock::now().time_since_epoch(), years + 1ns);
        }(),
        one_virtual_worker);
}

template <class Rep, class Period>
weft::coro<> sleep_for(std::chrono::duration<Rep, Period> amount) {
    co_await weft::sleep(amount);
}

weft::coro<> sleep_until_end_of_time() {
    co_await weft::sleep_until(weft::clock::time_point::max());
}

// Cancels `sleepers` from a thread outside the runtime once `delay` of real time has
// passed: what ends a sleep that never fires, when virtual time has nowhere to jump.
std::jthread cancel_later(std::vector<weft::task<>> sleepers, std::chrono::milliseconds delay) {
    return std::jthread([sleepers = std::move(sleepers), delay] {
        std::this_thread::sleep_for(delay);
        for (const weft::task<>& each : sleepers) {
            each.cancel();
        }
    });
}

TEST(Sleep, AmountsBeyondTheClocksRangeSleepUntilCancelled) {
    weft::run(
        []() -> weft::coro<> {
            std::vector<weft::task<>> sleepers;
            sleepers.push_back(weft::create_task(sleep_for(std::chrono::hours::max())));
            sleepers.push_back(weft::create_task(sleep_for(std::chrono::seconds::max())));
            sleepers.push_back(weft::create_task(sleep_for(std::chrono::years(1000))));
            sleepers.push_back(weft::create_task(sleep_for(std::chrono::duration<double>(1e30))));
            sleepers.push_back(weft::create_task(sleep_for(std::chrono::nanoseconds::max())));
            sleepers.push_back(weft::create_task(
                sleep_for(std::chrono::duration<double>(std::numeric_limits<double>::infinity()))));
            co_await weft::sleep(std::chrono::years(200)); // near the end of the clock's range
            EXPECT_EQ(weft::clock::now().time_since_epoch(), std::chrono::years(200));
            for (weft::task<>& each : sleepers) {
                EXPECT_FALSE(each.done());
                each.cancel();
                EXPECT_THROW(co_await each, weft::cancelled_error);
            }
            EXPECT_EQ(weft::testing::timers_pending(), 0u);
        }(),
        one_virtual_worker);
}

TEST(Sleep, AmountsBelowTheClocksRangeYield) {
    weft::run(
        []() -> weft::coro<> {
            co_await weft::sleep(1s);
            co_await weft::sleep(std::chrono::hours::min() / 2);
            co_await weft::sleep(std::chrono::hours::min());
            co_await weft::sleep(std::chrono::nanoseconds::min());
            co_await weft::sleep(std::chrono::duration<double>(-1e30));
            co_await weft::sleep(
                std::chrono::duration<double>(-std::numeric_limits<double>::infinity()));
            co_await weft::sleep_until(weft::clock::time_point::min());
            EXPECT_EQ(weft::clock::now().time_since_epoch(), 1s);
        }(),
        one_virtual_worker);
}

TEST(Sleep, NaNDurationIsAnInvalidArgument) {
    const std::chrono::duration<double> nan(std::numeric_limits<double>::quiet_NaN());
    try {
        (void)weft::sleep(nan);
        ADD_FAILURE() << "a NaN duration was accepted";
    } catch (const weft::invalid_argument& error) {
        EXPECT_NE(std::string(error.what()).find("weft::sleep"), std::string::npos);
        EXPECT_NE(std::string(error.what()).find("NaN"), std::string::npos);
    }
}

TEST(Sleep, VirtualClockReachesTheEndOfItsRangeAndStaysThere) {
    weft::run(
        []() -> weft::coro<> {
            constexpr weft::clock::time_point end = weft::clock::time_point::max();
            co_await weft::sleep_until(end - 1s);
            EXPECT_EQ(weft::clock::now(), end - 1s);
            co_await weft::sleep(999'999'999ns);
            EXPECT_EQ(weft::clock::now(), end - 1ns);
            // Every deadline from here saturates at the end of the range, which never comes.
            weft::task<> past_the_end = weft::create_task(sleep_for(2s));
            weft::task<> at_the_end = weft::create_task(sleep_until_end_of_time());
            const std::jthread canceller = cancel_later({past_the_end, at_the_end}, 50ms);
            EXPECT_THROW(co_await past_the_end, weft::cancelled_error);
            EXPECT_THROW(co_await at_the_end, weft::cancelled_error);
            EXPECT_EQ(weft::clock::now(), end - 1ns);
            co_await weft::sleep(0s);
            EXPECT_EQ(weft::clock::now(), end - 1ns);
        }(),
        one_virtual_worker);
}

TEST(Sleep, SleepUntilTheEndOfTimeNeverFires) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<> sleeper = weft::create_task(sleep_until_end_of_time());
            const std::jthread canceller = cancel_later({sleeper}, 50ms);
            EXPECT_THROW(co_await sleeper, weft::cancelled_error);
            EXPECT_EQ(weft::clock::now().time_since_epoch(), 0ns);
        }(),
        two_virtual_workers);
}

TEST(Sleep, RealTimeSleepIsNeverEarly) {
    weft::run(
        []() -> weft::coro<> {
            for (std::chrono::microseconds delay : {1000us, 3000us, 200us}) {
                const auto start = std::chrono::steady_clock::now();
                co_await weft::sleep(delay);
                EXPECT_GE(std::chrono::steady_clock::now() - start, delay);
            }
        }(),
        weft::run_options{.workers = 2});
}

// Each sleeper checks it did not wake early and records the order it woke in.
weft::coro<> sleep_and_check(std::chrono::nanoseconds delay, std::atomic<int>& early,
                             std::atomic<int>& woken) {
    const weft::clock::time_point deadline = weft::clock::now() + delay;
    co_await weft::sleep_until(deadline);
    if (weft::clock::now() < deadline) {
        early.fetch_add(1);
    }
    woken.fetch_add(1);
}

TEST(Sleep, HundredThousandConcurrentSleepsAllWakeNoneEarly) {
    for (const bool virtual_time : {true, false}) {
        std::atomic<int> early{0};
        std::atomic<int> woken{0};
        weft::run(
            [](std::atomic<int>& e, std::atomic<int>& w) -> weft::coro<> {
                std::mt19937_64 random(7);
                std::uniform_int_distribution<long> millis(1, 50);
                std::vector<weft::coro<>> sleepers;
                for (int i = 0; i < 100'000; ++i) {
                    sleepers.push_back(
                        sleep_and_check(std::chrono::milliseconds(millis(random)), e, w));
                }
                co_await weft::gather(std::move(sleepers));
            }(early, woken),
            weft::run_options{.workers = 2, .virtual_time = virtual_time});
        EXPECT_EQ(woken.load(), 100'000) << (virtual_time ? "virtual" : "real") << " time";
        EXPECT_EQ(early.load(), 0) << (virtual_time ? "virtual" : "real") << " time";
    }
}

TEST(Sleep, OneWorkerWakesManySleepersInDeadlineOrder) {
    const bool ordered = weft::run(
        []() -> weft::coro<bool> {
            std::mt19937_64 random(11);
            std::uniform_int_distribution<long> micros(1, 1'000'000);
            std::vector<std::int64_t> woke_at;
            std::vector<weft::coro<>> sleepers;
            for (int i = 0; i < 20'000; ++i) {
                sleepers.push_back([](std::chrono::microseconds d,
                                      std::vector<std::int64_t>& out) -> weft::coro<> {
                    co_await weft::sleep(d);
                    out.push_back(weft::clock::now().time_since_epoch().count());
                }(std::chrono::microseconds(micros(random)), woke_at));
            }
            co_await weft::gather(std::move(sleepers));
            co_return std::is_sorted(woke_at.begin(), woke_at.end()) && woke_at.size() == 20'000;
        }(),
        one_virtual_worker);
    EXPECT_TRUE(ordered);
}

TEST(Sleep, SleepersResumeOnWhicheverWorkerIsFree) {
    std::atomic<int> woken{0};
    weft::run(
        [](std::atomic<int>& count) -> weft::coro<> {
            std::vector<weft::coro<>> sleepers;
            for (int i = 0; i < 64; ++i) {
                sleepers.push_back([](std::atomic<int>& c) -> weft::coro<> {
                    for (int round = 0; round < 20; ++round) {
                        co_await weft::sleep(200us);
                        const auto until = std::chrono::steady_clock::now() + 20us;
                        while (std::chrono::steady_clock::now() < until) {
                        }
                    }
                    c.fetch_add(1);
                }(count));
            }
            co_await weft::gather(std::move(sleepers));
        }(woken),
        weft::run_options{.workers = 2});
    EXPECT_EQ(woken.load(), 64);
}

TEST(Sleep, PendingTimerParksInsteadOfSpinning) {
    const double before = weft::testing::cpu_seconds();
    weft::run([]() -> weft::coro<> { co_await weft::sleep(500ms); }(),
              weft::run_options{.workers = 2});
    const double used = weft::testing::cpu_seconds() - before;
    EXPECT_LT(used, 0.05) << "a runtime waiting for one timer used " << used << " s of CPU";
}

// Main ends only once every task has started: on two workers a task the other worker stole
// may not have started after any fixed sleep, and the shutdown would then cancel it before
// its first step, so that its body (and its catch) never runs.
TEST(Sleep, ShutdownCancelsSleepingTasksAtOnce) {
    std::atomic<int> destroyed{0};
    std::atomic<int> started{0};
    std::atomic<int> cancelled{0};
    const auto real_start = std::chrono::steady_clock::now();
    weft::run(
        [](std::atomic<int>& count, std::atomic<int>& started,
           std::atomic<int>& cancelled) -> weft::coro<> {
            for (int i = 0; i < 100; ++i) {
                weft::create_task([](weft::testing::destruction_counter, std::atomic<int>& started,
                                     std::atomic<int>& cancelled) -> weft::coro<> {
                    started.fetch_add(1);
                    try {
                        co_await weft::sleep(1h);
                    } catch (const weft::cancelled_error&) {
                        cancelled.fetch_add(1);
                        throw;
                    }
                }(weft::testing::destruction_counter(count), started, cancelled));
            }
            while (started.load() < 100) {
                co_await weft::sleep(1ms);
            }
        }(destroyed, started, cancelled),
        weft::run_options{.workers = 2});
    EXPECT_EQ(cancelled.load(), 100);
    EXPECT_EQ(destroyed.load(), 100);
    EXPECT_LT(std::chrono::steady_clock::now() - real_start, 30s); // not the hour, nor the grace
}

TEST(AsyncioTutorial, SleepyPrintsTwentyThenTen) {
    std::ostringstream out;
    tutorial::line_printer printer(out);
    weft::run(tutorial::sleepy_coro(printer), one_virtual_worker);
    weft::run(tutorial::sleepy_task(printer), two_virtual_workers);
    EXPECT_EQ(out.str(), "coro: 20\ntask: 10\n");
}

TEST(AsyncioTutorial, FactorialOnOneWorkerPrintsAsyncioLines) {
    std::ostringstream out;
    tutorial::line_printer printer(out);
    const std::vector<long> results =
        weft::run(tutorial::gather_factorials(printer), one_virtual_worker);
    EXPECT_EQ(results, (std::vector<long>{2, 6, 24}));
    EXPECT_EQ(out.str(), "Task a: Calc fac(2)\n"
                         "Task b: Calc fac(2)\n"
                         "Task c: Calc fac(2)\n"
                         "Task a: fac(2) = 2\n"
                         "Task b: Calc fac(3)\n"
                         "Task c: Calc fac(3)\n"
                         "Task b: fac(3) = 6\n"
                         "Task c: Calc fac(4)\n"
                         "Task c: fac(4) = 24\n");
}

TEST(AsyncioTutorial, FactorialOnTwoWorkersKeepsEachTasksOrder) {
    std::ostringstream out;
    tutorial::line_printer printer(out);
    const std::vector<long> results =
        weft::run(tutorial::gather_factorials(printer), two_virtual_workers);
    EXPECT_EQ(results, (std::vector<long>{2, 6, 24}));
    std::vector<std::string> lines;
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    ASSERT_EQ(lines.size(), 9u);
    auto position = [&](const std::string& text) {
        return std::find(lines.begin(), lines.end(), text) - lines.begin();
    };
    EXPECT_LT(position("Task a: Calc fac(2)"), position("Task a: fac(2) = 2"));
    EXPECT_LT(position("Task b: Calc fac(2)"), position("Task b: Calc fac(3)"));
    EXPECT_LT(position("Task b: Calc fac(3)"), position("Task b: fac(3) = 6"));
    EXPECT_LT(position("Task c: Calc fac(2)"), position("Task c: Calc fac(3)"));
    EXPECT_LT(position("Task c: Calc fac(3)"), position("Task c: Calc fac(4)"));
    EXPECT_LT(position("Task c: Calc fac(4)"), position("Task c: fac(4) = 24"));
    std::vector<std::string> expected = {
        "Task a: Calc fac(2)", "Task b: Calc fac(2)", "Task c: Calc fac(2)",
        "Task a: fac(2) = 2",  "Task b: Calc fac(3)", "Task c: Calc fac(3)",
        "Task b: fac(3) = 6",  "Task c: Calc fac(4)", "Task c: fac(4) = 24"};
    std::sort(expected.begin(), expected.end());
    std::vector<std::string> sorted = lines;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, expected);
}

} // namespace
