// Tests weft::detail::parker (runtime/park/parker.cpp): a wake-up that arrives before the sleep is
// kept, a sleeping thread is woken from another thread, wake-ups do not pile up into more than
// one token, a long ping-pong between two threads never loses a wake-up, and a park in
// another wait (the reactor's poll) is interrupted by an unpark or skipped after one.
#include "park/parker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace {

using weft::detail::parker;

TEST(Parker, UnparkBeforeParkMakesParkReturnAtOnce) {
    parker sleeper;
    sleeper.unpark();
    sleeper.park();
    SUCCEED();
}

TEST(Parker, EachUnparkBeforeParkIsConsumedByThatPark) {
    parker sleeper;
    for (int i = 0; i < 1000; ++i) {
        sleeper.unpark();
        sleeper.park();
    }
    SUCCEED();
}

TEST(Parker, UnparkFromAnotherThreadWakesAParkedThread) {
    parker sleeper;
    std::atomic<bool> woken_by_helper{false};
    std::thread helper([&] {
        // A delay only makes it likely that the main thread is already asleep; the test
        // passes either way.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        woken_by_helper.store(true);
        sleeper.unpark();
    });

    sleeper.park();

    EXPECT_TRUE(woken_by_helper.load());
    helper.join();
}

TEST(Parker, WritesBeforeUnparkAreVisibleAfterPark) {
    parker sleeper;
    int message = 0; // plain on purpose: ThreadSanitizer checks the hand-off
    std::thread helper([&] {
        message = 42;
        sleeper.unpark();
    });

    sleeper.park();

    EXPECT_EQ(message, 42);
    helper.join();
}

TEST(Parker, TokensDoNotAccumulate) {
    parker sleeper;
    sleeper.unpark();
    sleeper.unpark();
    sleeper.park(); // consumes the single token

    std::atomic<bool> second_unpark_sent{false};
    std::thread helper([&] {
        // If the two unparks above had left two tokens, the park below would return now,
        // before this flag is set.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        second_unpark_sent.store(true);
        sleeper.unpark();
    });

    sleeper.park();

    EXPECT_TRUE(second_unpark_sent.load());
    helper.join();
}

// Two threads hand a ball back and forth: each unparks the other, then parks until the ball
// comes back. The ball is a plain int, so ThreadSanitizer also checks that park() acquires
// what unpark() released.
TEST(ParkerStress, PingPongOfManyRoundTripsCompletes) {
    constexpr int round_trips = 100'000;
    parker ping;
    parker pong;
    int ball = 0;

    std::thread partner([&] {
        for (int trip = 1; trip <= round_trips; ++trip) {
            pong.park();
            if (ball != 2 * trip - 1) {
                ADD_FAILURE() << "partner saw " << ball << " on trip " << trip;
            }
            ball = 2 * trip;
            ping.unpark();
        }
    });
    int mismatches = 0;
    for (int trip = 1; trip <= round_trips; ++trip) {
        ball = 2 * trip - 1;
        pong.unpark();
        ping.park();
        if (ball != 2 * trip) {
            ++mismatches;
        }
    }
    partner.join();

    EXPECT_EQ(mismatches, 0);
    EXPECT_EQ(ball, 2 * round_trips);
}

// Two threads unpark one parker continuously while it parks many times, so unparks from two
// threads race each other and land before, during and after each park's decision to sleep.
// Tokens merge, so the parks consume fewer wake-ups than were sent; what is checked is that
// the state machine survives the races: every park returns, with no sanitizer report.
TEST(ParkerStress, ParksKeepReturningWhileTwoThreadsUnparkConcurrently) {
    constexpr int parks = 20'000;
    parker sleeper;
    std::atomic<int> parks_done{0};
    std::atomic<bool> stop{false};

    auto waker = [&] {
        while (!stop.load()) {
            sleeper.unpark();
            std::this_thread::yield();
        }
    };
    std::thread first_waker(waker);
    std::thread second_waker(waker);

    for (int i = 0; i < parks; ++i) {
        sleeper.park();
        parks_done.fetch_add(1);
    }
    stop.store(true);
    first_waker.join();
    second_waker.join();

    EXPECT_EQ(parks_done.load(), parks);
}

// A stand-in for the reactor's poll: blocks until interrupted or past its deadline.
class blocking_wait final : public weft::detail::interruptible_wait {
public:
    void wait_until(std::uint64_t) noexcept override {
        std::unique_lock held(mutex_);
        woken_.wait(held, [this] { return interrupted_; });
        interrupted_ = false;
    }
    void interrupt() noexcept override {
        {
            const std::lock_guard held(mutex_);
            interrupted_ = true;
        }
        woken_.notify_one();
    }

private:
    std::mutex mutex_;
    std::condition_variable woken_;
    bool interrupted_ = false;
};

TEST(Parker, AnUnparkInterruptsAParkInAnotherWait) {
    parker sleeper;
    blocking_wait elsewhere;
    std::atomic<bool> woken{false};
    std::thread sleeping([&] { woken = sleeper.park_in(elsewhere, blocking_wait::no_deadline); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    sleeper.unpark();
    sleeping.join();
    EXPECT_TRUE(woken.load());
}

TEST(Parker, AParkInAfterAnUnparkConsumesTheTokenWithoutWaiting) {
    parker sleeper;
    blocking_wait never_interrupted;
    sleeper.unpark();
    EXPECT_TRUE(sleeper.park_in(never_interrupted, blocking_wait::no_deadline));
}

TEST(ParkerStress, ParkInNeverLosesAWakeUp) {
    parker sleeper;
    blocking_wait elsewhere;
    std::atomic<int> turn{0};
    constexpr int rounds = 5'000;
    std::thread waker([&] {
        for (int i = 0; i < rounds; ++i) {
            while (turn.load() != 2 * i + 1) {
            }
            sleeper.unpark();
            turn.store(2 * i + 2);
        }
    });
    for (int i = 0; i < rounds; ++i) {
        turn.store(2 * i + 1);
        while (!sleeper.park_in(elsewhere, blocking_wait::no_deadline)) {
        }
        while (turn.load() != 2 * i + 2) {
        }
    }
    waker.join();
    SUCCEED();
}

} // namespace
