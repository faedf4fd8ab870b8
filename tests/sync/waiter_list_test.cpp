// Tests weft::detail::waiter_list (include/weft/detail/waiter_list.hpp): FIFO wakes, refusal
// after completion, the keepsake a completed list holds in the waiters' place, remove() at
// every position, after a wake and during one, a throwing publish step, and a race of enqueuers and
// removers against a completer in which every node ends up either woken once or removed, never
// both; wait_unlocked() held off by a lock holder. Then the owner's count the word keeps: exact
// through completion (one refused by its admit step included), enqueues and removes, past the
// word's 16 bits into the owner's spill, and under threads that race across that limit.
#include <weft/detail/waiter_list.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using weft::detail::waiter_list;
using weft::detail::waiter_node;

// A node that appends its id to a log and counts its wake-ups.
struct logging_node : waiter_node {
    logging_node(std::vector<int>& log, int id) : log(&log), id(id) { wake = &record; }

    static void record(waiter_node& node) noexcept {
        auto& self = static_cast<logging_node&>(node);
        self.log->push_back(self.id);
        ++self.wakes;
    }

    std::vector<int>* log;
    int id;
    int wakes = 0;
};

void publish_nothing() {}

bool admit_all() noexcept {
    return true;
}

// Whether `node` is in a list; only meaningful while no other thread uses the list.
bool is_linked(const waiter_node& node) {
    return static_cast<bool>(node.linked);
}

TEST(WaiterList, NewListIsNotDone) {
    waiter_list list;
    EXPECT_FALSE(list.done());
}

TEST(WaiterList, EnqueueBeforeCompletionLinksTheNodeWithoutWakingIt) {
    std::vector<int> log;
    waiter_list list;
    logging_node node(log, 0);

    EXPECT_TRUE(list.enqueue(node));
    EXPECT_TRUE(is_linked(node));
    EXPECT_EQ(node.wakes, 0);
    EXPECT_FALSE(list.done());
}

TEST(WaiterList, CompleteWakesEveryNodeOnceInArrivalOrder) {
    std::vector<int> log;
    waiter_list list;
    std::vector<std::unique_ptr<logging_node>> nodes;
    for (int id = 0; id < 5; ++id) {
        nodes.push_back(std::make_unique<logging_node>(log, id));
        ASSERT_TRUE(list.enqueue(*nodes.back()));
    }

    EXPECT_TRUE(list.complete(publish_nothing));

    EXPECT_EQ(log, (std::vector<int>{0, 1, 2, 3, 4}));
    for (const auto& node : nodes) {
        EXPECT_EQ(node->wakes, 1);
        EXPECT_FALSE(is_linked(*node));
    }
    EXPECT_TRUE(list.done());
}

TEST(WaiterList, CompletePublishesOnceBeforeWakingAnyNode) {
    std::vector<int> log;
    waiter_list list;
    int publishes = 0;
    int publishes_seen_by_wake = -1;
    struct checking_node : waiter_node {
        int* publishes = nullptr;
        int* seen = nullptr;
    } node;
    node.publishes = &publishes;
    node.seen = &publishes_seen_by_wake;
    node.wake = [](waiter_node& woken) noexcept {
        auto& self = static_cast<checking_node&>(woken);
        *self.seen = *self.publishes;
    };
    ASSERT_TRUE(list.enqueue(node));

    EXPECT_TRUE(list.complete([&] { ++publishes; }));

    EXPECT_EQ(publishes, 1);
    EXPECT_EQ(publishes_seen_by_wake, 1);
}

TEST(WaiterList, CompleteWithNoWaitersMarksTheListDone) {
    waiter_list list;
    EXPECT_TRUE(list.complete(publish_nothing));
    EXPECT_TRUE(list.done());
}

