// Tests weft::detail::fork_deque (runtime/scheduler/fork_deque.hpp), the Chase-Lev fork stack: LIFO
// pops for the owner, FIFO steals from the top, growth past 256 through several doublings and in
// one step for a large batch, and races of the owner against two thieves in which no item,
// least of all the last one, is ever handed to two takers; pop_if, which takes the newest
// item back only if it is the one named, in the same races; and the owner's reservation of
// its share of a batch (all of it with one worker; with two, what leaves the thieves half of
// the deque, older items first), which keeps the newest-first order, hides the reserved items
// from thieves until return_reserved(), and hands no item to two takers when thieves race it;
// and the fork stack of a runtime of one worker, which has no thieves and pops without a fence.
#include "scheduler/fork_deque.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "fake_handles.hpp"

namespace {

using weft::detail::armed_thieves;
using weft::detail::fork_deque;
using weft::testing::fake_handle;
using weft::testing::range;
using weft::testing::value_of;

void push_one(fork_deque& deque, std::coroutine_handle<> handle) {
    deque.push(&handle, 1);
}

void push_range(fork_deque& deque, std::uint32_t first, std::uint32_t last) {
    for (std::uint32_t value = first; value <= last; ++value) {
        push_one(deque, fake_handle(value));
    }
}

std::vector<std::uint32_t> descending(std::uint32_t last, std::uint32_t first) {
    std::vector<std::uint32_t> values = range(first, last);
    return {values.rbegin(), values.rend()};
}

std::vector<std::uint32_t> pop_all(fork_deque& deque) {
    std::vector<std::uint32_t> values;
    while (std::coroutine_handle<> handle = deque.pop()) {
        values.push_back(value_of(handle));
    }
    return values;
}

std::vector<std::uint32_t> steal_all(fork_deque& deque) {
    std::vector<std::uint32_t> values;
    while (std::coroutine_handle<> handle = deque.steal()) {
        values.push_back(value_of(handle));
    }
    return values;
}

TEST(ForkDeque, NewDequeIsEmptyToOwnerAndThief) {
    fork_deque deque;
    EXPECT_TRUE(deque.empty());
    EXPECT_FALSE(deque.pop());
    EXPECT_FALSE(deque.steal());
    EXPECT_TRUE(deque.empty());
}

TEST(ForkDeque, OwnerPopsNewestFirst) {
    fork_deque deque;
    push_range(deque, 1, 50);

    EXPECT_FALSE(deque.empty());
    EXPECT_EQ(pop_all(deque), descending(50, 1));
    EXPECT_TRUE(deque.empty());
    EXPECT_FALSE(deque.steal());
}

TEST(ForkDeque, ThiefStealsOldestFirst) {
    fork_deque deque;
    push_range(deque, 1, 50);

    EXPECT_EQ(steal_all(deque), range(1, 50));
    EXPECT_TRUE(deque.empty());
    EXPECT_FALSE(deque.pop());
}

TEST(ForkDeque, PopAndStealTakeFromOppositeEnds) {
    fork_deque deque;
    push_range(deque, 1, 6);

    EXPECT_EQ(value_of(deque.steal()), 1u);
    EXPECT_EQ(value_of(deque.pop()), 6u);
    EXPECT_EQ(value_of(deque.steal()), 2u);
    EXPECT_EQ(value_of(deque.pop()), 5u);
    EXPECT_EQ(value_of(deque.pop()), 4u);
    EXPECT_EQ(value_of(deque.steal()), 3u);
    EXPECT_FALSE(deque.pop());
    EXPECT_FALSE(deque.steal());
}

TEST(ForkDeque, LastItemPoppedIsNotStolenAgain) {
    fork_deque deque;
    push_one(deque, fake_handle(1));

    EXPECT_EQ(value_of(deque.pop()), 1u);
    EXPECT_FALSE(deque.steal());
    EXPECT_FALSE(deque.pop());
}

TEST(ForkDeque, LastItemStolenIsNotPoppedAgain) {
    fork_deque deque;
    push_one(deque, fake_handle(1));

    EXPECT_EQ(value_of(deque.steal()), 1u);
    EXPECT_FALSE(deque.pop());
    EXPECT_FALSE(deque.steal());
}

TEST(ForkDeque, PushAfterEmptyingWorksAtEveryOffset) {
    fork_deque deque;
    std::uint32_t next = 1;
    for (int cycle = 0; cycle < 1000; ++cycle) {
        const std::uint32_t first = next;
        push_range(deque, first, first + 2);
        next += 3;
        EXPECT_EQ(value_of(deque.steal()), first);
        EXPECT_EQ(value_of(deque.pop()), first + 2);
        EXPECT_EQ(value_of(deque.pop()), first + 1);
        EXPECT_FALSE(deque.pop());
    }
    EXPECT_TRUE(deque.empty());
}

TEST(ForkDeque, GrowsPastTheFirstRingKeepingEveryItemInOrder) {
    fork_deque deque;
    push_range(deque, 1, 257);

    EXPECT_EQ(pop_all(deque), descending(257, 1));
}

TEST(ForkDeque, GrowsThroughSeveralDoublingsKeepingEveryItemInOrder) {
    fork_deque deque;
    constexpr std::uint32_t count = 256 * 32 + 5;
    push_range(deque, 1, count);

    EXPECT_EQ(steal_all(deque), range(1, count));
}

TEST(ForkDeque, GrowthAfterStealsKeepsTheItemsBetweenTopAndBottom) {
    fork_deque deque;
    push_range(deque, 1, 200);
    EXPECT_EQ(steal_all(deque).size(), 200u);
    push_range(deque, 201, 400);
    for (std::uint32_t value = 201; value <= 300; ++value) {
        ASSERT_EQ(value_of(deque.steal()), value);
    }
    push_range(deque, 401, 1500);

    for (std::uint32_t value = 301; value <= 700; ++value) {
        ASSERT_EQ(value_of(deque.steal()), value);
    }
    EXPECT_EQ(pop_all(deque), descending(1500, 701));
}

TEST(ForkDeque, BatchPopsFromItsFirstHandleAndStealsFromItsLast) {
    fork_deque deque;
    push_range(deque, 1, 3);
    std::vector<std::coroutine_handle<>> batch;
    for (std::uint32_t value = 4; value <= 5000; ++value) {
        batch.push_back(fake_handle(value));
    }

    deque.push(batch.data(), batch.size());

    EXPECT_EQ(value_of(deque.pop()), 4u);
    EXPECT_EQ(value_of(deque.steal()), 1u);
    EXPECT_EQ(value_of(deque.steal()), 2u);
    EXPECT_EQ(value_of(deque.steal()), 3u);
    EXPECT_EQ(value_of(deque.steal()), 5000u);
    std::vector<std::uint32_t> rest = pop_all(deque);
    EXPECT_EQ(rest, range(5, 4999));
}

TEST(ForkDeque, ClearForgetsEveryItem) {
    fork_deque deque;
    push_range(deque, 1, 300);

    deque.clear();

    EXPECT_TRUE(deque.empty());
    EXPECT_FALSE(deque.pop());
    EXPECT_FALSE(deque.steal());
    push_one(deque, fake_handle(9));
    EXPECT_EQ(value_of(deque.steal()), 9u);
}

TEST(ForkDeque, PopIfTakesTheNewestItemOnlyWhenItIsTheOneAsked) {
    fork_deque deque;
    push_range(deque, 1, 3);
    EXPECT_FALSE(deque.pop_if(fake_handle(2)));
    EXPECT_FALSE(deque.pop_if(fake_handle(1)));
    EXPECT_TRUE(deque.pop_if(fake_handle(3)));
    EXPECT_FALSE(deque.pop_if(fake_handle(3)));
    EXPECT_TRUE(deque.pop_if(fake_handle(2)));
    EXPECT_EQ(value_of(deque.pop()), 1u);
    EXPECT_TRUE(deque.empty());
}

TEST(ForkDeque, PopIfFindsNothingInAnEmptyDequeOrOnceTheItemWasStolen) {
    fork_deque deque;
    EXPECT_FALSE(deque.pop_if(fake_handle(1)));
    push_one(deque, fake_handle(1));
    EXPECT_EQ(value_of(deque.steal()), 1u);
    EXPECT_FALSE(deque.pop_if(fake_handle(1)));
    // The slot still holds the stolen handle; the deque must not hand it out again.
    push_one(deque, fake_handle(2));
    EXPECT_TRUE(deque.pop_if(fake_handle(2)));
    EXPECT_FALSE(deque.pop_if(fake_handle(1)));
    EXPECT_TRUE(deque.empty());
}

TEST(ForkDeque, PopIfOfTheLastItemLeavesNothingToSteal) {
    fork_deque deque;
    push_one(deque, fake_handle(1));
    EXPECT_TRUE(deque.pop_if(fake_handle(1)));
    EXPECT_FALSE(deque.steal());
    push_one(deque, fake_handle(2));
    EXPECT_EQ(value_of(deque.pop()), 2u);
}

void push_batch(fork_deque& deque, std::uint32_t first, std::uint32_t last) {
    std::vector<std::coroutine_handle<>> batch;
    for (std::uint32_t value = first; value <= last; ++value) {
        batch.push_back(fake_handle(value));
    }
    deque.push(batch.data(), batch.size());
}

TEST(ForkDequeReservation, OneWorkerTakesAWholeBatchOutOfTheThievesReach) {
    fork_deque deque(1);
    push_batch(deque, 1, 8);

    EXPECT_EQ(value_of(deque.pop()), 1u);
    EXPECT_TRUE(deque.empty());
    EXPECT_FALSE(deque.steal());
    EXPECT_EQ(pop_all(deque), range(2, 8));
    EXPECT_FALSE(deque.pop());
}

TEST(ForkDequeReservation, TwoWorkersLeaveTheOlderHalfOfABatchToThieves) {
    fork_deque deque(2);
    push_batch(deque, 1, 8);

    EXPECT_EQ(value_of(deque.pop()), 1u); // reserves 1 to 4
    EXPECT_EQ(steal_all(deque), descending(8, 5));
    EXPECT_EQ(pop_all(deque), range(2, 4));
    EXPECT_TRUE(deque.empty());
}

TEST(ForkDequeReservation, TwoWorkersTakeAWholeBatchWhenOlderItemsAreLeftToThieves) {
    fork_deque deque(2);
    push_range(deque, 1, 8); // eight batches of one, below the batch
    push_batch(deque, 10, 13);

    EXPECT_EQ(value_of(deque.pop()), 10u); // the thieves keep 1 to 8, half of twelve and more
    EXPECT_EQ(steal_all(deque), range(1, 8));
    EXPECT_EQ(pop_all(deque), range(11, 13));
}

TEST(ForkDequeReservation, OlderItemsCountTowardsTheThievesHalf) {
    fork_deque deque(2);
    push_range(deque, 1, 2);
    push_batch(deque, 10, 15);

    EXPECT_EQ(value_of(deque.pop()), 10u); // eight in all: the thieves keep 1, 2, 14 and 15
    EXPECT_EQ(steal_all(deque), (std::vector<std::uint32_t>{1, 2, 15, 14}));
    EXPECT_EQ(pop_all(deque), range(11, 13));
}

TEST(ForkDequeReservation, AShareIsRoundedUpAndTakenAgainFromWhatIsLeft) {
    fork_deque deque(2);
    push_batch(deque, 1, 7);

    EXPECT_EQ(value_of(deque.pop()), 1u); // reserves 1 to 4 of seven
    for (std::uint32_t value = 2; value <= 4; ++value) {
        ASSERT_EQ(value_of(deque.pop()), value);
    }
    EXPECT_EQ(value_of(deque.pop()), 5u); // reserves 5 and 6, leaving 7
    EXPECT_EQ(value_of(deque.steal()), 7u);
    EXPECT_EQ(value_of(deque.pop()), 6u);
    EXPECT_FALSE(deque.pop());
}

TEST(ForkDequeReservation, ItemsPushedBeforeTheBatchAreNeverReserved) {
    fork_deque deque(1);
    push_range(deque, 1, 3); // three batches of one
    push_batch(deque, 10, 12);

    EXPECT_EQ(value_of(deque.pop()), 10u);
    EXPECT_EQ(steal_all(deque), range(1, 3));
    EXPECT_EQ(pop_all(deque), range(11, 12));
}

TEST(ForkDequeReservation, WhatIsPushedAfterAReservationIsPoppedBeforeTheReservedItems) {
    fork_deque deque(1);
    push_batch(deque, 1, 3);
    EXPECT_EQ(value_of(deque.pop()), 1u); // reserves 1 to 3

    push_batch(deque, 10, 12);
    EXPECT_EQ(value_of(deque.pop()), 10u); // reserves 10 to 12 above them
    push_one(deque, fake_handle(20));
    push_one(deque, fake_handle(21));

    EXPECT_EQ(pop_all(deque), (std::vector<std::uint32_t>{21, 20, 11, 12, 2, 3}));
    EXPECT_TRUE(deque.empty());
}

TEST(ForkDequeReservation, AReservedItemIsPoppedOnceTheItemsPushedAfterItWereStolen) {
    fork_deque deque(1);
    push_batch(deque, 1, 3);
    EXPECT_EQ(value_of(deque.pop()), 1u);
    push_one(deque, fake_handle(20));

    EXPECT_EQ(value_of(deque.steal()), 20u);
    EXPECT_FALSE(deque.pop_if(fake_handle(3))); // 2 is the newest
    EXPECT_EQ(value_of(deque.pop()), 2u);
    EXPECT_EQ(value_of(deque.pop()), 3u);
    EXPECT_FALSE(deque.pop());
}

TEST(ForkDequeReservation, PopIfTakesTheNewestReservedItemOnlyWhenItIsTheOneAsked) {
    fork_deque deque(1);
    push_batch(deque, 1, 3);
    EXPECT_EQ(value_of(deque.pop()), 1u);

    EXPECT_FALSE(deque.pop_if(fake_handle(3)));
    EXPECT_TRUE(deque.pop_if(fake_handle(2)));
    EXPECT_TRUE(deque.pop_if(fake_handle(3)));
    EXPECT_FALSE(deque.pop_if(fake_handle(3)));
    EXPECT_FALSE(deque.pop());
}

TEST(ForkDequeReservation, ReturnReservedHandsTheReservedItemsBackToThieves) {
    fork_deque deque(1);
    push_batch(deque, 1, 4);
    EXPECT_EQ(value_of(deque.pop()), 1u);
    EXPECT_FALSE(deque.steal());

    deque.return_reserved();

    EXPECT_FALSE(deque.empty());
    EXPECT_EQ(steal_all(deque), descending(4, 2));
    EXPECT_FALSE(deque.pop());
}

TEST(ForkDequeReservation, ClearForgetsTheReservedItems) {
    fork_deque deque(1);
    push_batch(deque, 1, 4);
    EXPECT_EQ(value_of(deque.pop()), 1u);

    deque.clear();

    EXPECT_FALSE(deque.pop());
    EXPECT_FALSE(deque.pop_if(fake_handle(2)));
    push_batch(deque, 5, 6);
    EXPECT_EQ(pop_all(deque), range(5, 6));
}

TEST(ForkDequeReservation, AtMostSixteenItemsAreReservedAtOnce) {
    fork_deque deque(1);
    push_batch(deque, 1, 40);

    EXPECT_EQ(value_of(deque.pop()), 1u); // reserves 1 to 16
    EXPECT_EQ(value_of(deque.steal()), 40u);
    EXPECT_EQ(steal_all(deque), descending(39, 17));
    EXPECT_EQ(pop_all(deque), range(2, 16));
}

// A runtime of one worker has no thieves, and its fork stack pops and takes back without a
// fence and without reserving: the same items in the same order as a deque made for
// thieves (which reserves), through batches that grow the ring.
TEST(ForkDequeWithoutThieves, PopsAndTakesBackAsADequeMadeForThieves) {
    fork_deque alone(1, false);
    fork_deque shared(1);
    std::minstd_rand random(13);
    std::vector<std::uint32_t> taken;
    std::uint32_t next = 1;
    for (int round = 0; round < 3000; ++round) {
        const std::uint32_t last = next + static_cast<std::uint32_t>(random() % 20);
        push_batch(alone, next, last);
        push_batch(shared, next, last);
        const std::uint32_t newest = next;
        next = last + 1;
        if (random() % 4 == 0) {
            const bool taken_back = alone.pop_if(fake_handle(newest));
            ASSERT_EQ(taken_back, shared.pop_if(fake_handle(newest)));
            if (taken_back) {
                taken.push_back(newest);
            }
        }
        for (unsigned pops = random() % 12; pops > 0; --pops) {
            const std::coroutine_handle<> handle = alone.pop();
            ASSERT_EQ(handle, shared.pop());
            if (!handle) {
                break;
            }
            taken.push_back(value_of(handle));
        }
    }
    const std::vector<std::uint32_t> rest = pop_all(alone);
    EXPECT_EQ(rest, pop_all(shared));
    taken.insert(taken.end(), rest.begin(), rest.end());
    std::sort(taken.begin(), taken.end());
    EXPECT_EQ(taken, range(1, next - 1));
    EXPECT_TRUE(alone.empty());
}

// Counts how many times each item was taken, from any thread.
class tally {
public:
    explicit tally(std::uint32_t items) : counts_(items + 1) {}

