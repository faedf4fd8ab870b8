// Tests cancellation (runtime/task/cancellation.cpp and the awaiters that take part in it):
// task::cancel at a suspension point and before the next one, cleanup after catching,
// sleeps leaving the wheel at once, propagation down to awaited tasks and gather children
// and not up to parents, futures no longer awaited, and races of cancel against normal
// completion, against a future completed from another thread, and from a foreign thread, whose
// cancel() agrees with how each task ended; the strand word's end for a gather child, a load
// and a plain store; the forwarding slot of a strand rooted in a gather child, and fork-join
// trees cancelled from another thread while their nodes publish and leave gathers in it.
#include <weft/detail/cpu_relax.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::one_virtual_worker;
using weft::testing::timers_pending;
using weft::testing::two_virtual_workers;

TEST(StrandWord, AGatherChildsEndMarksAnIdleWordEndedAndReportsNoRequest) {
    weft::detail::strand_cell cell;
    EXPECT_TRUE(weft::detail::end_child_strand_quickly(cell.word));
    EXPECT_EQ(cell.word.load(), weft::detail::strand_bits::ended);
    EXPECT_EQ(weft::detail::request_child_cancel(cell.word), weft::detail::cancel_result::ended);
}

TEST(StrandWord, AGatherChildsEndLeavesARequestPendingBeforeItToEndStrand) {
    weft::detail::strand_cell cell;
    EXPECT_EQ(weft::detail::request_child_cancel(cell.word), weft::detail::cancel_result::accepted);
    EXPECT_EQ(cell.word.load(), weft::detail::strand_bits::requested);
    EXPECT_FALSE(weft::detail::end_child_strand_quickly(cell.word));
    EXPECT_TRUE(weft::detail::end_strand(cell.word));
    EXPECT_EQ(cell.word.load(), weft::detail::strand_bits::ended);
}

// A forwarding target that counts its interruptions.
struct counting_target : weft::detail::cancel_target {
    counting_target() noexcept { interrupt = &on_cancel; }
    static weft::detail::interruption on_cancel(weft::detail::cancel_target& target) noexcept {
        static_cast<counting_target&>(target).interrupted.fetch_add(1);
        return {weft::detail::interruption::outcome::forwarded};
    }
    std::atomic<int> interrupted{0};
};

// The slot's value for `gather`: on one stack, well within its reach.
std::int32_t distance_to(const weft::detail::strand_cell& cell, const counting_target& gather) {
    const std::int32_t distance = weft::detail::forwarding_distance(cell.word, gather);
    EXPECT_NE(distance, 0);
    return distance;
}

std::uintptr_t slot_address(weft::detail::strand_cell& cell) {
    return reinterpret_cast<std::uintptr_t>(&cell.forwarding);
}

TEST(StrandWord, TheSlotReachesTargetsWithin32BitsOfTheWordEitherWay) {
    constexpr std::uintptr_t word = std::uintptr_t{1} << 40;
    EXPECT_EQ(weft::detail::forwarding_distance(word, word + 4096), 4096);
    EXPECT_EQ(weft::detail::forwarding_distance(word, word - 4096), -4096);
    EXPECT_EQ(weft::detail::forwarding_distance(word, word + 0x7ffffff8), 0x7ffffff8);
    EXPECT_EQ(weft::detail::forwarding_distance(word, word + 0x80000000), 0); // the word, then
    EXPECT_EQ(weft::detail::forwarding_distance(word, word - (std::uintptr_t{1} << 33)), 0);
}

TEST(StrandWord, ARequestOnAGatherInTheForwardingSlotInterruptsItOnce) {
    weft::detail::strand_cell cell;
    counting_target gather;
    ASSERT_TRUE(weft::detail::publish_forwarding_target(cell.word, distance_to(cell, gather)));
    EXPECT_EQ(cell.word.load(), 0U); // published in the slot, not the word
    EXPECT_EQ(cell.forwarding.load(), distance_to(cell, gather));

    EXPECT_EQ(weft::detail::request_child_cancel(cell.word), weft::detail::cancel_result::accepted);
    EXPECT_EQ(gather.interrupted.load(), 1);
    EXPECT_EQ(cell.word.load(), slot_address(cell) | weft::detail::strand_bits::delivered);
    EXPECT_EQ(weft::detail::request_child_cancel(cell.word), weft::detail::cancel_result::accepted);
    EXPECT_EQ(gather.interrupted.load(), 1); // a second request adds nothing

    EXPECT_TRUE(weft::detail::leave_forwarding_target(cell.word));
    EXPECT_EQ(cell.word.load(), 0U);
    EXPECT_EQ(cell.forwarding.load(), 0);
}

