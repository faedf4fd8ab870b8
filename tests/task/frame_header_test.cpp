// Tests the lifetime of task frames (runtime/task/frame_header.cpp): the frame is destroyed
// exactly once, when the task has ended and its last handle is gone, whichever comes last
// and on whichever thread, also with more handles than the waiter list's word counts; a frame
// torn down at shutdown, of a size class or larger, keeps its header for surviving handles; and a
// failed task whose exception nobody retrieved is reported when its last reference goes, to the
// runtime's exception handler or to stderr.
#include <weft/detail/waiter_list.hpp>
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using weft::testing::one_virtual_worker;

weft::coro<int> counted(weft::future<> gate, weft::testing::destruction_counter) {
    co_await gate;
    co_return 1;
}

// Copies a task's handle `handles` times, while it is pending or once it has finished,
// awaits it and drops the handles: the frame goes with the last of them, not before. One
// worker: the task wakes its awaiter before it drops its running reference, so on two workers
// the awaiter may drop the handles first and the task's own reference be the last.
void expect_last_handle_destroys_the_task(std::size_t handles, bool copied_while_pending) {
    std::atomic<int> destroyed{0};
    weft::run(
        [](std::atomic<int>& count, std::size_t copies_made, bool pending) -> weft::coro<> {
            weft::future<> gate;
            weft::task<int> t =
                weft::create_task(counted(gate, weft::testing::destruction_counter(count)));
            std::vector<weft::task<int>> copies;
            if (pending) {
                copies.assign(copies_made, t);
            }
            gate.set_result();
            EXPECT_EQ(co_await t, 1);
            if (!pending) {
                copies.assign(copies_made, t);
            }
            t = weft::task<int>();
            copies.resize(1);
            EXPECT_EQ(count.load(), 0);
            copies.clear();
            EXPECT_EQ(count.load(), 1);
        }(destroyed, handles, copied_while_pending),
        weft::run_options{.workers = 1});
    EXPECT_EQ(destroyed.load(), 1);
}

TEST(FrameHeader, LastHandleDestroysAFinishedTask) {
    expect_last_handle_destroys_the_task(8, false);
}

TEST(FrameHeader, HandlesDroppedOnManyThreadsDestroyOnce) {
    std::atomic<int> destroyed{0};
    weft::task<int> survivor =
        weft::run([](std::atomic<int>& count) -> weft::coro<weft::task<int>> {
            weft::future<> open;
            open.set_result();
            weft::task<int> t =
                weft::create_task(counted(open, weft::testing::destruction_counter(count)));
            co_await t;
            co_return t;
        }(destroyed));
    ASSERT_TRUE(survivor.done());
    std::vector<std::thread> droppers;
    for (int i = 0; i < 4; ++i) {
        droppers.emplace_back([copy = survivor]() mutable {
            for (int j = 0; j < 1000; ++j) {
                weft::task<int> again = copy;
                EXPECT_EQ(again.result(), 1);
            }
        });
    }
    survivor = weft::task<int>();
    for (std::thread& thread : droppers) {
        thread.join();
    }
    EXPECT_EQ(destroyed.load(), 1);
}

// More handles than the waiter list's word counts (waiter_list::max_count): the count moves to
// the header, and stays exact through the task's end and the handles' release in any order.
constexpr std::size_t past_the_word = weft::detail::waiter_list::max_count + 100;

TEST(FrameHeader, MoreHandlesThanTheWordCountsDestroyTheTaskOnceWithTheLast) {
    expect_last_handle_destroys_the_task(past_the_word, true);
}

// The same count, every handle gone before the task ends: the task's own end frees it.
TEST(FrameHeader, ATaskWhoseSpilledHandlesAllWentIsDestroyedAtItsEnd) {
    std::atomic<int> destroyed{0};
    weft::run(
        [](std::atomic<int>& count) -> weft::coro<> {
            weft::future<> gate;
            {
                weft::task<int> t =
                    weft::create_task(counted(gate, weft::testing::destruction_counter(count)));
                std::vector<weft::task<int>> copies(past_the_word, t);
            }
            gate.set_result();
            co_await weft::sleep(std::chrono::seconds(0));
            co_await weft::sleep(std::chrono::seconds(0));
            EXPECT_EQ(count.load(), 1);
        }(destroyed),
        weft::run_options{.workers = 1});
    EXPECT_EQ(destroyed.load(), 1);
}

// A task pending on `gate` at shutdown, whose frame the teardown destroys while `survivors`
// handles remain: they see it unfinished, and the last of them frees the frame's storage with
// the size the destroyed frame kept (AddressSanitizer checks the free).
template <class Body>
void expect_torn_down_frame_left_to_handles(Body body, std::size_t handles = 3) {
    std::atomic<int> destroyed{0};
    weft::future<> never;
    ::testing::internal::CaptureStderr();
    std::vector<weft::task<int>> survivors = weft::run(
        [](std::atomic<int>& count, weft::future<> gate, Body make,
           std::size_t handles) -> weft::coro<std::vector<weft::task<int>>> {
            weft::task<int> pending =
                weft::create_task(make(gate, weft::testing::destruction_counter(count)));
            // One worker: the task has started (and waits on the gate) when main resumes; a
            // task cancelled before its first step would end instead of straggling.
            co_await weft::sleep(std::chrono::seconds(0));
            co_return std::vector<weft::task<int>>(handles, pending);
        }(destroyed, never, body, handles),
        weft::run_options{
            .workers = 1, .virtual_time = true, .shutdown_grace = std::chrono::seconds(1)});
    ::testing::internal::GetCapturedStderr();
    // The frame (and the counter copied into it) was destroyed at shutdown.
    EXPECT_EQ(destroyed.load(), 1);
    for (const weft::task<int>& t : survivors) {
        EXPECT_FALSE(t.done());
        EXPECT_THROW(t.result(), weft::invalid_state_error);
    }
    survivors.clear();
    never.set_result();
}

