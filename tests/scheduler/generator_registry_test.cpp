// Tests the finalization of generators (runtime/scheduler/generator_registry.cpp and the
// drain in runtime.cpp): run "finalizing asynchronous generators" (one started and not
// exhausted when main ends is closed, its cleanup awaited, before run returns); a generator
// dropped mid-iteration, holding a lock and a socket, releases both before run returns; one
// held by a task the shutdown cancels; a failing cleanup reaching the exception handler; a
// generator owned by another that the finalizer closes at the same time.
#include <weft/generator.hpp>
#include <weft/net/tcp_listener.hpp>
#include <weft/net/tcp_stream.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::two_virtual_workers;

// Yields forever; closed, it sleeps (cleanup that awaits) and logs.
weft::generator<int> endless(std::vector<std::string>& log, std::string name,
                             weft::testing::destruction_counter) {
    std::exception_ptr exit;
    try {
        for (int i = 0;; ++i) {
            co_yield i;
        }
    } catch (const weft::generator_exit&) {
        exit = std::current_exception();
    }
    co_await weft::sleep(10ms);
    log.push_back(name + " cleaned up");
    std::rethrow_exception(exit);
}

TEST(GeneratorFinalization, RunFinalizesAsynchronousGenerators) {
    std::vector<std::string> log;
    std::atomic<int> destroyed{0};
    std::optional<weft::generator<int>> kept;
    weft::run(
        [](std::optional<weft::generator<int>>& kept, std::vector<std::string>& log,
           std::atomic<int>& destroyed) -> weft::coro<> {
            kept.emplace(endless(log, "kept", weft::testing::destruction_counter(destroyed)));
            EXPECT_EQ(co_await kept->next(), 0);
            EXPECT_EQ(co_await kept->next(), 1);
            log.push_back("main ends");
        }(kept, log, destroyed),
        two_virtual_workers);
    EXPECT_EQ(log, (std::vector<std::string>{"main ends", "kept cleaned up"}));
    EXPECT_TRUE(kept->done());
    EXPECT_EQ(destroyed, 0); // closed, not destroyed: its owner still holds it
    kept.reset();
    EXPECT_EQ(destroyed, 1);
}

TEST(GeneratorFinalization, NeverStartedAndExhaustedGeneratorsAreLeftAlone) {
    std::vector<std::string> log;
    std::atomic<int> destroyed{0};
    std::optional<weft::generator<int>> unstarted;
    weft::run(
        [](std::optional<weft::generator<int>>& unstarted, std::vector<std::string>& log,
           std::atomic<int>& destroyed) -> weft::coro<> {
            unstarted.emplace(
                endless(log, "unstarted", weft::testing::destruction_counter(destroyed)));
            co_return;
        }(unstarted, log, destroyed),
        two_virtual_workers);
    EXPECT_TRUE(log.empty());
    EXPECT_FALSE(unstarted->done());
}

// Holds a lock and a connection; closed, it says goodbye on the connection (an await).
weft::generator<int> holds_lock_and_socket(weft::lock& held, std::uint16_t port) {
    auto guard = co_await held.scoped();
    auto connection = co_await weft::net::tcp_stream::connect("127.0.0.1", port);
    std::exception_ptr exit;
    try {
        for (int i = 0;; ++i) {
            co_yield i;
        }
    } catch (const weft::generator_exit&) {
        exit = std::current_exception();
    }
    co_await connection.write_all("bye");
    std::rethrow_exception(exit);
}

TEST(GeneratorFinalization, AnAbandonedGeneratorReleasesItsLockAndSocketBeforeRunReturns) {
    weft::lock held;
    std::optional<weft::net::tcp_stream> server_side;
    weft::run(
        [](weft::lock& held, std::optional<weft::net::tcp_stream>& server_side) -> weft::coro<> {
            auto listener = weft::net::tcp_listener::bind("127.0.0.1", 0);
            {
                auto gen = holds_lock_and_socket(held, listener.local_port());
                EXPECT_EQ(co_await gen.next(), 0);
                server_side.emplace(co_await listener.accept());
                EXPECT_EQ(co_await gen.next(), 1);
                EXPECT_TRUE(held.locked());
            } // dropped mid-iteration, and main ends at once
        }(held, server_side),
        weft::run_options{.workers = 2});
    EXPECT_FALSE(held.locked());
    // The generator's end of the connection said goodbye, then closed.
    char received[8] = {};
    EXPECT_EQ(::recv(server_side->native_handle(), received, sizeof received, MSG_DONTWAIT), 3);
    EXPECT_EQ(std::string(received, 3), "bye");
    EXPECT_EQ(::recv(server_side->native_handle(), received, sizeof received, MSG_DONTWAIT), 0);
}