TEST(StrandWord, AGatherLeftWithNoRequestIsNotCancelledAndALaterRequestWaits) {
    weft::detail::strand_cell cell;
    counting_target gather;
    ASSERT_TRUE(weft::detail::publish_forwarding_target(cell.word, distance_to(cell, gather)));
    EXPECT_FALSE(weft::detail::leave_forwarding_target(cell.word));
    EXPECT_EQ(cell.forwarding.load(), 0);

    // The slot is empty: the request stays pending for the next suspension point.
    EXPECT_EQ(weft::detail::request_child_cancel(cell.word), weft::detail::cancel_result::accepted);
    EXPECT_EQ(gather.interrupted.load(), 0);
    EXPECT_EQ(cell.word.load(), weft::detail::strand_bits::requested);
    EXPECT_TRUE(weft::detail::take_pending_cancel(cell.word));
    EXPECT_EQ(cell.word.load(), 0U);
}

TEST(StrandWord, APublicationThatFindsARequestPendingIsCancelledAtOnce) {
    weft::detail::strand_cell cell;
    counting_target gather;
    ASSERT_EQ(weft::detail::request_child_cancel(cell.word), weft::detail::cancel_result::accepted);
    EXPECT_FALSE(weft::detail::publish_forwarding_target(cell.word, distance_to(cell, gather)));
    EXPECT_EQ(cell.word.load(), slot_address(cell) | weft::detail::strand_bits::delivered);
    EXPECT_EQ(gather.interrupted.load(), 0); // the gather cancels its children itself
    EXPECT_TRUE(weft::detail::leave_forwarding_target(cell.word));
    EXPECT_EQ(cell.word.load(), 0U);
}

TEST(StrandWord, ACancellerOffAWorkerDisarmsWhenItsRequestEnds) {
    const std::uint32_t before = weft::detail::armed_cancellers.load();
    std::thread canceller([] {
        weft::detail::strand_cell cell;
        counting_target gather;
        ASSERT_TRUE(weft::detail::publish_forwarding_target(cell.word, distance_to(cell, gather)));
        weft::detail::request_child_cancel(cell.word);
        EXPECT_EQ(gather.interrupted.load(), 1);
    });
    canceller.join();
    EXPECT_EQ(weft::detail::armed_cancellers.load(), before);
}

// A strand publishing gathers in its slot and leaving them, against a thread that makes one
// request at a time: every request is consumed exactly once, by the suspension it
// interrupted, by the publication that found it pending, or at the running strand's check.
TEST(StrandWord, EveryRequestRacingPublicationsInTheSlotIsConsumedExactlyOnce) {
    constexpr int requests = 3000;
    weft::detail::strand_cell cell;
    counting_target gather;
    std::atomic<int> consumed{0};
    std::atomic<bool> done{false};
    int interrupted_suspensions = 0;
    int delivered_at_publication = 0;
    std::thread strand([&] {
        std::minstd_rand pace(7);
        while (!done.load()) {
            const bool published =
                weft::detail::publish_forwarding_target(cell.word, distance_to(cell, gather));
            delivered_at_publication += published ? 0 : 1;
            for (auto spin = pace() % 64; spin > 0; --spin) {
                weft::detail::cpu_relax();
            }
            const bool cancelled = weft::detail::leave_forwarding_target(cell.word);
            EXPECT_TRUE(cancelled || published);
            interrupted_suspensions += cancelled && published ? 1 : 0;
            int now = cancelled ? 1 : 0;
            now += weft::detail::take_pending_cancel(cell.word) ? 1 : 0;
            consumed.fetch_add(now);
        }
    });
    std::minstd_rand pace(11);
    for (int made = 1; made <= requests; ++made) {
        for (auto spin = pace() % 64; spin > 0; --spin) {
            weft::detail::cpu_relax();
        }
        ASSERT_EQ(weft::detail::request_child_cancel(cell.word),
                  weft::detail::cancel_result::accepted);
        ASSERT_TRUE(weft::testing::eventually([&] { return consumed.load() == made; }));
    }
    done.store(true);
    strand.join();
    EXPECT_EQ(consumed.load(), requests);
    EXPECT_EQ(gather.interrupted.load(), interrupted_suspensions);
    EXPECT_LE(interrupted_suspensions + delivered_at_publication, requests);
    EXPECT_EQ(cell.word.load(), 0U);
}

// Sleeps `delay`; counts how its sleep ended.
weft::coro<> sleeper(std::chrono::nanoseconds delay, std::atomic<int>& woke,
                     std::atomic<int>& cancelled) {
    try {
        co_await weft::sleep(delay);
    } catch (const weft::cancelled_error&) {
        cancelled.fetch_add(1);
        throw;
    }
    woke.fetch_add(1);
}

