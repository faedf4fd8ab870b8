// Tests task::add_done_callback, future::add_done_callback and remove_done_callback
// (include/weft/detail/done_callbacks.hpp): order, callbacks on what is already done,
// removal before and after running, what a callback sees, a throwing callback, that a
// callback never runs inline (in set_result, in add_done_callback) and runs on a worker of
// the runtime it was added on (a thread outside it completing a future included), what
// happens at shutdown, and adds and removes racing completions on several workers.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using weft::testing::current_thread_id;

weft::coro<int> value_after(weft::future<> gate, int value) {
    co_await gate;
    co_return value;
}

weft::coro<int> fails_after(weft::future<> gate) {
    co_await gate;
    throw std::out_of_range("failed");
}

TEST(DoneCallback, RunInTheOrderAddedOnSeveralWorkers) {
    const std::vector<int> order = weft::run(
        []() -> weft::coro<std::vector<int>> {
            weft::future<> gate;
            const weft::task<int> t = weft::create_task(value_after(gate, 1));
            auto seen = std::make_shared<std::vector<int>>();
            weft::future<> all_ran;
            for (int i = 0; i < 20; ++i) {
                t.add_done_callback([seen, i, all_ran](const weft::task<int>&) mutable {
                    seen->push_back(i);
                    if (i == 19) {
                        all_ran.set_result();
                    }
                });
            }
            gate.set_result();
            co_await all_ran;
            co_return *seen;
        }(),
        weft::run_options{.workers = 4});
    std::vector<int> expected;
    for (int i = 0; i < 20; ++i) {
        expected.push_back(i);
    }
    EXPECT_EQ(order, expected);
}

TEST(DoneCallback, OnADoneTaskOrFutureRunsSoonNotInline) {
    weft::run(
        []() -> weft::coro<> {
            weft::future<> gate;
            gate.set_result();
            const weft::task<int> t = weft::create_task(value_after(gate, 3));
            co_await t;
            bool ran = false;
            weft::future<int> seen;
            t.add_done_callback([&ran, seen](const weft::task<int>& done) mutable {
                ran = true;
                seen.set_result(done.result());
            });
            EXPECT_FALSE(ran); // one worker, and this task has not suspended since
            EXPECT_EQ(co_await seen, 3);
            EXPECT_TRUE(ran);

            weft::future<int> done_future;
            done_future.set_result(4);
            bool future_ran = false;
            weft::future<> after;
            done_future.add_done_callback([&future_ran, after](const weft::future<int>&) mutable {
                future_ran = true;
                after.set_result();
            });
            EXPECT_FALSE(future_ran);
            co_await after;
        }(),
        weft::run_options{.workers = 1});
}

TEST(DoneCallback, OnADoneFutureRunsSoonInTheOrderAdded) {
    weft::run(
        []() -> weft::coro<> {
            weft::future<int> f;
            f.set_result(9);
            auto seen = std::make_shared<std::vector<int>>();
            weft::future<> both;
            f.add_done_callback(
                [seen](const weft::future<int>& done) mutable { seen->push_back(done.result()); });
            f.add_done_callback([seen, both](const weft::future<int>&) mutable {
                seen->push_back(0);
                both.set_result();
            });
            co_await both;
            EXPECT_EQ(*seen, (std::vector<int>{9, 0}));
        }(),
        weft::run_options{.workers = 4});
}

TEST(DoneCallback, RemovedBeforeCompletionNeverRuns) {
    weft::run(
        []() -> weft::coro<> {
            weft::future<> gate;
            const weft::task<int> t = weft::create_task(value_after(gate, 1));
            std::atomic<int> removed_ran{0};
            std::atomic<int> destroyed{0};
            weft::future<> kept_ran;
            const weft::done_callback_id removed = t.add_done_callback(
                [&removed_ran, counter = weft::testing::destruction_counter(destroyed)](
                    const weft::task<int>&) mutable { ++removed_ran; });
            const weft::done_callback_id kept = t.add_done_callback(
                [kept_ran](const weft::task<int>&) mutable { kept_ran.set_result(); });
            EXPECT_FALSE(removed == kept);
            EXPECT_TRUE(t.remove_done_callback(removed));
            EXPECT_EQ(destroyed.load(), 1); // the callable is destroyed as it is removed
            EXPECT_FALSE(t.remove_done_callback(removed));
            EXPECT_FALSE(t.remove_done_callback(weft::done_callback_id{}));
            gate.set_result();
            co_await kept_ran;
            co_await t;
            EXPECT_EQ(removed_ran.load(), 0);
        }(),
        weft::run_options{.workers = 2});
}

TEST(DoneCallback, RemovingOneThatRanReturnsFalse) {
    weft::run(
        []() -> weft::coro<> {
            weft::future<int> f;
            weft::future<> ran;
            const weft::done_callback_id id =
                f.add_done_callback([ran](const weft::future<int>&) mutable { ran.set_result(); });
            f.set_result(1);
            co_await ran;
            EXPECT_FALSE(f.remove_done_callback(id));
        }(),
        weft::run_options{.workers = 2});
}

