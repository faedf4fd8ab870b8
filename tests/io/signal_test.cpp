// Tests weft::signal_received and weft::signal_listener (include/weft/signal.hpp) and the
// runtime's signal source (runtime/io/signal_source.cpp): deliveries sent to the process
// with kill() wake every waiter, a listener misses none between awaits, a waiter is
// cancelled at once, the mask is blocked in every worker and restored after run, bad
// numbers are refused by name, and run_options::interrupt_cancels_main cancels main on the
// first SIGINT nobody waits or listens for and ends the process on the second.
#include <weft/signal.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;

void send_to_process(int signo) {
    ASSERT_EQ(kill(getpid(), signo), 0);
}

bool blocked_here(int signo) {
    sigset_t mask;
    pthread_sigmask(SIG_SETMASK, nullptr, &mask);
    return sigismember(&mask, signo) == 1;
}

weft::run_options watching(std::vector<int> signals, std::size_t workers = 4) {
    weft::run_options options;
    options.workers = workers;
    options.signals = std::move(signals);
    return options;
}

TEST(SignalReceived, WakesOnADeliverySentToTheProcess) {
    weft::run(
        []() -> weft::coro<> {
            weft::coro<> received = weft::signal_received(SIGUSR1);
            send_to_process(SIGUSR1);
            co_await std::move(received);
        }(),
        watching({SIGUSR1}));
}

TEST(SignalReceived, OneDeliveryWakesEveryWaiter) {
    std::atomic<int> woken{0};
    weft::run(
        [](std::atomic<int>& woken) -> weft::coro<> {
            std::vector<weft::task<>> waiters;
            for (int i = 0; i < 16; ++i) {
                waiters.push_back(weft::create_task(
                    [](weft::coro<> received, std::atomic<int>& woken) -> weft::coro<> {
                        co_await std::move(received);
                        woken.fetch_add(1);
                    }(weft::signal_received(SIGUSR2), woken)));
            }
            send_to_process(SIGUSR2);
            for (const weft::task<>& each : waiters) {
                co_await each;
            }
        }(woken),
        watching({SIGUSR2}));
    EXPECT_EQ(woken.load(), 16);
}

TEST(SignalReceived, WaitsOnlyForItsOwnSignal) {
    weft::run(
        []() -> weft::coro<> {
            weft::coro<> terminated = weft::signal_received(SIGTERM);
            // A listener counts from here, so the delivery cannot be read before the wait.
            weft::signal_listener user_signals(SIGUSR1);
            send_to_process(SIGUSR1);
            co_await weft::wait_for(user_signals.next(), 10s);
            send_to_process(SIGUSR1);
            EXPECT_THROW(co_await weft::wait_for(std::move(terminated), 50ms), weft::timeout_error);
        }(),
        watching({SIGUSR1, SIGTERM}));
}

TEST(SignalReceived, CancelledWaiterLeavesAtOnce) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<> waiter = weft::create_task(weft::signal_received(SIGHUP));
            co_await weft::sleep(10ms);
            const auto before = std::chrono::steady_clock::now();
            waiter.cancel();
            EXPECT_THROW(co_await waiter, weft::cancelled_error);
            EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
        }(),
        watching({SIGHUP}));
}

TEST(SignalListener, MissesNoDeliveryBetweenAwaits) {
    weft::run(
        []() -> weft::coro<> {
            weft::signal_listener hangups(SIGHUP);
            EXPECT_EQ(hangups.signal_number(), SIGHUP);
            for (int round = 0; round < 3; ++round) {
                send_to_process(SIGHUP);
                co_await weft::sleep(20ms); // the delivery is read while nobody waits
                co_await weft::wait_for(hangups.next(), 10s);
            }
            // Consumed: the next await waits for a new delivery.
            EXPECT_THROW(co_await weft::wait_for(hangups.next(), 50ms), weft::timeout_error);
        }(),
        watching({SIGHUP}));
}

TEST(SignalMask, BlockedInEveryWorkerAndRestoredAfterRun) {
    ASSERT_FALSE(blocked_here(SIGUSR1));
    std::atomic<int> unblocked{0};
    weft::run(
        [](std::atomic<int>& unblocked) -> weft::coro<> {
            std::vector<weft::task<>> probes;
            for (int i = 0; i < 64; ++i) {
                probes.push_back(weft::create_task([](std::atomic<int>& unblocked) -> weft::coro<> {
                    co_await weft::sleep(1ms);
                    if (!blocked_here(SIGUSR1)) {
                        unblocked.fetch_add(1);
                    }
                    const bool in_pool =
                        co_await weft::to_thread([] { return blocked_here(SIGUSR1); });
                    if (!in_pool) {
                        unblocked.fetch_add(1);
                    }
                }(unblocked)));
            }
            for (const weft::task<>& each : probes) {
                co_await each;
            }
        }(unblocked),
        watching({SIGUSR1}));
    EXPECT_EQ(unblocked.load(), 0);
    EXPECT_FALSE(blocked_here(SIGUSR1));
}