TEST(Cancellation, SleepingTaskEndsAtOnceWithCancelledError) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> woke{0};
            std::atomic<int> cancelled{0};
            weft::task<> t = weft::create_task(sleeper(1h, woke, cancelled));
            co_await weft::sleep(1s); // the task is now asleep in the wheel
            EXPECT_EQ(timers_pending(), 1u);
            const weft::clock::time_point before = weft::clock::now();

            EXPECT_TRUE(t.cancel());
            EXPECT_THROW(co_await t, weft::cancelled_error);

            EXPECT_EQ(weft::clock::now(), before);
            EXPECT_TRUE(t.done());
            EXPECT_TRUE(t.cancelled());
            EXPECT_EQ(cancelled.load(), 1);
            EXPECT_EQ(woke.load(), 0);
            EXPECT_EQ(timers_pending(), 0u);
        }(),
        one_virtual_worker);
}

TEST(Cancellation, CancelReturnsFalseOnceTheTaskIsDone) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<int> t = weft::create_task([]() -> weft::coro<int> { co_return 7; }());
            EXPECT_EQ(co_await t, 7);
            EXPECT_FALSE(t.cancel());
            EXPECT_FALSE(t.cancelled());
            EXPECT_FALSE(weft::task<>().cancel());
        }(),
        one_virtual_worker);
}

TEST(Cancellation, RunningTaskIsCancelledAtItsNextSuspension) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<bool> cancel_requested{false};
            std::atomic<int> steps_after_request{0};
            weft::task<> t = weft::create_task(
                [](std::atomic<bool>& requested, std::atomic<int>& steps) -> weft::coro<> {
                    while (!requested.load()) {
                        co_await weft::sleep(0s);
                    }
                    steps.fetch_add(1); // runs: the request only lands at a suspension
                    co_await weft::sleep(0s);
                    steps.fetch_add(1);
                }(cancel_requested, steps_after_request));
            co_await weft::sleep(0s); // t is now between two yields
            // With one worker t is not running now, so it is suspended on its yield; the
            // request is delivered at the suspension after it.
            EXPECT_TRUE(t.cancel());
            cancel_requested.store(true);
            EXPECT_THROW(co_await t, weft::cancelled_error);
            EXPECT_TRUE(t.cancelled());
            EXPECT_EQ(steps_after_request.load(), 1);
        }(),
        one_virtual_worker);
}

TEST(Cancellation, RequestMadeWhileRunningIsDeliveredAtTheNextAwait) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<> self_cancelling;
            std::atomic<int> reached{0};
            self_cancelling =
                weft::create_task([](weft::task<>& me, std::atomic<int>& reached) -> weft::coro<> {
                    co_await weft::sleep(0s);
                    EXPECT_TRUE(me.cancel()); // running: nothing to interrupt yet
                    reached.fetch_add(1);
                    co_await weft::sleep(1h); // delivered here, without sleeping
                    reached.fetch_add(1);
                }(self_cancelling, reached));
            const weft::clock::time_point before = weft::clock::now();
            EXPECT_THROW(co_await self_cancelling, weft::cancelled_error);
            EXPECT_EQ(reached.load(), 1);
            EXPECT_EQ(weft::clock::now(), before);
            EXPECT_EQ(timers_pending(), 0u);
        }(),
        one_virtual_worker);
}

TEST(Cancellation, TaskCanCatchCleanUpWithAwaitsAndReturn) {
    const int result = weft::run(
        []() -> weft::coro<int> {
            weft::task<int> t = weft::create_task([]() -> weft::coro<int> {
                try {
                    co_await weft::sleep(1h);
                } catch (const weft::cancelled_error&) {
                }
                co_await weft::sleep(5s); // cleanup that awaits works as usual
                co_return 42;
            }());
            co_await weft::sleep(1s);
            const weft::clock::time_point cancelled_at = weft::clock::now();
            t.cancel();
            const int value = co_await t;
            EXPECT_EQ(weft::clock::now() - cancelled_at, 5s);
            EXPECT_FALSE(t.cancelled());
            co_return value;
        }(),
        one_virtual_worker);
    EXPECT_EQ(result, 42);
}

TEST(Cancellation, CancellingAParentCancelsTheTaskItAwaits) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> woke{0};
            std::atomic<int> cancelled{0};
            weft::task<> child;
            weft::task<> parent =
                weft::create_task([](weft::task<>& child, std::atomic<int>& woke,
                                     std::atomic<int>& cancelled) -> weft::coro<> {
                    child = weft::create_task(sleeper(1h, woke, cancelled));
                    co_await child;
                }(child, woke, cancelled));
            co_await weft::sleep(1s);

            parent.cancel();
            EXPECT_THROW(co_await parent, weft::cancelled_error);

            EXPECT_TRUE(parent.cancelled());
            EXPECT_TRUE(child.done()); // the parent resumed only after the child ended
            EXPECT_TRUE(child.cancelled());
            EXPECT_EQ(cancelled.load(), 1);
        }(),
        two_virtual_workers);
}

