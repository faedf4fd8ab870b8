// Tests weft::task and weft::create_task (include/weft/task.hpp): results and exceptions
// shared by several awaiters, the state queries, detaching, FIFO start order on one
// worker, fan-out across workers, and the errors for misuse.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

weft::coro<int> fail_with(std::string message) {
    throw std::runtime_error(message);
    co_return 0;
}

weft::coro<int> await_copy(weft::task<int> t) {
    co_return co_await t;
}

TEST(Task, ManyAwaitersEachGetTheResult) {
    const int total = weft::run([]() -> weft::coro<int> {
        weft::future<int> gate;
        weft::task<int> shared = weft::create_task(
            [](weft::future<int> g) -> weft::coro<int> { co_return co_await g + 1; }(gate));
        auto awaiters = weft::gather(await_copy(shared), await_copy(shared), await_copy(shared));
        weft::task<std::tuple<int, int, int>> all = weft::create_task(std::move(awaiters));
        gate.set_result(41);
        auto [a, b, c] = co_await all;
        co_return a + b + c + co_await shared;
    }());
    EXPECT_EQ(total, 4 * 42);
}

TEST(Task, ExceptionReachesEveryAwaiterAndTheQueries) {
    weft::run([]() -> weft::coro<> {
        weft::task<int> failing = weft::create_task(fail_with("bad input"));
        for (int i = 0; i < 2; ++i) {
            EXPECT_THROW(co_await failing, std::runtime_error);
        }
        EXPECT_TRUE(failing.done());
        EXPECT_NE(failing.exception(), nullptr);
        EXPECT_THROW(failing.result(), std::runtime_error);
    }());
}

TEST(Task, ResultBeforeDoneIsAnInvalidStateError) {
    weft::run([]() -> weft::coro<> {
        weft::future<int> never_yet;
        weft::task<int> waiting = weft::create_task(
            [](weft::future<int> f) -> weft::coro<int> { co_return co_await f; }(never_yet));
        EXPECT_FALSE(waiting.done());
        EXPECT_THROW(waiting.result(), weft::invalid_state_error);
        EXPECT_THROW(waiting.exception(), weft::invalid_state_error);
        never_yet.set_result(3);
        EXPECT_EQ(co_await waiting, 3);
        EXPECT_TRUE(waiting.done());
        EXPECT_EQ(waiting.result(), 3);
        EXPECT_EQ(waiting.exception(), nullptr);
    }());
}

TEST(Task, StartsAtTheNextSchedulingPointNotInsideCreateTask) {
    weft::run(
        []() -> weft::coro<> {
            bool ran = false;
            weft::task<> t = weft::create_task([](bool& flag) -> weft::coro<> {
                flag = true;
                co_return;
            }(ran));
            EXPECT_FALSE(ran);
            co_await t;
            EXPECT_TRUE(ran);
        }(),
        weft::run_options{.workers = 1});
}

TEST(Task, OneWorkerStartsTasksInCreationOrder) {
    const std::vector<int> order = weft::run(
        []() -> weft::coro<std::vector<int>> {
            std::vector<int> seen;
            std::vector<weft::task<>> tasks;
            for (int i = 0; i < 8; ++i) {
                tasks.push_back(
                    weft::create_task([](std::vector<int>& out, int id) -> weft::coro<> {
                        out.push_back(id);
                        co_return;
                    }(seen, i)));
            }
            for (weft::task<>& t : tasks) {
                co_await t;
            }
            co_return seen;
        }(),
        weft::run_options{.workers = 1});
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(Task, MoveOnlyResultIsMovedOutWithStdMove) {
    const int got = weft::run([]() -> weft::coro<int> {
        weft::task<std::unique_ptr<int>> t = weft::create_task(
            []() -> weft::coro<std::unique_ptr<int>> { co_return std::make_unique<int>(9); }());
        std::unique_ptr<int> owned = co_await std::move(t);
        co_return *owned;
    }());
    EXPECT_EQ(got, 9);
}

TEST(Task, DroppedHandleDetachesTheTaskWhichRunsToCompletion) {
    std::atomic<int> destroyed{0};
    const int got = weft::run([](std::atomic<int>& count) -> weft::coro<int> {
        weft::future<int> reply;
        weft::create_task(
            [](weft::future<int> out, weft::testing::destruction_counter) -> weft::coro<> {
                out.set_result(5);
                co_return;
            }(reply, weft::testing::destruction_counter(count)));
        co_return co_await reply;
    }(destroyed));
    EXPECT_EQ(got, 5);
    EXPECT_TRUE(weft::testing::eventually([&] { return destroyed.load() == 1; }));
}

TEST(Task, FanOutOfHundredThousandTasksRunsEachExactlyOnce) {
    constexpr int count = 100'000;
    std::vector<std::atomic<int>> runs(count);
    weft::run(
        [](std::vector<std::atomic<int>>& hits) -> weft::coro<> {
            std::vector<weft::task<>> tasks;
            tasks.reserve(hits.size());
            for (std::size_t i = 0; i < hits.size(); ++i) {
                tasks.push_back(weft::create_task([](std::atomic<int>& hit) -> weft::coro<> {
                    hit.fetch_add(1, std::memory_order_relaxed);
                    co_return;
                }(hits[i])));
            }
            for (weft::task<>& t : tasks) {
                co_await t;
            }
        }(runs),
        weft::run_options{.workers = 4});
    for (int i = 0; i < count; ++i) {
        ASSERT_EQ(runs[i].load(), 1) << "task " << i;
    }
}

TEST(Task, CreateTaskAcceptsOtherAwaitables) {
    const int got = weft::run([]() -> weft::coro<int> {
        weft::future<int> later;
        weft::task<int> waits = weft::create_task(later);
        later.set_result(11);
        co_return co_await waits;
    }());
    EXPECT_EQ(got, 11);
}

TEST(Task, CreateTaskOutsideARuntimeIsARuntimeError) {
    std::atomic<int> destroyed{0};
    auto body = [](weft::testing::destruction_counter) -> weft::coro<> { co_return; };
    try {
        weft::create_task(body(weft::testing::destruction_counter(destroyed)));
        FAIL() << "create_task outside a runtime did not throw";
    } catch (const weft::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("no running weft runtime"), std::string::npos);
    }
    EXPECT_EQ(destroyed.load(), 1);
}

TEST(Task, EmptyHandleReportsItsState) {
    weft::task<int> empty;
    EXPECT_FALSE(static_cast<bool>(empty));
    EXPECT_FALSE(empty.done());
    EXPECT_THROW(empty.result(), weft::invalid_state_error);
    weft::run([](weft::task<int>& t) -> weft::coro<> {
        EXPECT_THROW(co_await t, weft::invalid_state_error);
        co_return;
    }(empty));
}

} // namespace
