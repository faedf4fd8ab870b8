// Tests weft::barrier (include/weft/barrier.hpp, runtime/sync/barrier.cpp): no task passes
// until all parties wait, each round hands out the indices 0..parties-1 in arrival order,
// tasks arriving while it drains wait for the next round, abort() and reset() send waiters
// away with broken_barrier_error, a cancelled waiter leaves without breaking it, a barrier
// of no parties is refused, and tasks on several workers meeting for many rounds never pass
// a round early.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::one_virtual_worker;

// Starts a task that waits at `meeting`, and lets it arrive there.
weft::coro<weft::task<std::size_t>> arrival(weft::barrier& meeting) {
    weft::task<std::size_t> waiter = weft::create_task(meeting.wait());
    co_await weft::sleep(1s);
    co_return waiter;
}

TEST(Barrier, NoPartiesIsRefusedWithANamedError) {
    try {
        weft::barrier nobody(0);
        FAIL() << "a barrier of 0 parties was made";
    } catch (const weft::invalid_argument& error) {
        EXPECT_NE(std::string(error.what()).find("parties must be at least 1"), std::string::npos);
    }
}

TEST(Barrier, NoTaskPassesUntilAllWaitAndEachGetsItsArrivalIndex) {
    weft::run(
        []() -> weft::coro<> {
            weft::barrier meeting(3);
            EXPECT_EQ(meeting.parties(), 3u);
            weft::task<std::size_t> first = co_await arrival(meeting);
            weft::task<std::size_t> second = co_await arrival(meeting);
            EXPECT_FALSE(first.done());
            EXPECT_FALSE(second.done());
            EXPECT_EQ(meeting.n_waiting(), 2u);
            const std::size_t third = co_await meeting.wait(); // the last: does not suspend
            EXPECT_EQ(third, 2u);
            EXPECT_EQ(meeting.n_waiting(), 0u); // draining
            EXPECT_EQ(co_await first, 0u);
            EXPECT_EQ(co_await second, 1u);
            EXPECT_FALSE(meeting.broken());
        }(),
        one_virtual_worker);
}

TEST(Barrier, OnePartyPassesAtOnceEveryTimeAndAnEmptyResetChangesNothing) {
    weft::run(
        []() -> weft::coro<> {
            weft::barrier alone(1);
            for (int round = 0; round < 3; ++round) {
                EXPECT_EQ(co_await alone.wait(), 0u);
                alone.reset(); // with nobody inside: changes nothing
            }
        }(),
        one_virtual_worker);
}

// The task that completes a round and comes straight back is held until the released task
// has left, then starts the next round at index 0.
TEST(Barrier, ATaskArrivingWhileItDrainsWaitsForTheNextRound) {
    weft::run(
        []() -> weft::coro<> {
            weft::barrier pair(2);
            weft::task<std::size_t> early = co_await arrival(pair);
            EXPECT_EQ(co_await pair.wait(), 1u);
            // `early` is released but has not run: the barrier still drains.
            weft::task<std::size_t> again = weft::create_task(pair.wait());
            EXPECT_EQ(co_await early, 0u);
            co_await weft::sleep(1s);
            EXPECT_FALSE(again.done());
            EXPECT_EQ(pair.n_waiting(), 1u);
            EXPECT_EQ(co_await pair.wait(), 1u);
            EXPECT_EQ(co_await again, 0u);
        }(),
        one_virtual_worker);
}

TEST(Barrier, AbortBreaksItForWaitersAndLaterWaitsUntilReset) {
    weft::run(
        []() -> weft::coro<> {
            weft::barrier meeting(3);
            weft::task<std::size_t> waiting = co_await arrival(meeting);
            meeting.abort();
            EXPECT_TRUE(meeting.broken());
            EXPECT_EQ(meeting.n_waiting(), 0u);
            EXPECT_THROW(co_await waiting, weft::broken_barrier_error);
            EXPECT_THROW(co_await meeting.wait(), weft::broken_barrier_error);
            meeting.reset();
            EXPECT_FALSE(meeting.broken());
            weft::task<std::size_t> a = weft::create_task(meeting.wait());
            weft::task<std::size_t> b = co_await arrival(meeting);
            EXPECT_EQ(co_await meeting.wait(), 2u);
            EXPECT_EQ(co_await a + co_await b, 1u);
        }(),
        one_virtual_worker);
}

TEST(Barrier, ResetSendsWaitersAwayAndTheNextRoundStartsAtZero) {
    weft::run(
        []() -> weft::coro<> {
            weft::barrier meeting(3);
            weft::task<std::size_t> a = weft::create_task(meeting.wait());
            weft::task<std::size_t> b = co_await arrival(meeting);
            EXPECT_EQ(meeting.n_waiting(), 2u);
            meeting.reset();
            EXPECT_EQ(meeting.n_waiting(), 0u); // resetting until both have left
            EXPECT_FALSE(meeting.broken());
            // Arrives while the barrier resets: held back, then the first of the next round.
            weft::task<std::size_t> next = weft::create_task(meeting.wait());
            EXPECT_THROW(co_await a, weft::broken_barrier_error);
            EXPECT_THROW(co_await b, weft::broken_barrier_error);
            co_await weft::sleep(1s);
            EXPECT_EQ(meeting.n_waiting(), 1u);
            weft::task<std::size_t> second = co_await arrival(meeting);
            EXPECT_EQ(co_await meeting.wait(), 2u);
            EXPECT_EQ(co_await next, 0u);
            EXPECT_EQ(co_await second, 1u);
        }(),
        one_virtual_worker);
}