TEST(Cancellation, AFailureOfTheCancelledChildReachesTheParentAndIsRetrieved) {
    int reported = 0;
    weft::run(
        []() -> weft::coro<> {
            weft::task<> child = weft::create_task([]() -> weft::coro<> {
                bool cancelled = false;
                try {
                    co_await weft::sleep(1h);
                } catch (const weft::cancelled_error&) {
                    cancelled = true;
                }
                if (cancelled) {
                    co_await weft::sleep(1s);
                    throw std::length_error("cleanup failed");
                }
            }());
            weft::task<> parent = weft::create_task(
                [](weft::task<> child) -> weft::coro<> { co_await child; }(child));
            co_await weft::sleep(1s);
            parent.cancel();
            EXPECT_THROW(co_await parent, std::length_error);
            EXPECT_FALSE(parent.cancelled());
        }(),
        weft::run_options{.workers = 2,
                          .virtual_time = true,
                          .exception_handler = [&](std::exception_ptr) { ++reported; }});
    EXPECT_EQ(reported, 0);
}

TEST(Cancellation, CancellingAChildDoesNotCancelItsParent) {
    const int result = weft::run(
        []() -> weft::coro<int> {
            std::atomic<int> woke{0};
            std::atomic<int> cancelled{0};
            weft::task<> child = weft::create_task(sleeper(1h, woke, cancelled));
            weft::task<int> parent = weft::create_task([](weft::task<> child) -> weft::coro<int> {
                bool child_cancelled = false;
                try {
                    co_await child;
                } catch (const weft::cancelled_error&) {
                    child_cancelled = true;
                }
                co_await weft::sleep(1s); // still running, still able to await
                co_return child_cancelled ? 1 : 0;
            }(child));
            co_await weft::sleep(1s);
            child.cancel();
            const int value = co_await parent;
            EXPECT_FALSE(parent.cancelled());
            EXPECT_TRUE(child.cancelled());
            co_return value;
        }(),
        two_virtual_workers);
    EXPECT_EQ(result, 1);
}

TEST(Cancellation, CancellingAGatherCancelsEveryChildAndWaitsForThem) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> woke{0};
            std::atomic<int> cancelled{0};
            std::atomic<int> cleaned_up{0};
            weft::task<> outer =
                weft::create_task([](std::atomic<int>& woke, std::atomic<int>& cancelled,
                                     std::atomic<int>& cleaned_up) -> weft::coro<> {
                    auto slow_cleanup = [](std::atomic<int>& cleaned_up) -> weft::coro<> {
                        bool cancelled = false;
                        try {
                            co_await weft::sleep(1h);
                        } catch (const weft::cancelled_error&) {
                            cancelled = true; // C++ allows no co_await inside a handler
                        }
                        if (cancelled) {
                            co_await weft::sleep(3s);
                            cleaned_up.fetch_add(1);
                            throw weft::cancelled_error();
                        }
                    };
                    std::vector<weft::coro<>> many;
                    for (int i = 0; i < 50; ++i) {
                        many.push_back(sleeper(1h, woke, cancelled));
                    }
                    co_await weft::gather(weft::gather(std::move(many)), slow_cleanup(cleaned_up),
                                          sleeper(2h, woke, cancelled));
                }(woke, cancelled, cleaned_up));
            co_await weft::sleep(1s);
            const weft::clock::time_point cancelled_at = weft::clock::now();

            outer.cancel();
            EXPECT_THROW(co_await outer, weft::cancelled_error);

            EXPECT_EQ(cancelled.load(), 51);
            EXPECT_EQ(cleaned_up.load(), 1); // the gather waited for the slow cleanup
            EXPECT_EQ(weft::clock::now() - cancelled_at, 3s);
            EXPECT_EQ(woke.load(), 0);
            EXPECT_EQ(timers_pending(), 0u);
        }(),
        two_virtual_workers);
}

TEST(Cancellation, ChildCancelledAloneSurfacesThroughGather) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> woke{0};
            std::atomic<int> cancelled{0};
            weft::task<> child = weft::create_task(sleeper(1h, woke, cancelled));
            weft::task<> canceller = weft::create_task([](weft::task<> child) -> weft::coro<> {
                co_await weft::sleep(1s);
                child.cancel();
            }(child));

            auto [lost, fine] =
                co_await weft::gather(weft::return_exceptions, child, []() -> weft::coro<int> {
                    co_await weft::sleep(2s);
                    co_return 5;
                }());
            EXPECT_THROW(lost.value(), weft::cancelled_error);
            EXPECT_EQ(fine.value(), 5);

            weft::task<> another = weft::create_task(sleeper(1h, woke, cancelled));
            another.cancel();
            EXPECT_THROW(co_await weft::gather(another, weft::sleep(1s)), weft::cancelled_error);
            co_await canceller;
        }(),
        one_virtual_worker);
}