    void take(std::coroutine_handle<> handle) {
        const std::uint32_t value = value_of(handle);
        if (value == 0 || value >= counts_.size()) {
            ADD_FAILURE() << "a handle that was never pushed: " << value;
            return;
        }
        // relaxed: only the totals matter, read after the threads are joined.
        counts_[value].fetch_add(1, std::memory_order_relaxed);
        total_.fetch_add(1, std::memory_order_relaxed);
    }
    std::uint32_t total() const { return total_.load(std::memory_order_relaxed); }

    // Reports up to ten items not taken exactly once; returns how many there were.
    int report_mistakes() const {
        int mistakes = 0;
        for (std::size_t value = 1; value < counts_.size(); ++value) {
            const int count = counts_[value].load();
            if (count != 1 && ++mistakes <= 10) {
                ADD_FAILURE() << "item " << value << " was taken " << count << " times";
            }
        }
        return mistakes;
    }

private:
    std::vector<std::atomic<std::uint8_t>> counts_;
    std::atomic<std::uint32_t> total_{0};
};

// Two threads that steal from one deque, counting what they take, until the owner is done
// and a steal finds the deque empty. Given the deque's count of armed thieves, each arms
// itself before it steals and disarms after a random run of steals, then lets the owner pop
// unarmed for a while, so that the owner's pops keep switching between the two fences.
class two_thieves {
public:
    two_thieves(fork_deque& deque, tally& taken, armed_thieves* armed = nullptr)
        : deque_(deque), armed_(armed), first_([this, &taken] { steal_into(taken, 1); }),
          second_([this, &taken] { steal_into(taken, 2); }) {}