TEST(WaiterList, EnqueueAfterCompletionIsRefused) {
    std::vector<int> log;
    waiter_list list;
    ASSERT_TRUE(list.complete(publish_nothing));
    logging_node late(log, 0);

    EXPECT_FALSE(list.enqueue(late));

    EXPECT_FALSE(is_linked(late));
    EXPECT_EQ(late.wakes, 0);
    EXPECT_TRUE(list.done());
}

TEST(WaiterList, SecondCompleteReturnsFalseWithoutPublishingOrWaking) {
    std::vector<int> log;
    waiter_list list;
    logging_node node(log, 0);
    ASSERT_TRUE(list.enqueue(node));
    int publishes = 0;

    EXPECT_TRUE(list.complete([&] { ++publishes; }));
    EXPECT_FALSE(list.complete([&] { ++publishes; }));

    EXPECT_EQ(publishes, 1);
    EXPECT_EQ(node.wakes, 1);
    EXPECT_TRUE(list.done());
}

// A list with two nodes waiting, 0 then 1, each logging its wake to `log`.
class WaiterListOfTwo : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(list.enqueue(first));
        ASSERT_TRUE(list.enqueue(second));
    }

    std::vector<int> log;
    waiter_list list;
    logging_node first{log, 0};
    logging_node second{log, 1};
};

// The owner's keepsake (a finished task's check) takes the newest node's place in the word.
alignas(8) constexpr int owner_keepsake = 7;

TEST(WaiterList, CompletionWithNobodyWaitingKeepsTheKeepsake) {
    waiter_list list;
    EXPECT_TRUE(list.complete(publish_nothing, &owner_keepsake));
    EXPECT_TRUE(list.done());
    EXPECT_EQ(list.keepsake(), &owner_keepsake);
}

TEST_F(WaiterListOfTwo, CompletionWithWaitersKeepsTheKeepsakeThroughLaterCalls) {
    EXPECT_TRUE(list.complete(publish_nothing, &owner_keepsake));
    logging_node late(log, 2);
    EXPECT_FALSE(list.enqueue(late));
    EXPECT_FALSE(list.remove(first));
    EXPECT_FALSE(list.complete(publish_nothing, nullptr));

    EXPECT_EQ(log, (std::vector<int>{0, 1}));
    EXPECT_EQ(list.keepsake(), &owner_keepsake);
}

// Enqueues nodes 0..count-1, removes node `removed`, completes, and returns the wake log.
std::vector<int> wake_log_after_removing(int count, int removed) {
    std::vector<int> log;
    waiter_list list;
    std::vector<std::unique_ptr<logging_node>> nodes;
    for (int id = 0; id < count; ++id) {
        nodes.push_back(std::make_unique<logging_node>(log, id));
        EXPECT_TRUE(list.enqueue(*nodes.back()));
    }
    list.remove(*nodes[removed]);
    EXPECT_FALSE(is_linked(*nodes[removed]));
    EXPECT_TRUE(list.complete(publish_nothing));
    EXPECT_EQ(nodes[removed]->wakes, 0);
    return log;
}

TEST(WaiterList, RemoveUnlinksTheHead) {
    EXPECT_EQ(wake_log_after_removing(4, 0), (std::vector<int>{1, 2, 3}));
}

TEST(WaiterList, RemoveUnlinksAMiddleNode) {
    EXPECT_EQ(wake_log_after_removing(4, 2), (std::vector<int>{0, 1, 3}));
}

TEST(WaiterList, RemoveUnlinksTheTail) {
    EXPECT_EQ(wake_log_after_removing(4, 3), (std::vector<int>{0, 1, 2}));
}

TEST(WaiterList, RemoveUnlinksTheOnlyNode) {
    EXPECT_EQ(wake_log_after_removing(1, 0), (std::vector<int>{}));
}