TEST(Cancellation, AwaitingAFutureIsWithdrawnAndTheFutureStaysUsable) {
    weft::run(
        []() -> weft::coro<> {
            weft::future<int> pending;
            weft::task<int> waiter = weft::create_task(
                [](weft::future<int> f) -> weft::coro<int> { co_return co_await f; }(pending));
            weft::task<> in_gather = weft::create_task([](weft::future<int> f) -> weft::coro<> {
                co_await weft::gather(f, weft::sleep(1h));
            }(pending));
            co_await weft::sleep(1s);

            waiter.cancel();
            in_gather.cancel();
            EXPECT_THROW(co_await waiter, weft::cancelled_error);
            EXPECT_THROW(co_await in_gather, weft::cancelled_error);

            EXPECT_FALSE(pending.done());
            pending.set_result(3);
            EXPECT_EQ(co_await pending, 3);
        }(),
        one_virtual_worker);
}

TEST(Cancellation, SleepThenCancelCyclesLeaveTheWheelEmpty) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> woke{0};
            std::atomic<int> cancelled{0};
            for (int cycle = 0; cycle < 20'000; ++cycle) {
                weft::task<> t = weft::create_task(sleeper(1h, woke, cancelled));
                co_await weft::sleep(0s); // let it start sleeping
                t.cancel();
                try {
                    co_await t;
                } catch (const weft::cancelled_error&) {
                }
                EXPECT_EQ(timers_pending(), 0u);
            }
            EXPECT_EQ(cancelled.load(), 20'000);
        }(),
        one_virtual_worker);
}

