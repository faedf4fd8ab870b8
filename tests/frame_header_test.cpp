// Tests the lifetime of task frames (runtime/frame_header.cpp): the frame is destroyed
// exactly once, when the task has ended and its last handle is gone, whichever comes last
// and on whichever thread; a frame torn down at shutdown keeps its header for surviving
// handles.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

weft::coro<int> counted(weft::future<> gate, weft::testing::destruction_counter) {
    co_await gate;
    co_return 1;
}

TEST(FrameHeader, LastHandleDestroysAFinishedTask) {
    std::atomic<int> destroyed{0};
    weft::run([](std::atomic<int>& count) -> weft::coro<> {
        weft::future<> open;
        open.set_result();
        weft::task<int> t =
            weft::create_task(counted(open, weft::testing::destruction_counter(count)));
        EXPECT_EQ(co_await t, 1);
        std::vector<weft::task<int>> copies(8, t);
        t = weft::task<int>();
        EXPECT_EQ(count.load(), 0);
        copies.clear();
        EXPECT_EQ(count.load(), 1);
    }(destroyed));
    EXPECT_EQ(destroyed.load(), 1);
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

TEST(FrameHeader, TornDownFrameLeavesItsHeaderToSurvivingHandles) {
    std::atomic<int> destroyed{0};
    weft::future<> never;
    std::vector<weft::task<int>> survivors = weft::run(
        [](std::atomic<int>& count,
           weft::future<> gate) -> weft::coro<std::vector<weft::task<int>>> {
            weft::task<int> pending =
                weft::create_task(counted(gate, weft::testing::destruction_counter(count)));
            co_return std::vector<weft::task<int>>(3, pending);
        }(destroyed, never),
        weft::run_options{.workers = 2});
    // The frame (and the counter copied into it) was destroyed at shutdown.
    EXPECT_EQ(destroyed.load(), 1);
    for (const weft::task<int>& t : survivors) {
        EXPECT_FALSE(t.done());
        EXPECT_THROW(t.result(), weft::invalid_state_error);
    }
    survivors.clear();
    never.set_result();
}

} // namespace