TEST(SignalMask, PendingDeliveryIsDiscardedWhenRunEnds) {
    // Without the drain, unblocking SIGUSR1 at the end would run its default action.
    weft::run([]() -> weft::coro<> { co_return; }(), watching({SIGUSR1}, 1));
    weft::run(
        []() -> weft::coro<> {
            send_to_process(SIGUSR1);
            co_return;
        }(),
        watching({SIGUSR1}, 1));
    EXPECT_FALSE(blocked_here(SIGUSR1));
}

TEST(SignalErrors, BadNumbersAreRefusedByName) {
    weft::run(
        []() -> weft::coro<> {
            for (const int bad : {0, -1, SIGRTMAX + 1, SIGKILL, SIGSTOP, SIGSEGV}) {
                EXPECT_THROW((void)weft::signal_received(bad), weft::signal_error) << bad;
                EXPECT_THROW(weft::signal_listener{bad}, weft::signal_error) << bad;
            }
            try {
                (void)weft::signal_received(SIGUSR2);
                ADD_FAILURE() << "an unwatched signal was accepted";
            } catch (const weft::signal_error& error) {
                EXPECT_NE(std::string(error.what()).find("run_options::signals"), std::string::npos)
                    << error.what();
            }
            try {
                (void)weft::signal_received(SIGKILL);
            } catch (const weft::signal_error& error) {
                EXPECT_NE(std::string(error.what()).find("SIGKILL"), std::string::npos)
                    << error.what();
            }
            co_return;
        }(),
        watching({SIGUSR1}));
    EXPECT_THROW(weft::run([]() -> weft::coro<> { co_return; }(), watching({SIGSTOP})),
                 weft::signal_error);
    EXPECT_THROW(weft::run([]() -> weft::coro<> { co_return; }(), watching({99})),
                 weft::signal_error);
    EXPECT_THROW((void)weft::signal_received(SIGUSR1), weft::runtime_error);
    EXPECT_FALSE(blocked_here(SIGUSR1));
}

weft::run_options interrupt_handling() {
    weft::run_options options;
    options.workers = 2;
    options.interrupt_cancels_main = true;
    return options;
}

TEST(InterruptCancelsMain, FirstSigintCancelsMainWhichCleansUp) {
    std::atomic<bool> cleaned_up{false};
    EXPECT_THROW(weft::run(
                     [](std::atomic<bool>& cleaned_up) -> weft::coro<> {
                         try {
                             send_to_process(SIGINT);
                             co_await weft::sleep(1h);
                         } catch (const weft::cancelled_error&) {
                             cleaned_up = true;
                             throw;
                         }
                     }(cleaned_up),
                     interrupt_handling()),
                 weft::cancelled_error);
    EXPECT_TRUE(cleaned_up.load());
    EXPECT_FALSE(blocked_here(SIGINT));
}

TEST(InterruptCancelsMain, WaiterForSigintTakesItInstead) {
    EXPECT_NO_THROW(weft::run(
        []() -> weft::coro<> {
            weft::coro<> interrupted = weft::signal_received(SIGINT);
            send_to_process(SIGINT);
            co_await std::move(interrupted);
            co_await weft::sleep(20ms); // main is not cancelled meanwhile
        }(),
        interrupt_handling()));
}

TEST(InterruptCancelsMain, LiveListenerTakesItUntilItGoes) {
    std::atomic<bool> cancelled{false};
    EXPECT_THROW(weft::run(
                     [](std::atomic<bool>& cancelled) -> weft::coro<> {
                         {
                             weft::signal_listener interrupts(SIGINT);
                             send_to_process(SIGINT);
                             co_await weft::sleep(20ms); // not cancelled: the listener took it
                             weft::signal_listener moved = std::move(interrupts);
                             co_await moved.next();
                         }
                         try {
                             send_to_process(SIGINT); // no listener now: main is cancelled
                             co_await weft::sleep(1h);
                         } catch (const weft::cancelled_error&) {
                             cancelled = true;
                             throw;
                         }
                     }(cancelled),
                     interrupt_handling()),
                 weft::cancelled_error);
    EXPECT_TRUE(cancelled.load());
}

TEST(InterruptCancelsMain, SecondSigintEndsTheProcess) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(weft::run(
                    []() -> weft::coro<> {
                        try {
                            send_to_process(SIGINT);
                            co_await weft::sleep(1h);
                        } catch (const weft::cancelled_error&) {
                        }
                        send_to_process(SIGINT); // main ignored the first: this one ends it
                        co_await weft::sleep(1h);
                    }(),
                    interrupt_handling()),
                testing::KilledBySignal(SIGINT), "");
}

TEST(InterruptCancelsMain, OffByDefault) {
    const weft::run_options defaults;
    EXPECT_FALSE(defaults.interrupt_cancels_main);
    EXPECT_TRUE(defaults.signals.empty());
}

} // namespace
