// Tests the registry of pending tasks (runtime/scheduler/task_registry.hpp): its shards'
// lists, and the tasks that end on another worker than the one that registered them, which
// leave the registry later with a batch of others (worker::unregister_later): they are not
// pending meanwhile, each is freed once, a failure nobody retrieved is reported once, and
// the shutdown's drain still sees every one of them leave. A runtime of one worker keeps its
// worker's shard without a lock, and the tasks launched from other threads in the outside
// shard, which keeps one.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include "scheduler/task_registry.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

std::vector<weft::detail::frame_header*> listed(weft::detail::task_registry& registry) {
    std::vector<weft::detail::frame_header*> headers;
    registry.for_each([&](weft::detail::frame_header* header) { headers.push_back(header); });
    return headers;
}

TEST(TaskRegistry, RemoveBatchUnlinksEachTaskOfTheBatchAndKeepsTheRest) {
    weft::detail::task_registry registry(2);
    std::vector<weft::detail::frame_header> headers(6);
    for (std::size_t i = 0; i < 5; ++i) {
        registry.add(&headers[i], 1);
    }
    registry.add(&headers[5], 0);
    // The newest (the list's head), one in the middle and the oldest (its tail).
    weft::detail::frame_header* const batch[] = {&headers[4], &headers[2], &headers[0]};
    registry.remove_batch(1, batch, 3);
    EXPECT_EQ(listed(registry),
              (std::vector<weft::detail::frame_header*>{&headers[5], &headers[3], &headers[1]}));
    weft::detail::frame_header* const rest[] = {&headers[1], &headers[3]};
    registry.remove_batch(1, rest, 2);
    EXPECT_FALSE(registry.empty());
    registry.remove(&headers[5]);
    EXPECT_TRUE(registry.empty());
    EXPECT_EQ(registry.size(), 0U);
}

TEST(TaskRegistry, TheOutsideShardComesAfterTheWorkersShards) {
    weft::detail::task_registry alone(1);
    EXPECT_EQ(alone.outside_shard(), 1U);
    weft::detail::task_registry pair(2);
    EXPECT_EQ(pair.outside_shard(), 2U);
    std::vector<weft::detail::frame_header> headers(3);
    alone.add(&headers[0], 0);
    alone.add(&headers[1], alone.outside_shard());
    alone.add(&headers[2], 0);
    EXPECT_EQ(headers[1].registry_shard, 1U);
    EXPECT_EQ(listed(alone),
              (std::vector<weft::detail::frame_header*>{&headers[2], &headers[0], &headers[1]}));
    alone.remove(&headers[0]);
    alone.remove(&headers[1]);
    EXPECT_EQ(listed(alone), (std::vector<weft::detail::frame_header*>{&headers[2]}));
    alone.remove(&headers[2]);
    EXPECT_TRUE(alone.empty());
}

// Tasks made by a task that then keeps its worker busy until they have all run, so the
// other worker takes and ends every one of them: more than one batch's worth.
constexpr int remote_tasks = 200;

weft::coro<int> counted(int index, weft::event& go, std::atomic<int>& ended, std::thread::id& where,
                        weft::testing::destruction_counter) {
    co_await go.wait();
    where = weft::testing::current_thread_id();
    ended.fetch_add(1);
    co_return index;
}

// Keeps its worker busy, so that the tasks that ended there just before it stay in the
// worker's batch, not yet unregistered.
weft::coro<> hog(std::atomic<bool>& started, std::atomic<bool>& release) {
    started.store(true);
    EXPECT_TRUE(weft::testing::eventually([&] { return release.load(); }));
    co_return;
}

// On the other worker: wakes the waiting tasks there (a wake queues on the waking worker),
// then queues the hog behind them.
weft::coro<weft::task<>> wake_then_hog(weft::event& go, std::atomic<bool>& started,
                                       std::atomic<bool>& release) {
    go.set();
    co_return weft::create_task(hog(started, release));
}

TEST(TaskRegistry, TasksEndedOnAnotherWorkerAreNotPendingAndAreFreedOnce) {
    std::atomic<int> destroyed{0};
    weft::run(
        [](std::atomic<int>& destroyed) -> weft::coro<> {
            weft::event go;
            std::atomic<int> ended{0};
            std::atomic<bool> hog_started{false};
            std::atomic<bool> release{false};
            std::vector<std::thread::id> where(remote_tasks);
            std::vector<weft::task<int>> tasks;
            const std::thread::id here = weft::testing::current_thread_id();
            for (int i = 0; i < remote_tasks; ++i) {
                tasks.push_back(
                    weft::create_task(counted(i, go, ended, where[static_cast<std::size_t>(i)],
                                              weft::testing::destruction_counter(destroyed))));
            }
            weft::task<weft::task<>> waker =
                weft::create_task(wake_then_hog(go, hog_started, release));
            // This worker stays busy, so the other takes every task.
            EXPECT_TRUE(weft::testing::eventually(
                [&] { return ended.load() == remote_tasks && hog_started.load(); }));
            for (const std::thread::id& thread : where) {
                EXPECT_NE(thread, here);
            }
            // Ended, though the last of them have not left the registry yet: main and the hog.
            const weft::task<> last = co_await waker;
            const std::vector<weft::any_task> pending = weft::all_tasks();
            EXPECT_EQ(pending.size(), 2U);
            for (const weft::any_task& each : pending) {
                EXPECT_TRUE(each == weft::current_task() || each == last);
            }
            release.store(true);
            co_await last;
            long sum = 0;
            for (weft::task<int>& each : tasks) {
                sum += co_await each;
            }
            EXPECT_EQ(sum, long{remote_tasks} * (remote_tasks - 1) / 2);
        }(destroyed),
        weft::run_options{.workers = 2});
    EXPECT_EQ(destroyed.load(), remote_tasks);
}