// Races: each round a task is cancelled about when it would end anyway. Whatever wins,
// it ends exactly once, normally, by cancellation, or cancelled before its first step, and
// is never resumed twice.
TEST(CancellationRace, CancelAgainstTimerExpiryEndsEachTaskOnce) {
    for (std::size_t workers : {1u, 2u}) {
        std::atomic<int> woke{0};
        std::atomic<int> cancelled{0};
        int ended_normally = 0;
        int ended_cancelled = 0;
        weft::run(
            [](std::atomic<int>& woke, std::atomic<int>& cancelled, int& ended_normally,
               int& ended_cancelled) -> weft::coro<> {
                std::minstd_rand random(11);
                for (int round = 0; round < 2'000; ++round) {
                    weft::task<> t = weft::create_task(
                        sleeper(std::chrono::microseconds(random() % 20), woke, cancelled));
                    for (unsigned spin = random() % 400; spin > 0; --spin) {
                        weft::detail::cpu_relax();
                    }
                    t.cancel();
                    try {
                        co_await t;
                        ++ended_normally;
                    } catch (const weft::cancelled_error&) {
                        ++ended_cancelled;
                    }
                }
            }(woke, cancelled, ended_normally, ended_cancelled),
            weft::run_options{.workers = workers});
        EXPECT_EQ(ended_normally + ended_cancelled, 2'000);
        // A body takes one path at most: it may never start, and one that woke may still
        // end cancelled (the request was pending when it returned).
        EXPECT_LE(woke.load() + cancelled.load(), 2'000);
        EXPECT_LE(ended_normally, woke.load());
        EXPECT_LE(cancelled.load(), ended_cancelled);
    }
}

TEST(CancellationRace, CancelAgainstAFutureCompletedFromAnotherThread) {
    std::atomic<int> got_value{0};
    std::atomic<int> got_cancelled{0};
    weft::run(
        [](std::atomic<int>& got_value, std::atomic<int>& got_cancelled) -> weft::coro<> {
            for (int round = 0; round < 2'000; ++round) {
                weft::future<int> f;
                weft::future<> started;
                weft::task<> t = weft::create_task([](weft::future<int> f, weft::future<> started,
                                                      std::atomic<int>& value,
                                                      std::atomic<int>& cancelled) -> weft::coro<> {
                    started.set_result(); // a task cancelled before it starts never runs
                    try {
                        EXPECT_EQ(co_await f, 9);
                        value.fetch_add(1);
                    } catch (const weft::cancelled_error&) {
                        cancelled.fetch_add(1);
                    }
                }(f, started, got_value, got_cancelled));
                co_await started;
                std::thread producer([f]() mutable { f.set_result(9); });
                t.cancel();
                producer.join();
                try {
                    co_await t; // cancelled after all if the value won but the request waited
                } catch (const weft::cancelled_error&) {
                }
            }
        }(got_value, got_cancelled),
        weft::run_options{.workers = 2});
    EXPECT_EQ(got_value.load() + got_cancelled.load(), 2'000);
}

// Counted from the task bodies of ForeignThreadCancelsMigratingTasks, which capture nothing.
std::atomic<int> started{0};

TEST(CancellationRace, ForeignThreadCancelsMigratingTasks) {
    constexpr int tasks = 200;
    started.store(0);
    std::atomic<int> ended{0};
    std::atomic<int> cancelled{0};
    std::vector<weft::task<>> handles(tasks);
    std::atomic<bool> launched{false};
    std::thread canceller([&] {
        ASSERT_TRUE(weft::testing::eventually([&] { return launched.load(); }));
        std::minstd_rand random(5);
        for (int i = 0; i < tasks; ++i) {
            handles[random() % tasks].cancel();
            std::this_thread::sleep_for(std::chrono::microseconds(random() % 50));
        }
        for (weft::task<>& each : handles) {
            each.cancel();
        }
    });
    weft::run(
        [](std::vector<weft::task<>>& handles, std::atomic<int>& ended, std::atomic<int>& cancelled,
           std::atomic<bool>& launched) -> weft::coro<> {
            for (weft::task<>& slot : handles) {
                slot = weft::create_task(
                    [](std::atomic<int>& ended, std::atomic<int>& cancelled) -> weft::coro<> {
                        started.fetch_add(1);
                        try {
                            for (;;) { // hops between workers: every yield may be stolen
                                co_await weft::sleep(std::chrono::microseconds(10));
                                co_await weft::sleep(0s);
                            }
                        } catch (const weft::cancelled_error&) {
                            cancelled.fetch_add(1);
                        }
                        ended.fetch_add(1);
                    }(ended, cancelled));
            }
            launched.store(true);
            for (weft::task<>& each : handles) {
                try {
                    co_await each;
                } catch (const weft::cancelled_error&) {
                    // before its first step, or by the second request after catching one
                }
            }
        }(handles, ended, cancelled, launched),
        weft::run_options{.workers = 2});
    canceller.join();
    // Every task ended: the ones that started, through their catch; the others, cancelled
    // before their first step.
    EXPECT_EQ(started.load(), ended.load());
    EXPECT_EQ(cancelled.load(), ended.load());
    int ended_cancelled = 0;
    for (const weft::task<>& each : handles) {
        EXPECT_TRUE(each.done());
        ended_cancelled += each.cancelled() ? 1 : 0;
    }
    EXPECT_GE(ended_cancelled, tasks - started.load());
}

// Counts the frames of a tree that took their first step and those that ended.
struct tree_nodes {
    std::atomic<long> started{0};
    std::atomic<long> ended{0};
};

// A ternary fork-join tree whose leaves yield twice: below the top, every node is a gather
// child and publishes its gather in its strand's forwarding slot.
weft::coro<long> yielding_tree(int depth, tree_nodes& nodes) {
    nodes.started.fetch_add(1);
    struct end_counter {
        std::atomic<long>& ended;
        ~end_counter() { ended.fetch_add(1); }
    } const counted{nodes.ended};
    if (depth == 0) {
        co_await weft::sleep(0s);
        co_await weft::sleep(0s);
        co_return 1;
    }
    auto [a, b, c] =
        co_await weft::gather(yielding_tree(depth - 1, nodes), yielding_tree(depth - 1, nodes),
                              yielding_tree(depth - 1, nodes));
    co_return a + b + c;
}

// A thread that is not a worker cancels trees running at two workers, at random points: the
// request reaches the nodes through their forwarding slots, and each tree either returns its
// sum or ends cancelled, with every node that started ended.
TEST(CancellationRace, ForeignCancelOfAForkJoinTreeEndsEveryNodeOnce) {
    constexpr int rounds = 60;
    tree_nodes nodes;
    std::vector<weft::task<long>> trees(rounds);
    std::atomic<int> launched{0};
    std::atomic<int> requested{0};
    std::thread canceller([&] {
        std::minstd_rand random(31);
        for (int round = 0; round < rounds; ++round) {
            while (launched.load() <= round) {
                std::this_thread::yield(); // polled, so that the request follows the launch
            }
            for (auto spin = random() % 3000; spin > 0; --spin) {
                weft::detail::cpu_relax();
            }
            trees[round].cancel();
            requested.store(round + 1);
        }
    });
    int returned = 0;
    int cancelled = 0;
    weft::run(
        [](std::vector<weft::task<long>>& trees, tree_nodes& nodes, std::atomic<int>& launched,
           std::atomic<int>& requested, int& returned, int& cancelled) -> weft::coro<> {
            for (int round = 0; round < rounds; ++round) {
                trees[round] = weft::create_task(yielding_tree(6, nodes));
                launched.store(round + 1);
                try {
                    EXPECT_EQ(co_await trees[round], 729);
                    ++returned;
                } catch (const weft::cancelled_error&) {
                    ++cancelled;
                }
                while (requested.load() <= round) {
                    co_await weft::sleep(0s);
                }
            }
        }(trees, nodes, launched, requested, returned, cancelled),
        weft::run_options{.workers = 2});
    canceller.join();
    EXPECT_EQ(returned + cancelled, rounds);
    EXPECT_EQ(nodes.started.load(), nodes.ended.load());
    EXPECT_GT(nodes.ended.load(), 0);
}

// Deadlines over the same trees: the watchdog, on a worker, cancels the work through its
// slot, and the worker stays armed as a canceller across the rounds.
TEST(CancellationRace, DeadlinesOverForkJoinTreesEndEveryNodeOnce) {
    constexpr int rounds = 60;
    tree_nodes nodes;
    int returned = 0;
    int timed_out = 0;
    weft::run(
        [](tree_nodes& nodes, int& returned, int& timed_out) -> weft::coro<> {
            std::minstd_rand random(37);
            for (int round = 0; round < rounds; ++round) {
                const auto limit = std::chrono::microseconds(random() % 200);
                try {
                    EXPECT_EQ(co_await weft::wait_for(yielding_tree(5, nodes), limit), 243);
                    ++returned;
                } catch (const weft::timeout_error&) {
                    ++timed_out;
                }
            }
        }(nodes, returned, timed_out),
        weft::run_options{.workers = 2});
    EXPECT_EQ(returned + timed_out, rounds);
    EXPECT_EQ(nodes.started.load(), nodes.ended.load());
}

// Tasks that return after a short random spin, with no suspension point, cancelled from
// another thread: the request lands before a task starts, while it runs, as it ends or after.
// cancel() must agree with the task's end, as asyncio's Task.cancel() does: true, and the task
// ends cancelled; false only for a task that is done, with its value.
TEST(CancellationRace, CancelFromAnotherThreadAgreesWithHowEachTaskEnded) {
    constexpr int rounds = 40;
    constexpr int tasks = 64;
    int disagreements = 0;
    int cancelled = 0;
    weft::run(
        [](int& disagreements, int& cancelled) -> weft::coro<> {
            std::minstd_rand random(23);
            for (int round = 0; round < rounds; ++round) {
                std::vector<weft::task<int>> running;
                for (int i = 0; i < tasks; ++i) {
                    const auto pauses = static_cast<int>(random() % 4000);
                    running.push_back(weft::create_task([](int pauses, int i) -> weft::coro<int> {
                        for (int spin = 0; spin < pauses; ++spin) {
                            weft::detail::cpu_relax();
                        }
                        co_return i;
                    }(pauses, i)));
                }
                std::vector<char> accepted(tasks);
                std::thread canceller([&running, &accepted, seed = random()] {
                    std::minstd_rand pace(seed);
                    for (int i = 0; i < tasks; ++i) {
                        for (auto spin = pace() % 2000; spin > 0; --spin) {
                            weft::detail::cpu_relax();
                        }
                        accepted[i] = running[i].cancel() ? 1 : 0;
                    }
                });
                std::vector<char> ended_cancelled(tasks);
                for (int i = 0; i < tasks; ++i) {
                    try {
                        EXPECT_EQ(co_await running[i], i);
                    } catch (const weft::cancelled_error&) {
                        ended_cancelled[i] = 1;
                    }
                }
                canceller.join();
                for (int i = 0; i < tasks; ++i) {
                    disagreements += accepted[i] != ended_cancelled[i] ? 1 : 0;
                    cancelled += ended_cancelled[i];
                }
            }
        }(disagreements, cancelled),
        weft::run_options{.workers = 2});
    EXPECT_EQ(disagreements, 0);
    EXPECT_GT(cancelled, 0);
}

// asyncio never loses a cancel(): a request still pending when the task returns ends it
// cancelled, whoever made it and even with no suspension point after it.
TEST(Cancellation, RequestPendingWhenTheTaskReturnsEndsItCancelled) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<int> self_cancelling;
            std::atomic<bool> cancel_returned{false};
            std::atomic<bool> body_finished{false};
            self_cancelling = weft::create_task([](weft::task<int>& me, std::atomic<bool>& returned,
                                                   std::atomic<bool>& finished) -> weft::coro<int> {
                returned.store(me.cancel());
                finished.store(true);
                co_return 7; // no suspension point after the request
            }(self_cancelling, cancel_returned, body_finished));
            EXPECT_THROW(co_await self_cancelling, weft::cancelled_error);
            EXPECT_TRUE(cancel_returned.load());
            EXPECT_TRUE(body_finished.load());
            EXPECT_TRUE(self_cancelling.cancelled());
            EXPECT_FALSE(self_cancelling.cancel()); // done now
        }(),
        one_virtual_worker);
}

