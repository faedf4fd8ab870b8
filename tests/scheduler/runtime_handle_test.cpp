// Tests weft::runtime_handle and weft::current_runtime (include/weft/runtime_handle.hpp,
// runtime/scheduler/runtime_handle.cpp): spawn from many foreign threads, from a worker and from a
// blocking call; exceptions and cancellation reaching the std::future; call_soon on a
// worker and its exceptions reported; copies; refusal once the runtime has ended; and
// spawns and call_soons racing the end of run, where every std::future must be completed.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using weft::testing::eventually;

weft::coro<int> square(int x) {
    co_await weft::sleep(0s); // a real suspension: the task yields once
    co_return x* x;
}

// Runs `body(handle)` on a thread outside the runtime while main waits for it, and returns
// what it returned.
template <class Body>
auto from_foreign_thread(Body body, weft::run_options options = {}) {
    using result_type = decltype(body(std::declval<weft::runtime_handle>()));
    return weft::run(
        [](Body& body) -> weft::coro<result_type> {
            weft::future<result_type> done;
            std::thread foreign([handle = weft::current_runtime(), &body, done]() mutable {
                done.set_result(body(handle));
            });
            result_type result = co_await done;
            foreign.join();
            co_return result;
        }(body),
        options);
}

TEST(RuntimeHandle, SpawnFromManyForeignThreads) {
    constexpr int threads = 4;
    constexpr int spawns = 250;
    const long total = from_foreign_thread(
        [](weft::runtime_handle handle) {
            std::vector<std::thread> spawners;
            std::vector<long> sums(threads);
            for (int t = 0; t < threads; ++t) {
                spawners.emplace_back([handle, t, &sums] {
                    std::vector<std::future<int>> futures;
                    for (int i = 0; i < spawns; ++i) {
                        futures.push_back(handle.spawn(square(t * spawns + i)));
                    }
                    for (std::future<int>& each : futures) {
                        sums[t] += each.get();
                    }
                });
            }
            for (std::thread& each : spawners) {
                each.join();
            }
            long total = 0;
            for (long each : sums) {
                total += each;
            }
            return total;
        },
        weft::run_options{.workers = 2});
    long expected = 0;
    for (long i = 0; i < threads * spawns; ++i) {
        expected += i * i;
    }
    EXPECT_EQ(total, expected);
}

// The exception is read on this thread once run has returned. Read on the thread that
// called get(), it could race, as far as ThreadSanitizer sees, with the worker freeing it
// when it destroys the std::promise: the exception's reference count lives in the
// uninstrumented C++ runtime.
TEST(RuntimeHandle, SpawnedExceptionsReachTheFuture) {
    const std::exception_ptr error = from_foreign_thread([](weft::runtime_handle handle) {
        std::future<int> failing = handle.spawn([]() -> weft::coro<int> {
            co_await weft::sleep(0s);
            throw std::logic_error("spawned and failed");
        }());
        try {
            failing.get();
        } catch (...) {
            return std::current_exception();
        }
        return std::exception_ptr();
    });
    ASSERT_NE(error, nullptr);
    try {
        std::rethrow_exception(error);
    } catch (const std::logic_error& failure) {
        EXPECT_STREQ(failure.what(), "spawned and failed");
    }
}

TEST(RuntimeHandle, SpawnVoidAndMoveOnlyResults) {
    const int value = from_foreign_thread([](weft::runtime_handle handle) {
        std::atomic<bool> ran{false};
        handle
            .spawn([](std::atomic<bool>& ran) -> weft::coro<> {
                ran.store(true);
                co_return;
            }(ran))
            .get();
        EXPECT_TRUE(ran.load());
        return *handle
                    .spawn([]() -> weft::coro<std::unique_ptr<int>> {
                        co_return std::make_unique<int>(9);
                    }())
                    .get();
    });
    EXPECT_EQ(value, 9);
}

