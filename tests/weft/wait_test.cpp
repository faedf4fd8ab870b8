// Tests weft::wait and weft::as_completed (include/weft/wait.hpp): each return_when mode
// with the contents and order of done and pending, tasks already done at the call, empty
// inputs and empty handles, cancellation of the awaiting task (which leaves the tasks
// running), completion order with slow readers and failing tasks, and races of many
// completions, on two workers and from a foreign thread, against one resumption and
// against cancellation; as_completed with a time limit.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::one_virtual_worker;

// Sleeps `delay`, then returns `value`.
using weft::testing::value_after;

// Sleeps `delay`, then throws std::runtime_error(`message`).
weft::coro<int> failure_after(std::chrono::nanoseconds delay, const char* message) {
    co_await weft::sleep(delay);
    throw std::runtime_error(message);
}

// How each task stands: "pending", its value, its exception's message, or "cancelled".
std::vector<std::string> states_of(const std::vector<weft::task<int>>& tasks) {
    std::vector<std::string> states;
    for (const weft::task<int>& each : tasks) {
        if (!each.done()) {
            states.emplace_back("pending");
            continue;
        }
        try {
            states.push_back(std::to_string(each.result()));
        } catch (const std::runtime_error& error) {
            states.emplace_back(error.what());
        } catch (const weft::cancelled_error&) {
            states.emplace_back("cancelled");
        }
    }
    return states;
}

using states = std::vector<std::string>;

// The tasks as a vector. Built here, not in the coroutines: g++ 12 rejects an initializer
// list inside an expression that contains co_await.
template <class... Tasks>
std::vector<weft::task<int>> tasks_of(Tasks... tasks) {
    return {std::move(tasks)...};
}

// Three tasks yielding 0, 1 and 2, which end 3, 1 and 2 seconds after they start.
std::vector<weft::task<int>> ending_at_3_1_2_seconds() {
    return tasks_of(weft::create_task(value_after(3s, 0)), weft::create_task(value_after(1s, 1)),
                    weft::create_task(value_after(2s, 2)));
}

TEST(Wait, AllCompletedResumesWhenEveryTaskIsDone) {
    weft::run(
        []() -> weft::coro<> {
            const weft::clock::time_point start = weft::clock::now();
            std::vector<weft::task<int>> tasks = ending_at_3_1_2_seconds();
            weft::wait_result<int> result = co_await weft::wait(tasks);
            EXPECT_EQ(weft::clock::now() - start, 3s);
            EXPECT_EQ(states_of(result.done), (states{"0", "1", "2"}));
            EXPECT_TRUE(result.pending.empty());
        }(),
        one_virtual_worker);
}

TEST(Wait, FirstCompletedResumesAtTheFirstEndAndCancelsNothing) {
    weft::run(
        []() -> weft::coro<> {
            const weft::clock::time_point start = weft::clock::now();
            std::vector<weft::task<int>> tasks = ending_at_3_1_2_seconds();
            auto [done, pending] = co_await weft::wait(tasks, weft::return_when::first_completed);
            EXPECT_EQ(weft::clock::now() - start, 1s);
            EXPECT_EQ(states_of(done), (states{"1"}));
            EXPECT_EQ(states_of(pending), (states{"pending", "pending"}));

            co_await weft::wait(pending); // still running, and they end normally
            EXPECT_EQ(states_of(pending), (states{"0", "2"}));
            EXPECT_EQ(weft::clock::now() - start, 3s);
        }(),
        one_virtual_worker);
}

weft::coro<int> value_of(weft::future<int> source) {
    co_return co_await source;
}

// As in asyncio, where the waiter resumes after the ready callbacks of the step that ended
// the first task: with one worker, the waiter goes behind every task already woken.
TEST(Wait, FirstCompletedReportsEveryTaskThatEndedInTheSameStep) {
    weft::run(
        []() -> weft::coro<> {
            std::vector<weft::task<int>> timed = tasks_of(weft::create_task(value_after(2s, 0)),
                                                          weft::create_task(value_after(1s, 1)),
                                                          weft::create_task(value_after(1s, 2)));
            auto same_deadline = co_await weft::wait(timed, weft::return_when::first_completed);
            EXPECT_EQ(weft::clock::now().time_since_epoch(), 1s);
            EXPECT_EQ(states_of(same_deadline.done), (states{"1", "2"}));
            EXPECT_EQ(same_deadline.pending.size(), 1u);

            weft::future<int> first;
            weft::future<int> second;
            std::vector<weft::task<int>> woken =
                tasks_of(weft::create_task(value_of(first)), weft::create_task(value_of(second)));
            co_await weft::sleep(0s); // both wait on their futures
            first.set_result(3);
            second.set_result(4);
            auto same_step = co_await weft::wait(woken, weft::return_when::first_completed);
            EXPECT_EQ(states_of(same_step.done), (states{"3", "4"}));

            weft::task<int> earlier = weft::create_task(value_after(1s, 5));
            weft::task<int> chained =
                weft::create_task([](weft::task<int> before) -> weft::coro<int> {
                    co_return co_await before + 1;
                }(earlier));
            auto both = co_await weft::wait(tasks_of(earlier, chained),
                                            weft::return_when::first_completed, 1h);
            EXPECT_EQ(states_of(both.done), (states{"5", "6"}));
            co_await weft::wait(timed);
        }(),
        one_virtual_worker);
}

