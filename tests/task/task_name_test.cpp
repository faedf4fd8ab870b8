// Tests task names (runtime/task/task_name.cpp, task::name and set_name, create_task's
// options): given names, the default "Task-N" in the order first needed, renaming from any
// thread, the errors, and the name in the report of an exception nobody retrieved.
#include <weft/weft.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

using weft::testing::one_virtual_worker;

// `prefix` followed by `number`. Appended rather than written `prefix + std::to_string(n)`,
// whose inlined copy g++ 12 at -O3 can report as an overlapping memcpy (-Wrestrict).
std::string numbered(const char* prefix, int number) {
    std::string name = prefix;
    name += std::to_string(number);
    return name;
}

int default_number(const std::string& name) {
    EXPECT_EQ(name.rfind("Task-", 0), 0U) << name;
    return std::stoi(name.substr(5));
}

TEST(TaskName, GivenAtCreationOrByDefaultInTheOrderFirstNeeded) {
    weft::run([]() -> weft::coro<> {
        weft::task<> named = weft::create_task(weft::sleep(0s), {.name = "fetcher"});
        EXPECT_EQ(named.name(), "fetcher");
        weft::task<> first = weft::create_task(weft::sleep(0s));
        weft::task<> second = weft::create_task(weft::sleep(0s));
        const int b = default_number(second.name());
        const int a = default_number(first.name());
        EXPECT_EQ(a, b + 1);
        EXPECT_EQ(first.name(), numbered("Task-", a)); // stable once given
        co_await weft::gather(named, first, second);
        EXPECT_EQ(named.name(), "fetcher"); // kept after the end
    }());
}

TEST(TaskName, TheTaskSeesItsNameFromItsFirstStep) {
    weft::run(
        []() -> weft::coro<> {
            std::vector<weft::task<std::string>> tasks;
            for (int i = 0; i < 100; ++i) {
                tasks.push_back(weft::create_task(
                    []() -> weft::coro<std::string> { co_return weft::current_task().name(); }(),
                    {.name = numbered("n", i)}));
            }
            for (int i = 0; i < 100; ++i) {
                EXPECT_EQ(co_await tasks[i], numbered("n", i));
            }
        }(),
        weft::run_options{.workers = 2});
}

TEST(TaskName, RenamedFromAnotherThreadWhileItRuns) {
    weft::run(
        []() -> weft::coro<> {
            weft::event go;
            weft::task<std::string> t =
                weft::create_task([](weft::event& e) -> weft::coro<std::string> {
                    co_await e.wait();
                    co_return weft::current_task().name();
                }(go));
            // Named before the await: g++ 12 mis-copies a capturing lambda held by one.
            auto rename = [t] { t.set_name("renamed"); };
            co_await weft::to_thread(rename);
            go.set();
            EXPECT_EQ(co_await t, "renamed");
        }(),
        weft::run_options{.workers = 2});
}

TEST(TaskName, EmptyNamesAndEmptyHandlesAreErrors) {
    weft::run([]() -> weft::coro<> {
        weft::task<> t = weft::create_task(weft::sleep(0s));
        EXPECT_THROW(t.set_name(""), weft::invalid_argument);
        co_await t;
    }());
    const weft::task<> empty;
    EXPECT_THROW(empty.name(), weft::invalid_state_error);
    EXPECT_THROW(empty.set_name("x"), weft::invalid_state_error);
    EXPECT_THROW(weft::create_task(weft::sleep(0s), {.name = "outside"}), weft::runtime_error);
}

weft::coro<> fails(std::string message) {
    co_await weft::sleep(1ms);
    throw std::runtime_error(message);
}

TEST(TaskName, NamesTheTaskInTheReportOfALostException) {
    ::testing::internal::CaptureStderr();
    weft::run(
        []() -> weft::coro<> {
            weft::create_task(fails("lost detail"), {.name = "doomed"});
            co_await weft::sleep(1s);
        }(),
        one_virtual_worker);
    const std::string report = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(report.find("task doomed failed and its exception was never retrieved: lost detail"),
              std::string::npos)
        << report;
}

} // namespace
