// Tests weft::run (runtime/scheduler/run.cpp, runtime/scheduler/runtime.cpp): results and
// exceptions of main, worker counts, nested and concurrent runs, one-worker runs passing their
// grown queues on, an idle runtime that burns no CPU, and a shutdown that destroys every task
// still pending without leaking.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::one_virtual_worker;

TEST(Run, ReturnsMainsValue) {
    EXPECT_EQ(weft::run([]() -> weft::coro<std::string> { co_return "done"; }()), "done");
}

TEST(Run, RethrowsMainsException) {
    try {
        weft::run([]() -> weft::coro<> {
            throw std::invalid_argument("main failed");
            co_return;
        }());
        FAIL() << "run did not rethrow";
    } catch (const std::invalid_argument& error) {
        EXPECT_STREQ(error.what(), "main failed");
    }
}

TEST(Run, UsesTheRequestedNumberOfWorkers) {
    for (std::size_t workers : {1u, 3u}) {
        const std::size_t seen = weft::run(
            []() -> weft::coro<std::size_t> {
                co_return weft::current_runtime_stats().workers.size();
            }(),
            weft::run_options{.workers = workers});
        EXPECT_EQ(seen, workers);
    }
    const std::size_t by_default = weft::run([]() -> weft::coro<std::size_t> {
        co_return weft::current_runtime_stats().workers.size();
    }());
    EXPECT_EQ(by_default, std::max(1u, std::thread::hardware_concurrency()));
}

TEST(Run, NestedRunIsARuntimeError) {
    const std::string message = weft::run([]() -> weft::coro<std::string> {
        try {
            weft::run([]() -> weft::coro<> { co_return; }());
        } catch (const weft::runtime_error& error) {
            co_return error.what();
        }
        co_return "no error";
    }());
    EXPECT_NE(message.find("cannot be called from a thread that is running"), std::string::npos);
}

TEST(Run, EmptyCoroIsAnInvalidStateError) {
    weft::coro<int> body = []() -> weft::coro<int> { co_return 1; }();
    weft::coro<int> moved = std::move(body);
    EXPECT_THROW(weft::run(std::move(body)), weft::invalid_state_error);
    EXPECT_EQ(weft::run(std::move(moved)), 1);
}

TEST(Run, StatsOutsideARuntimeIsARuntimeError) {
    EXPECT_THROW(weft::current_runtime_stats(), weft::runtime_error);
}

TEST(Run, SequentialRunsEachGetAFreshRuntime) {
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(weft::run([](int x) -> weft::coro<int> { co_return x; }(i),
                            weft::run_options{.workers = 2}),
                  i);
    }
}

