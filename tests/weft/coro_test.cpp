// Tests weft::coro (include/weft/coro.hpp): laziness, results and exceptions through
// inline awaits, move-only results, consumption, million-deep chains of awaits (inline and
// through gathers; in g++ builds without the sibling-call optimisation or with a sanitizer
// they go through the worker's trampoline, detail/symmetric_transfer.hpp), and a weft coro
// awaited by a coroutine that is not weft's, on and off a worker.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <coroutine>
#include <exception>
#include <memory>
#include <stdexcept>
#include <utility>

#include "test_support.hpp"

namespace {

using weft::testing::eager;
using weft::testing::one_virtual_worker;

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

weft::coro<long> nest_through_gather(long depth) {
    if (depth == 0) {
        co_return 0;
    }
    auto [below] = co_await weft::gather(nest_through_gather(depth - 1));
    co_return 1 + below;
}

weft::coro<long> nest_through_wait_for(long depth) {
    if (depth == 0) {
        co_return 0;
    }
    co_return 1 + co_await weft::wait_for(nest_through_wait_for(depth - 1), std::chrono::hours(1));
}

eager await_eagerly(weft::coro<int> body, int& result) {
    result = co_await std::move(body);
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

TEST(Coro, DefaultConstructedCoroIsEmptyAndAwaitingItIsAnInvalidStateError) {
    const bool threw = weft::run([]() -> weft::coro<bool> {
        weft::coro<int> empty;
        EXPECT_FALSE(static_cast<bool>(empty));
        try {
            co_await empty;
        } catch (const weft::invalid_state_error&) {
            co_return true;
        }
        co_return false;
    }());
    EXPECT_TRUE(threw);
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

// Each level's gather transfers into its only child, whose end transfers back to the level.
TEST(Coro, MillionDeepGatherChainDoesNotGrowTheStack) {
    EXPECT_EQ(weft::run(nest_through_gather(1'000'000), weft::run_options{.workers = 1}),
              1'000'000);
}

// Each level's wait_for transfers into its work (and leaves a watchdog with a timer).
TEST(Coro, DeepWaitForChainDoesNotGrowTheStack) {
    EXPECT_EQ(weft::run(nest_through_wait_for(100'000), one_virtual_worker), 100'000);
}

TEST(Coro, AwaitedByAForeignCoroutineOutsideARuntime) {
    int result = 0;
    const eager caller = await_eagerly(twice(21), result);
    EXPECT_TRUE(caller.done());
    EXPECT_EQ(result, 42);
}

// The foreign coroutine is started inside a weft task: the coro it awaits must have run
// before the call that started it returns, as it would with a plain function call.
TEST(Coro, AwaitedByAForeignCoroutineInsideATaskRunsBeforeTheCallReturns) {
    const bool ran_at_once = weft::run(
        []() -> weft::coro<bool> {
            int result = 0;
            const eager caller = await_eagerly(twice(21), result);
            co_return caller.done() && result == 42;
        }(),
        weft::run_options{.workers = 1});
    EXPECT_TRUE(ran_at_once);
}

} // namespace