TEST(RuntimeHandle, SpawnedTaskRunsOnAWorkerAndCanUseTheRuntime) {
    const bool ok = from_foreign_thread([](weft::runtime_handle handle) {
        return handle
            .spawn([]() -> weft::coro<bool> {
                weft::task<int> inner = weft::create_task(square(3));
                co_return weft::testing::on_a_worker() && co_await inner == 9;
            }())
            .get();
    });
    EXPECT_TRUE(ok);
}

TEST(RuntimeHandle, CallSoonRunsOnAWorker) {
    struct seen {
        bool on_worker = false;
        std::thread::id where;
        std::thread::id caller;
    };
    const seen result = from_foreign_thread(
        [](weft::runtime_handle handle) {
            std::promise<seen> ran;
            std::future<seen> observed = ran.get_future();
            handle.call_soon([&ran] {
                ran.set_value(seen{weft::testing::on_a_worker(), std::this_thread::get_id(), {}});
            });
            seen result = observed.get();
            result.caller = std::this_thread::get_id();
            return result;
        },
        weft::run_options{.workers = 2});
    EXPECT_TRUE(result.on_worker);
    EXPECT_NE(result.where, result.caller);
}

TEST(RuntimeHandle, UsableFromAWorkerOfItsOwnRuntime) {
    const int value = weft::run(
        []() -> weft::coro<int> {
            weft::runtime_handle handle = weft::current_runtime();
            weft::future<int> told;
            handle.call_soon([told]() mutable { told.set_result(5); });
            const int first = co_await told;
            std::future<int> spawned = handle.spawn(square(4));
            // Never block a worker on it: poll while the runtime runs the task.
            for (int polls = 0; polls < 60'000 && spawned.wait_for(0s) != std::future_status::ready;
                 ++polls) {
                co_await weft::sleep(1ms);
            }
            co_return first + spawned.get();
        }(),
        weft::run_options{.workers = 2});
    EXPECT_EQ(value, 21);
}

TEST(RuntimeHandle, SpawnFromABlockingCall) {
    const int value = weft::run(
        []() -> weft::coro<int> {
            // Named: g++ 12 destroys a capturing lambda temporary inside a co_await
            // expression twice, which here released the runtime handle twice.
            auto spawn_and_wait = [handle = weft::current_runtime()] {
                return handle.spawn(square(6)).get();
            };
            co_return co_await weft::to_thread(std::move(spawn_and_wait));
        }(),
        weft::run_options{.workers = 1});
    EXPECT_EQ(value, 36);
}

TEST(RuntimeHandle, CallSoonExceptionsGoToTheExceptionHandler) {
    std::atomic<int> reported{0};
    std::string message;
    weft::run(
        []() -> weft::coro<> {
            weft::future<> after;
            weft::runtime_handle handle = weft::current_runtime();
            handle.call_soon([] { throw std::runtime_error("call_soon failed"); });
            handle.call_soon([after]() mutable { after.set_result(); });
            co_await after;
        }(),
        weft::run_options{.workers = 1, .exception_handler = [&](std::exception_ptr error) {
                              try {
                                  std::rethrow_exception(error);
                              } catch (const std::runtime_error& failure) {
                                  message = failure.what();
                              }
                              reported.fetch_add(1);
                          }});
    EXPECT_EQ(reported.load(), 1);
    EXPECT_EQ(message, "call_soon failed");
}

TEST(RuntimeHandle, CopiesShareTheRuntime) {
    const int value = from_foreign_thread([](weft::runtime_handle handle) {
        auto original = std::make_unique<weft::runtime_handle>(handle);
        weft::runtime_handle copy = *original;
        weft::runtime_handle assigned = copy;
        assigned = *original;
        original.reset();
        int sum = 0;
        std::thread other([copy, &sum] { sum = copy.spawn(square(2)).get(); });
        other.join();
        return sum + assigned.spawn(square(3)).get();
    });
    EXPECT_EQ(value, 13);
}