TEST(Cancellation, RequestFromAnotherTaskWhileRunningEndsAReturningTaskCancelled) {
    weft::run(
        []() -> weft::coro<> {
            weft::future<> started;
            weft::future<> cancelled_it;
            weft::task<int> target =
                weft::create_task([](weft::future<> started, weft::future<> go) -> weft::coro<int> {
                    started.set_result();
                    co_await go; // resumed by the canceller's own step, below
                    co_return 1; // returns without another suspension
                }(started, cancelled_it));
            co_await started;
            // Completing the future makes target ready; cancelling right after, before it
            // runs, leaves the request pending (the future wait is already over).
            cancelled_it.set_result();
            EXPECT_TRUE(target.cancel());
            EXPECT_THROW(co_await target, weft::cancelled_error);
            EXPECT_TRUE(target.cancelled());
        }(),
        one_virtual_worker);
}

TEST(Cancellation, TaskCancelledBeforeItsFirstStepRunsNoCode) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> ran{0};
            weft::task<> never_started =
                weft::create_task([](std::atomic<int>& ran) -> weft::coro<> {
                    ran.fetch_add(1);
                    co_return;
                }(ran));
            EXPECT_TRUE(never_started.cancel());
            EXPECT_THROW(co_await never_started, weft::cancelled_error);
            EXPECT_TRUE(never_started.cancelled());
            EXPECT_EQ(ran.load(), 0);
        }(),
        one_virtual_worker);
}