TEST(Wait, WithATimeLimitYieldsWhatIsDoneByThenAndCancelsNothing) {
    weft::run(
        []() -> weft::coro<> {
            const weft::clock::time_point start = weft::clock::now();
            std::vector<weft::task<int>> tasks{weft::create_task(value_after(5s, 0)),
                                               weft::create_task(value_after(1s, 1)),
                                               weft::create_task(value_after(10s, 2))};
            auto [done, pending] = co_await weft::wait(tasks, weft::return_when::all_completed, 3s);
            EXPECT_EQ(weft::clock::now() - start, 3s);
            EXPECT_EQ(states_of(done), (states{"1"}));
            EXPECT_EQ(states_of(pending), (states{"pending", "pending"}));

            auto [early, rest] = co_await weft::wait(pending, weft::return_when::first_completed,
                                                     std::chrono::hours(1));
            EXPECT_EQ(weft::clock::now() - start, 5s); // the limit did not hold it back
            EXPECT_EQ(states_of(early), (states{"0"}));
            EXPECT_EQ(states_of(rest), (states{"pending"}));
            co_await weft::wait(rest);
            EXPECT_EQ(states_of(rest), (states{"2"}));
        }(),
        one_virtual_worker);
}

TEST(Wait, TimeLimitsBeyondTheClocksRangeNeverExpireAndNaNIsAnInvalidArgument) {
    weft::run(
        []() -> weft::coro<> {
            auto all =
                co_await weft::wait(ending_at_3_1_2_seconds(), weft::return_when::all_completed,
                                    std::chrono::hours::max());
            EXPECT_EQ(states_of(all.done), (states{"0", "1", "2"}));
            EXPECT_EQ(weft::clock::now().time_since_epoch(), 3s);
            const std::chrono::duration<double> nan(std::numeric_limits<double>::quiet_NaN());
            EXPECT_THROW(
                (void)weft::wait(ending_at_3_1_2_seconds(), weft::return_when::all_completed, nan),
                weft::invalid_argument);
            co_await weft::sleep(3s); // the tasks of the rejected wait end
        }(),
        one_virtual_worker);
}

TEST(Wait, FirstExceptionResumesAtTheFirstFailure) {
    weft::run(
        []() -> weft::coro<> {
            const weft::clock::time_point start = weft::clock::now();
            std::vector<weft::task<int>> tasks{
                weft::create_task(value_after(1s, 0)), weft::create_task(value_after(4s, 1)),
                weft::create_task(failure_after(2s, "two")), weft::create_task(value_after(3s, 3))};
            auto [done, pending] = co_await weft::wait(tasks, weft::return_when::first_exception);
            EXPECT_EQ(weft::clock::now() - start, 2s);
            EXPECT_EQ(states_of(done), (states{"0", "two"}));
            EXPECT_EQ(states_of(pending), (states{"pending", "pending"}));
            co_await weft::wait(pending);
            EXPECT_EQ(states_of(pending), (states{"1", "3"}));
        }(),
        one_virtual_worker);
}

TEST(Wait, FirstExceptionWithoutAFailureWaitsForAll) {
    weft::run(
        []() -> weft::coro<> {
            const weft::clock::time_point start = weft::clock::now();
            std::vector<weft::task<int>> tasks{weft::create_task(value_after(2s, 0)),
                                               weft::create_task(value_after(1s, 1))};
            auto [done, pending] =
                co_await weft::wait(std::move(tasks), weft::return_when::first_exception);
            EXPECT_EQ(weft::clock::now() - start, 2s);
            EXPECT_EQ(states_of(done), (states{"0", "1"}));
            EXPECT_TRUE(pending.empty());
        }(),
        one_virtual_worker);
}

