// Tests weft::future (include/weft/future.hpp): completion before and after awaiting,
// exceptions, completing twice, completion from a thread outside the runtime waking
// several awaiters, void and move-only results.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

weft::coro<int> await_value(weft::future<int> f) {
    co_return co_await f;
}

TEST(Future, AlreadyDoneFutureReturnsAtOnce) {
    EXPECT_EQ(weft::run([]() -> weft::coro<int> {
                  weft::future<int> f;
                  f.set_result(4);
                  EXPECT_TRUE(f.done());
                  EXPECT_EQ(f.result(), 4);
                  co_return co_await f;
              }()),
              4);
}

TEST(Future, CompletedByAnotherTask) {
    EXPECT_EQ(weft::run([]() -> weft::coro<int> {
                  weft::future<int> f;
                  weft::task<int> waiter = weft::create_task(await_value(f));
                  weft::create_task([](weft::future<int> g) -> weft::coro<> {
                      g.set_result(8);
                      co_return;
                  }(f));
                  co_return co_await waiter;
              }()),
              8);
}

TEST(Future, CompletingTwiceIsAnInvalidStateError) {
    weft::future<int> f;
    f.set_result(1);
    EXPECT_THROW(f.set_result(2), weft::invalid_state_error);
    EXPECT_THROW(f.set_exception(std::make_exception_ptr(std::runtime_error("x"))),
                 weft::invalid_state_error);
    EXPECT_EQ(f.result(), 1);
}

TEST(Future, ExceptionIsRethrownToAwaiters) {
    weft::run([]() -> weft::coro<> {
        weft::future<int> f;
        f.set_exception(std::make_exception_ptr(std::out_of_range("gone")));
        EXPECT_THROW(co_await f, std::out_of_range);
        EXPECT_NE(f.exception(), nullptr);
        EXPECT_THROW(f.result(), std::out_of_range);
    }());
}

TEST(Future, NullExceptionIsRejected) {
    weft::future<> f;
    EXPECT_THROW(f.set_exception(nullptr), weft::invalid_state_error);
    EXPECT_FALSE(f.done());
}

TEST(Future, ResultBeforeCompletionIsAnInvalidStateError) {
    weft::future<int> f;
    EXPECT_FALSE(f.done());
    EXPECT_THROW(f.result(), weft::invalid_state_error);
    EXPECT_THROW(f.exception(), weft::invalid_state_error);
}

TEST(Future, ForeignThreadWakesEveryAwaiter) {
    for (std::size_t workers : {1u, 2u, 4u}) {
        const int sum = weft::run(
            []() -> weft::coro<int> {
                weft::future<int> f;
                auto waiters =
                    weft::gather(await_value(f), await_value(f), await_value(f), await_value(f));
                std::thread completer([f]() mutable { f.set_result(10); });
                auto [a, b, c, d] = co_await std::move(waiters);
                completer.join();
                co_return a + b + c + d;
            }(),
            weft::run_options{.workers = workers});
        EXPECT_EQ(sum, 40) << workers << " workers";
    }
}

TEST(Future, VoidAndMoveOnlyResults) {
    weft::run([]() -> weft::coro<> {
        weft::future<> signal;
        signal.set_result();
        co_await signal;
        weft::future<std::unique_ptr<int>> box;
        box.set_result(std::make_unique<int>(3));
        std::unique_ptr<int> taken = co_await std::move(box);
        EXPECT_EQ(*taken, 3);
    }());
}

TEST(Future, MovedFromFutureIsEmpty) {
    weft::future<int> original;
    weft::future<int> taken = std::move(original);
    EXPECT_FALSE(static_cast<bool>(original));
    EXPECT_FALSE(original.done());
    EXPECT_THROW(original.set_result(1), weft::invalid_state_error);
    EXPECT_THROW(original.result(), weft::invalid_state_error);
    taken.set_result(2);
    weft::run([](weft::future<int>& empty) -> weft::coro<> {
        EXPECT_THROW(co_await empty, weft::invalid_state_error);
        co_return;
    }(original));
}

// asyncio reports a Future's exception that nobody retrieved ("Future exception was never
// retrieved"), as it does a Task's.
TEST(Future, ExceptionNobodyRetrievedIsReportedWhenTheLastCopyGoes) {
    std::atomic<int> reported{0};
    weft::run(
        []() -> weft::coro<> {
            weft::future<int> ignored;
            ignored.set_exception(std::make_exception_ptr(std::runtime_error("lost")));
            co_return; // the last copy dies here, inside the runtime
        }(),
        weft::run_options{.workers = 1, .exception_handler = [&](std::exception_ptr error) {
                              try {
                                  std::rethrow_exception(error);
                              } catch (const std::runtime_error& failure) {
                                  EXPECT_STREQ(failure.what(), "lost");
                              }
                              ++reported;
                          }});
    EXPECT_EQ(reported.load(), 1);
}

TEST(Future, ExceptionNobodyRetrievedOutsideARuntimeGoesToStderr) {
    ::testing::internal::CaptureStderr();
    {
        weft::future<> ignored;
        ignored.set_exception(std::make_exception_ptr(std::runtime_error("nobody looked")));
    }
    const std::string report = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(report.find("future's exception was never retrieved: nobody looked"),
              std::string::npos)
        << report;
}

TEST(Future, RetrievedExceptionsAreNotReported) {
    std::atomic<int> reported{0};
    weft::run(
        []() -> weft::coro<> {
            weft::future<> awaited;
            awaited.set_exception(std::make_exception_ptr(std::runtime_error("seen")));
            EXPECT_THROW(co_await awaited, std::runtime_error);
            weft::future<> queried;
            queried.set_exception(std::make_exception_ptr(std::runtime_error("seen")));
            EXPECT_NE(queried.exception(), nullptr);
            weft::future<> resulted;
            resulted.set_exception(std::make_exception_ptr(std::runtime_error("seen")));
            EXPECT_THROW(resulted.result(), std::runtime_error);
            weft::future<> gathered;
            gathered.set_exception(std::make_exception_ptr(std::runtime_error("seen")));
            EXPECT_THROW(co_await weft::gather(gathered), std::runtime_error);
            weft::future<> cancelled;
            cancelled.set_exception(std::make_exception_ptr(weft::cancelled_error()));
        }(),
        weft::run_options{.workers = 1,
                          .exception_handler = [&](std::exception_ptr) { ++reported; }});
    EXPECT_EQ(reported.load(), 0);
}

} // namespace