weft::coro<> fails(std::atomic<int>& ran) {
    ran.fetch_add(1);
    throw std::runtime_error("nobody awaits this");
    co_return;
}

TEST(TaskRegistry, AFailureEndedOnAnotherWorkerWithNoHandleIsReportedOnce) {
    std::atomic<int> reported{0};
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> ran{0};
            for (int i = 0; i < remote_tasks; ++i) {
                weft::create_task(fails(ran));
            }
            EXPECT_TRUE(weft::testing::eventually([&] { return ran.load() == remote_tasks; }));
            co_return;
        }(),
        weft::run_options{.workers = 2,
                          .exception_handler = [&](std::exception_ptr) { reported.fetch_add(1); }});
    EXPECT_EQ(reported.load(), remote_tasks);
}

weft::coro<> waits_for_ever(std::atomic<int>& started, std::atomic<int>& cancelled) {
    started.fetch_add(1);
    try {
        co_await weft::sleep(24h);
    } catch (const weft::cancelled_error&) {
        cancelled.fetch_add(1);
        throw;
    }
}

TEST(TaskRegistry, TheDrainSeesTasksThatEndOnAnotherWorkerLeave) {
    std::atomic<int> started{0};
    std::atomic<int> cancelled{0};
    const auto begin = std::chrono::steady_clock::now();
    weft::run(
        [](std::atomic<int>& started, std::atomic<int>& cancelled) -> weft::coro<> {
            for (int i = 0; i < remote_tasks; ++i) {
                weft::create_task(waits_for_ever(started, cancelled));
            }
            EXPECT_TRUE(weft::testing::eventually([&] { return started.load() == remote_tasks; }));
            co_return;
        }(started, cancelled),
        weft::run_options{.workers = 2, .shutdown_grace = 24h});
    EXPECT_EQ(cancelled.load(), remote_tasks);
    // A drain that missed a task's leaving would wait out the grace. Generous: the run itself
    // takes milliseconds.
    EXPECT_LT(std::chrono::steady_clock::now() - begin, 60s);
}

weft::coro<int> waits_for(weft::event& go, int value) {
    co_await go.wait();
    co_return value;
}

weft::coro<> ends_at_once() {
    co_return;
}

// Two threads launch tasks into a runtime of one worker while its main task launches and ends
// its own: the worker's shard, which has no lock there, is touched only by the worker's thread
// (ThreadSanitizer reports it otherwise), and all_tasks() lists the tasks of both shards.
TEST(TaskRegistry, ARuntimeOfOneWorkerListsTasksFromOtherThreadsInTheOutsideShard) {
    constexpr int per_thread = 300;
    constexpr int threads = 2;
    weft::run(
        []() -> weft::coro<> {
            weft::event go;
            const weft::runtime_handle here = weft::current_runtime();
            std::atomic<int> launched{0};
            std::vector<std::future<int>> answers(threads * per_thread);
            std::vector<std::thread> launchers;
            for (int t = 0; t < threads; ++t) {
                launchers.emplace_back([&, t] {
                    for (int i = 0; i < per_thread; ++i) {
                        const int index = t * per_thread + i;
                        answers[static_cast<std::size_t>(index)] = here.spawn(waits_for(go, index));
                        launched.fetch_add(1);
                    }
                });
            }
            std::vector<weft::task<int>> local;
            while (launched.load() != threads * per_thread) {
                local.push_back(weft::create_task(waits_for(go, 1)));
                co_await weft::create_task(ends_at_once());
                co_await weft::sleep(0s);
            }
            for (std::thread& launcher : launchers) {
                launcher.join();
            }
            EXPECT_EQ(weft::all_tasks().size(),
                      std::size_t{1} + local.size() + std::size_t{threads * per_thread});
            go.set();
            long sum = 0;
            for (weft::task<int>& each : local) {
                sum += co_await each;
            }
            EXPECT_EQ(sum, static_cast<long>(local.size()));
            // The tasks from outside run on this worker too: it yields to them until they end.
            for (std::future<int>& answer : answers) {
                while (answer.wait_for(0s) != std::future_status::ready) {
                    co_await weft::sleep(0s);
                }
            }
            for (int index = 0; index < threads * per_thread; ++index) {
                EXPECT_EQ(answers[static_cast<std::size_t>(index)].get(), index);
            }
        }(),
        weft::run_options{.workers = 1});
}

// The shutdown's drain finds and cancels, in a runtime of one worker, the pending tasks of both
// shards.
TEST(TaskRegistry, TheDrainOfARuntimeOfOneWorkerCancelsTasksOfBothShards) {
    std::atomic<int> started{0};
    std::atomic<int> cancelled{0};
    std::future<void> from_outside;
    weft::run(
        [](std::atomic<int>& started, std::atomic<int>& cancelled,
           std::future<void>& from_outside) -> weft::coro<> {
            weft::create_task(waits_for_ever(started, cancelled));
            const weft::runtime_handle here = weft::current_runtime();
            std::thread([&] {
                from_outside = here.spawn(waits_for_ever(started, cancelled));
            }).join();
            while (started.load() != 2) {
                co_await weft::sleep(0s);
            }
        }(started, cancelled, from_outside),
        weft::run_options{.workers = 1});
    EXPECT_EQ(cancelled.load(), 2);
    EXPECT_THROW(from_outside.get(), weft::cancelled_error);
}

} // namespace