    // The owner's part is over: it takes what is left, then waits for the thieves.
    void owner_finished(tally& taken) {
        while (std::coroutine_handle<> handle = deque_.pop()) {
            taken.take(handle);
        }
        owner_done_.store(true);
        first_.join();
        second_.join();
    }

private:
    void steal_into(tally& taken, unsigned seed) {
        std::minstd_rand random(seed);
        for (;;) {
            if (armed_ != nullptr) {
                // Unarmed for a moment, then armed for a short run of steals: arms as often as
                // possible, each one a chance to meet an owner's pop that read no thief armed.
                for (unsigned spin = random() % 16; spin > 0; --spin) {
                    std::atomic_signal_fence(std::memory_order_seq_cst);
                }
                ASSERT_TRUE(armed_->arm());
            }
            bool over = false;
            for (unsigned steals = armed_ != nullptr ? random() % 3 + 1 : 64; steals > 0 && !over;
                 --steals) {
                // Read before stealing: once the owner is done, a failed steal means empty.
                const bool last_round = owner_done_.load();
                if (std::coroutine_handle<> handle = deque_.steal()) {
                    taken.take(handle);
                } else {
                    over = last_round;
                }
            }
            if (armed_ != nullptr) {
                armed_->disarm();
            }
            if (over) {
                return;
            }
        }
    }