// Cancels `victim` after `delay`.
weft::coro<> cancel_after(std::chrono::nanoseconds delay, weft::task<int> victim) {
    co_await weft::sleep(delay);
    victim.cancel();
}

TEST(Wait, FirstExceptionDoesNotCountACancelledTask) {
    weft::run(
        []() -> weft::coro<> {
            const weft::clock::time_point start = weft::clock::now();
            std::vector<weft::task<int>> tasks{weft::create_task(value_after(4s, 0)),
                                               weft::create_task(value_after(1h, 1)),
                                               weft::create_task(failure_after(2s, "two"))};
            weft::task<> canceller = weft::create_task(cancel_after(1s, tasks[1]));
            auto [done, pending] = co_await weft::wait(tasks, weft::return_when::first_exception);
            EXPECT_EQ(weft::clock::now() - start, 2s); // not 1 s, when tasks[1] was cancelled
            EXPECT_EQ(states_of(done), (states{"cancelled", "two"}));
            EXPECT_EQ(states_of(pending), (states{"pending"}));

            // Cancelled, already done, and another task pending: it waits for all.
            auto rest = co_await weft::wait(tasks_of(tasks[1], tasks[0]),
                                            weft::return_when::first_exception);
            EXPECT_EQ(weft::clock::now() - start, 4s);
            EXPECT_EQ(states_of(rest.done), (states{"cancelled", "0"}));
            co_await canceller;
        }(),
        one_virtual_worker);
}

TEST(Wait, TasksAlreadyDoneCountWithoutSuspending) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<int> ended = weft::create_task(value_after(0s, 1));
            weft::task<int> failed = weft::create_task(failure_after(0s, "failed"));
            weft::task<int> running = weft::create_task(value_after(1h, 3));
            co_await weft::wait(tasks_of(ended, failed), weft::return_when::all_completed);
            const weft::clock::time_point start = weft::clock::now();

            // With one worker, a task made now runs only if the awaiter suspends.
            std::atomic<bool> ran{false};
            weft::task<> witness = weft::create_task([](std::atomic<bool>& ran) -> weft::coro<> {
                ran.store(true);
                co_return;
            }(ran));

            auto first =
                co_await weft::wait(tasks_of(running, ended), weft::return_when::first_completed);
            EXPECT_EQ(states_of(first.done), (states{"1"}));
            EXPECT_EQ(states_of(first.pending), (states{"pending"}));

            auto failure = co_await weft::wait(tasks_of(running, ended, failed),
                                               weft::return_when::first_exception);
            EXPECT_EQ(states_of(failure.done), (states{"1", "failed"}));
            EXPECT_EQ(states_of(failure.pending), (states{"pending"}));

            auto all = co_await weft::wait(tasks_of(failed, ended));
            EXPECT_EQ(states_of(all.done), (states{"failed", "1"}));
            EXPECT_TRUE(all.pending.empty());

            EXPECT_FALSE(ran.load());
            EXPECT_EQ(weft::clock::now(), start);
            co_await witness;

            // One done and one pending under all_completed: it suspends until both are.
            weft::task<int> soon = weft::create_task(value_after(1s, 4));
            auto both = co_await weft::wait(tasks_of(ended, soon));
            EXPECT_EQ(states_of(both.done), (states{"1", "4"}));
            EXPECT_EQ(weft::clock::now() - start, 1s);
            running.cancel();
        }(),
        one_virtual_worker);
}

TEST(Wait, EmptyInputCompletesAtOnce) {
    weft::run(
        []() -> weft::coro<> {
            for (weft::return_when when :
                 {weft::return_when::first_completed, weft::return_when::first_exception,
                  weft::return_when::all_completed}) {
                weft::wait_result<int> result =
                    co_await weft::wait(std::vector<weft::task<int>>{}, when);
                EXPECT_TRUE(result.done.empty());
                EXPECT_TRUE(result.pending.empty());
            }
        }(),
        one_virtual_worker);
}

TEST(Wait, EmptyHandlesAndSecondAwaitsAreInvalidState) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<int> real = weft::create_task(value_after(0s, 1));
            EXPECT_THROW((void)weft::wait(tasks_of(real, weft::task<int>())),
                         weft::invalid_state_error);
            EXPECT_THROW(weft::as_completed(tasks_of(weft::task<int>(), real)),
                         weft::invalid_state_error);

            auto once = weft::wait(tasks_of(real));
            co_await once;
            EXPECT_THROW(co_await once, weft::invalid_state_error);
        }(),
        one_virtual_worker);
}

