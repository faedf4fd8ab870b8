// Tests weft::shield (include/weft/shield.hpp): a cancellation of the awaiting task ends the
// await at once but does not reach the shielded coroutine or task, which runs to its end.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::one_virtual_worker;

weft::coro<int> finish_after(std::chrono::nanoseconds delay, std::atomic<int>& finished) {
    co_await weft::sleep(delay);
    finished.fetch_add(1);
    co_return 8;
}

TEST(Shield, WithoutCancellationItIsAPlainAwait) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> finished{0};
            EXPECT_EQ(co_await weft::shield(finish_after(1s, finished)), 8);
            weft::task<int> t = weft::create_task(finish_after(1s, finished));
            EXPECT_EQ(co_await weft::shield(t), 8);
            weft::future<int> f;
            f.set_result(4);
            EXPECT_EQ(co_await weft::shield(f), 4);
            EXPECT_EQ(finished.load(), 2);
        }(),
        one_virtual_worker);
}

TEST(Shield, CancellingTheAwaiterLeavesTheShieldedCoroutineRunning) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> finished{0};
            weft::task<int> outer =
                weft::create_task([](std::atomic<int>& finished) -> weft::coro<int> {
                    co_return co_await weft::shield(finish_after(10s, finished));
                }(finished));
            co_await weft::sleep(1s);
            const weft::clock::time_point cancelled_at = weft::clock::now();
            outer.cancel();
            EXPECT_THROW(co_await outer, weft::cancelled_error);
            EXPECT_EQ(weft::clock::now(), cancelled_at); // the await ended at once
            EXPECT_EQ(finished.load(), 0);
            co_await weft::sleep(10s);
            EXPECT_EQ(finished.load(), 1); // and the shielded work ran on to its end
        }(),
        one_virtual_worker);
}

TEST(Shield, AShieldedTaskIsNotCancelled) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> finished{0};
            weft::task<int> inner = weft::create_task(finish_after(10s, finished));
            weft::task<int> outer = weft::create_task([](weft::task<int> inner) -> weft::coro<int> {
                co_return co_await weft::shield(inner);
            }(inner));
            co_await weft::sleep(1s);
            outer.cancel();
            EXPECT_THROW(co_await outer, weft::cancelled_error);
            EXPECT_FALSE(inner.cancelled());
            EXPECT_EQ(co_await inner, 8);
        }(),
        one_virtual_worker);
}

TEST(Shield, AShieldCanBeHandedToCreateTaskWaitForAndGather) {
    weft::run(
        []() -> weft::coro<> {
            std::atomic<int> finished{0};
            EXPECT_EQ(co_await weft::create_task(weft::shield(finish_after(1s, finished))), 8);
            EXPECT_EQ(co_await weft::wait_for(weft::shield(finish_after(1s, finished)), 2s), 8);
            auto [value] = co_await weft::gather(weft::shield(finish_after(1s, finished)));
            EXPECT_EQ(value, 8);
            EXPECT_EQ(finished.load(), 3);
            // wait_for's timeout cancels the await, not the shielded task
            weft::task<int> inner = weft::create_task(finish_after(5s, finished));
            EXPECT_THROW(co_await weft::wait_for(weft::shield(inner), 1s), weft::timeout_error);
            EXPECT_EQ(co_await inner, 8);
            EXPECT_FALSE(inner.cancelled());
        }(),
        one_virtual_worker);
}

} // namespace
