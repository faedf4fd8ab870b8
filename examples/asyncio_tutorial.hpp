// The asyncio tutorial's examples as weft coroutines, shared by the example programs
// (sleepy.cpp, factorial.cpp) and by the test that checks their output in virtual time.
// They print through line_printer, which writes whole lines under a lock, because with
// several workers two tasks may print at once.
#pragma once

#include <chrono>
#include <cmath>
#include <mutex>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include <weft/weft.hpp>

namespace tutorial {

using namespace std::chrono_literals;

class line_printer {
public:
    explicit line_printer(std::ostream& out) : out_(out) {}
    void line(const std::string& text) {
        std::lock_guard guard(mutex_);
        out_ << text << '\n' << std::flush;
    }

private:
    std::mutex mutex_;
    std::ostream& out_;
};

inline long whole_seconds_since(weft::clock::time_point start) {
    const std::chrono::duration<double> waited = weft::clock::now() - start;
    return std::lround(waited.count());
}

// Two sleeps awaited one after the other take their sum.
inline weft::coro<> sleepy_coro(line_printer& out) {
    const weft::clock::time_point start = weft::clock::now();
    co_await weft::sleep(10s);
    co_await weft::sleep(10s);
    out.line("coro: " + std::to_string(whole_seconds_since(start)));
}

// Two sleeping tasks run concurrently.
inline weft::coro<> sleepy_task(line_printer& out) {
    const weft::clock::time_point start = weft::clock::now();
    weft::task<> first = weft::create_task(weft::sleep(10s));
    weft::task<> second = weft::create_task(weft::sleep(10s));
    co_await first;
    co_await second;
    out.line("task: " + std::to_string(whole_seconds_since(start)));
}

inline weft::coro<long> factorial(line_printer& out, std::string name, int number) {
    long f = 1;
    for (int i = 2; i <= number; ++i) {
        out.line("Task " + name + ": Calc fac(" + std::to_string(i) + ")");
        co_await weft::sleep(1s);
        f *= i;
    }
    out.line("Task " + name + ": fac(" + std::to_string(number) + ") = " + std::to_string(f));
    co_return f;
}

inline weft::coro<std::vector<long>> gather_factorials(line_printer& out) {
    auto [a, b, c] = co_await weft::gather(factorial(out, "a", 2), factorial(out, "b", 3),
                                           factorial(out, "c", 4));
    co_return std::vector<long>{a, b, c};
}

} // namespace tutorial