TEST(DoneCallback, SeesResultExceptionAndCancellation) {
    int reported = 0;
    weft::run(
        []() -> weft::coro<> {
            weft::future<> gate;
            const weft::task<int> returns = weft::create_task(value_after(gate, 5));
            const weft::task<int> fails = weft::create_task(fails_after(gate));
            const weft::task<int> cancelled = weft::create_task(value_after(weft::future<>(), 0));
            weft::future<int> value;
            weft::future<std::string> failure;
            weft::future<bool> was_cancelled;
            returns.add_done_callback(
                [value](const weft::task<int>& t) mutable { value.set_result(t.result()); });
            fails.add_done_callback([failure](const weft::task<int>& t) mutable {
                try {
                    std::rethrow_exception(t.exception());
                } catch (const std::out_of_range& error) {
                    failure.set_result(error.what());
                }
            });
            cancelled.add_done_callback([was_cancelled](const weft::task<int>& t) mutable {
                was_cancelled.set_result(t.cancelled());
            });
            gate.set_result();
            cancelled.cancel();
            EXPECT_EQ(co_await value, 5);
            EXPECT_EQ(co_await failure, "failed");
            EXPECT_TRUE(co_await was_cancelled);
        }(),
        // The callback read the failure: it is not reported as never retrieved.
        weft::run_options{.workers = 2,
                          .exception_handler = [&](std::exception_ptr) { ++reported; }});
    EXPECT_EQ(reported, 0);
}

TEST(DoneCallback, DoesNotRetrieveTheExceptionItself) {
    std::atomic<int> reported{0};
    weft::run(
        []() -> weft::coro<> {
            weft::future<> gate;
            weft::future<> ran;
            {
                const weft::task<int> fails = weft::create_task(fails_after(gate));
                fails.add_done_callback(
                    [ran](const weft::task<int>&) mutable { ran.set_result(); });
            }
            gate.set_result();
            co_await ran;
        }(),
        weft::run_options{.workers = 2,
                          .exception_handler = [&](std::exception_ptr) { ++reported; }});
    EXPECT_EQ(reported.load(), 1);
}

TEST(DoneCallback, ThrowingCallbackReachesTheExceptionHandler) {
    std::mutex lock;
    std::vector<std::string> handled;
    weft::run(
        []() -> weft::coro<> {
            weft::future<int> f;
            weft::future<> after;
            f.add_done_callback(
                [](const weft::future<int>&) mutable { throw std::runtime_error("boom"); });
            f.add_done_callback([after](const weft::future<int>&) mutable { after.set_result(); });
            f.set_result(1);
            co_await after; // the throw did not stop the callbacks after it
        }(),
        weft::run_options{.workers = 2, .exception_handler = [&](std::exception_ptr error) {
                              try {
                                  std::rethrow_exception(error);
                              } catch (const std::exception& failure) {
                                  const std::lock_guard hold(lock);
                                  handled.emplace_back(failure.what());
                              }
                          }});
    EXPECT_EQ(handled, std::vector<std::string>{"boom"});
}

TEST(DoneCallback, SetResultReturnsBeforeTheCallbackRunsOnTheWorker) {
    const std::thread::id runner = std::this_thread::get_id();
    weft::run(
        [](std::thread::id worker) -> weft::coro<> {
            weft::future<int> f;
            bool ran = false;
            weft::future<std::thread::id> ran_on;
            f.add_done_callback([&ran, ran_on](const weft::future<int>&) mutable {
                ran = true;
                ran_on.set_result(current_thread_id());
            });
            f.set_result(2);
            EXPECT_FALSE(ran);
            EXPECT_EQ(co_await ran_on, worker);
            EXPECT_TRUE(ran);
        }(runner),
        weft::run_options{.workers = 1});
}

TEST(DoneCallback, FutureCompletedOutsideTheRuntimeRunsItOnAWorker) {
    const std::thread::id runner = std::this_thread::get_id();
    weft::run(
        [](std::thread::id worker) -> weft::coro<> {
            weft::future<int> f;
            weft::future<std::thread::id> ran_on;
            f.add_done_callback([ran_on](const weft::future<int>& done) mutable {
                EXPECT_EQ(done.result(), 4);
                ran_on.set_result(current_thread_id());
            });
            std::thread completer([f]() mutable { f.set_result(4); });
            const std::thread::id outside = completer.get_id();
            const std::thread::id seen = co_await ran_on;
            completer.join();
            EXPECT_NE(seen, outside);
            EXPECT_EQ(seen, worker);
        }(runner),
        weft::run_options{.workers = 1});
}

