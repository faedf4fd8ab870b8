// Tests weft::context_var (include/weft/context_var.hpp, runtime/task/context_store.cpp and
// context_variable.cpp): values, defaults and lookup_error; tokens and their errors; the
// copy a task takes of its creator's context; gathers, timeouts and to_thread calls; the
// calling thread's context reaching main; and contexts freed with their frames.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "task/context_in_use.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

TEST(ContextVar, ValuesDefaultsAndLookupError) {
    weft::context_var<int> level("level", 3);
    weft::context_var<std::string> request("request");
    EXPECT_EQ(level.name(), "level");
    weft::run([&]() -> weft::coro<> {
        EXPECT_EQ(level.get(), 3);
        EXPECT_THROW(request.get(), weft::lookup_error);
        EXPECT_EQ(request.get("none"), "none");
        auto token = request.set("r-1");
        EXPECT_EQ(request.get(), "r-1");
        co_await weft::sleep(1ms); // survives a suspension
        EXPECT_EQ(request.get(), "r-1");
        request.reset(std::move(token));
        EXPECT_THROW(request.get(), weft::lookup_error);
    }());
}

TEST(ContextVar, TokensUndoOnceInTheirOwnContext) {
    weft::context_var<int> a("a");
    weft::context_var<int> b("b");
    weft::run([&]() -> weft::coro<> {
        auto first = a.set(1);
        auto second = a.set(2);
        a.reset(std::move(second));
        EXPECT_EQ(a.get(), 1);
        EXPECT_THROW(a.reset(std::move(second)), weft::invalid_state_error);
        auto other = b.set(5);
        EXPECT_THROW(a.reset(std::move(other)), weft::invalid_argument);
        weft::task<weft::context_var<int>::token> made_elsewhere = weft::create_task(
            [](weft::context_var<int>& v) -> weft::coro<weft::context_var<int>::token> {
                co_return v.set(9);
            }(a));
        weft::context_var<int>::token foreign = co_await std::move(made_elsewhere);
        EXPECT_THROW(a.reset(std::move(foreign)), weft::invalid_argument);
        EXPECT_EQ(a.get(), 1);
        a.reset(std::move(first));
        EXPECT_EQ(a.get(0), 0);
    }());
}

weft::coro<std::string> read_later(weft::context_var<std::string>& v, weft::event& go) {
    co_await go.wait();
    co_return v.get("unset");
}

TEST(ContextVar, ATaskCopiesItsCreatorsContext) {
    weft::context_var<std::string> v("v");
    weft::run(
        [&]() -> weft::coro<> {
            weft::event go;
            weft::task<std::string> before = weft::create_task(read_later(v, go));
            v.set("parent");
            weft::task<std::string> after = weft::create_task(read_later(v, go));
            weft::task<> child_sets =
                weft::create_task([](weft::context_var<std::string>& var) -> weft::coro<> {
                    EXPECT_EQ(var.get(), "parent");
                    var.set("child");
                    EXPECT_EQ(var.get(), "child");
                    co_return;
                }(v));
            co_await child_sets;
            go.set();
            EXPECT_EQ(co_await before, "unset");
            EXPECT_EQ(co_await after, "parent");
            EXPECT_EQ(v.get(), "parent"); // the child's set stayed with the child
        }(),
        weft::run_options{.workers = 2});
}

TEST(ContextVar, GatherChildrenSeeTheAwaitersValuesAndKeepTheirOwn) {
    weft::context_var<int> v("v");
    weft::run(
        [&]() -> weft::coro<> {
            v.set(1);
            auto child = [&](int mine) -> weft::coro<int> {
                const int seen = v.get();
                co_await weft::sleep(1ms);
                v.set(mine);
                co_await weft::sleep(1ms);
                EXPECT_EQ(v.get(), mine);
                co_return seen;
            };
            std::vector<weft::coro<int>> children;
            for (int i = 0; i < 16; ++i) {
                children.push_back(child(100 + i));
            }
            for (int seen : co_await weft::gather(std::move(children))) {
                EXPECT_EQ(seen, 1);
            }
            EXPECT_EQ(v.get(), 1);
        }(),
        weft::run_options{.workers = 2});
}

TEST(ContextVar, ATimeoutBodySharesItsAwaitersContext) {
    weft::context_var<int> v("v");
    weft::run([&]() -> weft::coro<> {
        co_await weft::timeout(1s, [&](weft::timeout_scope&) -> weft::coro<> {
            v.set(7);
            co_await weft::sleep(1ms);
        });
        EXPECT_EQ(v.get(0), 7);
    }());
}

TEST(ContextVar, AToThreadCallSeesItsCallersContext) {
    weft::context_var<std::string> v("v");
    weft::run([&]() -> weft::coro<> {
        // Named before the await: g++ 12 mis-copies a capturing lambda held by one.
        auto read = [&] { return v.get("none"); };
        v.set("caller");
        EXPECT_EQ(co_await weft::to_thread(read), "caller");
        // The pool thread's own context is untouched by the call's.
        v.set("again");
        EXPECT_EQ(co_await weft::to_thread(read), "again");
    }());
    // Off any runtime the context is the thread's own.
    EXPECT_EQ(v.get("none"), "none");
}

TEST(ContextVar, MainStartsWithTheCallingThreadsContext) {
    weft::context_var<int> v("v");
    auto token = v.set(42);
    EXPECT_EQ(weft::run([&]() -> weft::coro<int> {
                  v.set(43); // main's copy only
                  co_return v.get();
              }()),
              43);
    EXPECT_EQ(v.get(), 42);
    v.reset(std::move(token));
    EXPECT_THROW(v.get(), weft::lookup_error);
}

TEST(ContextVar, ValuesGoWithTheFramesThatHeldThem) {
    std::atomic<int> destroyed{0};
    {
        weft::context_var<std::shared_ptr<weft::testing::destruction_counter>> v("v");
        weft::run(
            [&]() -> weft::coro<> {
                std::vector<weft::task<>> tasks;
                for (int i = 0; i < 20; ++i) {
                    tasks.push_back(
                        weft::create_task([](auto& var, std::atomic<int>& count) -> weft::coro<> {
                            var.set(std::make_shared<weft::testing::destruction_counter>(count));
                            co_await weft::sleep(1ms);
                        }(v, destroyed)));
                }
                for (const weft::task<>& each : tasks) {
                    co_await each;
                }
            }(),
            weft::run_options{.workers = 2});
    }
    EXPECT_EQ(destroyed.load(), 20);
}

// A thread that ends with a context of its own gives back its count of live contexts, so
// that spawns elsewhere go back to skipping the copy (context_in_use.hpp).
TEST(ContextVar, AThreadEndingWithAContextGivesItsCountBack) {
    weft::context_var<int> v("v");
    const std::size_t before = weft::detail::contexts_live.load();
    std::thread([&] {
        v.set(1);
        EXPECT_EQ(weft::detail::contexts_live.load(), before + 1);
    }).join();
    EXPECT_EQ(weft::detail::contexts_live.load(), before);
}

} // namespace
