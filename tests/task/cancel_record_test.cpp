// Tests a task's cancel record (runtime/task/cancel_record.cpp) through weft::task:
// cancel(message) and the message the task, its awaiters, the waits it is cancelled in and
// the tasks it forwards the cancellation to see; which message wins when several requests come
// before delivery; cancelling()'s count and uncancel(), including dropping an undelivered request
// at zero; and records ending with their tasks. Then, on a bare task header, a request racing
// the task's end: it is seen by the end, or reported as too late, never lost.
#include <weft/detail/cancel_record.hpp>
#include <weft/detail/cpu_relax.hpp>
#include <weft/detail/frame_header.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::one_virtual_worker;

// Sleeps long; returns the message of the cancellation it caught, and rethrows it.
weft::coro<> sleep_and_record(std::string& seen) {
    try {
        co_await weft::sleep(1h);
    } catch (const weft::cancelled_error& error) {
        seen = std::string(error.message());
        throw;
    }
}

// The message of the cancelled_error that awaiting `t` throws.
weft::coro<std::string> message_of(const weft::task<>& t) {
    try {
        co_await t;
    } catch (const weft::cancelled_error& error) {
        co_return std::string(error.message());
    }
    ADD_FAILURE() << "the task was not cancelled";
    co_return std::string();
}

weft::coro<> await_task(weft::task<> t) {
    co_await t;
}

TEST(CancelRecord, TheTaskSeesTheMessageAndSoDoItsAwaiters) {
    weft::run(
        []() -> weft::coro<> {
            std::string seen;
            weft::task<> t = weft::create_task(sleep_and_record(seen));
            co_await weft::sleep(1s);
            EXPECT_TRUE(t.cancel("shutting down"));
            EXPECT_EQ(co_await message_of(t), "shutting down");
            EXPECT_EQ(seen, "shutting down");
            EXPECT_TRUE(t.cancelled());
            try {
                std::rethrow_exception(t.exception());
            } catch (const weft::cancelled_error& error) {
                EXPECT_STREQ(error.what(), "shutting down");
            }
        }(),
        one_virtual_worker);
}

TEST(CancelRecord, APlainCancelCarriesNoMessage) {
    weft::run(
        []() -> weft::coro<> {
            std::string seen = "unset";
            weft::task<> t = weft::create_task(sleep_and_record(seen));
            co_await weft::sleep(1s);
            EXPECT_TRUE(t.cancel());
            EXPECT_EQ(co_await message_of(t), "");
            EXPECT_EQ(seen, "");
            EXPECT_STREQ(weft::cancelled_error().what(), "the weft task was cancelled");
        }(),
        one_virtual_worker);
}

TEST(CancelRecord, AnotherTaskAwaitingTheCancelledOneGetsItsMessage) {
    weft::run(
        []() -> weft::coro<> {
            std::string seen;
            weft::task<> inner = weft::create_task(sleep_and_record(seen));
            weft::task<> outer = weft::create_task(await_task(inner));
            co_await weft::sleep(1s);
            EXPECT_TRUE(inner.cancel("inner only"));
            EXPECT_EQ(co_await message_of(outer), "inner only");
            EXPECT_TRUE(outer.cancelled());
            EXPECT_EQ(outer.cancelling(), 0u); // the outer task was never asked to stop
        }(),
        one_virtual_worker);
}

TEST(CancelRecord, ACancellationForwardedToAnAwaitedTaskCarriesTheMessageAndCounts) {
    weft::run(
        []() -> weft::coro<> {
            std::string seen;
            weft::task<> inner = weft::create_task(sleep_and_record(seen));
            weft::task<> outer = weft::create_task(await_task(inner));
            weft::task<> in_gather = weft::create_task(
                [](weft::task<> inner) -> weft::coro<> { co_await weft::gather(inner); }(inner));
            co_await weft::sleep(1s);
            EXPECT_TRUE(outer.cancel("outer's"));
            EXPECT_EQ(co_await message_of(outer), "outer's");
            EXPECT_EQ(seen, "outer's"); // as asyncio passes msg to what the task awaits
            EXPECT_EQ(inner.cancelling(), 1u);
            EXPECT_EQ(outer.cancelling(), 1u);
            // The gather awaiting the ended task has nothing left to forward.
            in_gather.cancel();
            EXPECT_EQ(inner.cancelling(), 1u);
            EXPECT_THROW(co_await in_gather, weft::cancelled_error);
        }(),
        one_virtual_worker);
}

