// Tests weft::to_thread and the blocking pool (include/weft/to_thread.hpp,
// runtime/blocking/blocking_pool.cpp): values, void, move-only results and arguments, exceptions,
// calls run off the workers, the thread cap under load, cancellation of the awaiter while
// the call runs or before it starts, idle threads retiring, virtual time standing still
// while a call runs, shutdown (running calls awaited, queued ones dropped, threads joined),
// a cancel-vs-complete race, and a named lambda (the form that is safe from g++ 12's double
// destruction of a lambda temporary inside co_await) whose captures are destroyed once.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using weft::testing::eventually;
using weft::testing::one_virtual_worker;
using weft::testing::two_virtual_workers;

int add(int a, int b) {
    return a + b;
}

// Counts the copies of a capture made and destroyed.
struct copy_count {
    std::atomic<int> made{0};
    std::atomic<int> destroyed{0};
};

class counted_capture {
public:
    explicit counted_capture(copy_count& count) : count_(&count) { count_->made.fetch_add(1); }
    counted_capture(const counted_capture& other) : count_(other.count_) {
        count_->made.fetch_add(1);
    }
    counted_capture& operator=(const counted_capture&) = delete;
    ~counted_capture() { count_->destroyed.fetch_add(1); }

private:
    copy_count* count_;
};

TEST(ToThread, YieldsTheCallsValue) {
    EXPECT_EQ(
        weft::run([]() -> weft::coro<int> { co_return co_await weft::to_thread(add, 20, 22); }()),
        42);
}

TEST(ToThread, VoidCall) {
    std::atomic<int> calls{0};
    weft::run([](std::atomic<int>& calls) -> weft::coro<> {
        co_await weft::to_thread([&calls] { calls.fetch_add(1); });
        EXPECT_EQ(calls.load(), 1); // the call has returned when the await resumes
    }(calls));
    EXPECT_EQ(calls.load(), 1);
}

TEST(ToThread, MoveOnlyResultAndArguments) {
    const int value = weft::run([]() -> weft::coro<int> {
        std::unique_ptr<int> boxed = co_await weft::to_thread(
            [](std::unique_ptr<int> in) { return std::make_unique<int>(*in * 2); },
            std::make_unique<int>(21));
        co_return *boxed;
    }());
    EXPECT_EQ(value, 42);
}

TEST(ToThread, ExceptionIsRethrownToTheAwaiter) {
    const std::string message = weft::run([]() -> weft::coro<std::string> {
        try {
            co_await weft::to_thread([]() -> int { throw std::out_of_range("no such file"); });
        } catch (const std::out_of_range& error) {
            co_return error.what();
        }
        co_return "no exception";
    }());
    EXPECT_EQ(message, "no such file");
}

TEST(ToThread, ArgumentsAreCopiedWhenCalledAndTheCallStartsWhenAwaited) {
    weft::run([]() -> weft::coro<> {
        std::atomic<bool> started{false};
        std::string text = "first";
        auto call = weft::to_thread(
            [&started](std::string copy) {
                started.store(true);
                return copy;
            },
            text);
        text = "second";
        co_await weft::sleep(1ms);
        EXPECT_FALSE(started.load()); // lazy: nothing is submitted before the await
        EXPECT_EQ(co_await call, "first");
        EXPECT_TRUE(started.load());
        EXPECT_THROW(co_await call, weft::invalid_state_error); // awaiting consumes it
    }());
}

TEST(ToThread, ReferenceResultsAreCopied) {
    static int shared_value;
    shared_value = 5;
    const int copy = weft::run([]() -> weft::coro<int> {
        int result = co_await weft::to_thread([]() -> int& { return shared_value; });
        shared_value = 6;
        co_return result;
    }());
    EXPECT_EQ(copy, 5);
}

TEST(ToThread, RunsOffEveryWorkerThread) {
    struct seen {
        std::set<std::thread::id> workers;
        std::thread::id call;
        bool call_on_a_worker = true;
    };
    const seen result = weft::run(
        []() -> weft::coro<seen> {
            seen observed;
            std::mutex lock;
            std::vector<weft::task<>> tasks;
            for (int i = 0; i < 64; ++i) {
                tasks.push_back(weft::create_task(
                    [](std::set<std::thread::id>& ids, std::mutex& lock) -> weft::coro<> {
                        for (int step = 0; step < 4; ++step) {
                            {
                                std::lock_guard guard(lock);
                                ids.insert(weft::testing::current_thread_id());
                            }
                            co_await weft::sleep(0s);
                        }
                    }(observed.workers, lock)));
            }
            {
                std::lock_guard guard(lock);
                observed.workers.insert(weft::testing::current_thread_id());
            }
            auto [id, on_worker] = co_await weft::to_thread(
                [] { return std::pair(std::this_thread::get_id(), weft::testing::on_a_worker()); });
            observed.call = id;
            observed.call_on_a_worker = on_worker;
            for (weft::task<>& each : tasks) {
                co_await each;
            }
            co_return observed;
        }(),
        weft::run_options{.workers = 2});
    EXPECT_FALSE(result.call_on_a_worker);
    EXPECT_EQ(result.workers.count(result.call), 0u);
    EXPECT_NE(result.call, std::this_thread::get_id()); // run's thread is worker 0
}