TEST(Wait, RunsAsATask) {
    weft::run(
        []() -> weft::coro<> {
            std::vector<weft::task<int>> tasks{weft::create_task(value_after(2s, 0)),
                                               weft::create_task(value_after(1s, 1))};
            weft::task<weft::wait_result<int>> waiting =
                weft::create_task(weft::wait(tasks, weft::return_when::first_completed));
            weft::wait_result<int> result = co_await waiting;
            EXPECT_EQ(states_of(result.done), (states{"1"}));
            EXPECT_EQ(states_of(result.pending), (states{"pending"}));
            co_await weft::wait(tasks);
        }(),
        one_virtual_worker);
}

TEST(Wait, CancellingTheWaiterEndsTheWaitAndLeavesTheTasksRunning) {
    for (weft::return_when when :
         {weft::return_when::first_completed, weft::return_when::first_exception,
          weft::return_when::all_completed}) {
        weft::run(
            [](weft::return_when when) -> weft::coro<> {
                const weft::clock::time_point start = weft::clock::now();
                std::vector<weft::task<int>> tasks{weft::create_task(value_after(2s, 0)),
                                                   weft::create_task(failure_after(3s, "x"))};
                weft::task<> waiter = weft::create_task(
                    [](std::vector<weft::task<int>> tasks, weft::return_when when) -> weft::coro<> {
                        co_await weft::wait(std::move(tasks), when);
                        ADD_FAILURE() << "the wait was not cancelled";
                    }(tasks, when));
                co_await weft::sleep(1s);

                EXPECT_TRUE(waiter.cancel());
                EXPECT_THROW(co_await waiter, weft::cancelled_error);
                EXPECT_EQ(weft::clock::now() - start, 1s); // at once

                for (const weft::task<int>& each : tasks) {
                    EXPECT_FALSE(each.done());
                }
                EXPECT_EQ(co_await tasks[0], 0);
                EXPECT_THROW(co_await tasks[1], std::runtime_error);
                EXPECT_FALSE(tasks[1].cancelled());
                EXPECT_EQ(weft::clock::now() - start, 3s);
            }(when),
            one_virtual_worker);
    }
}

TEST(Wait, PendingCancellationEndsTheWaitUnlessItIsAlreadySatisfied) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<int> done = weft::create_task(value_after(0s, 1));
            weft::task<int> slow = weft::create_task(value_after(1h, 2));
            co_await weft::wait(tasks_of(done));
            const weft::clock::time_point start = weft::clock::now();

            weft::task<int> self;
            self = weft::create_task([](weft::task<int>& me, weft::task<int> done,
                                        weft::task<int> slow) -> weft::coro<int> {
                co_await weft::sleep(0s);
                me.cancel(); // running: the request waits for the next suspension
                auto satisfied =
                    co_await weft::wait(tasks_of(slow, done), weft::return_when::first_completed);
                EXPECT_EQ(satisfied.done.size(), 1u); // no suspension: nothing delivered
                co_await weft::wait(tasks_of(slow, done));
                co_return 0;
            }(self, done, slow));
            EXPECT_THROW(co_await self, weft::cancelled_error);
            EXPECT_EQ(weft::clock::now(), start);
            EXPECT_FALSE(slow.done());
            slow.cancel();
        }(),
        one_virtual_worker);
}

TEST(AsCompleted, YieldsTasksInTheOrderTheyEnd) {
    weft::run(
        []() -> weft::coro<> {
            const weft::clock::time_point start = weft::clock::now();
            std::vector<weft::task<int>> tasks = ending_at_3_1_2_seconds();
            weft::as_completed stream(tasks);
            EXPECT_EQ(stream.remaining(), 3u);
            std::vector<int> order;
            std::vector<weft::clock::duration> times;
            while (stream.remaining() > 0) {
                weft::task<int> next = co_await stream.next();
                EXPECT_TRUE(next.done());
                order.push_back(next.result());
                times.push_back(weft::clock::now() - start);
            }
            EXPECT_EQ(order, (std::vector<int>{1, 2, 0}));
            EXPECT_EQ(times, (std::vector<weft::clock::duration>{1s, 2s, 3s}));
        }(),
        one_virtual_worker);
}