TEST(CancelRecord, TheMessageReachesATaskWhereverItWaits) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<> in_timeout = weft::create_task([]() -> weft::coro<> {
                co_await weft::timeout(1h, []() -> weft::coro<> { co_await weft::sleep(2h); });
            }());
            weft::task<> in_group = weft::create_task([]() -> weft::coro<> {
                co_await weft::with_task_group([](weft::task_group& group) -> weft::coro<> {
                    group.create_task(weft::sleep(2h));
                    co_await weft::sleep(2h);
                });
            }());
            weft::task<> in_gather = weft::create_task([]() -> weft::coro<> {
                co_await weft::gather(weft::sleep(2h), weft::sleep(3h));
            }());
            weft::event never;
            weft::task<> on_event =
                weft::create_task([](weft::event& e) -> weft::coro<> { co_await e.wait(); }(never));
            co_await weft::sleep(1s);
            in_timeout.cancel("timeout's");
            in_group.cancel("group's");
            in_gather.cancel("gather's");
            on_event.cancel("event's");
            EXPECT_EQ(co_await message_of(in_timeout), "timeout's");
            EXPECT_EQ(co_await message_of(in_group), "group's");
            EXPECT_EQ(co_await message_of(in_gather), "gather's");
            EXPECT_EQ(co_await message_of(on_event), "event's");
        }(),
        one_virtual_worker);
}

TEST(CancelRecord, WhileTheTaskHasNotRunTheLastMessageWins) {
    weft::run(
        []() -> weft::coro<> {
            bool ran = false;
            weft::task<> t = weft::create_task([](bool& ran) -> weft::coro<> {
                ran = true;
                co_return;
            }(ran));
            EXPECT_TRUE(t.cancel("first"));
            EXPECT_TRUE(t.cancel("second"));
            EXPECT_EQ(t.cancelling(), 2u);
            EXPECT_EQ(co_await message_of(t), "second");
            EXPECT_FALSE(ran);
        }(),
        one_virtual_worker);
}

TEST(CancelRecord, OnceDeliveryBeganALaterMessageChangesNothing) {
    weft::run(
        []() -> weft::coro<> {
            std::string seen;
            weft::task<> t = weft::create_task(sleep_and_record(seen));
            co_await weft::sleep(1s);
            // The first takes the task out of its sleep and makes it ready; it has not run
            // when the second comes, which asyncio counts but does not deliver.
            EXPECT_TRUE(t.cancel("first"));
            EXPECT_TRUE(t.cancel("second"));
            EXPECT_EQ(t.cancelling(), 2u);
            EXPECT_EQ(co_await message_of(t), "first");
            EXPECT_EQ(seen, "first");
        }(),
        one_virtual_worker);
}

TEST(CancelRecord, CancellingCountsRequestsOnATaskNotDone) {
    weft::run(
        []() -> weft::coro<> {
            EXPECT_EQ(weft::task<>().cancelling(), 0u);
            EXPECT_EQ(weft::task<>().uncancel(), 0u);
            std::string seen;
            weft::task<> t = weft::create_task(sleep_and_record(seen));
            EXPECT_EQ(t.cancelling(), 0u);
            co_await weft::sleep(1s);
            EXPECT_TRUE(t.cancel());
            EXPECT_TRUE(t.cancel("again"));
            EXPECT_TRUE(t.cancel());
            EXPECT_EQ(t.cancelling(), 3u);
            co_await message_of(t);
            EXPECT_FALSE(t.cancel()); // done: not counted, as in asyncio
            EXPECT_EQ(t.cancelling(), 3u);
        }(),
        one_virtual_worker);
}

