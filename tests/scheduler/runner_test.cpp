// Tests weft::runner (runtime/scheduler/runner.cpp, and runtime.cpp's run_main and
// shut_down): several mains run in turn with their values and exceptions, the workers kept
// between them, tasks left pending running on, close() cancelling what is pending and
// finalizing a suspended generator, the destructor closing, the refusals by name, virtual
// time carried across runs, the signal mask and the interrupt of the current run's main.
#include <weft/signal.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

weft::coro<int> value_of(int value) {
    co_return value;
}

weft::coro<> never_returns() {
    co_await weft::sleep(1h);
}

std::uint64_t tasks_run_so_far() {
    std::uint64_t total = 0;
    for (const weft::worker_stats& each : weft::current_runtime_stats().workers) {
        total += each.tasks_run;
    }
    return total;
}

std::string message_of_runtime_error(auto&& call) {
    try {
        call();
    } catch (const weft::runtime_error& error) {
        return error.what();
    }
    return "no weft::runtime_error";
}

TEST(Runner, RunsSeveralMainsInTurnWithTheirValuesAndExceptions) {
    weft::runner r(weft::run_options{.workers = 2});
    EXPECT_EQ(r.run(value_of(1)), 1);
    EXPECT_EQ(r.run([]() -> weft::coro<std::string> { co_return "two"; }()), "two");
    try {
        r.run([]() -> weft::coro<> {
            throw std::invalid_argument("third failed");
            co_return;
        }());
        FAIL() << "run did not rethrow";
    } catch (const std::invalid_argument& error) {
        EXPECT_STREQ(error.what(), "third failed");
    }
    EXPECT_EQ(r.run(value_of(4)), 4);
}

// The same threads serve every run, and the runtime's counters carry on from one run to
// the next (a fresh runtime would start them at zero).
TEST(Runner, KeepsItsWorkersBetweenRuns) {
    const std::size_t baseline = weft::testing::baseline_thread_count();
    weft::runner r(weft::run_options{.workers = 3});
    EXPECT_EQ(weft::testing::thread_count(), baseline + 2);
    const auto spawn_and_count = []() -> weft::coro<std::uint64_t> {
        for (int i = 0; i < 100; ++i) {
            co_await weft::create_task(value_of(i));
        }
        co_return tasks_run_so_far();
    };
    const std::uint64_t after_first = r.run(spawn_and_count());
    EXPECT_EQ(weft::testing::thread_count(), baseline + 2);
    const std::uint64_t after_second = r.run(spawn_and_count());
    EXPECT_EQ(weft::testing::thread_count(), baseline + 2);
    EXPECT_GE(after_first, 100u);
    EXPECT_GE(after_second, after_first + 100);
    r.close();
    EXPECT_EQ(weft::testing::thread_count(), baseline);
}

// A task main left pending is not cancelled when run returns: another worker keeps running
// it, and a later run can wait for it.
TEST(Runner, TasksLeftPendingKeepRunningOnTheOtherWorkersBetweenRuns) {
    std::atomic<int> steps{0};
    std::atomic<bool> stop{false};
    weft::runner r(weft::run_options{.workers = 2});
    weft::task<int> busy =
        r.run([](std::atomic<int>& steps, std::atomic<bool>& stop) -> weft::coro<weft::task<int>> {
            co_return weft::create_task(
                [](std::atomic<int>& steps, std::atomic<bool>& stop) -> weft::coro<int> {
                    while (!stop.load()) {
                        steps.fetch_add(1);
                        co_await weft::sleep(0s);
                    }
                    co_return 5;
                }(steps, stop));
        }(steps, stop));
    const int when_run_returned = steps.load();
    EXPECT_TRUE(weft::testing::eventually([&] { return steps.load() > when_run_returned + 1000; }));
    stop = true;
    EXPECT_EQ(r.run([](weft::task<int> t) -> weft::coro<int> { co_return co_await t; }(busy)), 5);
}

