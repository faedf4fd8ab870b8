// Tests weft::detail::idle (runtime/scheduler/idle.hpp), the no-lost-wake-up protocol: at
// most half the awake workers (rounded up, at least one) search at once; enter_sleep reports
// the last worker to sleep; a producer claims a sleeper only while nobody searches, and the
// claimed one counts as awake and searching; leave_sleep and a claim of the same sleeper
// race so that exactly one wins. Two races with real threads: workers that search and
// sleep on parkers against producers, in which every item is taken although every wake-up
// goes through the protocol, and the two sides of the leave_sleep/claim race.
#include "scheduler/idle.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "park/parker.hpp"

namespace {

using weft::detail::idle;
using weft::detail::parker;

// How many begin at once when `awake` workers are awake: half, rounded up, at least one.
std::size_t searching_limit(std::size_t awake) {
    return (std::max<std::size_t>(awake, 2) + 1) / 2;
}

// How many try_begin_searching calls succeed in a row.
std::size_t searchers_admitted(idle& state) {
    std::size_t admitted = 0;
    while (state.try_begin_searching()) {
        ++admitted;
    }
    return admitted;
}

TEST(Idle, AtMostHalfTheAwakeWorkersRoundedUpSearch) {
    for (std::size_t workers : {1u, 2u, 3u, 4u, 5u, 8u}) {
        idle state(workers);
        EXPECT_EQ(searchers_admitted(state), searching_limit(workers)) << workers << " workers";
    }
}

TEST(Idle, TheLimitFollowsTheAwakeCount) {
    idle state(4);
    EXPECT_FALSE(state.enter_sleep(3, false));
    EXPECT_FALSE(state.enter_sleep(2, false));
    // Two awake: one searcher.
    EXPECT_EQ(searchers_admitted(state), 1u);
}

TEST(Idle, EndSearchingTellsTheLastSearcher) {
    idle state(4);
    ASSERT_TRUE(state.try_begin_searching());
    ASSERT_TRUE(state.try_begin_searching());
    EXPECT_FALSE(state.end_searching());
    EXPECT_TRUE(state.end_searching());
    // A place was freed: searching may begin again.
    EXPECT_TRUE(state.try_begin_searching());
}

TEST(Idle, EnterSleepTellsTheLastWorkerToSleep) {
    idle state(3);
    EXPECT_FALSE(state.enter_sleep(0, false));
    EXPECT_FALSE(state.enter_sleep(1, false));
    EXPECT_TRUE(state.enter_sleep(2, false));
}

TEST(Idle, NobodyIsClaimedWhileAllAreAwake) {
    idle state(2);
    EXPECT_EQ(state.claim_sleeper(), std::nullopt);
}

TEST(Idle, AProducerClaimsASleeperWhoThenCountsAsAwakeAndSearching) {
    idle state(2);
    ASSERT_FALSE(state.enter_sleep(1, false));
    EXPECT_EQ(state.claim_sleeper(), std::optional<std::size_t>(1));
    // Claimed: off the list, so its own leave_sleep learns that its wake-up is on the way.
    EXPECT_FALSE(state.leave_sleep(1));
    // Searching: a second producer wakes nobody, and ending that search is the last one.
    EXPECT_EQ(state.claim_sleeper(), std::nullopt);
    EXPECT_TRUE(state.end_searching());
}

TEST(Idle, NoSleeperIsClaimedWhileSomeoneSearches) {
    idle state(3);
    ASSERT_TRUE(state.try_begin_searching());
    ASSERT_FALSE(state.enter_sleep(2, false));
    EXPECT_EQ(state.claim_sleeper(), std::nullopt);
    ASSERT_TRUE(state.end_searching());
    EXPECT_EQ(state.claim_sleeper(), std::optional<std::size_t>(2));
}

TEST(Idle, ASearcherThatSleepsStopsCountingAsSearching) {
    idle state(2);
    ASSERT_TRUE(state.try_begin_searching());
    ASSERT_FALSE(state.enter_sleep(0, true));
    // Nobody searches any more, so a producer wakes the sleeper.
    EXPECT_EQ(state.claim_sleeper(), std::optional<std::size_t>(0));
}

TEST(Idle, LeaveSleepPutsAnUnclaimedSleeperBackAwake) {
    idle state(2);
    ASSERT_FALSE(state.enter_sleep(0, false));
    EXPECT_TRUE(state.leave_sleep(0));
    EXPECT_FALSE(state.leave_sleep(0));
    EXPECT_EQ(state.claim_sleeper(), std::nullopt);
    // Both awake again: the second to sleep is the last.
    EXPECT_FALSE(state.enter_sleep(0, false));
    EXPECT_TRUE(state.enter_sleep(1, false));
}

TEST(Idle, ClaimTakesThatSleeperOnlyIfItSleeps) {
    idle state(3);
    EXPECT_FALSE(state.claim(1));
    ASSERT_FALSE(state.enter_sleep(1, false));
    ASSERT_FALSE(state.enter_sleep(2, false));
    EXPECT_TRUE(state.claim(1));
    EXPECT_FALSE(state.claim(1));
    EXPECT_FALSE(state.leave_sleep(1));
    // Worker 1 is searching, so producers leave worker 2 asleep until that search ends.
    EXPECT_EQ(state.claim_sleeper(), std::nullopt);
    ASSERT_TRUE(state.end_searching());
    EXPECT_EQ(state.claim_sleeper(), std::optional<std::size_t>(2));
}

// The sleeper's late re-check (leave_sleep) against a producer's claim of it: exactly one
// of them takes the sleeper off the list, every round.
TEST(Idle, LeaveSleepAndAClaimOfTheSameSleeperNeverBothWin) {
    constexpr int rounds = 2'000;
    idle state(2);
    std::barrier sync(2);
    std::atomic<bool> claimed{false};
    int left_count = 0;
    int claimed_count = 0;
    int both_or_neither = 0;
    std::thread producer([&] {
        for (int round = 0; round < rounds; ++round) {
            sync.arrive_and_wait(); // worker 1 is asleep
            // relaxed: read after the next barrier, which orders it.
            claimed.store(state.claim_sleeper().has_value(), std::memory_order_relaxed);
            sync.arrive_and_wait();
            sync.arrive_and_wait(); // the round's result is read
        }
    });
    for (int round = 0; round < rounds; ++round) {
        EXPECT_FALSE(state.enter_sleep(1, false));
        sync.arrive_and_wait();
        const bool left = state.leave_sleep(1);
        sync.arrive_and_wait();
        // relaxed: the barrier above ordered the store.
        const bool taken = claimed.load(std::memory_order_relaxed);
        both_or_neither += left == taken ? 1 : 0;
        left_count += left ? 1 : 0;
        claimed_count += taken ? 1 : 0;
        if (taken) {
            // The claimed sleeper wakes as a searcher; its search finds nothing and ends.
            EXPECT_TRUE(state.end_searching());
        }
        sync.arrive_and_wait();
    }
    producer.join();
    EXPECT_EQ(both_or_neither, 0);
    EXPECT_EQ(left_count + claimed_count, rounds);
}

// A model of the workers' loop on the real protocol: items are a counter; a worker takes
// one or, finding none, sleeps (enter_sleep, a seq_cst re-check of the counter, then its
// parker); a producer adds items and then wakes a claimed sleeper. A claimed worker wakes
// searching and, once it takes an item, ends its search and, if it was the last searcher,
// wakes another sleeper. If any wake-up were lost, the workers would all sleep with items
// left and the test would see the count stop short of the total.
class worker_model {
public:
    explicit worker_model(std::size_t workers) : state_(workers), parkers_(workers) {}

