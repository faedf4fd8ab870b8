// Tests the worker loop (runtime/scheduler/worker.cpp): work is really stolen between workers, and
// a coroutine that migrates between worker threads many times keeps using the queues of the worker
// it is running on (the thread-local pitfall of coroutines that change threads), and a fork-join
// tree whose children hand the worker on to each other still lets the loop's periodic checks
// run.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

#include "scheduler/worker.hpp"
#include "test_support.hpp"

namespace {

TEST(Worker, QueuedWorkIsStolenByAnIdleWorker) {
    struct observation {
        std::thread::id spinner;
        std::thread::id other;
        std::uint64_t stolen = 0;
        bool released = false;
    };
    const observation seen = weft::run(
        []() -> weft::coro<observation> {
            std::atomic<bool> other_ran{false};
            std::thread::id spinner_thread;
            std::thread::id other_thread;
            // Both tasks are queued on this worker. The first spins until the second has
            // run, which only another worker can make happen.
            weft::task<bool> spinner = weft::create_task(
                [](std::atomic<bool>& flag, std::thread::id& where) -> weft::coro<bool> {
                    where = weft::testing::current_thread_id();
                    co_return weft::testing::eventually([&] { return flag.load(); });
                }(other_ran, spinner_thread));
            weft::task<> other = weft::create_task(
                [](std::atomic<bool>& flag, std::thread::id& where) -> weft::coro<> {
                    where = weft::testing::current_thread_id();
                    flag.store(true);
                    co_return;
                }(other_ran, other_thread));
            const bool released = co_await spinner;
            co_await other;
            std::uint64_t stolen = 0;
            for (const weft::worker_stats& each : weft::current_runtime_stats().workers) {
                stolen += each.tasks_stolen;
            }
            co_return observation{spinner_thread, other_thread, stolen, released};
        }(),
        weft::run_options{.workers = 2});
    EXPECT_TRUE(seen.released);
    EXPECT_NE(seen.spinner, seen.other);
    EXPECT_GE(seen.stolen, 1u);
}

// Keeps the current worker busy for a while, so that wake-ups queued meanwhile go to the
// other worker.
void busy_for(std::chrono::microseconds span) {
    const auto until = std::chrono::steady_clock::now() + span;
    while (std::chrono::steady_clock::now() < until) {
    }
}

// Which worker each thread ran as, filled in as threads are first seen.
class worker_of_thread {
public:
    // False if this thread was seen before as another worker.
    bool consistent(std::thread::id thread, weft::detail::worker* seen) {
        std::lock_guard guard(mutex_);
        return known_.try_emplace(thread, seen).first->second == seen;
    }

private:
    std::mutex mutex_;
    std::map<std::thread::id, weft::detail::worker*> known_;
};

// A coroutine that hops between workers (each wake-up comes from a thread outside the
// runtime, and while one worker is busy another takes it). After every resumption it
// checks that the worker it sees is the one of the thread it runs on, and that the thread
// knows whose work it runs (the running strand, which g++'s builds name inline as the
// coroutine resumes), then spawns and awaits a task: with a stale thread-local it would push
// onto another worker's queue.
weft::coro<int> hop_and_spawn(int hops, std::atomic<int>& migrations, worker_of_thread& owners) {
    std::thread::id last = weft::testing::current_thread_id();
    const weft::any_task awaiting = weft::current_task();
    int spawned = 0;
    for (int i = 0; i < hops; ++i) {
        weft::future<> wake;
        std::thread waker([wake]() mutable { wake.set_result(); });
        co_await wake;
        waker.join();
        const std::thread::id now = weft::testing::current_thread_id();
        if (now != last) {
            migrations.fetch_add(1, std::memory_order_relaxed);
            last = now;
        }
        busy_for(std::chrono::microseconds(50));
        weft::detail::worker* here = weft::detail::worker::current();
        EXPECT_NE(here, nullptr);
        EXPECT_TRUE(owners.consistent(now, here));
        EXPECT_TRUE(weft::current_task() == awaiting);
        spawned += co_await weft::create_task([]() -> weft::coro<int> { co_return 1; }());
    }
    co_return spawned;
}

TEST(Worker, MigratingCoroutinesKeepUsingTheirCurrentWorker) {
    std::atomic<int> migrations{0};
    worker_of_thread owners;
    const int spawned = weft::run(
        [](std::atomic<int>& moved, worker_of_thread& seen) -> weft::coro<int> {
            std::vector<weft::coro<int>> hoppers;
            for (int i = 0; i < 8; ++i) {
                hoppers.push_back(hop_and_spawn(200, moved, seen));
            }
            const std::vector<int> counts = co_await weft::gather(std::move(hoppers));
            co_return std::accumulate(counts.begin(), counts.end(), 0);
        }(migrations, owners),
        weft::run_options{.workers = 2});
    EXPECT_EQ(spawned, 8 * 200);
    EXPECT_GT(migrations.load(), 0) << "no coroutine ever changed worker";
}

TEST(Worker, SelfRespawningTasksDoNotStarveInjectedWork) {
    // One worker busy with tasks that keep spawning more must still take work that a
    // thread outside the runtime injects (the injector is polled every 61 steps).
    const bool injected_ran = weft::run(
        []() -> weft::coro<bool> {
            std::atomic<bool> stop{false};
            weft::future<> outside;
            struct respawner {
                static weft::coro<> run(std::atomic<bool>& stop_flag) {
                    if (!stop_flag.load()) {
                        weft::create_task(run(stop_flag));
                    }
                    co_return;
                }
            };
            weft::create_task(respawner::run(stop));
            std::thread injector([outside]() mutable { outside.set_result(); });
            co_await outside;
            injector.join();
            stop.store(true);
            co_return true;
        }(),
        weft::run_options{.workers = 1});
    EXPECT_TRUE(injected_ran);
}

// A binary fork-join tree whose leaves count how many of them ran after `flag` was set.
weft::coro<> flag_watching_tree(int depth, const bool& flag, int& leaves_after_flag) {
    if (depth == 0) {
        leaves_after_flag += flag ? 1 : 0;
        co_return;
    }
    co_await weft::gather(flag_watching_tree(depth - 1, flag, leaves_after_flag),
                          flag_watching_tree(depth - 1, flag, leaves_after_flag));
}

// Runs, on one worker, the tree `make_tree(flag, leaves_after_flag)` makes, after creating a
// task that sets the flag; returns how many of the tree's leaves ran after that task.
template <class MakeTree>
int leaves_after_a_queued_task(MakeTree make_tree) {
    return weft::run(
        [](MakeTree make) -> weft::coro<int> {
            bool flag = false;
            int after = 0;
            weft::task<> setter = weft::create_task([](bool& to_set) -> weft::coro<> {
                to_set = true;
                co_return;
            }(flag));
            co_await make(flag, after);
            co_await setter;
            co_return after;
        }(make_tree),
        weft::run_options{.workers = 1});
}

TEST(Worker, ATaskQueuedBeforeAForkJoinTreeRunsWhileTheTreeRuns) {
    // On one worker a gather's child takes its sibling back from the fork stack and runs it
    // at once, and the last child resumes the parent: without the worker loop in between, the
    // whole tree would be one step, and the queued task would wait for all of it. Each
    // taken-back child counts as a step, so the loop's periodic look at its FIFO queue (every
    // 31 steps) still comes round.
    constexpr int depth = 12; // 4096 leaves, 8190 children
    const int leaves_after_flag = leaves_after_a_queued_task(
        [](const bool& flag, int& after) { return flag_watching_tree(depth, flag, after); });
    EXPECT_GT(leaves_after_flag, (1 << depth) / 2);
    EXPECT_LT(leaves_after_flag, 1 << depth);
}

// The same with four children a gather, whose children run one after another.
weft::coro<> flag_watching_quaternary_tree(int depth, const bool& flag, int& leaves_after_flag) {
    if (depth == 0) {
        leaves_after_flag += flag ? 1 : 0;
        co_return;
    }
    co_await weft::gather(flag_watching_quaternary_tree(depth - 1, flag, leaves_after_flag),
                          flag_watching_quaternary_tree(depth - 1, flag, leaves_after_flag),
                          flag_watching_quaternary_tree(depth - 1, flag, leaves_after_flag),
                          flag_watching_quaternary_tree(depth - 1, flag, leaves_after_flag));
}

TEST(Worker, ATaskQueuedBeforeAWideForkJoinTreeRunsWhileTheTreeRuns) {
    // A child of a gather of four that is not the last goes on with the newest fork itself,
    // its next sibling on one worker, instead of returning to the worker loop: each such
    // step counts as the loop's own, so the FIFO queue's periodic turn still comes round.
    constexpr int depth = 6; // 4096 leaves
    const int leaves_after_flag = leaves_after_a_queued_task([](const bool& flag, int& after) {
        return flag_watching_quaternary_tree(depth, flag, after);
    });
    EXPECT_GT(leaves_after_flag, (1 << (2 * depth)) / 2);
    EXPECT_LT(leaves_after_flag, 1 << (2 * depth));
}

} // namespace