TEST(ToThread, CallingOutsideARuntimeIsARuntimeError) {
    try {
        (void)weft::to_thread([] { return 1; });
        FAIL() << "no exception";
    } catch (const weft::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("weft::to_thread: no running weft runtime"),
                  std::string::npos);
    }
    // A pool thread is outside every runtime too.
    const bool refused = weft::run([]() -> weft::coro<bool> {
        co_return co_await weft::to_thread([] {
            try {
                (void)weft::to_thread([] { return 1; });
            } catch (const weft::runtime_error&) {
                return true;
            }
            return false;
        });
    }());
    EXPECT_TRUE(refused);
}

TEST(ToThread, CreateTaskAndGatherTakeACall) {
    const int sum = weft::run([]() -> weft::coro<int> {
        weft::task<int> t = weft::create_task(weft::to_thread(add, 1, 2));
        auto [a, b] = co_await weft::gather(weft::to_thread(add, 3, 4), weft::to_thread(add, 5, 6));
        co_return co_await t + a + b;
    }());
    EXPECT_EQ(sum, 21);
}

// Tracks how many calls run at once, and the most ever seen.
struct concurrency_meter {
    std::atomic<int> running{0};
    std::atomic<int> most{0};

    void enter() {
        const int now = running.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
    }
    void leave() { running.fetch_sub(1); }
};

TEST(ToThread, CallsBeyondTheCapWaitAndNoneIsLost) {
    constexpr int calls = 50;
    concurrency_meter meter;
    std::atomic<int> arrived{0};
    const auto [results, stats] = weft::run(
        [](concurrency_meter& meter, std::atomic<int>& arrived)
            -> weft::coro<std::pair<std::vector<int>, weft::blocking_pool_stats>> {
            std::vector<weft::coro<int>> waits;
            for (int i = 0; i < calls; ++i) {
                waits.push_back([](int i, concurrency_meter& meter,
                                   std::atomic<int>& arrived) -> weft::coro<int> {
                    co_return co_await weft::to_thread([i, &meter, &arrived] {
                        meter.enter();
                        // The first two calls wait for each other: they can only both
                        // arrive if the pool runs two calls at once.
                        if (arrived.fetch_add(1) < 2) {
                            EXPECT_TRUE(eventually([&] { return arrived.load() >= 2; }));
                        }
                        std::this_thread::sleep_for(100us);
                        meter.leave();
                        return i;
                    });
                }(i, meter, arrived));
            }
            std::vector<int> got = co_await weft::gather(std::move(waits));
            co_return std::pair(std::move(got), weft::current_runtime_stats().blocking);
        }(meter, arrived),
        weft::run_options{.workers = 2, .max_blocking_threads = 2});
    std::vector<int> expected(calls);
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(results, expected);
    EXPECT_EQ(meter.most.load(), 2);
    EXPECT_LE(stats.threads_started, 2u);
    EXPECT_EQ(stats.queued_calls, 0u);
}

TEST(ToThread, ManyAwaitersAtOnceShareThePool) {
    constexpr int calls = 200;
    concurrency_meter meter;
    const long sum = weft::run(
        [](concurrency_meter& meter) -> weft::coro<long> {
            std::vector<weft::task<int>> tasks;
            for (int i = 0; i < calls; ++i) {
                tasks.push_back(weft::create_task(weft::to_thread([i, &meter] {
                    meter.enter();
                    std::this_thread::yield();
                    meter.leave();
                    return i;
                })));
            }
            long total = 0;
            for (weft::task<int>& each : tasks) {
                total += co_await each;
            }
            EXPECT_LE(weft::current_runtime_stats().blocking.threads_started, 8u);
            co_return total;
        }(meter),
        weft::run_options{.workers = 2, .max_blocking_threads = 8});
    EXPECT_EQ(sum, calls * (calls - 1) / 2);
    EXPECT_LE(meter.most.load(), 8);
}