    void produce(int items) {
        // seq_cst: the store half of the producer's store->load check (see idle.hpp).
        pending_.fetch_add(items, std::memory_order_seq_cst);
        wake_one();
    }

    void run(std::size_t id) {
        bool searching = false;
        // seq_cst: the stop flag is re-checked like the counter.
        while (!stopping_.load(std::memory_order_seq_cst)) {
            if (take()) {
                if (searching) {
                    searching = false;
                    if (state_.end_searching()) {
                        wake_one();
                    }
                }
                // relaxed: a count read after the threads are joined.
                taken_.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            if (!searching) {
                searching = state_.try_begin_searching();
                if (searching) {
                    continue; // one more look as a searcher, as a worker steals
                }
            }
            // A real worker does more between its last look and sleeping (timers, the
            // reactor): widen that window, where a producer's wake-up could be lost.
            std::this_thread::yield();
            state_.enter_sleep(id, searching);
            searching = false;
            // seq_cst: the load half of the sleeper's check, after enter_sleep's RMW.
            if (pending_.load(std::memory_order_seq_cst) > 0 ||
                stopping_.load(std::memory_order_seq_cst)) {
                if (state_.leave_sleep(id)) {
                    continue;
                }
            }
            // Claimed (before or after the re-check): the unpark is on its way.
            parkers_[id].park();
            searching = true;
        }
    }

    // relaxed: read once the workers have stopped, or as progress while they run.
    long taken() const noexcept { return taken_.load(std::memory_order_relaxed); }

    void stop() {
        // seq_cst: as the counter, so a worker about to sleep sees it in its re-check.
        stopping_.store(true, std::memory_order_seq_cst);
        for (std::size_t id = 0; id < parkers_.size(); ++id) {
            if (state_.claim(id)) {
                parkers_[id].unpark();
            }
        }
    }

private:
    bool take() noexcept {
        // seq_cst: the protocol's single order, like a queue's length.
        int seen = pending_.load(std::memory_order_seq_cst);
        while (seen > 0) {
            if (pending_.compare_exchange_weak(seen, seen - 1, std::memory_order_seq_cst)) {
                return true;
            }
        }
        return false;
    }

    void wake_one() {
        if (const std::optional<std::size_t> id = state_.claim_sleeper()) {
            parkers_[*id].unpark();
        }
    }

    idle state_;
    std::vector<parker> parkers_;
    std::atomic<int> pending_{0};
    std::atomic<long> taken_{0};
    std::atomic<bool> stopping_{false};
};

TEST(Idle, RacingProducersNeverLeaveWorkBehindSleepingWorkers) {
    constexpr std::size_t workers = 4;
    constexpr int producers = 3;
    constexpr int bursts = 2'000;
    worker_model model(workers);
    std::vector<std::thread> threads;
    for (std::size_t id = 0; id < workers; ++id) {
        threads.emplace_back([&model, id] { model.run(id); });
    }
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back([&model, p] {
            for (int burst = 0; burst < bursts; ++burst) {
                // Bursts of one to three, with pauses that let the workers fall asleep.
                model.produce(1 + (burst + p) % 3);
                if (burst % 16 == 0) {
                    std::this_thread::sleep_for(std::chrono::microseconds(50));
                }
            }
        });
    }
    long expected = 0;
    for (int p = 0; p < producers; ++p) {
        for (int burst = 0; burst < bursts; ++burst) {
            expected += 1 + (burst + p) % 3;
        }
    }
    for (std::size_t p = workers; p < threads.size(); ++p) {
        threads[p].join();
    }
    // No producer is left to wake anyone: only the protocol can have woken enough workers.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (model.taken() < expected && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(model.taken(), expected) << "work was left behind sleeping workers";
    model.stop();
    for (std::size_t id = 0; id < workers; ++id) {
        threads[id].join();
    }
}

// Eight threads begin and end searching at random; the searchers counted inside their
// search never exceed the limit for eight awake workers.
TEST(Idle, RacingSearchersNeverExceedTheLimit) {
    constexpr std::size_t workers = 8;
    constexpr int attempts = 5'000;
    idle state(workers);
    std::atomic<std::size_t> inside{0};
    std::atomic<std::size_t> most{0};
    std::atomic<int> admitted{0};
    std::vector<std::thread> threads;
    for (std::size_t id = 0; id < workers; ++id) {
        threads.emplace_back([&] {
            for (int attempt = 0; attempt < attempts; ++attempt) {
                if (!state.try_begin_searching()) {
                    continue;
                }
                // relaxed: only the counts matter, and each is one RMW.
                admitted.fetch_add(1, std::memory_order_relaxed);
                const std::size_t now = inside.fetch_add(1, std::memory_order_relaxed) + 1;
                std::size_t seen = most.load(std::memory_order_relaxed);
                while (now > seen &&
                       !most.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
                }
                inside.fetch_sub(1, std::memory_order_relaxed);
                state.end_searching();
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    EXPECT_LE(most.load(), searching_limit(workers));
    EXPECT_GT(admitted.load(), 0);
    // All searches ended: a full set of searchers is admitted again.
    EXPECT_EQ(searchers_admitted(state), searching_limit(workers));
}

} // namespace
