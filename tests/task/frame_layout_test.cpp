// Checks the sizes docs/architecture.md states for what every frame, and every sleeping
// frame, carries: the frame header, the promise's common part, a waiter list, a timer
// entry and a sleep's timer state; and the fixed numbers it names (the local queue's ring,
// the timer wheel's levels and slots, the largest worker count, the end of the clock). The same
// values hold with g++ 12 and clang 14 on x86-64; a change here is a change to the document too.
#include <weft/clock.hpp>
#include <weft/detail/frame_header.hpp>
#include <weft/detail/promise.hpp>
#include <weft/detail/timer_entry.hpp>
#include <weft/detail/waiter_list.hpp>
#include <weft/run.hpp>
#include <weft/sleep.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "scheduler/local_queue.hpp"
#include "time/timer_wheel.hpp"

namespace {

using weft::detail::deadline_kind;

// The bounds the document states; the tests below pin the exact values on 64-bit targets.
static_assert(sizeof(weft::detail::frame_header) <= 32);
static_assert(sizeof(weft::detail::waiter_list) <= sizeof(void*));
static_assert(sizeof(weft::detail::promise_base) <= 24);
static_assert(sizeof(weft::detail::timer_entry) <= 48);
static_assert(sizeof(weft::detail::sleep_timer) <= 80);
static_assert(sizeof(weft::detail::sleep_awaiter<deadline_kind::after>) ==
                  sizeof(weft::detail::sleep_timer),
              "a sleep's awaiter is exactly its timer state");

TEST(FrameLayout, HeaderInFrontOfEveryFrameIs32Bytes) {
    EXPECT_EQ(sizeof(weft::detail::frame_header), 32U);
    EXPECT_EQ(sizeof(weft::detail::frame_header) % alignof(std::max_align_t), 0U);
}

TEST(FrameLayout, WaiterListIsOneWord) {
    EXPECT_EQ(sizeof(weft::detail::waiter_list), sizeof(void*));
}

// The header finds a task's strand word at one distance from every frame, whatever the
// result type (make_task ends the program if the compiler placed the promise elsewhere).
template <class T>
weft::coro<T> returns_default() {
    co_return T{};
}
struct alignas(16) sixteen_aligned {
    long words[3]{};
};

template <class T>
void expect_strand_found_through_the_header() {
    weft::coro<T> body = returns_default<T>();
    const auto handle = weft::detail::coro_access::peek(body);
    weft::detail::frame_header* header = weft::detail::make_task(handle);
    EXPECT_EQ(&header->task_strand(), handle.promise().strand());
}

TEST(FrameLayout, TaskStrandWordIsAtOneDistanceForEveryResultType) {
    expect_strand_found_through_the_header<char>();
    expect_strand_found_through_the_header<long>();
    expect_strand_found_through_the_header<std::string>();
    expect_strand_found_through_the_header<sixteen_aligned>();
}

TEST(FrameLayout, PromiseBaseIs24Bytes) {
    EXPECT_EQ(sizeof(weft::detail::promise_base), 24U);
}

TEST(FrameLayout, SleepTimerStateIs72Bytes) {
    EXPECT_EQ(sizeof(weft::detail::timer_entry), 40U);
    EXPECT_EQ(sizeof(weft::detail::sleep_timer), 72U);
    EXPECT_EQ(sizeof(weft::detail::sleep_awaiter<deadline_kind::at>), 72U);
    EXPECT_EQ(sizeof(weft::detail::sleep_awaiter<deadline_kind::at, false>), 72U);
}

TEST(FrameLayout, FixedNumbers) {
    EXPECT_EQ(weft::detail::local_queue::capacity, 256U);
    EXPECT_EQ(weft::detail::timer_wheel::levels, 11U);
    EXPECT_EQ(weft::detail::timer_wheel::slots_per_level, 64U);
    // A worker's id fits the 16-bit registry shard of the frame header.
    EXPECT_EQ(weft::max_workers, 4096U);
    // Deadlines saturate at 2^63 - 1 ns, the end of weft::clock's range.
    EXPECT_EQ(weft::clock::time_point::max().time_since_epoch().count(),
              std::numeric_limits<std::int64_t>::max());
}

} // namespace