TEST(WaiterList, NodesEnqueuedAfterRemovingEveryNodeAreStillWokenInOrder) {
    std::vector<int> log;
    waiter_list list;
    logging_node first(log, 0);
    logging_node second(log, 1);
    logging_node third(log, 2);
    logging_node fourth(log, 3);
    ASSERT_TRUE(list.enqueue(first));
    ASSERT_TRUE(list.enqueue(second));
    list.remove(second);
    list.remove(first);
    ASSERT_TRUE(list.enqueue(third));
    ASSERT_TRUE(list.enqueue(fourth));
    list.remove(third);
    ASSERT_TRUE(list.enqueue(first));

    ASSERT_TRUE(list.complete(publish_nothing));

    EXPECT_EQ(log, (std::vector<int>{3, 0}));
}

TEST(WaiterList, RemoveOfANodeThatWasNeverEnqueuedIsANoOp) {
    std::vector<int> log;
    waiter_list list;
    logging_node stranger(log, 0);
    logging_node waiting(log, 1);
    ASSERT_TRUE(list.enqueue(waiting));

    list.remove(stranger);

    ASSERT_TRUE(list.complete(publish_nothing));
    EXPECT_EQ(log, (std::vector<int>{1}));
}

TEST_F(WaiterListOfTwo, RemoveAfterWakeIsANoOp) {
    ASSERT_TRUE(list.complete(publish_nothing));

    list.remove(first);
    list.remove(second);
    list.remove(second);

    EXPECT_EQ(first.wakes, 1);
    EXPECT_EQ(second.wakes, 1);
    EXPECT_FALSE(is_linked(first));
    EXPECT_FALSE(is_linked(second));
    EXPECT_TRUE(list.done());
}

TEST_F(WaiterListOfTwo, ThrowingPublishLeavesTheListUnlockedAndNotDone) {
    EXPECT_THROW(list.complete([] { throw std::runtime_error("publish failed"); }),
                 std::runtime_error);

    EXPECT_FALSE(list.done());
    EXPECT_TRUE(is_linked(first));
    EXPECT_EQ(first.wakes, 0);
    EXPECT_EQ(second.wakes, 0);

    logging_node third(log, 2);
    EXPECT_TRUE(list.enqueue(third));
    list.remove(first);
    EXPECT_TRUE(list.complete(publish_nothing));
    EXPECT_EQ(log, (std::vector<int>{1, 2}));
    EXPECT_TRUE(list.done());
}

// The header says a wake function may hand its node to another thread, so complete() must not
// touch a node once its wake function has run. Under AddressSanitizer this fails loudly if it
// does: every node deletes itself when woken.
TEST(WaiterList, CompleteDoesNotTouchANodeAfterWakingIt) {
    struct self_deleting_node : waiter_node {
        explicit self_deleting_node(int& woken) : woken(&woken) {
            wake = [](waiter_node& node) noexcept {
                auto* self = static_cast<self_deleting_node*>(&node);
                ++*self->woken;
                delete self;
            };
        }
        int* woken;
    };
    waiter_list list;
    int woken = 0;
    for (int i = 0; i < 8; ++i) {
        ASSERT_TRUE(list.enqueue(*new self_deleting_node(woken)));
    }

    ASSERT_TRUE(list.complete(publish_nothing));

    EXPECT_EQ(woken, 8);
}