TEST(Run, ConcurrentRunsFromFourThreads) {
    std::vector<long> results(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&results, t] {
            results[t] = weft::run(
                [](long base) -> weft::coro<long> {
                    std::vector<weft::task<long>> tasks;
                    for (long i = 0; i < 1000; ++i) {
                        tasks.push_back(weft::create_task(
                            [](long x) -> weft::coro<long> { co_return x; }(base + i)));
                    }
                    long sum = 0;
                    for (auto& each : tasks) {
                        sum += co_await each;
                    }
                    co_return sum;
                }(t * 1000L),
                weft::run_options{.workers = 2});
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    for (long t = 0; t < 4; ++t) {
        EXPECT_EQ(results[t], t * 1000 * 1000 + 999 * 1000 / 2);
    }
}

// A one-worker runtime's queue grows for a burst and leaves its ring to the next one's
// (runtime/scheduler/kept_ring.hpp): runs one after the other on four threads at once, each
// a burst of more tasks than the queue starts with, pass the ring between threads and run
// every task once.
TEST(Run, OneWorkerRunsOnFourThreadsPassTheirGrownQueuesOnAndRunEveryTask) {
    constexpr long tasks_per_run = 3000;
    constexpr int runs_per_thread = 5;
    std::vector<long> sums(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&sums, t] {
            for (int run = 0; run < runs_per_thread; ++run) {
                sums[t] += weft::run(
                    []() -> weft::coro<long> {
                        std::vector<weft::task<long>> tasks;
                        for (long i = 0; i < tasks_per_run; ++i) {
                            tasks.push_back(weft::create_task(
                                [](long x) -> weft::coro<long> { co_return x; }(i)));
                        }
                        long sum = 0;
                        for (auto& each : tasks) {
                            sum += co_await each;
                        }
                        co_return sum;
                    }(),
                    weft::run_options{.workers = 1});
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    for (long sum : sums) {
        EXPECT_EQ(sum, runs_per_thread * (tasks_per_run * (tasks_per_run - 1) / 2));
    }
}

TEST(Run, IdleRuntimeBurnsNoCpu) {
    const double before = weft::testing::cpu_seconds();
    const int got = weft::run(
        []() -> weft::coro<int> {
            weft::future<int> later;
            std::thread completer([later]() mutable {
                std::this_thread::sleep_for(std::chrono::seconds(2));
                later.set_result(1);
            });
            const int value = co_await later;
            completer.join();
            co_return value;
        }(),
        weft::run_options{.workers = 2});
    const double used = weft::testing::cpu_seconds() - before;
    EXPECT_EQ(got, 1);
    EXPECT_LT(used, 0.1) << "an idle runtime used " << used << " s of CPU in 2 s";
}

TEST(Run, ShutdownCancelsPendingDetachedTasksAndWaitsForThem) {
    std::atomic<int> destroyed{0};
    constexpr int suspended = 500;
    constexpr int queued = 500;
    weft::future<> never;
    static std::atomic<int> started{0};
    static std::atomic<int> cleaned_up{0};
    started = 0;
    cleaned_up = 0;
    weft::run(
        [](std::atomic<int>& count, weft::future<> gate) -> weft::coro<> {
            auto waits_forever = [](weft::future<> g,
                                    weft::testing::destruction_counter) -> weft::coro<> {
                started.fetch_add(1);
                bool cancelled = false;
                try {
                    co_await g;
                } catch (const weft::cancelled_error&) {
                    cancelled = true;
                }
                if (cancelled) {
                    co_await weft::sleep(std::chrono::milliseconds(1)); // cleanup that awaits
                    cleaned_up.fetch_add(1);
                    throw weft::cancelled_error();
                }
            };
            std::vector<weft::task<>> started;
            for (int i = 0; i < suspended; ++i) {
                started.push_back(weft::create_task(
                    waits_forever(gate, weft::testing::destruction_counter(count))));
            }
            weft::future<> yielded;
            weft::create_task([](weft::future<> f) -> weft::coro<> {
                f.set_result();
                co_return;
            }(yielded));
            co_await yielded;
            for (int i = 0; i < queued; ++i) {
                weft::create_task(waits_forever(gate, weft::testing::destruction_counter(count)));
            }
        }(destroyed, never),
        weft::run_options{.workers = 2});
    // Every task that started cleaned up; one cancelled before its first step never ran
    // (asyncio's rule).
    EXPECT_GT(started.load(), 0);
    EXPECT_EQ(cleaned_up.load(), started.load());
    EXPECT_EQ(destroyed.load(), suspended + queued);
    // Completing the future after the runtime ended wakes nobody and crashes nothing.
    never.set_result();
}

TEST(Run, TaskHandleOutlivingItsRuntimeSeesItCancelled) {
    weft::future<int> never;
    weft::task<int> survivor = weft::run([](weft::future<int> gate) -> weft::coro<weft::task<int>> {
        co_return weft::create_task(
            [](weft::future<int> g) -> weft::coro<int> { co_return co_await g; }(gate));
    }(never));
    EXPECT_TRUE(survivor.done());
    EXPECT_TRUE(survivor.cancelled());
    EXPECT_THROW(survivor.result(), weft::cancelled_error);
}

// A main that returns a started task which ignores cancellation until `gate` opens (one
// cancelled before it starts would end instead of straggling).
weft::coro<weft::task<int>> leaves_a_straggler(weft::future<> gate, std::atomic<int>& destroyed) {
    weft::task<int> t = weft::create_task(
        weft::testing::ignores_cancellation(gate, weft::testing::destruction_counter(destroyed)),
        {.name = "straggler"});
    co_await weft::sleep(0s); // on one worker, t has run up to its wait by now
    co_return t;
}

// A task that ignores cancellation cannot hold run forever: after the grace it is reported
// on stderr and destroyed without being resumed.
TEST(Run, TaskIgnoringCancellationIsReportedAndTornDownAfterTheGrace) {
    std::atomic<int> destroyed{0};
    weft::future<> never;
    ::testing::internal::CaptureStderr();
    weft::task<int> survivor = weft::run(
        leaves_a_straggler(never, destroyed),
        weft::run_options{
            .workers = 1, .virtual_time = true, .shutdown_grace = std::chrono::seconds(3)});
    const std::string report = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(report.find("weft::run: 1 task was still pending 3.000 s after shutdown "
                          "cancelled it (straggler)"),
              std::string::npos)
        << report;
    EXPECT_EQ(destroyed.load(), 1);
    EXPECT_FALSE(survivor.done());
    try {
        survivor.result();
        FAIL() << "result() of a torn-down task did not throw";
    } catch (const weft::invalid_state_error& error) {
        EXPECT_NE(std::string(error.what()).find("destroyed unfinished"), std::string::npos);
    }
    weft::task<int> copy = survivor;
    EXPECT_FALSE(copy.done());
}

// A task that the first run destroyed unfinished can never complete: awaiting it, or
// gathering it, in a later run fails at once instead of waiting forever.
TEST(Run, AwaitingInALaterRunATaskTheFirstDestroyedIsAnInvalidStateError) {
    std::atomic<int> destroyed{0};
    weft::future<> never;
    ::testing::internal::CaptureStderr();
    weft::task<int> survivor =
        weft::run(leaves_a_straggler(never, destroyed),
                  weft::run_options{.workers = 1, .virtual_time = true, .shutdown_grace = 1s});
    ::testing::internal::GetCapturedStderr();
    ASSERT_EQ(destroyed.load(), 1);
    EXPECT_FALSE(survivor.cancel());
    weft::run(
        [](weft::task<int> gone) -> weft::coro<> {
            EXPECT_THROW(co_await gone, weft::invalid_state_error);
            EXPECT_THROW(co_await weft::wait_for(gone, 1s), weft::invalid_state_error);
            EXPECT_THROW(co_await weft::gather(gone), weft::invalid_state_error);
            EXPECT_THROW(co_await std::move(gone), weft::invalid_state_error);
        }(survivor),
        one_virtual_worker);
}

// A foreign thread cancels a task while the shutdown destroys it as a straggler: the
// cancel either ends before the frame and the runtime go, or finds the task ended. The
// cancels start once the task has started: one that came before its first step would end
// it there (as asyncio's), and it would be no straggler.
TEST(Run, ForeignCancelRacingTheTeardownOfAStragglerIsSafe) {
    for (int round = 0; round < 50; ++round) {
        std::atomic<int> destroyed{0};
        weft::task<> straggler;
        std::atomic<bool> running{false}; // the task has taken its first step
        std::atomic<bool> started{false}; // and the handle to it is in `straggler`
        std::atomic<bool> stop{false};
        std::thread canceller([&] {
            while (!started.load()) {
                std::this_thread::yield();
            }
            while (!stop.load()) {
                straggler.cancel();
            }
        });
        ::testing::internal::CaptureStderr();
        weft::run(
            [](weft::task<>& slot, std::atomic<bool>& running, std::atomic<bool>& started,
               std::atomic<int>& count) -> weft::coro<> {
                slot = weft::create_task([](weft::testing::destruction_counter,
                                            std::atomic<bool>& running) -> weft::coro<> {
                    running.store(true);
                    for (;;) { // ignores every cancellation, asleep in the wheel
                        try {
                            co_await weft::sleep(1h);
                        } catch (const weft::cancelled_error&) {
                        }
                    }
                }(weft::testing::destruction_counter(count), running));
                // The shutdown's own cancel must not come before the task's first step
                // either.
                while (!running.load()) {
                    co_await weft::sleep(0s);
                }
                started.store(true);
            }(straggler, running, started, destroyed),
            weft::run_options{.workers = 2, .shutdown_grace = std::chrono::microseconds(200)});
        stop.store(true);
        canceller.join();
        ::testing::internal::GetCapturedStderr();
        EXPECT_EQ(destroyed.load(), 1);
        EXPECT_FALSE(straggler.cancel());
    }
}

// A local whose destructor throws while the shutdown destroys its frame ends the program
// through std::terminate, as an exception leaving a destructor does, not by a crash.
struct throws_when_destroyed {
    ~throws_when_destroyed() noexcept(false) { throw std::runtime_error("from a destructor"); }
};

TEST(RunDeathTest, DestructorThrowingWhileShutdownDestroysAFrameTerminates) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            std::set_terminate([] {
                std::fputs("terminate called\n", stderr);
                std::_Exit(3);
            });
            weft::future<> never;
            weft::run(
                [](weft::future<> gate) -> weft::coro<> {
                    weft::task<> t = weft::create_task([](weft::future<> g) -> weft::coro<> {
                        throws_when_destroyed local;
                        for (;;) {
                            try {
                                co_await g;
                            } catch (const weft::cancelled_error&) {
                            }
                        }
                    }(gate));
                    co_await weft::sleep(0s);
                }(never),
                weft::run_options{.workers = 1, .virtual_time = true, .shutdown_grace = 1s});
        },
        ::testing::ExitedWithCode(3), "terminate called");
}