TEST(AsCompleted, KeepsTheOrderWhenTheReaderIsSlow) {
    weft::run(
        []() -> weft::coro<> {
            std::vector<weft::task<int>> tasks;
            for (int i = 0; i < 6; ++i) {
                tasks.push_back(weft::create_task(value_after(std::chrono::seconds(6 - i), i)));
            }
            auto stream = weft::as_completed(std::move(tasks));
            co_await weft::sleep(10s); // all end before the first next()
            std::vector<int> order;
            while (stream.remaining() > 0) {
                order.push_back((co_await stream.next()).result());
            }
            EXPECT_EQ(order, (std::vector<int>{5, 4, 3, 2, 1, 0}));
        }(),
        one_virtual_worker);
}

TEST(AsCompleted, TasksDoneBeforehandComeFirstInInputOrder) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<int> late = weft::create_task(value_after(1s, 0));
            weft::task<int> early_b = weft::create_task(value_after(0s, 1));
            weft::task<int> early_a = weft::create_task(value_after(0s, 2));
            co_await weft::wait(tasks_of(early_a, early_b));
            weft::as_completed stream(tasks_of(late, early_a, early_b));
            std::vector<int> order;
            while (stream.remaining() > 0) {
                order.push_back((co_await stream.next()).result());
            }
            EXPECT_EQ(order, (std::vector<int>{2, 1, 0}));
        }(),
        one_virtual_worker);
}

TEST(AsCompleted, FailingTasksAreYieldedInTheirTurn) {
    weft::run(
        []() -> weft::coro<> {
            std::vector<weft::task<int>> tasks{weft::create_task(failure_after(2s, "second")),
                                               weft::create_task(value_after(1s, 1)),
                                               weft::create_task(failure_after(3s, "third"))};
            weft::as_completed stream(tasks);
            std::vector<weft::task<int>> order;
            while (stream.remaining() > 0) {
                order.push_back(co_await stream.next());
            }
            EXPECT_EQ(states_of(order), (states{"1", "second", "third"}));
            EXPECT_THROW(co_await order[1], std::runtime_error);
            EXPECT_NE(order[2].exception(), nullptr);
        }(),
        one_virtual_worker);
}

TEST(AsCompleted, NextWithNothingRemainingIsInvalidState) {
    weft::run(
        []() -> weft::coro<> {
            weft::as_completed empty(std::vector<weft::task<int>>{});
            EXPECT_EQ(empty.remaining(), 0u);
            EXPECT_THROW((void)empty.next(), weft::invalid_state_error);

            weft::as_completed one(tasks_of(weft::create_task(value_after(1s, 7))));
            EXPECT_EQ((co_await one.next()).result(), 7);
            EXPECT_THROW((void)one.next(), weft::invalid_state_error);
        }(),
        one_virtual_worker);
}

TEST(AsCompleted, AStreamDroppedEarlyLeavesTheTasksRunning) {
    weft::run(
        []() -> weft::coro<> {
            std::vector<weft::task<int>> tasks{weft::create_task(value_after(2s, 0)),
                                               weft::create_task(value_after(1s, 1)),
                                               weft::create_task(value_after(3s, 2))};
            auto stream = std::make_unique<weft::as_completed<int>>(tasks);
            EXPECT_EQ((co_await stream->next()).result(), 1);
            stream.reset(); // its nodes leave the lists of the two running tasks
            co_await weft::wait(tasks);
            EXPECT_EQ(states_of(tasks), (states{"0", "1", "2"}));
        }(),
        one_virtual_worker);
}

TEST(AsCompleted, CancellingTheReaderTakesNothingAndCancelsNoTask) {
    weft::run(
        []() -> weft::coro<> {
            const weft::clock::time_point start = weft::clock::now();
            std::vector<weft::task<int>> tasks{weft::create_task(value_after(3s, 0)),
                                               weft::create_task(value_after(2s, 1))};
            weft::task<std::vector<int>> reader = weft::create_task(
                [](std::vector<weft::task<int>> tasks) -> weft::coro<std::vector<int>> {
                    weft::as_completed stream(std::move(tasks));
                    bool cancelled = false;
                    try {
                        co_await stream.next();
                    } catch (const weft::cancelled_error&) {
                        cancelled = true;
                    }
                    EXPECT_TRUE(cancelled);
                    EXPECT_EQ(stream.remaining(), 2u);
                    std::vector<int> order;
                    while (stream.remaining() > 0) {
                        order.push_back((co_await stream.next()).result());
                    }
                    co_return order;
                }(tasks));
            co_await weft::sleep(1s);
            reader.cancel();
            const std::vector<int> order = co_await reader;
            EXPECT_EQ(order, (std::vector<int>{1, 0}));
            EXPECT_EQ(weft::clock::now() - start, 3s);
            EXPECT_FALSE(tasks[0].cancelled());
            EXPECT_FALSE(tasks[1].cancelled());
        }(),
        one_virtual_worker);
}