// remove()'s contract is that once it returns no wake of the node is running, so the owner
// may destroy the node. Here the wake function runs on another thread and, while it runs,
// waits (up to a bound, so a correct remove() that blocks cannot deadlock the test) to see
// whether the owner's remove() returns. With a correct remove() it never does; the bound only
// decides how long a correct implementation makes this test take.
TEST(WaiterList, RemoveDoesNotReturnWhileTheNodesWakeIsStillRunning) {
    struct slow_waking_node : waiter_node {
        slow_waking_node() {
            wake = [](waiter_node& node) noexcept {
                auto& self = static_cast<slow_waking_node&>(node);
                self.wake_started.store(true);
                const auto give_up =
                    std::chrono::steady_clock::now() + std::chrono::milliseconds(250);
                while (!self.remove_returned.load() && std::chrono::steady_clock::now() < give_up) {
                    std::this_thread::yield();
                }
                self.remove_returned_while_waking = self.remove_returned.load();
            };
        }
        std::atomic<bool> wake_started{false};
        std::atomic<bool> remove_returned{false};
        bool remove_returned_while_waking = false;
    };
    waiter_list list;
    slow_waking_node node;
    ASSERT_TRUE(list.enqueue(node));

    std::thread completer([&] { list.complete(publish_nothing); });
    while (!node.wake_started.load()) {
        std::this_thread::yield();
    }
    list.remove(node);
    node.remove_returned.store(true);
    completer.join();

    EXPECT_FALSE(node.remove_returned_while_waking)
        << "remove() returned while complete() was still running the node's wake function, so "
           "an owner that destroys the node after remove() would race with the wake";
}

// The same bound for wait_unlocked(): a completion's admit step holds the lock until it sees
// wait_unlocked() return, or gives up.
TEST(WaiterList, WaitUnlockedDoesNotReturnWhileTheLockIsHeld) {
    waiter_list list;
    std::atomic<bool> admit_started{false};
    std::atomic<bool> wait_returned{false};
    bool returned_while_locked = false;
    std::thread completer([&] {
        list.complete_if(nullptr, [&]() noexcept {
            admit_started.store(true);
            const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(250);
            while (!wait_returned.load() && std::chrono::steady_clock::now() < give_up) {
                std::this_thread::yield();
            }
            returned_while_locked = wait_returned.load();
            return true;
        });
    });
    while (!admit_started.load()) {
        std::this_thread::yield();
    }
    list.wait_unlocked();
    wait_returned.store(true);
    completer.join();
    EXPECT_FALSE(returned_while_locked);
    EXPECT_TRUE(list.done());
    list.wait_unlocked(); // a done, unlocked list: returns at once
}

