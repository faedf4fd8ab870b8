// weft::sleep measured in real time: how late sleepers wake (the gap between deadline and
// resumption, as p50/p99/p999/max) and what a million concurrent sleepers cost in time and
// memory.
//   BM_lateness_many     10,000 tasks, each sleeping a random 1-50 ms (fixed seed)
//   BM_lateness_chain    one task sleeping 1 ms, 1,000 times in a row
//   BM_lateness_*_floor  the same deadlines awaited by a plain busy-waiting thread: the
//                        machine's own noise, below which no runtime can go
//   BM_million_sleeps    1,000,000 tasks each sleeping a random 1-1000 ms: wall time and
//                        the peak resident set during the run (VmHWM, reset before it)
// Each at 1 and 2 workers. Lateness is read with std::chrono::steady_clock, the clock the
// runtime itself uses (CLOCK_MONOTONIC).
#include <weft/weft.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "proc_status.hpp"

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Records how late the sleep ended into `late_ns`.
weft::coro<> sleep_and_measure(std::chrono::nanoseconds delay, std::int64_t& late_ns) {
    const steady::time_point deadline = steady::now() + delay;
    co_await weft::sleep_until(weft::clock::time_point(deadline.time_since_epoch()));
    late_ns = (steady::now() - deadline).count();
}

void report_percentiles(benchmark::State& state, std::vector<std::int64_t>& late_ns) {
    std::sort(late_ns.begin(), late_ns.end());
    auto at = [&](double quantile) {
        const auto index =
            static_cast<std::size_t>(quantile * static_cast<double>(late_ns.size() - 1));
        return static_cast<double>(late_ns[index]) / 1000.0;
    };
    state.counters["p50_us"] = at(0.50);
    state.counters["p99_us"] = at(0.99);
    state.counters["p999_us"] = at(0.999);
    state.counters["max_us"] = static_cast<double>(late_ns.back()) / 1000.0;
}

// Runs `body(samples)` in a fresh runtime per iteration, each sleeper writing its lateness
// into its own sample, and reports the percentiles over all iterations.
template <class Body>
void measure_lateness(benchmark::State& state, std::size_t samples, Body body) {
    const auto workers = static_cast<std::size_t>(state.range(0));
    std::vector<std::int64_t> all;
    for (auto _ : state) {
        std::vector<std::int64_t> late(samples);
        weft::run(body(late), weft::run_options{.workers = workers});
        all.insert(all.end(), late.begin(), late.end());
    }
    report_percentiles(state, all);
}

void BM_lateness_many(benchmark::State& state) {
    measure_lateness(state, 10'000, [](std::vector<std::int64_t>& out) -> weft::coro<> {
        std::mt19937_64 random(42);
        std::uniform_int_distribution<int> micros(1'000, 50'000);
        std::vector<weft::coro<>> sleepers;
        sleepers.reserve(out.size());
        for (std::int64_t& slot : out) {
            sleepers.push_back(sleep_and_measure(std::chrono::microseconds(micros(random)), slot));
        }
        co_await weft::gather(std::move(sleepers));
    });
}
BENCHMARK(BM_lateness_many)
    ->ArgName("workers")
    ->Arg(1)
    ->Arg(2)
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Spins on the clock until `deadline`; returns how late, in ns, it saw the deadline pass.
std::int64_t busy_wait_until(steady::time_point deadline) {
    steady::time_point now = steady::now();
    while (now < deadline) {
        now = steady::now();
    }
    return (now - deadline).count();
}

// The machine's floor for BM_lateness_many: one plain thread busy-waits for the same 10,000
// deadlines in order and records how late it sees each. No runtime can wake sleepers
// earlier than a thread that never sleeps; what is left is the hypervisor and the kernel
// taking the CPU away.
void BM_lateness_many_floor(benchmark::State& state) {
    std::vector<std::int64_t> all;
    for (auto _ : state) {
        std::mt19937_64 random(42);
        std::uniform_int_distribution<int> micros(1'000, 50'000);
        const steady::time_point start = steady::now();
        std::vector<steady::time_point> deadlines(10'000);
        for (steady::time_point& deadline : deadlines) {
            deadline = start + std::chrono::microseconds(micros(random));
        }
        std::sort(deadlines.begin(), deadlines.end());
        for (const steady::time_point deadline : deadlines) {
            all.push_back(busy_wait_until(deadline));
        }
    }
    report_percentiles(state, all);
}
BENCHMARK(BM_lateness_many_floor)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_lateness_chain(benchmark::State& state) {
    measure_lateness(state, 1'000, [](std::vector<std::int64_t>& out) -> weft::coro<> {
        for (std::int64_t& slot : out) {
            co_await sleep_and_measure(1ms, slot);
        }
    });
}
BENCHMARK(BM_lateness_chain)
    ->ArgName("workers")
    ->Arg(1)
    ->Arg(2)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The machine's floor for BM_lateness_chain: a plain thread busy-waits 1 ms, 1,000 times.
void BM_lateness_chain_floor(benchmark::State& state) {
    std::vector<std::int64_t> all;
    for (auto _ : state) {
        for (int i = 0; i < 1'000; ++i) {
            all.push_back(busy_wait_until(steady::now() + 1ms));
        }
    }
    report_percentiles(state, all);
}
BENCHMARK(BM_lateness_chain_floor)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

// Peak resident set since the last reset, in MiB.
double peak_rss_mib() {
    return weft_bench::proc_status_mib("VmHWM");
}

void reset_peak_rss() {
    std::ofstream("/proc/self/clear_refs") << "5";
}

weft::coro<> sleep_for(std::chrono::microseconds delay) {
    co_await weft::sleep(delay);
}

void BM_million_sleeps(benchmark::State& state) {
    const auto workers = static_cast<std::size_t>(state.range(0));
    double peak = 0;
    for (auto _ : state) {
        reset_peak_rss();
        weft::run(
            []() -> weft::coro<> {
                std::mt19937_64 random(7);
                std::uniform_int_distribution<int> micros(1'000, 1'000'000);
                std::vector<weft::coro<>> sleepers;
                sleepers.reserve(1'000'000);
                for (int i = 0; i < 1'000'000; ++i) {
                    sleepers.push_back(sleep_for(std::chrono::microseconds(micros(random))));
                }
                co_await weft::gather(std::move(sleepers));
            }(),
            weft::run_options{.workers = workers});
        peak = std::max(peak, peak_rss_mib());
    }
    state.counters["peak_rss_mib"] = peak;
}
BENCHMARK(BM_million_sleeps)
    ->ArgName("workers")
    ->Arg(1)
    ->Arg(2)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

} // namespace