// A task that returns what a future, completed by a thread outside the runtime, holds.
weft::coro<int> from_future(weft::future<int> source, weft::testing::destruction_counter) {
    co_return co_await source;
}

// A task that hops between workers a few times, then returns `value`.
weft::coro<int> hopping(int hops, int value, weft::testing::destruction_counter) {
    for (int i = 0; i < hops; ++i) {
        co_await weft::sleep(0s);
    }
    co_return value;
}

// Each round: tasks end about at once on two workers and through a future completed by a
// foreign thread, while wait(first_completed) runs. The wait resumes exactly once with at
// least one task done; every frame is freed.
TEST(WaitRace, FirstCompletedAgainstCompletionsOnTwoWorkersAndAForeignThread) {
    constexpr int rounds = 3'000;
    std::atomic<int> made{0};
    std::atomic<int> destroyed{0};
    std::atomic<int> resumed{0};
    weft::run(
        [](std::atomic<int>& made, std::atomic<int>& destroyed,
           std::atomic<int>& resumed) -> weft::coro<> {
            std::minstd_rand random(3);
            for (int round = 0; round < rounds; ++round) {
                weft::future<int> source;
                std::vector<weft::task<int>> tasks;
                tasks.push_back(weft::create_task(
                    from_future(source, weft::testing::destruction_counter(destroyed))));
                for (int i = 0; i < 3; ++i) {
                    tasks.push_back(
                        weft::create_task(hopping(static_cast<int>(random() % 3), i,
                                                  weft::testing::destruction_counter(destroyed))));
                }
                made.fetch_add(4);
                std::thread producer([source]() mutable { source.set_result(9); });
                auto [done, pending] =
                    co_await weft::wait(tasks, weft::return_when::first_completed);
                resumed.fetch_add(1);
                EXPECT_FALSE(done.empty());
                EXPECT_EQ(done.size() + pending.size(), tasks.size());
                for (const weft::task<int>& each : done) {
                    EXPECT_TRUE(each.done());
                }
                producer.join();
                auto all = co_await weft::wait(std::move(tasks));
                EXPECT_EQ(all.done.size(), 4u);
            }
        }(made, destroyed, resumed),
        weft::run_options{.workers = 2});
    EXPECT_EQ(resumed.load(), rounds);
    EXPECT_EQ(destroyed.load(), made.load());
}

// Runs until `release` is set, then returns 1. It is running, not suspended, when released,
// so it ends within moments of that.
weft::coro<int> runs_until(const std::atomic<bool>& release) {
    co_await weft::sleep(0s);
    while (!release.load()) {
        weft::detail::cpu_relax();
    }
    co_return 1;
}

// Waits for `awaited` and counts how the wait ended.
weft::coro<> wait_and_count(weft::task<int> awaited, weft::return_when when,
                            std::atomic<int>& satisfied, std::atomic<int>& cancelled,
                            std::atomic<bool>& began) {
    began.store(true);
    try {
        auto result = co_await weft::wait(tasks_of(awaited), when);
        EXPECT_EQ(result.done.size(), 1u);
        satisfied.fetch_add(1);
    } catch (const weft::cancelled_error&) {
        cancelled.fetch_add(1);
    }
}