// Several threads enqueue and remove their own nodes while the main thread completes the list
// at a random moment. Afterwards each node is in exactly one of three states: refused (enqueue
// returned false, never woken), removed (remove() returned before it was woken, and it is
// never woken later), or woken exactly once. Nodes of one thread are woken in the order that
// thread enqueued them.
TEST(WaiterListStress, EveryNodeIsEitherWokenOnceOrRemovedNeverBoth) {
    constexpr int threads = 3;
    constexpr int nodes_per_thread = 16;
    constexpr int rounds = 10'000;

    struct counting_node : waiter_node {
        counting_node() {
            // Like a real wake-up (which hands the waiter to a run queue), this takes a
            // moment before its effect is visible to the node's owner.
            wake = [](waiter_node& node) noexcept {
                auto& self = static_cast<counting_node&>(node);
                self.wake_log->push_back(self.id);
                for (int spin = 0; spin < 50; ++spin) {
                    std::atomic_signal_fence(std::memory_order_seq_cst);
                }
                self.wakes.fetch_add(1);
            };
        }
        std::atomic<int> wakes{0};
        std::vector<int>* wake_log = nullptr;
        int id = 0;
        bool enqueued = false;
        bool removed = false;
        int wakes_when_removed = 0;
    };

    std::vector<counting_node> nodes(threads * nodes_per_thread);
    std::vector<int> wake_log; // written only inside complete(), under the list's lock
    wake_log.reserve(nodes.size());
    std::unique_ptr<waiter_list> list;
    std::barrier sync(threads + 1);

    auto enqueue_and_remove = [&](int thread) {
        std::minstd_rand random(static_cast<unsigned>(thread) + 1);
        for (int round = 0; round < rounds; ++round) {
            sync.arrive_and_wait(); // the round's list and nodes are ready
            counting_node* mine = &nodes[static_cast<std::size_t>(thread * nodes_per_thread)];
            auto maybe_remove = [&](counting_node& node) {
                if (random() % 2 == 0) {
                    node.removed = true;
                    list->remove(node);
                    node.wakes_when_removed = node.wakes.load();
                }
            };
            int next_to_remove = 0;
            for (int i = 0; i < nodes_per_thread; ++i) {
                mine[i].enqueued = list->enqueue(mine[i]);
                while (next_to_remove <= i && random() % 3 == 0) {
                    maybe_remove(mine[next_to_remove++]);
                }
            }
            // Remove the rest later, while the completer is likely waking them.
            for (unsigned spin = random() % 1000; spin > 0; --spin) {
                std::atomic_signal_fence(std::memory_order_seq_cst);
            }
            while (next_to_remove < nodes_per_thread) {
                maybe_remove(mine[next_to_remove++]);
            }
            sync.arrive_and_wait(); // the round is over; the main thread checks it
        }
    };
    std::vector<std::thread> workers;
    for (int thread = 0; thread < threads; ++thread) {
        workers.emplace_back(enqueue_and_remove, thread);
    }

    std::minstd_rand random(99);
    int failures = 0;
    for (int round = 0; round < rounds; ++round) {
        list = std::make_unique<waiter_list>();
        wake_log.clear();
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            nodes[i].wakes.store(0);
            nodes[i].wake_log = &wake_log;
            nodes[i].id = static_cast<int>(i);
            nodes[i].enqueued = nodes[i].removed = false;
            nodes[i].wakes_when_removed = 0;
        }
        sync.arrive_and_wait();
        for (unsigned spin = random() % 2000; spin > 0; --spin) {
            std::atomic_signal_fence(std::memory_order_seq_cst);
        }
        list->complete(publish_nothing);
        sync.arrive_and_wait();

        for (const counting_node& node : nodes) {
            const int wakes = node.wakes.load();
            const bool ok = !node.enqueued                 ? wakes == 0
                            : !node.removed                ? wakes == 1
                            : node.wakes_when_removed == 0 ? wakes == 0
                                                           : wakes == 1;
            if (!ok && ++failures <= 10) {
                ADD_FAILURE() << "round " << round << ", node " << node.id
                              << ": enqueued=" << node.enqueued << " removed=" << node.removed
                              << " wakes_when_removed=" << node.wakes_when_removed
                              << " wakes=" << wakes;
            }
        }
        std::vector<int> last_woken(threads, -1);
        for (int id : wake_log) {
            int& last = last_woken[static_cast<std::size_t>(id / nodes_per_thread)];
            if (last >= id && ++failures <= 10) {
                ADD_FAILURE() << "round " << round << ": node " << id << " woken after node "
                              << last << " of the same thread";
            }
            last = id;
        }
    }
    for (std::thread& worker : workers) {
        worker.join();
    }
    EXPECT_EQ(failures, 0);
}

// The owner's count (a task's references) in the word's top bits, and past them in `spill`.
class WaiterListCount : public ::testing::Test {
protected:
    // Drops every reference but one and checks that none of them was the last.
    void drop_all_but_one(std::uint32_t count) {
        for (std::uint32_t i = 1; i < count; ++i) {
            ASSERT_FALSE(list.drop_from_count(spill)) << "drop " << i << " of " << count;
        }
    }

    waiter_list list;
    std::atomic<std::uint32_t> spill{0};
    std::vector<int> log;
};

TEST_F(WaiterListCount, ANewListCountsNothing) {
    EXPECT_FALSE(list.counted(spill));
    EXPECT_FALSE(list.may_be_counted());
}

TEST_F(WaiterListCount, OnlyTheLastDropSaysSo) {
    list.set_count(3, spill);
    list.add_to_count(spill);
    EXPECT_TRUE(list.counted(spill));
    drop_all_but_one(4);
    EXPECT_TRUE(list.drop_from_count(spill));
    EXPECT_FALSE(list.counted(spill));
    EXPECT_FALSE(list.may_be_counted());
    EXPECT_FALSE(list.done());
}