    fork_deque& deque_;
    armed_thieves* const armed_;
    std::atomic<bool> owner_done_{false};
    std::thread first_;
    std::thread second_;
};

// The owner's part is over: it takes what is left, the thieves stop, and every one of `items`
// must have been taken exactly once.
void owner_finishes_then_check(fork_deque& deque, two_thieves& thieves, tally& taken,
                               std::uint32_t items) {
    thieves.owner_finished(taken);
    EXPECT_EQ(taken.total(), items);
    EXPECT_EQ(taken.report_mistakes(), 0);
    EXPECT_TRUE(deque.empty());
}

// The owner keeps the deque at zero to a few items, pushing and popping in small random runs,
// so most of its pops race the thieves for the last item.
void push_and_pop_near_empty(fork_deque& deque, tally& taken, std::uint32_t items, unsigned seed) {
    std::minstd_rand random(seed);
    std::uint32_t next = 1;
    while (next <= items) {
        for (unsigned pushes = random() % 3 + 1; pushes > 0 && next <= items; --pushes) {
            push_one(deque, fake_handle(next++));
        }
        for (unsigned pops = random() % 4; pops > 0; --pops) {
            if (std::coroutine_handle<> handle = deque.pop()) {
                taken.take(handle);
            }
        }
    }
}

// A deque, one million items to push through it, and two thieves already stealing from it.
class ForkDequeRace : public ::testing::Test {
protected:
    static constexpr std::uint32_t items = 1'000'000;