// Between runs a foreign thread wakes a task left pending; a sleeping worker takes it up,
// however main's end woke worker 0 (here from outside, so a producer may have counted it
// searching as it left).
TEST(Runner, TasksLeftPendingAreWokenFromOutsideBetweenRuns) {
    weft::runner r(weft::run_options{.workers = 2});
    for (int round = 0; round < 20; ++round) {
        weft::future<> go;
        weft::future<> main_may_end;
        std::atomic<bool> resumed{false};
        std::thread ender([main_may_end]() mutable {
            std::this_thread::sleep_for(1ms);
            main_may_end.set_result();
        });
        r.run([](weft::future<> go, weft::future<> main_may_end,
                 std::atomic<bool>& resumed) -> weft::coro<> {
            weft::create_task([](weft::future<> go, std::atomic<bool>& resumed) -> weft::coro<> {
                co_await go;
                resumed = true;
            }(go, resumed));
            co_await main_may_end;
        }(go, main_may_end, resumed));
        ender.join();
        std::this_thread::sleep_for(1ms); // the other worker goes to sleep
        go.set_result();
        ASSERT_TRUE(weft::testing::eventually([&] { return resumed.load(); }, 5s))
            << "round " << round;
    }
}

// With one worker nothing runs between runs, as in asyncio: the task resumes in the next.
TEST(Runner, WithOneWorkerPendingTasksWaitForTheNextRun) {
    std::atomic<int> steps{0};
    weft::runner r(weft::run_options{.workers = 1});
    weft::task<> counting = r.run([](std::atomic<int>& steps) -> weft::coro<weft::task<>> {
        co_return weft::create_task([](std::atomic<int>& steps) -> weft::coro<> {
            for (;;) {
                steps.fetch_add(1);
                co_await weft::sleep(0s);
            }
        }(steps));
    }(steps));
    const int when_run_returned = steps.load();
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(steps.load(), when_run_returned);
    r.run([]() -> weft::coro<> {
        for (int i = 0; i < 10; ++i) {
            co_await weft::sleep(0s);
        }
    }());
    EXPECT_GT(steps.load(), when_run_returned);
    r.close();
    EXPECT_TRUE(counting.cancelled());
}

// Yields forever; closed, it sleeps (cleanup that awaits) and records it.
weft::generator<int> counts_up(std::atomic<bool>& cleaned_up) {
    try {
        for (int i = 0;; ++i) {
            co_yield i;
        }
    } catch (const weft::generator_exit&) {
        cleaned_up = true;
    }
    co_await weft::sleep(10ms);
}

// What a main leaves behind for the close: a task waiting for ever, whose cancellation it
// records, and a generator started and suspended in `kept`.
struct left_behind {
    std::atomic<bool> task_started{false};
    std::atomic<bool> task_cancelled{false};
    std::atomic<bool> generator_closed{false};
    std::optional<weft::generator<int>> kept;

    weft::coro<> main() {
        weft::create_task(
            [](std::atomic<bool>& started, std::atomic<bool>& cancelled) -> weft::coro<> {
                started = true;
                try {
                    co_await never_returns();
                } catch (const weft::cancelled_error&) {
                    cancelled = true;
                    throw;
                }
            }(task_started, task_cancelled));
        // The task starts (one cancelled before it starts never runs). One yield is not enough
        // on two workers: the other worker may have stolen the task and not yet resumed it.
        while (!task_started) {
            co_await weft::sleep(0s);
        }
        kept.emplace(counts_up(generator_closed));
        EXPECT_EQ(co_await kept->next(), 0);
    }
};

using weft::testing::two_virtual_workers;