TEST_F(WaiterListCount, CompletionAloneDropsOneAsItMarksTheListDoneAndKeepsTheKeepsake) {
    list.set_count(2, spill);
    EXPECT_EQ(list.complete_alone_dropping_one_if(&owner_keepsake, admit_all),
              waiter_list::ending::kept);
    EXPECT_TRUE(list.done());
    EXPECT_EQ(list.keepsake(), &owner_keepsake);
    EXPECT_TRUE(list.drop_from_count(spill));
    EXPECT_EQ(list.keepsake(), &owner_keepsake);
}

TEST_F(WaiterListCount, CompletionOfTheLastReferenceSaysSo) {
    list.set_count(1, spill);
    EXPECT_EQ(list.complete_alone_dropping_one_if(&owner_keepsake, admit_all),
              waiter_list::ending::last);
    EXPECT_TRUE(list.done());
    EXPECT_FALSE(list.counted(spill));

    waiter_list other;
    other.set_count(1, spill);
    EXPECT_EQ(other.complete_dropping_one_if(&owner_keepsake, spill, admit_all),
              waiter_list::ending::last);
    EXPECT_FALSE(other.counted(spill));
}

TEST_F(WaiterListCount, CompletionAloneLeavesAListWithWaitersToTheGeneralOne) {
    list.set_count(3, spill);
    logging_node waiting(log, 0);
    ASSERT_TRUE(list.enqueue(waiting));
    EXPECT_EQ(list.complete_alone_dropping_one_if(&owner_keepsake, admit_all),
              waiter_list::ending::busy);
    EXPECT_FALSE(list.done());
    EXPECT_TRUE(log.empty());
    EXPECT_EQ(list.complete_dropping_one_if(&owner_keepsake, spill, admit_all),
              waiter_list::ending::kept);
    EXPECT_EQ(log, std::vector<int>{0});
    EXPECT_EQ(list.keepsake(), &owner_keepsake);
    drop_all_but_one(2);
    EXPECT_TRUE(list.drop_from_count(spill));
}

TEST_F(WaiterListCount, ARefusedCompletionLeavesTheListAndTheCountAsTheyWere) {
    list.set_count(2, spill);
    logging_node waiting(log, 0);
    ASSERT_TRUE(list.enqueue(waiting));
    int asked = 0;
    auto refuse = [&]() noexcept {
        ++asked;
        return false;
    };
    EXPECT_EQ(list.complete_dropping_one_if(&owner_keepsake, spill, refuse),
              waiter_list::ending::refused);
    EXPECT_FALSE(list.complete_if(&owner_keepsake, refuse));
    EXPECT_EQ(asked, 2);
    EXPECT_FALSE(list.done());
    EXPECT_TRUE(log.empty());
    EXPECT_TRUE(list.remove(waiting)); // still linked, and the lock was released
    EXPECT_EQ(list.complete_alone_dropping_one_if(&owner_keepsake, refuse),
              waiter_list::ending::refused);
    EXPECT_EQ(asked, 3);
    EXPECT_FALSE(list.done());
    ASSERT_TRUE(list.enqueue(waiting));

    EXPECT_EQ(list.complete_dropping_one_if(&owner_keepsake, spill, admit_all),
              waiter_list::ending::kept);
    EXPECT_EQ(log, std::vector<int>{0});
    EXPECT_TRUE(list.drop_from_count(spill));
}

TEST_F(WaiterListCount, CompleteIfAsksNothingOfADoneList) {
    int asked = 0;
    auto count_and_admit = [&]() noexcept {
        ++asked;
        return true;
    };
    EXPECT_TRUE(list.complete_if(&owner_keepsake, count_and_admit));
    EXPECT_FALSE(list.complete_if(nullptr, count_and_admit));
    EXPECT_EQ(asked, 1);
    EXPECT_EQ(list.keepsake(), &owner_keepsake);
}