// The shutdown's cancellation of a task still pending when main ends counts, as
// asyncio.run's task.cancel() does.
TEST(CancelRecord, TheShutdownsCancellationIsCounted) {
    std::size_t counted = 0;
    weft::run(
        [](std::size_t& out) -> weft::coro<> {
            weft::task<> pending;
            pending =
                weft::create_task([](const weft::task<>& self, std::size_t& seen) -> weft::coro<> {
                    try {
                        co_await weft::sleep(std::chrono::hours(1));
                    } catch (const weft::cancelled_error&) {
                        seen = self.cancelling();
                        throw;
                    }
                }(pending, out));
            co_await weft::sleep(1s);
        }(counted),
        one_virtual_worker);
    EXPECT_EQ(counted, 1u);
}

TEST(CancelRecord, UncancelWithdrawsOneRequestAndNeverGoesBelowZero) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<int> self;
            weft::task<int> t = weft::create_task([](weft::task<int>& self) -> weft::coro<int> {
                int left = -1;
                try {
                    co_await weft::sleep(1h);
                } catch (const weft::cancelled_error&) {
                    self.uncancel(); // handled on purpose
                    left = static_cast<int>(self.uncancel());
                }
                EXPECT_EQ(self.uncancel(), 0u);
                co_await weft::sleep(1s); // no request left to deliver
                co_return left;
            }(self));
            self = t;
            co_await weft::sleep(1s);
            t.cancel();
            t.cancel();
            EXPECT_EQ(co_await t, 0);
            EXPECT_FALSE(t.cancelled());
            EXPECT_EQ(t.cancelling(), 0u);
        }(),
        one_virtual_worker);
}

TEST(CancelRecord, UncancelToZeroDropsARequestNotYetDelivered) {
    weft::run(
        []() -> weft::coro<> {
            weft::task<int> t = weft::create_task([]() -> weft::coro<int> {
                co_await weft::sleep(1s);
                co_return 7;
            }());
            EXPECT_TRUE(t.cancel("never seen"));
            EXPECT_EQ(t.uncancel(), 0u);
            EXPECT_EQ(co_await t, 7);
            EXPECT_FALSE(t.cancelled());

            weft::task<int> twice = weft::create_task([]() -> weft::coro<int> { co_return 8; }());
            twice.cancel();
            twice.cancel();
            EXPECT_EQ(twice.uncancel(), 1u); // one request left: still delivered
            EXPECT_THROW(co_await twice, weft::cancelled_error);
        }(),
        one_virtual_worker);
}

TEST(CancelRecord, ARecordEndsWithItsTask) {
    weft::run(
        []() -> weft::coro<> {
            // Frames are recycled: a new task at a freed one's address starts with no
            // request counted and no message left over.
            for (int round = 0; round < 100; ++round) {
                {
                    std::string seen;
                    weft::task<> t = weft::create_task(sleep_and_record(seen));
                    co_await weft::sleep(1ms);
                    t.cancel("old");
                    t.cancel("older");
                    co_await message_of(t);
                }
                std::string seen;
                weft::task<> fresh = weft::create_task(sleep_and_record(seen));
                EXPECT_EQ(fresh.cancelling(), 0u);
                co_await weft::sleep(1ms);
                fresh.cancel();
                EXPECT_EQ(co_await message_of(fresh), "");
            }
        }(),
        one_virtual_worker);
}

// Loops over yields until cancelled; returns the message it was cancelled with.
weft::coro<std::string> spin_until_cancelled() {
    try {
        for (;;) {
            co_await weft::sleep(0s);
        }
    } catch (const weft::cancelled_error& error) {
        co_return std::string(error.message());
    }
}

TEST(CancelRecordRace, MessagesFromAnotherThreadReachTheirOwnTaskOnly) {
    constexpr int rounds = 200;
    constexpr int tasks = 8;
    weft::run(
        []() -> weft::coro<> {
            for (int round = 0; round < rounds; ++round) {
                std::vector<weft::task<std::string>> running;
                for (int i = 0; i < tasks; ++i) {
                    running.push_back(weft::create_task(spin_until_cancelled()));
                }
                std::thread canceller([&running] {
                    for (int i = 0; i < tasks; ++i) {
                        running[i].cancel("task " + std::to_string(i));
                        running[i].cancel("task " + std::to_string(i) + " again");
                    }
                });
                for (int i = 0; i < tasks; ++i) {
                    std::string seen;
                    try {
                        seen = co_await running[i];
                    } catch (const weft::cancelled_error& error) {
                        seen = std::string(error.message()); // cancelled before it ran
                    }
                    const std::string sent = "task " + std::to_string(i);
                    EXPECT_TRUE(seen == sent || seen == sent + " again") << seen;
                }
                canceller.join();
                for (int i = 0; i < tasks; ++i) {
                    const std::size_t counted = running[i].cancelling();
                    EXPECT_TRUE(counted == 1 || counted == 2) << counted;
                }
            }
        }(),
        weft::run_options{.workers = 2});
}