TEST(Run, OptionsOutOfRangeAreInvalidArgumentsAndRunNothing) {
    const auto rejected = [](const weft::run_options& options, const std::string& field) {
        bool started = false;
        try {
            weft::run(
                [](bool& started) -> weft::coro<> {
                    started = true;
                    co_return;
                }(started),
                options);
            ADD_FAILURE() << field << " was accepted";
        } catch (const weft::invalid_argument& error) {
            EXPECT_NE(std::string(error.what()).find(field), std::string::npos) << error.what();
        }
        EXPECT_FALSE(started) << field;
    };
    rejected({.shutdown_grace = -1ns}, "shutdown_grace");
    rejected({.shutdown_grace = std::chrono::nanoseconds::min()}, "shutdown_grace");
    rejected({.max_blocking_threads = 0}, "max_blocking_threads");
    rejected({.blocking_keep_alive = -1s}, "blocking_keep_alive");
    rejected({.workers = static_cast<std::size_t>(-1)}, "workers");
    // Code that catches the standard base keeps working.
    EXPECT_THROW(weft::run([]() -> weft::coro<> { co_return; }(),
                           weft::run_options{.max_blocking_threads = 0}),
                 std::invalid_argument);
}

TEST(Run, ZeroGraceTearsStragglersDownAtOnce) {
    std::atomic<int> destroyed{0};
    weft::future<> never;
    ::testing::internal::CaptureStderr();
    weft::run(
        [](weft::future<> gate, std::atomic<int>& count) -> weft::coro<> {
            weft::create_task(weft::testing::ignores_cancellation(
                gate, weft::testing::destruction_counter(count)));
            co_await weft::sleep(1s);
        }(never, destroyed),
        weft::run_options{.workers = 1, .virtual_time = true, .shutdown_grace = 0s});
    const std::string report = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(report.find("1 task was still pending 0.000 s after shutdown"), std::string::npos)
        << report;
    EXPECT_EQ(destroyed.load(), 1);
}

} // namespace