TEST_F(WaiterListCount, EnqueueRemoveAndCompleteLeaveTheCountAlone) {
    list.set_count(3, spill);
    logging_node first(log, 0);
    logging_node second(log, 1);
    ASSERT_TRUE(list.enqueue(first));
    ASSERT_TRUE(list.enqueue(second));
    EXPECT_TRUE(list.remove(first));
    EXPECT_TRUE(list.complete(publish_nothing, &owner_keepsake));
    EXPECT_EQ(log, std::vector<int>{1});
    drop_all_but_one(3);
    EXPECT_TRUE(list.drop_from_count(spill));
}

TEST_F(WaiterListCount, ACountPastTheWordMovesToTheSpillAndStaysExact) {
    constexpr std::uint32_t total = waiter_list::max_count + 10;
    list.set_count(1, spill);
    logging_node waiting(log, 0);
    ASSERT_TRUE(list.enqueue(waiting));
    for (std::uint32_t i = 1; i < total; ++i) {
        list.add_to_count(spill);
    }
    EXPECT_EQ(spill.load(), total);
    // The spilled count is the running one's too: its completion drops there.
    EXPECT_EQ(list.complete_dropping_one_if(&owner_keepsake, spill, admit_all),
              waiter_list::ending::kept);
    EXPECT_EQ(log, std::vector<int>{0});
    EXPECT_EQ(list.keepsake(), &owner_keepsake);
    drop_all_but_one(total - 1);
    EXPECT_TRUE(list.counted(spill));
    EXPECT_TRUE(list.may_be_counted());
    EXPECT_TRUE(list.drop_from_count(spill));
    EXPECT_FALSE(list.counted(spill));
}

TEST_F(WaiterListCount, ACountSetPastTheWordStartsInTheSpill) {
    list.set_count(waiter_list::max_count + 1, spill);
    EXPECT_EQ(spill.load(), waiter_list::max_count + 1);
    // A spilled count is not the word's to drop: the one-CAS completion leaves it alone.
    EXPECT_EQ(list.complete_alone_dropping_one_if(&owner_keepsake, admit_all),
              waiter_list::ending::busy);
    EXPECT_FALSE(list.done());
    EXPECT_EQ(list.complete_dropping_one_if(&owner_keepsake, spill, admit_all),
              waiter_list::ending::kept);
    EXPECT_EQ(spill.load(), waiter_list::max_count);
    drop_all_but_one(waiter_list::max_count);
    EXPECT_TRUE(list.drop_from_count(spill));
}

// Threads add and drop references around the word's limit, so that the count spills while
// others count in the word, and lock the list meanwhile with enqueues and removes: no change
// is lost, and the one drop that ends the count says it is the last.
TEST_F(WaiterListCount, ConcurrentAddsDropsAndLocksAcrossTheSpillLoseNothing) {
    constexpr int threads = 3;
    constexpr std::uint32_t per_thread = 2'000;
    list.set_count(waiter_list::max_count - per_thread, spill);
    std::atomic<int> lasts{0};
    std::vector<std::thread> counters;
    for (int thread = 0; thread < threads; ++thread) {
        counters.emplace_back([&] {
            waiter_node node;
            node.wake = [](waiter_node&) noexcept {};
            for (std::uint32_t i = 0; i < per_thread; ++i) {
                list.add_to_count(spill);
                if (i % 16 == 0) {
                    ASSERT_TRUE(list.enqueue(node));
                    ASSERT_TRUE(list.remove(node));
                }
            }
            for (std::uint32_t i = 0; i < per_thread; ++i) {
                if (list.drop_from_count(spill)) {
                    lasts.fetch_add(1);
                }
            }
        });
    }
    for (std::thread& counter : counters) {
        counter.join();
    }
    EXPECT_EQ(lasts.load(), 0);
    drop_all_but_one(waiter_list::max_count - per_thread);
    EXPECT_TRUE(list.drop_from_count(spill));
}

} // namespace
