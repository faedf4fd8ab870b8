// What giving up on work costs (ns per unit, wall time, manual timing of the part named):
//   BM_cancel_sleeping     task::cancel() on each of 10,000 sleeping tasks: the call, and
//                          (end_to_end_ns) from the first call until every task has ended;
//                          for scale, spawn_and_sleep_ns is what it cost to create each task
//                          and let it fall asleep
//   BM_sleep_cancel_cycles 1,000,000 sleep-then-cancel cycles: the resident set after
//                          100,000 and after all of them (flat: nothing left behind)
//   BM_cancel_gather       cancelling a task that awaits a gather of 1,000 sleeping
//                          children, until the task has ended: per child
//   BM_wait_for            co_await weft::wait_for(work, 1 h) on work that ends in time,
//   BM_await_bare          against co_await work: per await; work either returns at once
//                          (arg 0) or yields once first (arg 1)
// One runtime per benchmark, real time, 1 and 2 workers.
#include <weft/weft.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "proc_status.hpp"

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr int sleepers = 10'000;
constexpr int gather_children = 1'000;

weft::run_options options_for(const benchmark::State& state) {
    return weft::run_options{.workers = static_cast<std::size_t>(state.range(0))};
}

double nanoseconds_between(steady::time_point from, steady::time_point to) {
    return std::chrono::duration<double, std::nano>(to - from).count();
}

weft::coro<> sleep_long() {
    co_await weft::sleep(1h);
}

// Yields until at least `count` timers are pending in the runtime's wheels.
weft::coro<> until_asleep(std::uint64_t count) {
    for (;;) {
        std::uint64_t pending = 0;
        for (const weft::worker_stats& each : weft::current_runtime_stats().workers) {
            pending += each.timers_pending;
        }
        if (pending >= count) {
            co_return;
        }
        co_await weft::sleep(0s);
    }
}

// Starts `count` tasks and returns once all of them are asleep in the wheels.
weft::coro<std::vector<weft::task<>>> start_sleepers(int count) {
    std::vector<weft::task<>> tasks;
    tasks.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        tasks.push_back(weft::create_task(sleep_long()));
    }
    co_await until_asleep(static_cast<std::uint64_t>(count));
    co_return tasks;
}

weft::coro<> await_all_ended(std::vector<weft::task<>>& tasks) {
    for (weft::task<>& each : tasks) {
        try {
            co_await each;
        } catch (const weft::cancelled_error&) {
        }
    }
}

void BM_cancel_sleeping(benchmark::State& state) {
    double spawn_ns = 0;
    double call_ns = 0;
    double end_to_end_ns = 0;
    weft::run(
        [](benchmark::State& state, double& spawn_ns, double& call_ns,
           double& end_to_end_ns) -> weft::coro<> {
            for (auto _ : state) {
                const steady::time_point spawned = steady::now();
                std::vector<weft::task<>> tasks = co_await start_sleepers(sleepers);
                const steady::time_point start = steady::now();
                spawn_ns += nanoseconds_between(spawned, start);
                for (weft::task<>& each : tasks) {
                    each.cancel();
                }
                const steady::time_point called = steady::now();
                co_await await_all_ended(tasks);
                const steady::time_point ended = steady::now();
                call_ns += nanoseconds_between(start, called);
                end_to_end_ns += nanoseconds_between(start, ended);
                state.SetIterationTime(std::chrono::duration<double>(called - start).count());
            }
        }(state, spawn_ns, call_ns, end_to_end_ns),
        options_for(state));
    const double units = static_cast<double>(state.iterations()) * sleepers;
    state.counters["spawn_and_sleep_ns"] = spawn_ns / units;
    state.counters["cancel_call_ns"] = call_ns / units;
    state.counters["end_to_end_ns"] = end_to_end_ns / units;
}
BENCHMARK(BM_cancel_sleeping)->ArgName("workers")->Arg(1)->Arg(2)->UseManualTime();

weft::coro<> gather_sleepers() {
    std::vector<weft::coro<>> children;
    children.reserve(gather_children);
    for (int i = 0; i < gather_children; ++i) {
        children.push_back(sleep_long());
    }
    co_await weft::gather(std::move(children));
}

