// Tests weft::in_completion_order (include/weft/completion_order.hpp): tasks come in the
// order they end, done; already-done tasks first; closing it early cancels no task.
#include <weft/completion_order.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::two_virtual_workers;
using weft::testing::value_after;

TEST(InCompletionOrder, YieldsTasksAsTheyEnd) {
    const auto order = weft::run(
        []() -> weft::coro<std::vector<int>> {
            std::vector<weft::task<int>> tasks;
            tasks.push_back(weft::create_task(value_after(30ms, 3)));
            tasks.push_back(weft::create_task(value_after(10ms, 1)));
            tasks.push_back(weft::create_task(value_after(20ms, 2)));
            std::vector<int> seen;
            auto done = weft::in_completion_order(std::move(tasks));
            while (auto each = co_await done.next()) {
                EXPECT_TRUE(each->done());
                seen.push_back(each->result());
            }
            co_return seen;
        }(),
        two_virtual_workers);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(InCompletionOrder, ClosingEarlyCancelsNoTask) {
    weft::run(
        []() -> weft::coro<> {
            std::vector<weft::task<int>> tasks;
            tasks.push_back(weft::create_task(value_after(10ms, 1)));
            auto slow = weft::create_task(value_after(50ms, 2));
            tasks.push_back(slow);
            auto done = weft::in_completion_order(std::move(tasks));
            EXPECT_EQ((co_await done.next())->result(), 1);
            co_await done.aclose();
            EXPECT_FALSE(co_await done.next());
            EXPECT_EQ(co_await slow, 2);
        }(),
        two_virtual_workers);
}

TEST(InCompletionOrder, AnEmptyHandleIsRefused) {
    weft::run([]() -> weft::coro<> {
        std::vector<weft::task<int>> tasks(1);
        auto done = weft::in_completion_order(std::move(tasks));
        EXPECT_THROW(co_await done.next(), weft::invalid_state_error);
        co_return;
    }());
}

} // namespace
