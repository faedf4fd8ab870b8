// Tests weft::sleep(delay, result) (include/weft/sleep.hpp): the await yields the result
// once the delay has passed, a delay of zero or less yields it at once, a move-only result
// is moved through, the sleep can be handed to create_task and wait_for, a cancelled sleep
// throws cancelled_error and drops the result, and a NaN delay is refused.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <memory>
#include <string>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::one_virtual_worker;

TEST(SleepResult, YieldsTheResultOnceTheDelayHasPassed) {
    weft::run(
        []() -> weft::coro<> {
            const weft::clock::time_point start = weft::clock::now();
            const int answer = co_await weft::sleep(3s, 42);
            EXPECT_EQ(answer, 42);
            EXPECT_EQ(weft::clock::now() - start, 3s);
        }(),
        one_virtual_worker);
}

TEST(SleepResult, ADelayOfZeroOrLessYieldsTheResultAtOnce) {
    weft::run(
        []() -> weft::coro<> {
            const weft::clock::time_point start = weft::clock::now();
            EXPECT_EQ(co_await weft::sleep(0s, std::string("now")), "now");
            EXPECT_EQ(co_await weft::sleep(-5s, 7), 7);
            EXPECT_EQ(weft::clock::now(), start);
        }(),
        one_virtual_worker);
}

TEST(SleepResult, AMoveOnlyResultIsMovedThrough) {
    weft::run(
        []() -> weft::coro<> {
            std::unique_ptr<int> value = co_await weft::sleep(1s, std::make_unique<int>(5));
            EXPECT_TRUE(value != nullptr && *value == 5);
        }(),
        one_virtual_worker);
}

TEST(SleepResult, CanBeHandedToCreateTaskAndWaitFor) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<std::string> later = weft::create_task(weft::sleep(2s, std::string("x")));
            EXPECT_EQ(co_await later, "x");
            EXPECT_EQ(co_await weft::wait_for(weft::sleep(1s, 3), 2s), 3);
            EXPECT_THROW(co_await weft::wait_for(weft::sleep(5s, 3), 2s), weft::timeout_error);
        }(),
        one_virtual_worker);
}

TEST(SleepResult, ACancelledSleepThrowsAndDropsTheResult) {
    weft::run(
        []() -> weft::coro<> {
            auto shared = std::make_shared<int>(1);
            weft::task<std::shared_ptr<int>> sleeper = weft::create_task(weft::sleep(10s, shared));
            co_await weft::sleep(1s);
            EXPECT_EQ(shared.use_count(), 2);
            EXPECT_TRUE(sleeper.cancel());
            EXPECT_THROW(co_await sleeper, weft::cancelled_error);
            EXPECT_EQ(shared.use_count(), 1);
        }(),
        one_virtual_worker);
}

TEST(SleepResult, ANaNDelayIsRefused) {
    const std::chrono::duration<double> not_a_number(std::numeric_limits<double>::quiet_NaN());
    EXPECT_THROW((void)weft::sleep(not_a_number, 1), weft::invalid_argument);
}

} // namespace
