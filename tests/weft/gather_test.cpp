// Tests weft::gather (include/weft/gather.hpp and its countdown join): argument order with
// mixed awaitables, void children, the range form, the empty gather, exceptions (first in
// completion order, raised only after every child ended), return_exceptions, concurrency
// of the children, the array form and the vector form around its inline capacity, and very
// wide and nested gathers on several workers; the join's arrivals themselves, the last one
// taking no RMW.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "fake_handles.hpp"
#include "test_support.hpp"

namespace {

weft::coro<int> value(int x) {
    co_return x;
}

weft::coro<int> after(weft::future<> gate, int x) {
    co_await gate;
    co_return x;
}

weft::coro<int> throw_after(weft::future<> gate, std::string message) {
    co_await gate;
    throw std::runtime_error(message);
}

weft::coro<long> tree(long leaves) {
    if (leaves == 1) {
        co_return 1;
    }
    std::vector<weft::coro<long>> children;
    for (int i = 0; i < 10; ++i) {
        children.push_back(tree(leaves / 10));
    }
    const std::vector<long> counts = co_await weft::gather(std::move(children));
    co_return std::accumulate(counts.begin(), counts.end(), 0L);
}

TEST(GatherJoin, AnArrivalThatFindsTheCountAtOneIsTheLastAndLeavesItThere) {
    weft::detail::gather_join join(2); // two children and the awaiting coroutine's share
    EXPECT_FALSE(join.arrive());
    EXPECT_FALSE(join.arrive());
    EXPECT_TRUE(join.arrive());
    EXPECT_EQ(join.remaining.load(), 1u);
}

TEST(GatherJoin, AChildEndingOffAWorkerArrivesByCountAndTheLastResumesTheParent) {
    // No worker on this thread, so the last fork cannot be taken back from a fork stack: the
    // first child arrives with an RMW, and the second finds itself the last.
    weft::detail::gather_join join(2);
    join.remaining.store(2); // as launch_children leaves it
    const std::coroutine_handle<> first = weft::testing::fake_handle(1);
    const std::coroutine_handle<> second = weft::testing::fake_handle(2);
    const std::coroutine_handle<> parent = weft::testing::fake_handle(3);
    join.parent = parent;
    join.last_fork = second;
    EXPECT_FALSE(join.arrive_from_child(first));
    EXPECT_EQ(join.remaining.load(), 1u);
    EXPECT_EQ(join.arrive_from_child(second), parent);
}

TEST(Gather, ResultsComeInArgumentOrderWhateverTheCompletionOrder) {
    for (std::size_t workers : {1u, 2u}) {
        auto [from_future, from_task, from_coro] = weft::run(
            []() -> weft::coro<std::tuple<int, int, int>> {
                weft::future<int> last;
                weft::future<> second;
                weft::task<int> middle = weft::create_task(after(second, 2));
                // The coro child finishes first and releases the task; a task then sets
                // the future last.
                weft::create_task([](weft::task<int> t, weft::future<int> out) -> weft::coro<> {
                    out.set_result(co_await t - 1);
                }(middle, last));
                auto releases = [](weft::future<> gate) -> weft::coro<int> {
                    gate.set_result();
                    co_return 3;
                };
                co_return co_await weft::gather(last, middle, releases(second));
            }(),
            weft::run_options{.workers = workers});
        EXPECT_EQ(from_future, 1);
        EXPECT_EQ(from_task, 2);
        EXPECT_EQ(from_coro, 3);
    }
}

TEST(Gather, VoidResultsAreMonostate) {
    auto result = weft::run([]() -> weft::coro<std::tuple<std::monostate, int>> {
        co_return co_await weft::gather([]() -> weft::coro<> { co_return; }(), value(5));
    }());
    EXPECT_EQ(std::get<1>(result), 5);
}

TEST(Gather, EmptyGatherCompletesAtOnce) {
    weft::run([]() -> weft::coro<> {
        std::tuple<> nothing = co_await weft::gather();
        (void)nothing;
        std::vector<int> none = co_await weft::gather(std::vector<weft::coro<int>>{});
        EXPECT_TRUE(none.empty());
    }());
}

TEST(Gather, RangeFormKeepsOrder) {
    const std::vector<int> got = weft::run(
        []() -> weft::coro<std::vector<int>> {
            std::vector<weft::coro<int>> children;
            for (int i = 0; i < 100; ++i) {
                children.push_back(value(i));
            }
            co_return co_await weft::gather(std::move(children));
        }(),
        weft::run_options{.workers = 2});
    std::vector<int> expected(100);
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(got, expected);
}

TEST(Gather, RangeOfVoidYieldsMonostates) {
    std::atomic<int> ran{0};
    const auto got =
        weft::run([](std::atomic<int>& counter) -> weft::coro<std::vector<std::monostate>> {
            std::vector<weft::coro<>> children;
            for (int i = 0; i < 7; ++i) {
                children.push_back([](std::atomic<int>& c) -> weft::coro<> {
                    c.fetch_add(1);
                    co_return;
                }(counter));
            }
            co_return co_await weft::gather(std::move(children));
        }(ran));
    EXPECT_EQ(got.size(), 7u);
    EXPECT_EQ(ran.load(), 7);
}

TEST(Gather, FirstExceptionInCompletionOrderIsRethrown) {
    const std::string message = weft::run(
        []() -> weft::coro<std::string> {
            weft::future<> late;
            weft::future<> early;
            early.set_result();
            auto failing = weft::gather(throw_after(late, "late"), throw_after(early, "early"));
            weft::create_task([](weft::future<> gate) -> weft::coro<> {
                gate.set_result();
                co_return;
            }(late));
            try {
                co_await std::move(failing);
            } catch (const std::runtime_error& error) {
                co_return error.what();
            }
            co_return "no exception";
        }(),
        weft::run_options{.workers = 1});
    EXPECT_EQ(message, "early");
}

TEST(Gather, RethrowsOnlyAfterEverySiblingEnded) {
    for (std::size_t workers : {1u, 2u}) {
        const bool sibling_done_first = weft::run(
            []() -> weft::coro<bool> {
                bool sibling_finished = false;
                weft::future<> release;
                auto sibling = [](weft::future<> gate, bool& finished) -> weft::coro<> {
                    co_await gate;
                    finished = true;
                };
                std::thread releaser([release]() mutable {
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                    release.set_result();
                });
                bool rethrown = false;
                try {
                    co_await weft::gather(sibling(release, sibling_finished), []() -> weft::coro<> {
                        throw std::logic_error("fails at once");
                        co_return;
                    }());
                } catch (const std::logic_error&) {
                    rethrown = true;
                }
                releaser.join();
                co_return rethrown&& sibling_finished;
            }(),
            weft::run_options{.workers = workers});
        EXPECT_TRUE(sibling_done_first) << workers << " workers";
    }
}

TEST(Gather, ReturnExceptionsGivesOneOutcomePerChild) {
    weft::run([]() -> weft::coro<> {
        weft::future<> open;
        open.set_result();
        auto [failed, fine] =
            co_await weft::gather(weft::return_exceptions, throw_after(open, "x"), value(3));
        EXPECT_TRUE(failed.has_exception());
        EXPECT_FALSE(failed.has_value());
        EXPECT_THROW(failed.value(), std::runtime_error);
        EXPECT_TRUE(fine.has_value());
        EXPECT_EQ(fine.value(), 3);

        std::vector<weft::coro<int>> children;
        children.push_back(value(1));
        children.push_back(throw_after(open, "y"));
        std::vector<weft::outcome<int>> outcomes =
            co_await weft::gather(weft::return_exceptions, std::move(children));
        EXPECT_EQ(outcomes.size(), 2u);
        EXPECT_EQ(outcomes[0].value(), 1);
        EXPECT_TRUE(outcomes[1].has_exception());
    }());
}

TEST(Gather, ChildrenRunConcurrently) {
    // Each child waits until all of them have started: only possible if they interleave.
    const int sum = weft::run(
        []() -> weft::coro<int> {
            constexpr int width = 16;
            std::atomic<int> started{0};
            weft::future<> all_started;
            std::vector<weft::coro<int>> children;
            for (int i = 0; i < width; ++i) {
                children.push_back(
                    [](std::atomic<int>& count, weft::future<> gate, int id) -> weft::coro<int> {
                        if (count.fetch_add(1) + 1 == width) {
                            gate.set_result();
                        }
                        co_await gate;
                        co_return id;
                    }(started, all_started, i));
            }
            const std::vector<int> ids = co_await weft::gather(std::move(children));
            co_return std::accumulate(ids.begin(), ids.end(), 0);
        }(),
        weft::run_options{.workers = 2});
    EXPECT_EQ(sum, 16 * 15 / 2);
}

TEST(Gather, ChildrenMayWriteIntoTheAwaitersLocals) {
    const std::vector<int> squares = weft::run(
        []() -> weft::coro<std::vector<int>> {
            std::vector<int> out(64);
            std::vector<weft::coro<>> children;
            for (int i = 0; i < 64; ++i) {
                children.push_back([](int& slot, int x) -> weft::coro<> {
                    slot = x * x;
                    co_return;
                }(out[i], i));
            }
            co_await weft::gather(std::move(children));
            co_return out;
        }(),
        weft::run_options{.workers = 2});
    for (int i = 0; i < 64; ++i) {
        EXPECT_EQ(squares[i], i * i);
    }
}

TEST(Gather, AwaitingTwiceIsAnInvalidStateError) {
    weft::run([]() -> weft::coro<> {
        auto both = weft::gather(value(1), value(2));
        co_await both;
        EXPECT_THROW(co_await both, weft::invalid_state_error);
    }());
}

// A gather forks its children on the thread's worker: awaited by a coroutine that is not
// weft's, outside every runtime, it is a runtime_error naming it, and runs no child.
TEST(Gather, AwaitedOutsideARuntimeIsARuntimeErrorAndRunsNoChild) {
    std::string message;
    bool ran = false;
    auto await_gather = [](std::string& message, bool& ran) -> weft::testing::eager {
        auto mark = [](bool& ran) -> weft::coro<int> {
            ran = true;
            co_return 1;
        };
        try {
            co_await weft::gather(mark(ran), mark(ran));
        } catch (const weft::runtime_error& error) {
            message = error.what();
        }
    };
    const weft::testing::eager caller = await_gather(message, ran);
    EXPECT_TRUE(caller.done());
    EXPECT_EQ(message, "weft::gather: no running weft runtime on this thread");
    EXPECT_FALSE(ran);
}

TEST(Gather, ArrayFormYieldsAnArrayInOrderWhateverTheCompletionOrder) {
    const std::array<int, 3> got = weft::run([]() -> weft::coro<std::array<int, 3>> {
        weft::future<> late;
        weft::future<> early;
        std::array<weft::coro<int>, 3> children{after(late, 1), after(early, 2), value(3)};
        weft::task<> opener =
            weft::create_task([](weft::future<> first, weft::future<> second) -> weft::coro<> {
                first.set_result();
                co_await weft::sleep(std::chrono::milliseconds(1));
                second.set_result();
            }(early, late));
        std::array<int, 3> results = co_await weft::gather(std::move(children));
        for (const weft::coro<int>& child : children) {
            EXPECT_FALSE(child);
        }
        co_await opener;
        co_return results;
    }());
    EXPECT_EQ(got, (std::array<int, 3>{1, 2, 3}));
}

TEST(Gather, ArrayFormWithReturnExceptionsGivesOneOutcomePerChild) {
    const bool ok = weft::run([]() -> weft::coro<bool> {
        weft::future<> open;
        open.set_result();
        std::array<weft::coro<int>, 2> children{value(7), throw_after(open, "boom")};
        std::array<weft::outcome<int>, 2> outcomes =
            co_await weft::gather(weft::return_exceptions, std::move(children));
        co_return outcomes[0].value() == 7 && outcomes[1].has_exception();
    }());
    EXPECT_TRUE(ok);
}

TEST(Gather, ArrayOfVoidYieldsMonostates) {
    const std::size_t size = weft::run([]() -> weft::coro<std::size_t> {
        auto nothing = []() -> weft::coro<> { co_return; };
        std::array<weft::coro<>, 4> children{nothing(), nothing(), nothing(), nothing()};
        const std::array<std::monostate, 4> results = co_await weft::gather(std::move(children));
        co_return results.size();
    }());
    EXPECT_EQ(size, 4u);
}

TEST(Gather, EmptyCoroInAnArrayIsAnInvalidStateErrorThatTakesNoCoroAndRunsNone) {
    std::atomic<int> destroyed{0};
    std::atomic<int> ran{0};
    const bool threw = weft::run([&]() -> weft::coro<bool> {
        auto counted = [](weft::testing::destruction_counter,
                          std::atomic<int>& runs) -> weft::coro<int> {
            runs.fetch_add(1);
            co_return 1;
        };
        std::array<weft::coro<int>, 3> children{
            counted(weft::testing::destruction_counter(destroyed), ran), weft::coro<int>(),
            counted(weft::testing::destruction_counter(destroyed), ran)};
        try {
            auto never_awaited = weft::gather(std::move(children));
        } catch (const weft::invalid_state_error&) {
            // Nothing was taken: the caller's array still holds both coros.
            co_return children[0] && children[2] && destroyed.load() == 0;
        }
        co_return false;
    }());
    EXPECT_TRUE(threw);
    EXPECT_EQ(destroyed.load(), 2);
    EXPECT_EQ(ran.load(), 0);
}

TEST(Gather, ArrayGatherMovedIntoATaskStillRunsEveryChild) {
    const int sum = weft::run([]() -> weft::coro<int> {
        std::array<weft::coro<int>, 3> children{value(1), value(2), value(3)};
        auto pending = weft::gather(std::move(children));
        auto moved = std::move(pending);
        weft::task<std::array<int, 3>> running = weft::create_task(std::move(moved));
        const std::array<int, 3> results = co_await running;
        co_return results[0] + results[1] + results[2];
    }());
    EXPECT_EQ(sum, 6);
}

// The vector form keeps up to 16 children inline and the rest on the heap: both sides of
// the boundary, on two workers so children run on either.
TEST(Gather, VectorFormAroundItsInlineCapacityKeepsOrder) {
    for (int width : {1, 15, 16, 17, 33}) {
        const std::vector<int> got = weft::run(
            [](int count) -> weft::coro<std::vector<int>> {
                std::vector<weft::coro<int>> children;
                for (int i = 0; i < count; ++i) {
                    children.push_back(value(i));
                }
                co_return co_await weft::gather(std::move(children));
            }(width),
            weft::run_options{.workers = 2});
        std::vector<int> expected(static_cast<std::size_t>(width));
        std::iota(expected.begin(), expected.end(), 0);
        EXPECT_EQ(got, expected) << width << " children";
    }
}

TEST(Gather, MillionChildrenInOneGather) {
    const long sum = weft::run(
        []() -> weft::coro<long> {
            constexpr int width = 1'000'000;
            std::vector<weft::coro<int>> children;
            children.reserve(width);
            for (int i = 0; i < width; ++i) {
                children.push_back(value(i % 7));
            }
            const std::vector<int> values = co_await weft::gather(std::move(children));
            co_return std::accumulate(values.begin(), values.end(), 0L);
        }(),
        weft::run_options{.workers = 2});
    long expected = 0;
    for (int i = 0; i < 1'000'000; ++i) {
        expected += i % 7;
    }
    EXPECT_EQ(sum, expected);
}

TEST(Gather, NestedTreesOnSeveralWorkers) {
    for (std::size_t workers : {1u, 2u, 4u}) {
        EXPECT_EQ(weft::run(tree(100'000), weft::run_options{.workers = workers}), 100'000)
            << workers << " workers";
    }
}

} // namespace