TEST(FrameHeader, TornDownFrameLeavesItsHeaderToSurvivingHandles) {
    expect_torn_down_frame_left_to_handles(&weft::testing::ignores_cancellation);
}

// The same with a frame past the allocator's size classes, which the backing allocator holds.
weft::coro<int> ignores_cancellation_with_ballast(weft::future<> gate,
                                                  weft::testing::destruction_counter counter) {
    std::array<unsigned char, 4096> ballast{};
    ballast[gate.done() ? 1 : 0] = 1;
    const int result = co_await weft::testing::ignores_cancellation(gate, std::move(counter));
    co_return result + ballast[0] + ballast[1] - 1;
}

TEST(FrameHeader, TornDownLargeFrameLeavesItsHeaderToSurvivingHandles) {
    expect_torn_down_frame_left_to_handles(&ignores_cancellation_with_ballast);
}

TEST(FrameHeader, TornDownFrameLeavesItsHeaderToMoreHandlesThanTheWordCounts) {
    expect_torn_down_frame_left_to_handles(&weft::testing::ignores_cancellation, past_the_word);
}

weft::coro<int> fails(std::chrono::milliseconds after, const char* message) {
    co_await weft::sleep(after);
    throw std::runtime_error(message);
}

TEST(UnretrievedException, DetachedFailedTaskIsReportedOnStderr) {
    ::testing::internal::CaptureStderr();
    weft::run(
        []() -> weft::coro<> {
            weft::create_task(fails(std::chrono::milliseconds(1), "lost detail"));
            co_await weft::sleep(std::chrono::seconds(1));
        }(),
        one_virtual_worker);
    const std::string report = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(report.find("never retrieved: lost detail"), std::string::npos) << report;
}

TEST(UnretrievedException, HandlerReceivesItInsteadOfStderr) {
    std::vector<std::string> handled;
    ::testing::internal::CaptureStderr();
    weft::run(
        []() -> weft::coro<> {
            weft::task<int> kept = weft::create_task(fails(std::chrono::milliseconds(1), "a"));
            weft::create_task(fails(std::chrono::milliseconds(2), "b"));
            co_await weft::sleep(std::chrono::seconds(1));
            EXPECT_TRUE(kept.done());
            kept = weft::task<int>(); // the last handle goes: reported now
            co_await weft::sleep(std::chrono::seconds(1));
        }(),
        weft::run_options{
            .workers = 1, .virtual_time = true, .exception_handler = [&](std::exception_ptr error) {
                try {
                    std::rethrow_exception(error);
                } catch (const std::runtime_error& failure) {
                    handled.emplace_back(failure.what());
                }
            }});
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
    EXPECT_EQ(handled, (std::vector<std::string>{"b", "a"}));
}

TEST(UnretrievedException, RetrievedOrCancelledTasksAreNotReported) {
    int handled = 0;
    weft::run(
        []() -> weft::coro<> {
            weft::task<int> awaited = weft::create_task(fails(std::chrono::milliseconds(1), "x"));
            EXPECT_THROW(co_await awaited, std::runtime_error);
            weft::task<int> polled = weft::create_task(fails(std::chrono::milliseconds(1), "x"));
            weft::task<int> inspected = weft::create_task(fails(std::chrono::milliseconds(1), "x"));
            weft::task<int> gathered = weft::create_task(fails(std::chrono::milliseconds(1), "x"));
            weft::task<int> cancelled = weft::create_task(fails(std::chrono::seconds(5), "x"));
            co_await weft::sleep(std::chrono::seconds(1));
            EXPECT_THROW(polled.result(), std::runtime_error);
            EXPECT_NE(inspected.exception(), nullptr);
            EXPECT_THROW(co_await weft::gather(gathered), std::runtime_error);
            cancelled.cancel();
            co_await weft::sleep(std::chrono::seconds(1));
        }(),
        weft::run_options{.workers = 1,
                          .virtual_time = true,
                          .exception_handler = [&](std::exception_ptr) { ++handled; }});
    EXPECT_EQ(handled, 0);
}

TEST(UnretrievedException, LastHandleDroppedAfterRunReportsOnStderr) {
    weft::task<int> survivor = weft::run(
        []() -> weft::coro<weft::task<int>> {
            weft::task<int> t = weft::create_task(fails(std::chrono::milliseconds(1), "late"));
            co_await weft::sleep(std::chrono::seconds(1));
            co_return t;
        }(),
        weft::run_options{
            .workers = 1, .virtual_time = true, .exception_handler = [](std::exception_ptr) {
                ADD_FAILURE() << "reported while a handle remained";
            }});
    ::testing::internal::CaptureStderr();
    survivor = weft::task<int>();
    const std::string report = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(report.find("never retrieved: late"), std::string::npos) << report;
}

} // namespace