TEST(ToThread, CancellingTheAwaiterLeavesAtOnceAndTheCallFinishes) {
    std::atomic<bool> started{false};
    std::atomic<bool> release{false};
    std::atomic<bool> finished{false};
    std::atomic<int> results_destroyed{0};
    weft::run(
        [](std::atomic<bool>& started, std::atomic<bool>& release, std::atomic<bool>& finished,
           std::atomic<int>& results_destroyed) -> weft::coro<> {
            weft::task<weft::testing::destruction_counter> waiting =
                weft::create_task(weft::to_thread([&] {
                    started.store(true);
                    EXPECT_TRUE(eventually([&] { return release.load(); }));
                    finished.store(true);
                    return weft::testing::destruction_counter(results_destroyed);
                }));
            while (!started.load()) {
                co_await weft::sleep(100us);
            }
            EXPECT_TRUE(waiting.cancel());
            // The await ends while the call is still blocked: it does not wait for it.
            EXPECT_THROW(co_await waiting, weft::cancelled_error);
            EXPECT_TRUE(waiting.cancelled());
            EXPECT_FALSE(finished.load());
            release.store(true);
            // The call runs to its end, and its result is dropped on the pool thread.
            while (results_destroyed.load() == 0) {
                co_await weft::sleep(100us);
            }
            EXPECT_TRUE(finished.load());
        }(started, release, finished, results_destroyed),
        weft::run_options{.workers = 2});
    EXPECT_TRUE(finished.load());
    EXPECT_EQ(results_destroyed.load(), 1);
}

TEST(ToThread, ACallCancelledBeforeItStartsNeverRuns) {
    std::atomic<bool> skipped_ran{false};
    weft::run(
        [](std::atomic<bool>& skipped_ran) -> weft::coro<> {
            std::atomic<bool> first_started{false};
            std::atomic<bool> release{false};
            weft::task<> first = weft::create_task(weft::to_thread([&] {
                first_started.store(true);
                EXPECT_TRUE(eventually([&] { return release.load(); }));
            }));
            while (!first_started.load()) {
                co_await weft::sleep(100us);
            }
            // The only pool thread is busy: this call waits in the queue.
            weft::task<> queued =
                weft::create_task(weft::to_thread([&skipped_ran] { skipped_ran.store(true); }));
            while (weft::current_runtime_stats().blocking.queued_calls == 0) {
                co_await weft::sleep(100us);
            }
            queued.cancel();
            EXPECT_THROW(co_await queued, weft::cancelled_error);
            release.store(true);
            co_await first;
            // FIFO with one thread: by the time a later call ran, the abandoned one was
            // taken off the queue and skipped.
            EXPECT_EQ(co_await weft::to_thread([] { return 7; }), 7);
            EXPECT_FALSE(skipped_ran.load());
        }(skipped_ran),
        weft::run_options{.workers = 1, .max_blocking_threads = 1});
    EXPECT_FALSE(skipped_ran.load());
}

TEST(ToThread, IdleThreadsRetireAfterTheKeepAlive) {
    const weft::blocking_pool_stats after = weft::run(
        []() -> weft::coro<weft::blocking_pool_stats> {
            EXPECT_EQ(co_await weft::to_thread(add, 1, 1), 2);
            EXPECT_EQ(weft::current_runtime_stats().blocking.threads_started, 1u);
            // Real time: the pool thread ends about 1 ms after its call.
            for (int polls = 0; polls < 60'000; ++polls) {
                if (weft::current_runtime_stats().blocking.threads == 0) {
                    break;
                }
                co_await weft::sleep(1ms);
            }
            weft::blocking_pool_stats retired = weft::current_runtime_stats().blocking;
            EXPECT_EQ(retired.threads, 0u);
            EXPECT_EQ(retired.idle_threads, 0u);
            EXPECT_EQ(retired.threads_retired, 1u);
            // The next call starts a new thread.
            EXPECT_EQ(co_await weft::to_thread(add, 2, 2), 4);
            co_return weft::current_runtime_stats().blocking;
        }(),
        weft::run_options{.workers = 1, .blocking_keep_alive = 1ms});
    EXPECT_EQ(after.threads_started, 2u);
}