    void finish_and_check() { owner_finishes_then_check(deque, thieves, taken, items); }

    fork_deque deque;
    tally taken{items};
    two_thieves thieves{deque, taken};
};

TEST_F(ForkDequeRace, LastItemRacesNeverHandOneItemToTwoTakers) {
    push_and_pop_near_empty(deque, taken, items, 3);
    finish_and_check();
}

// As above, but the owner takes each item back with pop_if, naming the one it pushed last (a
// gather's child taking back its sibling), and races the thieves for it whenever it is the
// only item left.
TEST_F(ForkDequeRace, PopIfRacesNeverHandOneItemToTwoTakers) {
    std::minstd_rand random(5);
    std::vector<std::uint32_t> pushed; // newest last; some of them already stolen
    std::uint32_t next = 1;
    while (next <= items) {
        for (unsigned pushes = random() % 2 + 1; pushes > 0 && next <= items; --pushes) {
            push_one(deque, fake_handle(next));
            pushed.push_back(next++);
        }
        for (unsigned tries = random() % 3; tries > 0 && !pushed.empty(); --tries) {
            const std::uint32_t newest = pushed.back();
            pushed.pop_back();
            if (deque.pop_if(fake_handle(newest))) {
                taken.take(fake_handle(newest));
            }
        }
    }
    finish_and_check();
}

// The owner pushes batches of one to twenty items (a gather's children) and pops them a share
// at a time, while two thieves steal from the other end, and now and then takes one back with
// pop_if; every item must be taken exactly once. With one worker's share a reservation takes
// a whole batch, and so often races the thieves for its oldest item; with two, half of it.
void race_reservations(std::size_t workers, unsigned seed, armed_thieves* armed = nullptr) {
    constexpr std::uint32_t items = 500'000;
    fork_deque deque(workers, true, armed);
    tally taken(items);
    two_thieves thieves(deque, taken, armed);
    std::minstd_rand random(seed);
    std::uint32_t next = 1;
    while (next <= items) {
        const std::uint32_t last =
            std::min(items, next + static_cast<std::uint32_t>(random() % 20));
        push_batch(deque, next, last);
        const std::uint32_t newest = next;
        next = last + 1;
        if (random() % 4 == 0 && deque.pop_if(fake_handle(newest))) {
            taken.take(fake_handle(newest));
        }
        for (unsigned pops = random() % 12; pops > 0; --pops) {
            if (std::coroutine_handle<> handle = deque.pop()) {
                taken.take(handle);
            }
        }
    }
    owner_finishes_then_check(deque, thieves, taken, items);
}

TEST(ForkDequeReservationRace, WholeBatchReservationsNeverHandOneItemToTwoTakers) {
    race_reservations(1, 7);
}

TEST(ForkDequeReservationRace, HalfBatchReservationsNeverHandOneItemToTwoTakers) {
    race_reservations(2, 11);
}

// The races above, with thieves that arm themselves (armed_thieves.hpp) and disarm again
// every few steals, so that the owner's pops keep switching between the compiler's fence
// (none armed) and the algorithm's. The reordering the heavy fence rules out needs two
// steals inside one pop's store-buffer delay, too rare to provoke on purpose; what these
// catch is a pop or a steal that mishandles the switch.
class ArmedThievesRace : public ::testing::Test {
protected:
    void SetUp() override {
        if (!armed_thieves::available()) {
            GTEST_SKIP() << "membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) is not available";
        }
    }
};

TEST_F(ArmedThievesRace, TheCountTellsOwnersWhetherAnyThiefIsArmed) {
    armed_thieves armed;
    EXPECT_TRUE(armed.none());
    ASSERT_TRUE(armed.arm());
    EXPECT_FALSE(armed.none());
    ASSERT_TRUE(armed.arm());
    armed.disarm();
    EXPECT_FALSE(armed.none());
    armed.disarm();
    EXPECT_TRUE(armed.none());
}

TEST_F(ArmedThievesRace, LastItemRacesNeverHandOneItemToTwoTakers) {
    constexpr std::uint32_t items = 1'000'000;
    armed_thieves armed;
    fork_deque deque(2, true, &armed);
    tally taken(items);
    two_thieves thieves(deque, taken, &armed);
    push_and_pop_near_empty(deque, taken, items, 13);
    owner_finishes_then_check(deque, thieves, taken, items);
}

TEST_F(ArmedThievesRace, WholeBatchReservationsNeverHandOneItemToTwoTakers) {
    armed_thieves armed;
    race_reservations(1, 17, &armed);
}

TEST_F(ArmedThievesRace, HalfBatchReservationsNeverHandOneItemToTwoTakers) {
    armed_thieves armed;
    race_reservations(2, 19, &armed);
}

// Each round starts a fresh deque and pushes 4000 items in batches, faster than two thieves
// can steal them one by one, so the ring grows several times while steals read its slots; the
// owner pops now and then and drains the rest. A barrier keeps the thieves off a deque once its
// round is over.
TEST(ForkDequeStress, StealsDuringGrowthNeverLoseOrDuplicateAnItem) {
    constexpr int rounds = 200;
    constexpr std::uint32_t per_round = 4000;
    constexpr std::uint32_t items = rounds * per_round;
    tally taken(items);
    std::unique_ptr<fork_deque> deque;
    std::atomic<bool> round_over{false};
    std::barrier sync(3);

    auto thief = [&] {
        for (int round = 0; round < rounds; ++round) {
            sync.arrive_and_wait(); // the round's deque exists
            for (;;) {
                const bool last_try = round_over.load();
                if (std::coroutine_handle<> handle = deque->steal()) {
                    taken.take(handle);
                } else if (last_try) {
                    break;
                }
            }
            sync.arrive_and_wait(); // the owner may now destroy the deque
        }
    };
    std::thread first_thief(thief);
    std::thread second_thief(thief);

    std::minstd_rand random(5);
    std::uint32_t next = 1;
    for (int round = 0; round < rounds; ++round) {
        deque = std::make_unique<fork_deque>();
        round_over.store(false);
        sync.arrive_and_wait();
        const std::uint32_t end = next + per_round;
        while (next < end) {
            // Mostly short batches, now and then one that outgrows the ring several times over.
            const std::uint32_t limit = random() % 16 == 0 ? 1500 : 64;
            std::vector<std::coroutine_handle<>> batch;
            for (std::uint32_t size = random() % limit + 1; size > 0 && next < end; --size) {
                batch.push_back(fake_handle(next++));
            }
            deque->push(batch.data(), batch.size());
            if (random() % 4 == 0) {
                if (std::coroutine_handle<> handle = deque->pop()) {
                    taken.take(handle);
                }
            }
        }
        while (std::coroutine_handle<> handle = deque->pop()) {
            taken.take(handle);
        }
        round_over.store(true);
        sync.arrive_and_wait();
        deque.reset();
    }
    first_thief.join();
    second_thief.join();

    EXPECT_EQ(taken.total(), items);
    EXPECT_EQ(taken.report_mistakes(), 0);
}

} // namespace
