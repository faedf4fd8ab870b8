// Tests weft::current_task(), weft::all_tasks() (runtime/scheduler/task_identity.cpp) and
// weft::any_task (include/weft/any_task.hpp): which task the code runs in, inside gathers,
// timeouts and inline coroutines, on whichever worker; the tasks still pending; handles
// that do not know the result type, the last of which still reports a lost exception.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

using namespace std::chrono_literals;

weft::coro<weft::any_task> me_inline() {
    co_await weft::sleep(1ms);
    co_return weft::current_task();
}

TEST(CurrentTask, IsTheTaskWhoseCodeRunsAcrossSuspensions) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<weft::any_task> child = weft::create_task(me_inline());
            const weft::any_task seen = co_await child;
            EXPECT_TRUE(seen == weft::any_task(child));
            const weft::any_task main_task = weft::current_task();
            EXPECT_TRUE(main_task);
            EXPECT_FALSE(main_task == seen);
            // An inline coroutine runs in its awaiter's task.
            EXPECT_TRUE(co_await me_inline() == main_task);
            EXPECT_TRUE(weft::current_task() == main_task);
        }(),
        weft::run_options{.workers = 2});
}

TEST(CurrentTask, InsideAGatherIsTheTaskAwaitingIt) {
    weft::run(
        []() -> weft::coro<> {
            const weft::any_task main_task = weft::current_task();
            auto nested = []() -> weft::coro<weft::any_task> {
                auto [a, b] = co_await weft::gather(me_inline(), me_inline());
                EXPECT_TRUE(a == b);
                co_return a;
            };
            std::vector<weft::coro<weft::any_task>> children;
            for (int i = 0; i < 8; ++i) {
                children.push_back(nested());
            }
            for (const weft::any_task& seen : co_await weft::gather(std::move(children))) {
                EXPECT_TRUE(seen == main_task);
            }
            const weft::any_task in_timeout = co_await weft::timeout(
                1s, [](weft::timeout_scope&) -> weft::coro<weft::any_task> { return me_inline(); });
            EXPECT_TRUE(in_timeout == main_task);
        }(),
        weft::run_options{.workers = 2});
}

TEST(CurrentTask, OutsideARuntimeIsARuntimeError) {
    EXPECT_THROW(weft::current_task(), weft::runtime_error);
    EXPECT_THROW(weft::all_tasks(), weft::runtime_error);
}

TEST(CurrentTask, InAToThreadCallIsOutsideTheRuntime) {
    weft::run([]() -> weft::coro<> {
        const bool threw = co_await weft::to_thread([] {
            try {
                weft::current_task();
            } catch (const weft::runtime_error&) {
                return true;
            }
            return false;
        });
        EXPECT_TRUE(threw);
    }());
}

TEST(AllTasks, HoldsEveryPendingTaskAndNoEndedOne) {
    weft::run(
        []() -> weft::coro<> {
            weft::event release;
            std::vector<weft::task<>> waiting;
            for (int i = 0; i < 50; ++i) {
                waiting.push_back(weft::create_task(release.wait()));
            }
            weft::task<> ended = weft::create_task(weft::sleep(0s));
            co_await ended;
            const std::vector<weft::any_task> pending = weft::all_tasks();
            const std::unordered_set<weft::any_task> set(pending.begin(), pending.end());
            EXPECT_EQ(set.size(), pending.size());
            EXPECT_EQ(pending.size(), 51U); // the 50 and main
            EXPECT_TRUE(set.contains(weft::current_task()));
            EXPECT_FALSE(set.contains(ended));
            for (const weft::task<>& each : waiting) {
                EXPECT_TRUE(set.contains(each));
            }
            release.set();
            for (const weft::task<>& each : waiting) {
                co_await each;
            }
            EXPECT_EQ(weft::all_tasks().size(), 1U);
        }(),
        weft::run_options{.workers = 2});
}

TEST(AnyTask, CancelsAndCountsLikeItsTypedHandle) {
    weft::run([]() -> weft::coro<> {
        weft::event never;
        weft::task<> waiting = weft::create_task(never.wait());
        const weft::any_task untyped = waiting;
        EXPECT_FALSE(untyped.done());
        EXPECT_TRUE(untyped.cancel("enough"));
        EXPECT_EQ(waiting.cancelling(), 1U);
        EXPECT_EQ(untyped.cancelling(), 1U);
        try {
            co_await waiting;
            ADD_FAILURE() << "the task was cancelled";
        } catch (const weft::cancelled_error& error) {
            EXPECT_EQ(error.message(), "enough");
        }
        EXPECT_TRUE(untyped.done());
        EXPECT_FALSE(untyped.cancel());
        EXPECT_EQ(untyped.uncancel(), 0U);
    }());
    const weft::any_task empty;
    EXPECT_FALSE(empty);
    EXPECT_FALSE(empty.cancel());
    EXPECT_THROW(empty.name(), weft::invalid_state_error);
}

weft::coro<int> fails_later(std::string message) {
    co_await weft::sleep(1ms);
    throw std::runtime_error(message);
}

TEST(AnyTask, AsTheLastHandleReportsTheExceptionNobodyRetrieved) {
    std::vector<std::string> reported;
    weft::run(
        [](std::vector<std::string>& out) -> weft::coro<> {
            weft::any_task kept;
            {
                weft::task<int> failing = weft::create_task(fails_later("lost"));
                kept = failing;
            }
            co_await weft::sleep(10ms);
            EXPECT_TRUE(kept.done());
            EXPECT_TRUE(out.empty());
            kept = weft::any_task();
            EXPECT_EQ(out.size(), 1U);
        }(reported),
        weft::run_options{
            .workers = 1, .virtual_time = true, .exception_handler = [&](std::exception_ptr error) {
                try {
                    std::rethrow_exception(error);
                } catch (const std::runtime_error& e) {
                    reported.emplace_back(e.what());
                }
            }});
    EXPECT_EQ(reported, std::vector<std::string>{"lost"});
}

} // namespace