TEST(Barrier, ACancelledWaiterLeavesAndTheBarrierFillsWithoutIt) {
    weft::run(
        []() -> weft::coro<> {
            weft::barrier pair(2);
            weft::task<std::size_t> quitter = co_await arrival(pair);
            EXPECT_EQ(pair.n_waiting(), 1u);
            EXPECT_TRUE(quitter.cancel());
            EXPECT_THROW(co_await quitter, weft::cancelled_error);
            EXPECT_EQ(pair.n_waiting(), 0u);
            EXPECT_FALSE(pair.broken());
            weft::task<std::size_t> stayer = co_await arrival(pair);
            EXPECT_FALSE(stayer.done()); // the quitter's place was not counted
            EXPECT_EQ(co_await pair.wait(), 1u);
            EXPECT_EQ(co_await stayer, 0u);
        }(),
        one_virtual_worker);
}

TEST(Barrier, ATaskCancelledWhileHeldBackByADrainNeverArrives) {
    weft::run(
        []() -> weft::coro<> {
            weft::barrier pair(2);
            weft::task<std::size_t> early = co_await arrival(pair);
            EXPECT_EQ(co_await pair.wait(), 1u);
            weft::task<std::size_t> held = weft::create_task(pair.wait());
            co_await weft::sleep(0s); // `held` is now waiting to be let in
            EXPECT_TRUE(held.cancel());
            EXPECT_THROW(co_await held, weft::cancelled_error);
            EXPECT_EQ(co_await early, 0u);
            EXPECT_EQ(pair.n_waiting(), 0u);
            weft::task<std::size_t> next = co_await arrival(pair);
            EXPECT_EQ(co_await pair.wait(), 1u);
            EXPECT_EQ(co_await next, 0u);
        }(),
        one_virtual_worker);
}

// Tasks on four workers meet for many rounds: none leaves a round before every party has
// arrived at it, and each round's indices are 0..parties-1.
TEST(BarrierRace, NoTaskPassesARoundEarly) {
    constexpr std::size_t parties = 4;
    constexpr int rounds = 300;
    std::vector<std::atomic<int>> arrived(rounds);
    std::vector<std::atomic<int>> index_sum(rounds);
    std::atomic<int> early{0};
    weft::run(
        [](std::vector<std::atomic<int>>& arrived, std::vector<std::atomic<int>>& index_sum,
           std::atomic<int>& early) -> weft::coro<> {
            weft::barrier meeting(parties);
            std::vector<weft::task<>> members;
            for (std::size_t member = 0; member < parties; ++member) {
                members.push_back(weft::create_task([](weft::barrier& meeting,
                                                       std::vector<std::atomic<int>>& arrived,
                                                       std::vector<std::atomic<int>>& index_sum,
                                                       std::atomic<int>& early) -> weft::coro<> {
                    for (int round = 0; round < rounds; ++round) {
                        arrived[round].fetch_add(1);
                        const std::size_t index = co_await meeting.wait();
                        index_sum[round].fetch_add(static_cast<int>(index));
                        if (arrived[round].load() != static_cast<int>(parties)) {
                            early.fetch_add(1);
                        }
                    }
                }(meeting, arrived, index_sum, early)));
            }
            for (weft::task<>& each : members) {
                co_await each;
            }
        }(arrived, index_sum, early),
        {.workers = 4});
    EXPECT_EQ(early.load(), 0);
    const int expected_sum = static_cast<int>(parties * (parties - 1) / 2);
    EXPECT_TRUE(std::all_of(index_sum.begin(), index_sum.end(),
                            [&](const std::atomic<int>& sum) { return sum == expected_sum; }));
}

// Each round, three waiters on four workers race a canceller that cancels one of them and
// then aborts the barrier: every waiter ends its wait exactly once (released, broken or
// cancelled) or never starts, none hangs, and after reset() the barrier serves the next
// round.
TEST(BarrierRace, CancellationAndAbortAgainstReleaseEndEachWaitOnce) {
    enum outcome : int { never_ran, released, broken, cancelled };
    constexpr int rounds = 200;
    weft::run(
        []() -> weft::coro<> {
            weft::barrier meeting(3);
            for (int round = 0; round < rounds; ++round) {
                std::vector<int> outcomes(3, never_ran);
                std::vector<weft::task<>> waiters;
                for (int member = 0; member < 3; ++member) {
                    waiters.push_back(
                        weft::create_task([](weft::barrier& meeting, int& ended) -> weft::coro<> {
                            try {
                                co_await meeting.wait();
                                ended = released;
                            } catch (const weft::broken_barrier_error&) {
                                ended = broken;
                            } catch (const weft::cancelled_error&) {
                                ended = cancelled;
                            }
                        }(meeting, outcomes[member])));
                }
                weft::task<> canceller = weft::create_task(
                    [](weft::barrier& meeting, weft::task<> victim) -> weft::coro<> {
                        victim.cancel();
                        meeting.abort();
                        co_return;
                    }(meeting, waiters.front()));
                co_await canceller;
                for (weft::task<>& each : waiters) {
                    try {
                        co_await each;
                    } catch (const weft::cancelled_error&) {
                        // never ran, or released with the cancellation still pending
                    }
                }
                for (int member = 0; member < 3; ++member) {
                    // A waiter that records nothing must be one cancelled before it ran.
                    EXPECT_TRUE(outcomes[member] != never_ran || waiters[member].cancelled());
                }
                meeting.reset();
                EXPECT_FALSE(meeting.broken());
                EXPECT_EQ(meeting.n_waiting(), 0u);
            }
        }(),
        {.workers = 4});
}

} // namespace