TEST(RuntimeHandle, CurrentRuntimeOutsideARuntimeIsARuntimeError) {
    try {
        weft::current_runtime();
        FAIL() << "no exception";
    } catch (const weft::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("weft::current_runtime: no running weft runtime"),
                  std::string::npos);
    }
}

TEST(RuntimeHandle, AfterRunReturnedSpawnAndCallSoonThrow) {
    weft::runtime_handle handle = weft::run(
        []() -> weft::coro<weft::runtime_handle> { co_return weft::current_runtime(); }());
    std::atomic<int> destroyed{0};
    try {
        handle.spawn([](weft::testing::destruction_counter) -> weft::coro<int> {
            co_return 1;
        }(weft::testing::destruction_counter(destroyed)));
        FAIL() << "spawn did not throw";
    } catch (const weft::runtime_error& error) {
        EXPECT_NE(std::string(error.what())
                      .find("weft::runtime_handle::spawn: the weft runtime "
                            "has ended"),
                  std::string::npos);
    }
    EXPECT_EQ(destroyed.load(), 1); // the coroutine was destroyed without running
    bool ran = false;
    try {
        handle.call_soon(
            [&ran, counter = weft::testing::destruction_counter(destroyed)] { ran = true; });
        FAIL() << "call_soon did not throw";
    } catch (const weft::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("has ended"), std::string::npos);
    }
    EXPECT_FALSE(ran);
    EXPECT_EQ(destroyed.load(), 2);
}

TEST(RuntimeHandle, TheHandleClosesWhenMainEnds) {
    std::atomic<bool> refused{false};
    weft::run(
        [](std::atomic<bool>& refused) -> weft::coro<> {
            // Asleep when main ends; the drain's cancellation wakes it, and by then the
            // handle refuses work, though the runtime still runs this task.
            weft::create_task(
                [](weft::runtime_handle handle, std::atomic<bool>& refused) -> weft::coro<> {
                    try {
                        co_await weft::sleep(std::chrono::hours(1));
                    } catch (const weft::cancelled_error&) {
                    }
                    try {
                        handle.call_soon([] {});
                    } catch (const weft::runtime_error&) {
                        refused.store(true);
                    }
                }(weft::current_runtime(), refused));
            co_await weft::sleep(1ms);
        }(refused),
        weft::run_options{.workers = 1});
    EXPECT_TRUE(refused.load());
}

TEST(RuntimeHandle, ASpawnedTaskIsCancelledByTheShutdownDrain) {
    std::future<int> sleeper;
    weft::run(
        [](std::future<int>& sleeper) -> weft::coro<> {
            std::promise<void> spawned;
            std::thread foreign([handle = weft::current_runtime(), &sleeper, &spawned] {
                sleeper = handle.spawn([]() -> weft::coro<int> {
                    co_await weft::sleep(std::chrono::hours(1));
                    co_return 1;
                }());
                spawned.set_value();
            });
            // Wait without blocking the worker, then let main end with the task pending.
            std::future<void> accepted = spawned.get_future();
            while (accepted.wait_for(0s) != std::future_status::ready) {
                co_await weft::sleep(100us);
            }
            foreign.join();
        }(sleeper),
        weft::run_options{.workers = 2});
    ASSERT_EQ(sleeper.wait_for(0s), std::future_status::ready);
    EXPECT_THROW(sleeper.get(), weft::cancelled_error);
}

// What a std::future returned by spawn ended with.
enum class ending { value, cancelled, destroyed, other };

ending how_it_ended(std::future<int>& future, int expected) {
    if (future.wait_for(0s) != std::future_status::ready) {
        return ending::other; // never completed: the test fails
    }
    try {
        return future.get() == expected ? ending::value : ending::other;
    } catch (const weft::cancelled_error&) {
        return ending::cancelled;
    } catch (const weft::runtime_error&) {
        return ending::destroyed;
    } catch (...) {
        return ending::other; // broken_promise, for instance
    }
}