void BM_cancel_gather(benchmark::State& state) {
    double total_ns = 0;
    weft::run(
        [](benchmark::State& state, double& total_ns) -> weft::coro<> {
            for (auto _ : state) {
                weft::task<> parent = weft::create_task(gather_sleepers());
                co_await until_asleep(gather_children);
                const steady::time_point start = steady::now();
                parent.cancel();
                try {
                    co_await parent;
                } catch (const weft::cancelled_error&) {
                }
                const steady::time_point ended = steady::now();
                total_ns += nanoseconds_between(start, ended);
                state.SetIterationTime(std::chrono::duration<double>(ended - start).count());
            }
        }(state, total_ns),
        options_for(state));
    state.counters["ns_per_child"] =
        total_ns / (static_cast<double>(state.iterations()) * gather_children);
}
BENCHMARK(BM_cancel_gather)->ArgName("workers")->Arg(1)->Arg(2)->UseManualTime();

double resident_mib() {
    return weft_bench::proc_status_mib("VmRSS");
}

// A million times: a task falls asleep and is cancelled. The resident set after the first
// 100,000 cycles and after all of them shows whether anything is left behind per cycle.
void BM_sleep_cancel_cycles(benchmark::State& state) {
    double rss_after_first = 0;
    double rss_after_all = 0;
    double total_ns = 0;
    weft::run(
        [](benchmark::State& state, double& first, double& all, double& total_ns) -> weft::coro<> {
            for (auto _ : state) {
                const steady::time_point start = steady::now();
                for (int cycle = 0; cycle < 1'000'000; ++cycle) {
                    weft::task<> t = weft::create_task(sleep_long());
                    co_await weft::sleep(0s); // t is asleep now
                    t.cancel();
                    try {
                        co_await t;
                    } catch (const weft::cancelled_error&) {
                    }
                    if (cycle == 100'000) {
                        first = resident_mib();
                    }
                }
                all = resident_mib();
                const steady::time_point ended = steady::now();
                total_ns += nanoseconds_between(start, ended);
                state.SetIterationTime(std::chrono::duration<double>(ended - start).count());
            }
        }(state, rss_after_first, rss_after_all, total_ns),
        weft::run_options{.workers = 1});
    state.counters["rss_mib_after_100k"] = rss_after_first;
    state.counters["rss_mib_after_1m"] = rss_after_all;
    state.counters["ns_per_cycle"] = total_ns / (static_cast<double>(state.iterations()) * 1e6);
}
BENCHMARK(BM_sleep_cancel_cycles)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

weft::coro<int> quick(bool yields) {
    if (yields) {
        co_await weft::sleep(0s);
    }
    co_return 1;
}

constexpr int awaits_per_iteration = 1'000;

template <bool WithDeadline>
void measure_awaits(benchmark::State& state) {
    const bool yields = state.range(1) != 0;
    double total_ns = 0;
    weft::run(
        [](benchmark::State& state, bool yields, double& total_ns) -> weft::coro<> {
            for (auto _ : state) {
                const steady::time_point start = steady::now();
                int sum = 0;
                for (int i = 0; i < awaits_per_iteration; ++i) {
                    if constexpr (WithDeadline) {
                        sum += co_await weft::wait_for(quick(yields), 1h);
                    } else {
                        sum += co_await quick(yields);
                    }
                }
                benchmark::DoNotOptimize(sum);
                const steady::time_point ended = steady::now();
                total_ns += nanoseconds_between(start, ended);
                state.SetIterationTime(std::chrono::duration<double>(ended - start).count());
            }
        }(state, yields, total_ns),
        weft::run_options{.workers = static_cast<std::size_t>(state.range(0))});
    state.counters["ns_per_await"] =
        total_ns / (static_cast<double>(state.iterations()) * awaits_per_iteration);
}

void BM_wait_for(benchmark::State& state) {
    measure_awaits<true>(state);
}
void BM_await_bare(benchmark::State& state) {
    measure_awaits<false>(state);
}
BENCHMARK(BM_wait_for)
    ->ArgNames({"workers", "yields"})
    ->ArgsProduct({{1, 2}, {0, 1}})
    ->UseManualTime();
BENCHMARK(BM_await_bare)
    ->ArgNames({"workers", "yields"})
    ->ArgsProduct({{1, 2}, {0, 1}})
    ->UseManualTime();

} // namespace