// Each round a foreign thread releases the task a wait is waiting for and, a random moment
// later, cancels the waiting task: the end of the task on a worker and the cancellation race
// to resume the wait. It ends exactly once, by the result or by cancelled_error, and the
// task it waited for is never cancelled.
TEST(WaitRace, CancelAgainstCompletionFromAForeignThread) {
    constexpr int rounds = 2'000;
    std::atomic<int> satisfied{0};
    std::atomic<int> cancelled{0};
    weft::run(
        [](std::atomic<int>& satisfied, std::atomic<int>& cancelled) -> weft::coro<> {
            std::minstd_rand random(13);
            for (int round = 0; round < rounds; ++round) {
                std::atomic<bool> release{false};
                std::atomic<bool> began{false};
                weft::task<int> awaited = weft::create_task(runs_until(release));
                const weft::return_when when = round % 2 == 0 ? weft::return_when::first_completed
                                                              : weft::return_when::all_completed;
                weft::task<> waiter =
                    weft::create_task(wait_and_count(awaited, when, satisfied, cancelled, began));
                // The waiter has started (one cancelled before it starts never runs) and is
                // now suspended in its wait, or about to be.
                while (!began.load()) {
                    co_await weft::sleep(0s);
                }
                const auto delay = std::chrono::nanoseconds(random() % 3'000);
                std::thread outside([&release, waiter, delay] {
                    release.store(true);
                    const auto until = std::chrono::steady_clock::now() + delay;
                    while (std::chrono::steady_clock::now() < until) {
                        weft::detail::cpu_relax();
                    }
                    waiter.cancel();
                });
                try {
                    co_await waiter; // cancelled after all if the request came as it returned
                } catch (const weft::cancelled_error&) {
                }
                outside.join();
                EXPECT_EQ(co_await awaited, 1);
                EXPECT_FALSE(awaited.cancelled());
            }
        }(satisfied, cancelled),
        weft::run_options{.workers = 2});
    EXPECT_EQ(satisfied.load() + cancelled.load(), rounds);
}

// Drains an as_completed stream of tasks whose values are their positions, carrying on
// after each cancellation; counts in `seen` how many times each position was yielded.
weft::coro<> count_yields(std::vector<weft::task<int>> tasks, std::vector<int>& seen,
                          std::atomic<bool>& started) {
    seen.assign(tasks.size(), 0);
    started.store(true);
    weft::as_completed stream(std::move(tasks));
    while (stream.remaining() > 0) {
        try {
            weft::task<int> next = co_await stream.next();
            EXPECT_TRUE(next.done());
            ++seen[static_cast<std::size_t>(next.result())];
        } catch (const weft::cancelled_error&) {
        }
    }
}

// Many tasks end concurrently while one reader drains the stream: each is yielded exactly
// once, done, and the reader's cancellations (from a foreign thread) take nothing.
TEST(AsCompletedRace, EachTaskIsYieldedOnceUnderConcurrentCompletionAndCancellation) {
    constexpr int rounds = 500;
    constexpr int width = 8;
    std::atomic<int> made{0};
    std::atomic<int> destroyed{0};
    weft::run(
        [](std::atomic<int>& made, std::atomic<int>& destroyed) -> weft::coro<> {
            std::minstd_rand random(7);
            for (int round = 0; round < rounds; ++round) {
                std::vector<weft::future<int>> sources(width / 2);
                std::vector<weft::task<int>> tasks;
                for (int i = 0; i < width; ++i) {
                    weft::testing::destruction_counter counter(destroyed);
                    tasks.push_back(weft::create_task(
                        i % 2 == 0
                            ? from_future(sources[i / 2], std::move(counter))
                            : hopping(static_cast<int>(random() % 4), i, std::move(counter))));
                }
                made.fetch_add(width);
                std::vector<int> seen;
                std::atomic<bool> started{false};
                weft::task<> reader = weft::create_task(count_yields(tasks, seen, started));
                std::thread producer([sources, reader, &started]() mutable {
                    while (!started.load()) { // one cancelled before it starts never reads
                        std::this_thread::yield();
                    }
                    for (int i = 0; i < width / 2; ++i) {
                        sources[static_cast<std::size_t>(i)].set_result(2 * i);
                        reader.cancel();
                    }
                });
                try {
                    co_await reader; // cancelled if a request was still pending at its end
                } catch (const weft::cancelled_error&) {
                }
                producer.join();
                EXPECT_EQ(seen, std::vector<int>(width, 1));
            }
        }(made, destroyed),
        weft::run_options{.workers = 2});
    EXPECT_EQ(destroyed.load(), made.load());
}

// as_completed with a time limit (asyncio's as_completed(timeout=)): the tasks that end in
// time come first, then next() throws timeout_error, and no task is cancelled.
TEST(AsCompletedWithin, YieldsTheTasksDoneInTimeThenTimesOutWithoutCancelling) {
    weft::run(
        []() -> weft::coro<> {
            const weft::clock::time_point start = weft::clock::now();
            weft::task<int> slow = weft::create_task(value_after(5s, 5));
            weft::as_completed stream(tasks_of(slow, weft::create_task(value_after(2s, 2)),
                                               weft::create_task(value_after(1s, 1))),
                                      3s);
            EXPECT_EQ((co_await stream.next()).result(), 1);
            EXPECT_EQ((co_await stream.next()).result(), 2);
            EXPECT_EQ(stream.remaining(), 1u);
            EXPECT_THROW(co_await stream.next(), weft::timeout_error);
            EXPECT_EQ(weft::clock::now() - start, 3s);
            EXPECT_EQ(stream.remaining(), 0u); // the timeout took the last one's turn
            EXPECT_THROW((void)stream.next(), weft::invalid_state_error);
            EXPECT_FALSE(slow.done());
            EXPECT_EQ(co_await slow, 5); // not cancelled
            EXPECT_EQ(weft::clock::now() - start, 5s);
        }(),
        one_virtual_worker);
}

TEST(AsCompletedWithin, AfterOneTimeoutEveryLaterNextTimesOutAtOnce) {
    weft::run(
        []() -> weft::coro<> {
            std::vector<weft::task<int>> tasks{weft::create_task(value_after(4s, 0)),
                                               weft::create_task(value_after(5s, 1))};
            weft::as_completed stream(tasks, 1s);
            EXPECT_THROW(co_await stream.next(), weft::timeout_error);
            const weft::clock::time_point first_timeout = weft::clock::now();
            co_await weft::sleep(10s); // both end now, after the limit
            EXPECT_EQ(stream.remaining(), 1u);
            EXPECT_THROW(co_await stream.next(), weft::timeout_error);
            EXPECT_EQ(weft::clock::now() - first_timeout, 10s);
            EXPECT_EQ(stream.remaining(), 0u);
        }(),
        one_virtual_worker);
}

// asyncio keeps the results that came in time for a reader that comes late.
TEST(AsCompletedWithin, ASlowReaderStillGetsTheTasksThatEndedInTime) {
    weft::run(
        []() -> weft::coro<> {
            std::vector<weft::task<int>> tasks{weft::create_task(value_after(2s, 2)),
                                               weft::create_task(value_after(1s, 1))};
            weft::as_completed stream(tasks, 3s);
            co_await weft::sleep(5s);
            EXPECT_EQ((co_await stream.next()).result(), 1);
            EXPECT_EQ((co_await stream.next()).result(), 2);
            EXPECT_EQ(stream.remaining(), 0u);
        }(),
        one_virtual_worker);
}

TEST(AsCompletedWithin, ALimitOfZeroOrLessYieldsTheTasksDoneThenTimesOut) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<int> done_a = weft::create_task(value_after(0s, 1));
            weft::task<int> done_b = weft::create_task(value_after(0s, 2));
            weft::task<int> late = weft::create_task(value_after(1s, 3));
            co_await weft::wait(tasks_of(done_a, done_b));
            for (const std::chrono::seconds limit : {0s, -1s}) {
                const weft::clock::time_point start = weft::clock::now();
                weft::as_completed stream(tasks_of(late, done_b, done_a), limit);
                EXPECT_EQ((co_await stream.next()).result(), 2);
                EXPECT_EQ((co_await stream.next()).result(), 1);
                EXPECT_THROW(co_await stream.next(), weft::timeout_error);
                EXPECT_EQ(weft::clock::now(), start);
            }
            EXPECT_FALSE(late.done());
            EXPECT_EQ(co_await late, 3);
        }(),
        one_virtual_worker);
}