TEST(ToThread, AThreadWithinTheKeepAliveIsReused) {
    const weft::blocking_pool_stats stats =
        weft::run([]() -> weft::coro<weft::blocking_pool_stats> {
            for (int i = 0; i < 20; ++i) {
                EXPECT_EQ(co_await weft::to_thread(add, i, 1), i + 1);
            }
            co_return weft::current_runtime_stats().blocking;
        }());
    EXPECT_EQ(stats.threads_started, 1u);
    EXPECT_EQ(stats.threads, 1u);
    EXPECT_EQ(stats.threads_retired, 0u);
}

TEST(ToThread, VirtualTimeStandsStillWhileACallRuns) {
    weft::run(
        []() -> weft::coro<> {
            // A sleeper that would move the clock an hour ahead the moment every worker is
            // idle, which they are while the call runs in real time.
            weft::task<> sleeper = weft::create_task(weft::sleep(std::chrono::hours(1)));
            const weft::clock::time_point start = weft::clock::now();
            const int value = co_await weft::wait_for(weft::to_thread([] {
                                                          std::this_thread::sleep_for(20ms);
                                                          return 5;
                                                      }),
                                                      1s);
            EXPECT_EQ(value, 5);
            EXPECT_EQ(weft::clock::now(), start);
            sleeper.cancel();
            EXPECT_THROW(co_await sleeper, weft::cancelled_error);
        }(),
        two_virtual_workers);
}

TEST(ToThread, VirtualTimeMovesOnWhenAnAbandonedCallEnds) {
    const auto elapsed = weft::run(
        []() -> weft::coro<weft::clock::duration> {
            auto started = std::make_shared<std::atomic<bool>>(false);
            auto release = std::make_shared<std::atomic<bool>>(false);
            weft::task<> waiting = weft::create_task(weft::to_thread([started, release] {
                started->store(true);
                EXPECT_TRUE(eventually([&] { return release->load(); }));
            }));
            while (!started->load()) {
                co_await weft::sleep(0s); // a yield: no timer, no time passes
            }
            waiting.cancel();
            EXPECT_THROW(co_await waiting, weft::cancelled_error);
            // The call still runs, nobody awaits it: the clock waits for it, then moves.
            std::thread releaser([release] {
                std::this_thread::sleep_for(10ms);
                release->store(true);
            });
            const weft::clock::time_point start = weft::clock::now();
            co_await weft::sleep(1s);
            EXPECT_TRUE(release->load()); // the clock did not move before the call ended
            releaser.join();
            co_return weft::clock::now() - start;
        }(),
        one_virtual_worker);
    EXPECT_EQ(elapsed, 1s);
}

TEST(ToThread, ZeroMaxBlockingThreadsIsRejected) {
    EXPECT_THROW(weft::run([]() -> weft::coro<> { co_return; }(),
                           weft::run_options{.max_blocking_threads = 0}),
                 std::invalid_argument);
}

TEST(ToThread, RunWaitsForRunningCallsAndJoinsThePool) {
    const std::size_t threads_before = weft::testing::baseline_thread_count();
    std::atomic<bool> awaiter_cancelled{false};
    std::atomic<bool> finished{false};
    weft::run(
        [](std::atomic<bool>& awaiter_cancelled, std::atomic<bool>& finished) -> weft::coro<> {
            std::atomic<bool>* cancelled = &awaiter_cancelled;
            std::atomic<bool>* done = &finished;
            std::atomic<bool> started{false};
            // A detached task awaiting a call that outlives main: shutdown's drain
            // cancels the task; the call goes on, and run waits for it.
            weft::create_task([](std::atomic<bool>& started, std::atomic<bool>* cancelled,
                                 std::atomic<bool>* done) -> weft::coro<> {
                try {
                    co_await weft::to_thread([&started, cancelled, done] {
                        started.store(true);
                        EXPECT_TRUE(eventually([cancelled] { return cancelled->load(); }));
                        std::this_thread::sleep_for(
                            20ms); // a late return shows if run did not wait
                        done->store(true);
                    });
                } catch (const weft::cancelled_error&) {
                    cancelled->store(true);
                    throw;
                }
            }(started, cancelled, done));
            while (!started.load()) {
                co_await weft::sleep(100us);
            }
        }(awaiter_cancelled, finished),
        weft::run_options{.workers = 2});
    EXPECT_TRUE(awaiter_cancelled.load());
    EXPECT_TRUE(finished.load());
    EXPECT_EQ(weft::testing::thread_count(), threads_before);
}