TEST(Cancellation, GatherCancelledBeforeItsChildrenStartRunsNone) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> ran{0};
            auto child = [](std::atomic<int>& ran) -> weft::coro<> {
                ran.fetch_add(1);
                co_return;
            };
            weft::task<> t;
            t = weft::create_task(
                [](weft::task<>& me, std::atomic<int>& ran, auto child) -> weft::coro<> {
                    EXPECT_TRUE(me.cancel()); // pending when the gather starts its children
                    co_await weft::gather(child(ran), child(ran));
                }(t, ran, child));
            EXPECT_THROW(co_await t, weft::cancelled_error);
            EXPECT_EQ(ran.load(), 0);
        }(),
        one_virtual_worker);
}

TEST(Cancellation, TaskAwaitingItselfIsAnInvalidStateError) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<> self;
            self = weft::create_task([](weft::task<>& me) -> weft::coro<> {
                co_await weft::sleep(0s);
                try {
                    co_await me;
                    ADD_FAILURE() << "a task awaited itself";
                } catch (const weft::invalid_state_error& error) {
                    EXPECT_NE(std::string(error.what()).find("cannot await itself"),
                              std::string::npos);
                }
            }(self));
            co_await self;
            EXPECT_FALSE(self.cancelled());
        }(),
        one_virtual_worker);
}

TEST(Cancellation, TaskAwaitingItselfThroughAnInlineCoroutineIsAnInvalidStateError) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<> self;
            self = weft::create_task([](weft::task<>& me) -> weft::coro<> {
                co_await [](weft::task<>& me) -> weft::coro<> { co_await me; }(me);
            }(self));
            EXPECT_THROW(co_await self, weft::invalid_state_error);
        }(),
        one_virtual_worker);
}

// A awaits B and B awaits A: neither can end, but a cancellation, forwarded round the
// cycle, breaks it instead of waiting for itself.
TEST(Cancellation, CycleOfAwaitsIsBrokenByCancellingEitherEnd) {
    for (const bool cancel_first : {true, false}) {
        for (const weft::run_options& options : {one_virtual_worker, two_virtual_workers}) {
            weft::run(
                [](bool cancel_first) -> weft::coro<> {
                    weft::task<> a;
                    weft::task<> b;
                    a = weft::create_task([](weft::task<>& other) -> weft::coro<> {
                        co_await weft::sleep(1s);
                        co_await other;
                    }(b));
                    b = weft::create_task([](weft::task<>& other) -> weft::coro<> {
                        co_await weft::sleep(1s);
                        co_await other;
                    }(a));
                    co_await weft::sleep(1h); // both now wait for each other
                    EXPECT_FALSE(a.done());
                    EXPECT_FALSE(b.done());
                    EXPECT_TRUE((cancel_first ? a : b).cancel());
                    EXPECT_THROW(co_await a, weft::cancelled_error);
                    EXPECT_THROW(co_await b, weft::cancelled_error);
                }(cancel_first),
                options);
        }
    }
}

TEST(Cancellation, LongerCycleThroughAGatherIsBroken) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<> a;
            weft::task<> b;
            weft::task<> c;
            auto awaits = [](weft::task<>& other) -> weft::coro<> {
                co_await weft::sleep(1s);
                co_await weft::gather(other, weft::sleep(2h));
            };
            a = weft::create_task(awaits(b));
            b = weft::create_task(awaits(c));
            c = weft::create_task(awaits(a));
            co_await weft::sleep(1h);
            EXPECT_TRUE(b.cancel());
            EXPECT_THROW(co_await a, weft::cancelled_error);
            EXPECT_THROW(co_await b, weft::cancelled_error);
            EXPECT_THROW(co_await c, weft::cancelled_error);
        }(),
        one_virtual_worker);
}

TEST(Cancellation, CancellingATaskThatFailedRetrievesItsException) {
    std::atomic<int> reported{0};
    weft::run(
        []() -> weft::coro<> {
            weft::task<> failing = weft::create_task([]() -> weft::coro<> {
                throw std::runtime_error("nobody looks");
                co_return;
            }());
            co_await weft::sleep(1s);
            EXPECT_TRUE(failing.done());
            EXPECT_FALSE(failing.cancel());
        }(),
        weft::run_options{.workers = 1,
                          .virtual_time = true,
                          .exception_handler = [&](std::exception_ptr) { ++reported; }});
    EXPECT_EQ(reported.load(), 0);
}

} // namespace