TEST(AsCompletedWithin, ALimitBeyondTheClockNeverPassesAndANaNLimitIsRefused) {
    weft::run(
        []() -> weft::coro<> {
            weft::as_completed stream(tasks_of(weft::create_task(value_after(100h, 7))),
                                      std::chrono::hours::max());
            EXPECT_EQ((co_await stream.next()).result(), 7);
            const std::chrono::duration<double> not_a_number(
                std::numeric_limits<double>::quiet_NaN());
            EXPECT_THROW(
                weft::as_completed(tasks_of(weft::create_task(value_after(1s, 1))), not_a_number),
                weft::invalid_argument);
            weft::as_completed nothing(std::vector<weft::task<int>>{}, 1s);
            EXPECT_EQ(nothing.remaining(), 0u);
        }(),
        one_virtual_worker);
}

// Cancelling the reader while it waits takes nothing and cancels no task; the deadline
// still holds for the next read.
TEST(AsCompletedWithin, CancellingTheReaderTakesNothing) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<int> worker = weft::create_task(value_after(2s, 2));
            weft::as_completed stream(tasks_of(worker), 4s);
            weft::task<weft::task<int>> reader = weft::create_task(stream.next());
            co_await weft::sleep(1s);
            EXPECT_TRUE(reader.cancel());
            EXPECT_THROW(co_await reader, weft::cancelled_error);
            EXPECT_EQ(stream.remaining(), 1u);
            EXPECT_EQ((co_await stream.next()).result(), 2);
            EXPECT_FALSE(worker.cancelled());
        }(),
        one_virtual_worker);
}

} // namespace