TEST(DoneCallback, ShutdownRunsTheCallbacksOfTheTasksItCancels) {
    std::atomic<int> ran_cancelled{0};
    std::atomic<int> future_ran{0};
    std::atomic<int> destroyed{0};
    weft::run(
        [](std::atomic<int>& cancelled, std::atomic<int>& future_runs,
           std::atomic<int>& destructions) -> weft::coro<> {
            const weft::task<int> pending = weft::create_task(value_after(weft::future<>(), 0));
            for (int i = 0; i < 3; ++i) {
                pending.add_done_callback([&cancelled](const weft::task<int>& t) mutable {
                    if (t.cancelled()) {
                        ++cancelled;
                    }
                });
            }
            const weft::future<int> never;
            never.add_done_callback(
                [&future_runs, counter = weft::testing::destruction_counter(destructions)](
                    const weft::future<int>&) mutable { ++future_runs; });
            // Lets the task and both runners suspend: on one worker, the shutdown then
            // cancels each of them before any runs again, the task's runner first or not.
            co_await weft::sleep(std::chrono::seconds(0));
            co_return; // main ends with both pending: the shutdown cancels the task
        }(ran_cancelled, future_ran, destroyed),
        weft::run_options{.workers = 1});
    EXPECT_EQ(ran_cancelled.load(), 3);
    EXPECT_EQ(future_ran.load(), 0);
    EXPECT_EQ(destroyed.load(), 1); // dropped unrun, not leaked
}

TEST(DoneCallback, AddedRightBeforeMainEndsStillRuns) {
    std::atomic<int> ran{0};
    weft::run(
        [](std::atomic<int>& runs) -> weft::coro<> {
            weft::future<> gate;
            gate.set_result();
            const weft::task<int> t = weft::create_task(value_after(gate, 1));
            t.add_done_callback([&runs](const weft::task<int>&) mutable { ++runs; });
            co_return;
        }(ran),
        weft::run_options{.workers = 1});
    EXPECT_EQ(ran.load(), 1);
}

TEST(DoneCallback, OutsideARuntimeOrOnAnEmptyHandleThrows) {
    weft::future<int> f;
    EXPECT_THROW(f.add_done_callback([](const weft::future<int>&) mutable {}), weft::runtime_error);
    f.set_result(1);
    EXPECT_THROW(f.add_done_callback([](const weft::future<int>&) mutable {}), weft::runtime_error);
    weft::run([]() -> weft::coro<> {
        const weft::task<int> empty;
        EXPECT_THROW(empty.add_done_callback([](const weft::task<int>&) mutable {}),
                     weft::invalid_state_error);
        EXPECT_FALSE(empty.remove_done_callback(weft::done_callback_id{}));
        co_return;
    }());
}

// Adds and removes race completions made on other workers: every callback either runs once
// or is removed, never both, never neither.
TEST(DoneCallback, AddAndRemoveRaceCompletion) {
    constexpr int rounds = 400;
    std::atomic<int> ran{0};
    int removed = 0;
    weft::run(
        [](std::atomic<int>& runs, int& removals) -> weft::coro<> {
            std::vector<weft::task<>> completers;
            std::vector<weft::future<int>> futures(rounds);
            std::vector<weft::done_callback_id> ids;
            for (int i = 0; i < rounds; ++i) {
                completers.push_back(weft::create_task([](weft::future<int> f) -> weft::coro<> {
                    f.set_result(1);
                    co_return;
                }(futures[i])));
                ids.push_back(futures[i].add_done_callback(
                    [&runs](const weft::future<int>& f) mutable { runs += f.result(); }));
                if (i % 2 == 0 && futures[i].remove_done_callback(ids[i])) {
                    ++removals;
                }
            }
            for (weft::task<>& each : completers) {
                co_await each;
            }
            EXPECT_TRUE(
                weft::testing::eventually([&] { return runs.load() + removals == rounds; }));
        }(ran, removed),
        weft::run_options{.workers = 4});
    EXPECT_EQ(ran.load() + removed, rounds);
}

// A callback runs outside any task, in the context of the code that added it, and the task
// that runs it is the runtime's own, which all_tasks() does not list.
TEST(DoneCallback, RunsOutsideAnyTaskInTheAddersContext) {
    weft::context_var<std::string> who("who");
    struct seen {
        bool in_a_task = true;
        std::string context;
        std::size_t tasks_listed = 0;
    } result;
    weft::run(
        [](weft::context_var<std::string>& var, seen& out) -> weft::coro<> {
            weft::future<> gate;
            weft::task<int> t = weft::create_task(value_after(gate, 1));
            var.set("adder");
            weft::event ran;
            t.add_done_callback([&var, &out, &ran](const weft::task<int>&) {
                out.in_a_task = static_cast<bool>(weft::current_task());
                out.context = var.get("none");
                out.tasks_listed = weft::all_tasks().size();
                ran.set();
            });
            var.set("changed after");
            co_await weft::sleep(std::chrono::seconds(0)); // the runner now waits for t
            gate.set_result();
            co_await ran.wait();
            co_await t;
        }(who, result),
        weft::run_options{.workers = 1});
    EXPECT_FALSE(result.in_a_task);
    EXPECT_EQ(result.context, "adder");
    EXPECT_EQ(result.tasks_listed, 1U); // main only: t has ended, the runner is not listed
}

} // namespace