TEST(Runner, CloseCancelsPendingTasksAndFinalizesGenerators) {
    left_behind left;
    weft::runner r(two_virtual_workers);
    r.run(left.main());
    EXPECT_EQ(r.run(value_of(3)), 3);
    EXPECT_FALSE(left.task_cancelled.load());
    EXPECT_FALSE(left.generator_closed.load());
    r.close();
    EXPECT_TRUE(left.task_cancelled.load());
    EXPECT_TRUE(left.generator_closed.load());
    EXPECT_TRUE(left.kept->done());
    EXPECT_NO_THROW(r.close()); // idempotent
}

TEST(Runner, DestructorCloses) {
    left_behind left;
    {
        weft::runner r(two_virtual_workers);
        r.run(left.main());
    }
    EXPECT_TRUE(left.task_cancelled.load());
    EXPECT_TRUE(left.generator_closed.load());
}

TEST(Runner, RunAfterCloseIsARuntimeError) {
    weft::runner r(weft::run_options{.workers = 1});
    r.close();
    EXPECT_NE(message_of_runtime_error([&] { r.run(value_of(1)); }).find("the runner is closed"),
              std::string::npos);
}

TEST(Runner, RunOrCloseFromARunningRuntimeIsARuntimeError) {
    weft::runner r(weft::run_options{.workers = 2});
    const std::string nested = r.run([](weft::runner& r) -> weft::coro<std::string> {
        co_return message_of_runtime_error([&] { r.run(value_of(1)); });
    }(r));
    EXPECT_NE(nested.find("weft::runner::run() cannot be called from a thread that is running"),
              std::string::npos)
        << nested;
    weft::runner other(weft::run_options{.workers = 1});
    const std::string from_another = weft::run([](weft::runner& other) -> weft::coro<std::string> {
        co_return message_of_runtime_error([&] { other.close(); });
    }(other));
    EXPECT_NE(from_another.find("weft::runner::close() cannot be called from a thread"),
              std::string::npos)
        << from_another;
    EXPECT_EQ(other.run(value_of(2)), 2); // the refused close closed nothing
}

TEST(Runner, RunFromTwoThreadsAtOnceIsARuntimeError) {
    weft::runner r(weft::run_options{.workers = 2});
    weft::future<> release;
    std::atomic<bool> started{false};
    std::thread first([&] {
        r.run([](weft::future<> release, std::atomic<bool>& started) -> weft::coro<> {
            started = true;
            co_await release;
        }(release, started));
    });
    ASSERT_TRUE(weft::testing::eventually([&] { return started.load(); }));
    EXPECT_NE(message_of_runtime_error([&] { r.run(value_of(1)); }).find("must not overlap"),
              std::string::npos);
    EXPECT_NE(message_of_runtime_error([&] { r.close(); }).find("after run() has returned"),
              std::string::npos);
    release.set_result();
    first.join();
    EXPECT_EQ(r.run(value_of(2)), 2); // from this thread now
}

TEST(Runner, OptionsOutOfRangeAndAnEmptyCoroAreRefusedByName) {
    try {
        weft::runner r(weft::run_options{.workers = weft::max_workers + 1});
        FAIL() << "the runner accepted too many workers";
    } catch (const weft::invalid_argument& error) {
        EXPECT_NE(std::string(error.what()).find("weft::runner: run_options::workers"),
                  std::string::npos)
            << error.what();
    }
    weft::runner r(weft::run_options{.workers = 1});
    weft::coro<int> moved = value_of(1);
    weft::coro<int> taken = std::move(moved);
    EXPECT_THROW(r.run(std::move(moved)), weft::invalid_state_error);
    EXPECT_EQ(r.run(std::move(taken)), 1);
}