// One body per kind: returns at once; sleeps until the drain cancels it; ignores the
// cancellation, so teardown destroys it once the grace has passed.
weft::coro<int> spawned_body(int kind, int value) {
    if (kind == 1) {
        co_await weft::sleep(std::chrono::hours(1));
    } else if (kind == 2) {
        for (;;) {
            try {
                co_await weft::sleep(std::chrono::hours(1));
            } catch (const weft::cancelled_error&) {
            }
        }
    }
    co_return value;
}

TEST(RuntimeHandle, SpawnsRacingTheEndOfRunAreEachCompletedOnce) {
    constexpr int iterations = 100;
    for (int iteration = 0; iteration < iterations; ++iteration) {
        // Stragglers cost a grace each: only every 10th iteration has them.
        const int kinds = iteration % 10 == 0 ? 3 : 2;
        std::vector<std::future<int>> futures;
        int refused = 0;
        // Outside main's frame: the spawner goes on after main has ended.
        std::atomic<bool> started{false};
        std::thread spawner;
        weft::run(
            [](std::thread& spawner, std::vector<std::future<int>>& futures, int& refused,
               std::atomic<bool>& started, int kinds, int iteration) -> weft::coro<> {
                spawner = std::thread(
                    [handle = weft::current_runtime(), &futures, &refused, &started, kinds] {
                        for (int i = 0;; ++i) {
                            try {
                                futures.push_back(handle.spawn(spawned_body(i % kinds, i)));
                            } catch (const weft::runtime_error&) {
                                ++refused;
                                return;
                            }
                            started.store(true);
                        }
                    });
                while (!started.load()) {
                    co_await weft::sleep(0s);
                }
                for (int yields = 0; yields < iteration % 7; ++yields) {
                    co_await weft::sleep(0s);
                }
            }(spawner, futures, refused, started, kinds, iteration),
            weft::run_options{.workers = 2, .shutdown_grace = 20ms});
        spawner.join();
        ASSERT_EQ(refused, 1) << "iteration " << iteration;
        ASSERT_FALSE(futures.empty());
        for (std::size_t i = 0; i < futures.size(); ++i) {
            const int kind = static_cast<int>(i) % kinds;
            const ending ended = how_it_ended(futures[i], static_cast<int>(i));
            // Each ending is possible for each kind when the grace runs out first on a slow
            // machine. Any body may be cancelled by the drain before its first step, and then
            // never runs; one that started and ignores the cancellation never ends by it.
            if (kind == 0) {
                EXPECT_NE(ended, ending::other) << "iteration " << iteration << " spawn " << i;
            } else {
                EXPECT_TRUE(ended == ending::cancelled || ended == ending::destroyed)
                    << "iteration " << iteration << " spawn " << i;
            }
        }
    }
}

TEST(RuntimeHandle, CallSoonsAcceptedBeforeTheEndAllRun) {
    for (int iteration = 0; iteration < 50; ++iteration) {
        std::atomic<int> accepted{0};
        std::atomic<int> ran{0};
        std::thread caller;
        weft::run(
            [](std::thread& caller, std::atomic<int>& accepted,
               std::atomic<int>& ran) -> weft::coro<> {
                caller = std::thread([handle = weft::current_runtime(), &accepted, &ran] {
                    for (;;) {
                        try {
                            handle.call_soon([&ran] { ran.fetch_add(1); });
                        } catch (const weft::runtime_error&) {
                            return;
                        }
                        accepted.fetch_add(1);
                    }
                });
                while (accepted.load() == 0) {
                    co_await weft::sleep(0s);
                }
            }(caller, accepted, ran),
            weft::run_options{.workers = 2});
        caller.join();
        EXPECT_EQ(ran.load(), accepted.load()) << "iteration " << iteration;
    }
}

} // namespace
