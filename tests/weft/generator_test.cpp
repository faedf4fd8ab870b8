// Tests weft::generator (include/weft/generator.hpp): the pull model (nothing runs before
// next(), each step runs on the consumer's worker), awaits between yields, the end, an
// exception reaching the consumer, cancellation of the consumer reaching the generator's
// await, aclose() (cleanup that awaits, closing a never-started or finished generator,
// yielding from cleanup), misuse, and a generator dropped mid-iteration being closed in a
// task of its own.
#include <weft/generator.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::one_virtual_worker;
using weft::testing::two_virtual_workers;

weft::generator<int> count_to(int last, std::vector<std::string>& log) {
    for (int i = 1; i <= last; ++i) {
        log.push_back("produce " + std::to_string(i));
        co_yield i;
    }
    log.push_back("end");
}

TEST(Generator, RunsOnlyWhenAskedAndInOrder) {
    std::vector<std::string> log;
    weft::run([](std::vector<std::string>& log) -> weft::coro<> {
        auto gen = count_to(2, log);
        log.push_back("made");
        while (auto item = co_await gen.next()) {
            log.push_back("consume " + std::to_string(*item));
        }
        EXPECT_TRUE(gen.done());
        EXPECT_FALSE(co_await gen.next());
    }(log));
    EXPECT_EQ(log, (std::vector<std::string>{"made", "produce 1", "consume 1", "produce 2",
                                             "consume 2", "end"}));
}

weft::generator<std::thread::id> where_each_step_runs(int steps) {
    for (int i = 0; i < steps; ++i) {
        co_await weft::sleep(1ms);
        co_yield weft::testing::current_thread_id();
    }
}

TEST(Generator, EachStepRunsOnTheConsumersThread) {
    weft::run(
        []() -> weft::coro<> {
            auto gen = where_each_step_runs(20);
            while (auto producer_thread = co_await gen.next()) {
                EXPECT_EQ(*producer_thread, weft::testing::current_thread_id());
            }
        }(),
        two_virtual_workers);
}

weft::generator<std::chrono::nanoseconds> sleeps_between_yields() {
    const auto start = weft::clock::now();
    for (int i = 0; i < 3; ++i) {
        co_await weft::sleep(10ms);
        co_yield weft::clock::now() - start;
    }
}

TEST(Generator, AwaitsBetweenYields) {
    const auto elapsed = weft::run(
        []() -> weft::coro<std::vector<std::chrono::nanoseconds>> {
            std::vector<std::chrono::nanoseconds> seen;
            auto gen = sleeps_between_yields();
            while (auto at = co_await gen.next()) {
                seen.push_back(*at);
            }
            co_return seen;
        }(),
        two_virtual_workers);
    EXPECT_EQ(elapsed, (std::vector<std::chrono::nanoseconds>{10ms, 20ms, 30ms}));
}

weft::generator<int> fails_after(int good) {
    for (int i = 0; i < good; ++i) {
        co_yield i;
    }
    throw std::runtime_error("broken source");
}

TEST(Generator, AnExceptionReachesTheConsumerAndEndsTheGenerator) {
    weft::run([]() -> weft::coro<> {
        auto gen = fails_after(1);
        EXPECT_EQ(co_await gen.next(), 0);
        EXPECT_THROW(co_await gen.next(), std::runtime_error);
        EXPECT_TRUE(gen.done());
        EXPECT_FALSE(co_await gen.next());
    }());
}

weft::generator<int> waits_forever(std::atomic<bool>& saw_cancel) {
    co_yield 1;
    try {
        co_await weft::sleep(1h);
    } catch (const weft::cancelled_error&) {
        saw_cancel = true;
        throw;
    }
    co_yield 2;
}

TEST(Generator, CancellingTheConsumerCancelsTheGeneratorsAwait) {
    std::atomic<bool> saw_cancel{false};
    weft::run(
        [](std::atomic<bool>& saw_cancel) -> weft::coro<> {
            auto consumer = weft::create_task([](std::atomic<bool>& saw_cancel) -> weft::coro<int> {
                auto gen = waits_forever(saw_cancel);
                int sum = 0;
                while (auto item = co_await gen.next()) {
                    sum += *item;
                }
                co_return sum;
            }(saw_cancel));
            co_await weft::sleep(1s);
            consumer.cancel();
            EXPECT_THROW(co_await consumer, weft::cancelled_error);
            const auto after = weft::clock::now();
            EXPECT_LT(after.time_since_epoch(), 1h);
        }(saw_cancel),
        two_virtual_workers);
    EXPECT_TRUE(saw_cancel);
}

// C++ allows no co_await (nor co_yield) in a handler: cleanup that awaits runs after it.
weft::generator<int> cleans_up(std::vector<std::string>& log, bool yield_in_cleanup) {
    std::exception_ptr exit;
    try {
        co_yield 1;
        co_yield 2;
    } catch (const weft::generator_exit&) {
        log.push_back("exit seen");
        exit = std::current_exception();
    }
    if (exit && yield_in_cleanup) {
        co_yield 3;
    }
}