// The clock neither restarts nor jumps between runs, and a timer set in one run fires at
// its deadline, measured on that clock, in a later one.
TEST(Runner, VirtualTimeRunsOnAcrossRuns) {
    using weft::clock;
    weft::runner r(two_virtual_workers);
    const clock::time_point start =
        r.run([]() -> weft::coro<clock::time_point> { co_return clock::now(); }());
    struct first_run {
        clock::time_point ended;
        weft::task<clock::time_point> timer;
    };
    first_run first = r.run([]() -> weft::coro<first_run> {
        co_await weft::sleep(5s);
        weft::task<clock::time_point> timer =
            weft::create_task([]() -> weft::coro<clock::time_point> {
                co_await weft::sleep(10s);
                co_return clock::now();
            }());
        co_return first_run{clock::now(), timer};
    }());
    EXPECT_EQ(first.ended - start, 5s);
    const clock::time_point second =
        r.run([]() -> weft::coro<clock::time_point> { co_return clock::now(); }());
    EXPECT_EQ(second, first.ended);
    const clock::time_point fired =
        r.run([](weft::task<clock::time_point> timer) -> weft::coro<clock::time_point> {
            co_return co_await timer;
        }(first.timer));
    EXPECT_EQ(fired - first.ended, 10s);
}

bool blocked_in_this_thread(int signo) {
    sigset_t mask;
    pthread_sigmask(SIG_SETMASK, nullptr, &mask);
    return sigismember(&mask, signo) == 1;
}

// A thread inherits its maker's mask; the threads below start from an open one.
void unblock_sigusr1_here() {
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &usr1, nullptr);
}

// A main that waits for a SIGUSR1 it sends the process, and says whether its thread
// blocks SIGUSR1.
weft::coro<bool> receives_sigusr1() {
    weft::coro<> received = weft::signal_received(SIGUSR1);
    EXPECT_EQ(kill(getpid(), SIGUSR1), 0);
    co_await std::move(received);
    co_return blocked_in_this_thread(SIGUSR1);
}

// The maker's thread blocks the watched signals from construction to close, as weft::run
// does for its call; another thread blocks them only while its run() lasts. A signal sent
// during a run reaches the task waiting for it, whichever thread runs.
TEST(Runner, BlocksTheWatchedSignalsInTheMakerUntilCloseAndElsewhereDuringRun) {
    ASSERT_FALSE(blocked_in_this_thread(SIGUSR1));
    weft::runner r(weft::run_options{.workers = 1, .signals = {SIGUSR1}});
    EXPECT_TRUE(blocked_in_this_thread(SIGUSR1));
    EXPECT_TRUE(r.run(receives_sigusr1()));
    EXPECT_TRUE(blocked_in_this_thread(SIGUSR1));
    std::thread([&] {
        unblock_sigusr1_here();
        EXPECT_TRUE(r.run(receives_sigusr1()));
        EXPECT_FALSE(blocked_in_this_thread(SIGUSR1));
    }).join();
    r.close();
    EXPECT_FALSE(blocked_in_this_thread(SIGUSR1));
}

// Closed on another thread, the runner leaves that thread's mask as it found it.
TEST(Runner, CloseOnAnotherThreadKeepsThatThreadsMask) {
    weft::runner r(weft::run_options{.workers = 1, .signals = {SIGUSR1}});
    std::thread([&] {
        unblock_sigusr1_here();
        r.close();
        EXPECT_FALSE(blocked_in_this_thread(SIGUSR1));
    }).join();
    // The maker's thread cannot be changed from another: it still blocks the signal.
    EXPECT_TRUE(blocked_in_this_thread(SIGUSR1));
    unblock_sigusr1_here();
}

// Each run's SIGINT cancels that run's main: the count of interrupts starts again with each
// run, so the second run's first SIGINT cancels rather than ends the process.
TEST(Runner, InterruptCancelsTheCurrentRunsMain) {
    weft::runner r(weft::run_options{.workers = 2, .interrupt_cancels_main = true});
    for (int round = 0; round < 2; ++round) {
        EXPECT_THROW(r.run([]() -> weft::coro<> {
            EXPECT_EQ(kill(getpid(), SIGINT), 0);
            co_await never_returns();
        }()),
                     weft::cancelled_error);
    }
    EXPECT_EQ(r.run(value_of(3)), 3);
}

} // namespace