// A task's header and the start of its frame, where the promise keeps the strand word: enough
// for a task's end (complete_and_release_task) and task::cancel's request (cancel_task) to
// meet, with no coroutine and no runtime.
struct bare_task {
    bare_task() { reset(); }
    // A task that runs, held by the running reference and one handle: its end never frees it.
    void reset() {
        ::new (&header) weft::detail::frame_header();
        header.set_references(2);
        for (std::atomic<std::uintptr_t>& word : frame) {
            word.store(0);
        }
    }
    alignas(16) weft::detail::frame_header header;
    std::array<std::atomic<std::uintptr_t>, 4> frame{};
};
static_assert(offsetof(bare_task, frame) == sizeof(weft::detail::frame_header));
static_assert(weft::detail::frame_header::task_strand_offset ==
              3 * sizeof(std::atomic<std::uintptr_t>));

constexpr weft::detail::unretrieved_check no_check = [](weft::detail::frame_header*) noexcept {};
std::atomic<bool> end_saw_request{false};

// The end's pending_cancel_end: what a task's end does when its completion finds a request.
void note_request_at_end(weft::detail::frame_header* header) noexcept {
    if (weft::detail::end_strand(header->task_strand())) {
        weft::detail::note_consumed(header->task_strand());
        weft::detail::take_consumed_message();
        end_saw_request.store(true);
    }
}

void spin(unsigned pauses) {
    for (unsigned i = 0; i < pauses; ++i) {
        weft::detail::cpu_relax();
    }
}

// The end reads the strand word with a load and ends it with a plain store: a request that
// lands between the two is overwritten. cancel() must then report the task ended, and in
// every other case its request must reach the end. Each round starts both sides together,
// each after a random few pauses, so that the request sweeps across the end's steps.
TEST(CancelRecordRace, ARequestRacingATasksEndIsSeenByItOrReportedTooLate) {
    constexpr int rounds = 100'000;
    bare_task task;
    std::atomic<int> started{0};
    std::atomic<int> finished{0};
    std::minstd_rand random(11);
    std::array<unsigned, 2> delays{};
    std::thread ender([&] {
        for (int round = 0; round < rounds; ++round) {
            while (started.load() <= round) {
                weft::detail::cpu_relax();
            }
            spin(delays[0]);
            weft::detail::complete_and_release_task(&task.header, &no_check, &note_request_at_end);
            finished.fetch_add(1);
        }
    });
    int lost = 0;
    int phantom = 0;
    int seen = 0;
    for (int round = 0; round < rounds; ++round) {
        delays = {static_cast<unsigned>(random() % 48), static_cast<unsigned>(random() % 48)};
        started.fetch_add(1);
        spin(delays[1]);
        const bool accepted = weft::detail::cancel_task(task.header, nullptr);
        while (finished.load() <= round) {
            weft::detail::cpu_relax();
        }
        EXPECT_TRUE(task.header.waiters.done());
        const bool saw = end_saw_request.exchange(false);
        lost += accepted && !saw ? 1 : 0;
        phantom += !accepted && saw ? 1 : 0;
        seen += saw ? 1 : 0;
        weft::detail::forget_cancel_record(task.header);
        task.reset();
    }
    ender.join();
    EXPECT_EQ(lost, 0) << "requests accepted that the task's end never saw";
    EXPECT_EQ(phantom, 0) << "requests the end consumed that cancel() reported too late";
    // Both outcomes happen, or the rounds did not race.
    EXPECT_GT(seen, 0);
    EXPECT_LT(seen, rounds);
}

} // namespace