weft::generator<int> awaits_in_cleanup(weft::lock& held, std::vector<std::string>& log) {
    auto guard = co_await held.scoped();
    std::exception_ptr exit;
    try {
        co_yield 1;
    } catch (const weft::generator_exit&) {
        exit = std::current_exception();
    }
    co_await weft::sleep(5ms);
    log.push_back("cleaned after awaiting");
    std::rethrow_exception(exit);
}

TEST(Generator, AcloseRunsCleanupThatAwaits) {
    std::vector<std::string> log;
    weft::run(
        [](std::vector<std::string>& log) -> weft::coro<> {
            weft::lock held;
            auto gen = awaits_in_cleanup(held, log);
            EXPECT_EQ(co_await gen.next(), 1);
            EXPECT_TRUE(held.locked());
            co_await gen.aclose();
            EXPECT_FALSE(held.locked());
            EXPECT_TRUE(gen.done());
            EXPECT_FALSE(co_await gen.next());
            co_await gen.aclose(); // a finished generator: nothing to do
        }(log),
        two_virtual_workers);
    EXPECT_EQ(log, std::vector<std::string>{"cleaned after awaiting"});
}

TEST(Generator, ClosingANeverStartedGeneratorRunsNothing) {
    std::vector<std::string> log;
    weft::run([](std::vector<std::string>& log) -> weft::coro<> {
        auto gen = cleans_up(log, false);
        co_await gen.aclose();
        EXPECT_TRUE(gen.done());
        EXPECT_FALSE(co_await gen.next());
    }(log));
    EXPECT_TRUE(log.empty());
}

TEST(Generator, YieldingFromCleanupIsAnError) {
    std::vector<std::string> log;
    weft::run([](std::vector<std::string>& log) -> weft::coro<> {
        auto gen = cleans_up(log, true);
        EXPECT_EQ(co_await gen.next(), 1);
        EXPECT_THROW(co_await gen.aclose(), weft::generator_ignored_exit);
        EXPECT_TRUE(gen.done());
    }(log));
    EXPECT_EQ(log, std::vector<std::string>{"exit seen"});
}

weft::generator<int> turns_exit_into_error() {
    try {
        co_yield 1;
    } catch (const weft::generator_exit&) {
        throw std::logic_error("cleanup failed");
    }
}

TEST(Generator, AnErrorInCleanupReachesAclose) {
    weft::run([]() -> weft::coro<> {
        auto gen = turns_exit_into_error();
        EXPECT_EQ(co_await gen.next(), 1);
        EXPECT_THROW(co_await gen.aclose(), std::logic_error);
        EXPECT_TRUE(gen.done());
    }());
}

TEST(Generator, ASecondDriverWhileOneRunsIsRefused) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<bool> ignored{false};
            auto gen = waits_forever(ignored);
            EXPECT_EQ(co_await gen.next(), 1);
            auto first = weft::create_task(
                [](weft::generator<int>& gen) -> weft::coro<> { co_await gen.next(); }(gen));
            co_await weft::sleep(1ms);
            EXPECT_THROW(co_await gen.next(), weft::invalid_state_error);
            EXPECT_THROW(co_await gen.aclose(), weft::invalid_state_error);
            first.cancel();
            EXPECT_THROW(co_await first, weft::cancelled_error);
        }(),
        two_virtual_workers);
}

TEST(Generator, MovedFromGeneratorRefusesNext) {
    weft::run([]() -> weft::coro<> {
        std::vector<std::string> log;
        auto gen = count_to(1, log);
        auto taken = std::move(gen);
        EXPECT_THROW((void)gen.next(), weft::invalid_state_error);
        EXPECT_EQ(co_await taken.next(), 1);
    }());
}

weft::generator<int> holds(weft::lock& held, weft::testing::destruction_counter) {
    auto guard = co_await held.scoped();
    for (int i = 0;; ++i) {
        co_yield i;
        co_await weft::sleep(1ms);
    }
}

// One worker: the closing task cannot run before this one suspends.
TEST(Generator, ADroppedGeneratorIsClosedInATask) {
    std::atomic<int> destroyed{0};
    weft::run(
        [](std::atomic<int>& destroyed) -> weft::coro<> {
            weft::lock held;
            {
                auto gen = holds(held, weft::testing::destruction_counter(destroyed));
                EXPECT_EQ(co_await gen.next(), 0);
                EXPECT_EQ(co_await gen.next(), 1);
            }
            EXPECT_TRUE(held.locked());
            EXPECT_EQ(destroyed, 0);
            co_await weft::sleep(1ms);
            EXPECT_FALSE(held.locked());
            EXPECT_EQ(destroyed, 1);
        }(destroyed),
        one_virtual_worker);
    EXPECT_EQ(destroyed, 1);
}

TEST(Generator, WorksOffARuntime) {
    std::vector<std::string> log;
    auto gen = count_to(1, log);
    EXPECT_FALSE(gen.done());
}

} // namespace
