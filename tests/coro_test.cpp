// Tests weft::coro (include/weft/coro.hpp): laziness, results and exceptions through
// inline awaits, move-only results, consumption, and a million-deep chain of awaits.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>

#include "test_support.hpp"

namespace {

weft::coro<int> twice(int x) {
    co_return 2 * x;
}

weft::coro<> touch(bool& ran) {
    ran = true;
    co_return;
}

weft::coro<int> fail(const char* message) {
    throw std::runtime_error(message);
    co_return 0;
}

weft::coro<long> nest(long depth) {
    if (depth == 0) {
        co_return 0;
    }
    co_return 1 + co_await nest(depth - 1);
}

TEST(Coro, CallingRunsNothingUntilAwaited) {
    bool ran = false;
    const bool ran_before_await = weft::run([](bool& flag) -> weft::coro<bool> {
        weft::coro<> pending = touch(flag);
        const bool before = flag;
        co_await std::move(pending);
        co_return before;
    }(ran));
    EXPECT_FALSE(ran_before_await);
    EXPECT_TRUE(ran);
}

TEST(Coro, DestroyingUnawaitedCoroutineNeverRunsIt) {
    bool ran = false;
    std::atomic<int> destroyed{0};
    {
        auto body = [](bool& flag, weft::testing::destruction_counter) -> weft::coro<> {
            flag = true;
            co_return;
        };
        weft::coro<> never = body(ran, weft::testing::destruction_counter(destroyed));
        EXPECT_TRUE(static_cast<bool>(never));
    }
    EXPECT_FALSE(ran);
    EXPECT_EQ(destroyed.load(), 1);
}

TEST(Coro, ValuesFlowThroughAwaits) {
    EXPECT_EQ(weft::run([]() -> weft::coro<int> { co_return co_await twice(21); }()), 42);
}

TEST(Coro, ExceptionsPropagateToTheAwaiter) {
    const std::string caught = weft::run([]() -> weft::coro<std::string> {
        try {
            co_await fail("boom");
        } catch (const std::runtime_error& error) {
            co_return error.what();
        }
        co_return "nothing";
    }());
    EXPECT_EQ(caught, "boom");
}

TEST(Coro, MoveOnlyResults) {
    auto make = []() -> weft::coro<std::unique_ptr<int>> { co_return std::make_unique<int>(7); };
    EXPECT_EQ(weft::run([&]() -> weft::coro<int> { co_return *(co_await make()); }()), 7);
}

TEST(Coro, AwaitingConsumesTheCoroutine) {
    const bool threw = weft::run([]() -> weft::coro<bool> {
        weft::coro<int> once = twice(1);
        EXPECT_EQ(co_await once, 2);
        EXPECT_FALSE(static_cast<bool>(once));
        try {
            co_await once;
        } catch (const weft::invalid_state_error&) {
            co_return true;
        }
        co_return false;
    }());
    EXPECT_TRUE(threw);
}

TEST(Coro, MillionDeepChainDoesNotGrowTheStack) {
    EXPECT_EQ(weft::run(nest(1'000'000), weft::run_options{.workers = 1}), 1'000'000);
}

TEST(Coro, MillionDeepChainOnSeveralWorkers) {
    EXPECT_EQ(weft::run(nest(1'000'000), weft::run_options{.workers = 2}), 1'000'000);
}

} // namespace