TEST(ToThread, CallsStillQueuedAtShutdownAreDropped) {
    std::atomic<int> dropped_destroyed{0};
    std::atomic<bool> dropped_ran{false};
    std::atomic<bool> blocker_finished{false};
    weft::run(
        [](std::atomic<int>& dropped_destroyed, std::atomic<bool>& dropped_ran,
           std::atomic<bool>& blocker_finished) -> weft::coro<> {
            std::atomic<bool> blocker_started{false};
            // Holds the only pool thread until the queued call behind it is dropped.
            weft::create_task(
                weft::to_thread([&blocker_started, &dropped_destroyed, &blocker_finished] {
                    blocker_started.store(true);
                    EXPECT_TRUE(eventually([&] { return dropped_destroyed.load() > 0; }));
                    blocker_finished.store(true);
                }));
            while (!blocker_started.load()) {
                co_await weft::sleep(100us);
            }
            // Ignores the drain's cancellation, then queues a call behind the blocker: the
            // call is still queued when the drain's grace ends, and is dropped.
            weft::create_task([](weft::future<> never, weft::testing::destruction_counter witness,
                                 std::atomic<bool>& ran) -> weft::coro<> {
                try {
                    co_await never;
                } catch (const weft::cancelled_error&) {
                }
                auto mark_ran = [witness, &ran] { ran.store(true); };
                co_await weft::to_thread(std::move(mark_ran));
            }(weft::future<>(), weft::testing::destruction_counter(dropped_destroyed),
                                                         dropped_ran));
            co_return;
        }(dropped_destroyed, dropped_ran, blocker_finished),
        weft::run_options{.workers = 1, .shutdown_grace = 20ms, .max_blocking_threads = 1});
    EXPECT_TRUE(blocker_finished.load());
    EXPECT_FALSE(dropped_ran.load());
    EXPECT_GE(dropped_destroyed.load(), 1);
}

// Awaiters cancelled at random moments against calls that end at random moments: each
// await ends once, with the value or with cancelled_error, and nothing leaks.
TEST(ToThread, CancelRacesCompletion) {
    constexpr int rounds = 2'000;
    std::atomic<int> invoked{0};
    const auto [values, cancellations] = weft::run(
        [](std::atomic<int>& invoked) -> weft::coro<std::pair<int, int>> {
            std::mt19937 random(12345);
            int values = 0;
            int cancellations = 0;
            for (int round = 0; round < rounds; round += 8) {
                std::vector<weft::task<std::unique_ptr<int>>> tasks;
                for (int i = 0; i < 8; ++i) {
                    tasks.push_back(weft::create_task(weft::to_thread([&invoked, i] {
                        invoked.fetch_add(1);
                        return std::make_unique<int>(i);
                    })));
                }
                for (int i = 0; i < 8; ++i) {
                    if (random() % 2 == 0) {
                        tasks[i].cancel();
                    }
                    if (random() % 4 == 0) {
                        co_await weft::sleep(0s);
                    }
                }
                for (int i = 0; i < 8; ++i) {
                    try {
                        std::unique_ptr<int> got = co_await std::move(tasks[i]);
                        EXPECT_EQ(*got, i);
                        ++values;
                    } catch (const weft::cancelled_error&) {
                        ++cancellations;
                    }
                }
            }
            co_return std::pair(values, cancellations);
        }(invoked),
        weft::run_options{.workers = 2, .max_blocking_threads = 4});
    EXPECT_EQ(values + cancellations, rounds);
    EXPECT_GE(invoked.load(), values);
    EXPECT_LE(invoked.load(), rounds);
}

// g++ 12 destroys a capturing lambda temporary written inside a co_await expression twice
// (GCC bug 101367); the safe form names the lambda first. to_thread copies a named lambda
// passed as an lvalue, leaving it usable, and takes over one passed with std::move: either
// way each capture is destroyed exactly once. Under g++'s AddressSanitizer a second
// destruction of the string or the shared_ptr is a double free.
TEST(ToThread, ANamedLambdaDestroysEachCaptureOnce) {
    copy_count count;
    auto owner = std::make_shared<int>(40);
    weft::run([](copy_count& count, std::shared_ptr<int> owner) -> weft::coro<> {
        const std::string text(100, 'x'); // longer than the small-string buffer
        auto call = [owner, text, witness = counted_capture(count)] {
            return *owner + static_cast<int>(text.size());
        };
        EXPECT_EQ(co_await weft::to_thread(call), 140);
        EXPECT_EQ(co_await weft::to_thread(call), 140);
        EXPECT_EQ(co_await weft::to_thread(std::move(call)), 140);
    }(count, owner));
    EXPECT_EQ(owner.use_count(), 1);
    EXPECT_GE(count.made.load(), 3);
    EXPECT_EQ(count.destroyed.load(), count.made.load());
}

} // namespace