TEST(GeneratorFinalization, AGeneratorOfATaskTheShutdownCancelsIsClosed) {
    std::vector<std::string> log;
    std::atomic<int> destroyed{0};
    weft::run(
        [](std::vector<std::string>& log, std::atomic<int>& destroyed) -> weft::coro<> {
            auto pending = weft::create_task([](std::vector<std::string>& log,
                                                std::atomic<int>& destroyed) -> weft::coro<> {
                auto gen =
                    endless(log, "held by a task", weft::testing::destruction_counter(destroyed));
                co_await gen.next();
                co_await weft::sleep(1h);
            }(log, destroyed));
            co_await weft::sleep(1ms);
            log.push_back("main ends");
        }(log, destroyed),
        two_virtual_workers);
    EXPECT_EQ(log, (std::vector<std::string>{"main ends", "held by a task cleaned up"}));
    EXPECT_EQ(destroyed, 1);
}

weft::generator<int> fails_to_clean_up() {
    try {
        co_yield 1;
    } catch (const weft::generator_exit&) {
        throw std::runtime_error("cleanup failed");
    }
}

TEST(GeneratorFinalization, AFailedCleanupReachesTheExceptionHandler) {
    std::vector<std::string> reported;
    std::optional<weft::generator<int>> kept;
    weft::run_options options = two_virtual_workers;
    options.exception_handler = [&reported](std::exception_ptr error) {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& failure) {
            reported.emplace_back(failure.what());
        }
    };
    weft::run(
        [](std::optional<weft::generator<int>>& kept) -> weft::coro<> {
            kept.emplace(fails_to_clean_up());
            co_await kept->next();
        }(kept),
        options);
    EXPECT_EQ(reported, std::vector<std::string>{"cleanup failed"});
}

// Owns a started generator; the finalizer claims both at once, and the inner one is let go
// of (by the outer one's unwinding) while the finalizer closes it.
weft::generator<int> owns_another(std::vector<std::string>& log, std::atomic<int>& destroyed) {
    auto inner = endless(log, "inner", weft::testing::destruction_counter(destroyed));
    for (;;) {
        co_yield *co_await inner.next();
    }
}

TEST(GeneratorFinalization, AGeneratorLetGoOfWhileTheFinalizerClosesItIsFreed) {
    std::vector<std::string> log;
    std::atomic<int> destroyed{0};
    std::optional<weft::generator<int>> kept;
    weft::run(
        [](std::optional<weft::generator<int>>& kept, std::vector<std::string>& log,
           std::atomic<int>& destroyed) -> weft::coro<> {
            kept.emplace(owns_another(log, destroyed));
            EXPECT_EQ(co_await kept->next(), 0);
        }(kept, log, destroyed),
        two_virtual_workers);
    EXPECT_EQ(log, std::vector<std::string>{"inner cleaned up"});
    EXPECT_EQ(destroyed, 1);
    EXPECT_TRUE(kept->done());
}

// Counts its cleanups; a step may await (a sleep of zero lets another task run).
weft::generator<int> counted(std::atomic<int>& cleaned, int id) {
    std::exception_ptr exit;
    try {
        for (int i = 0;; ++i) {
            if ((i + id) % 3 == 0) {
                co_await weft::sleep(0ms);
            }
            co_yield i;
        }
    } catch (const weft::generator_exit&) {
        exit = std::current_exception();
    }
    co_await weft::sleep(0ms);
    cleaned.fetch_add(1);
    std::rethrow_exception(exit);
}

// Written to race: tasks on every worker start generators and drop them mid-iteration (each
// then closed by a task) or leave them to the finalizer, in a vector main outlives; every
// started generator is cleaned up exactly once, and every frame freed (ASan/LSan).
TEST(GeneratorFinalization, ManyGeneratorsDroppedOrLeftAreEachClosedOnce) {
    constexpr int tasks = 64;
    std::atomic<int> cleaned{0};
    std::vector<std::optional<weft::generator<int>>> left(tasks);
    weft::run(
        [](std::atomic<int>& cleaned,
           std::vector<std::optional<weft::generator<int>>>& left) -> weft::coro<> {
            std::vector<weft::coro<>> workers;
            for (int id = 0; id < tasks; ++id) {
                workers.push_back([](std::atomic<int>& cleaned,
                                     std::optional<weft::generator<int>>& slot,
                                     int id) -> weft::coro<> {
                    for (int round = 0; round < 20; ++round) {
                        auto gen = counted(cleaned, id + round);
                        for (int step = 0; step <= (id + round) % 4; ++step) {
                            co_await gen.next();
                        }
                    }
                    slot.emplace(counted(cleaned, id));
                    co_await slot->next();
                }(cleaned, left[static_cast<std::size_t>(id)], id));
            }
            co_await weft::gather(std::move(workers));
        }(cleaned, left),
        weft::run_options{.workers = 4});
    EXPECT_EQ(cleaned, tasks * 21);
}

} // namespace
