// What a task costs in weft, next to oneTBB's task_group in the same binary, at 1 and 2
// threads. Three workloads, each reported as wall time per task (counter ns_per_task):
//   spawn_join  one task spawns 1,000,000 trivial tasks, then joins them all
//   skynet      a 10-ary spawn-and-join tree with 1,000,000 leaves (1,111,111 tasks)
//   fib         fib(30) forking one branch and running the other, 2,692,537 calls
// Besides, spawn_join_batched does the same 1,000,000 spawns as 100 rounds of 10,000, so
// only 10,000 tasks are pending at once: it shows the spawn cost once the frames' memory
// is reused, where spawn_join also pays for first touching the memory of 1,000,000 frames.
// A weft iteration is one weft::run, so it includes starting and joining the runtime's
// threads; BM_runtime_startup_weft measures that fixed cost on its own. A TBB iteration
// runs in a task_arena made once per benchmark with the same thread count. Every result is
// checked; a wrong one fails the benchmark with SkipWithError.
#include <cstddef>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>
#include <weft/weft.hpp>

#include "wall_time_per_unit.hpp"

namespace {

constexpr int spawn_join_tasks = 1'000'000;
constexpr long spawn_join_sum = 499'999'500'000L;

constexpr int batched_rounds = 100;
constexpr int batched_round_tasks = spawn_join_tasks / batched_rounds;

constexpr long skynet_leaves = 1'000'000;
constexpr long skynet_tasks = 1'111'111;
constexpr long skynet_sum = 499'999'500'000L;

constexpr int fib_n = 30;
constexpr long fib_result = 832'040;
constexpr long fib_calls = 2'692'537;

std::size_t threads_of(const benchmark::State& state) {
    return static_cast<std::size_t>(state.range(0));
}

template <class Value>
bool check(benchmark::State& state, const char* what, Value got, Value expected) {
    if (got == expected) {
        return true;
    }
    state.SkipWithError((std::string(what) + " returned " + std::to_string(got) + ", expected " +
                         std::to_string(expected))
                            .c_str());
    return false;
}

// Runs `workload` (returning the workload's result) once untimed, to warm threads and
// allocators and check the result, then once per iteration.
template <class Workload>
void measure(benchmark::State& state, const char* what, long expected, long tasks,
             Workload workload) {
    if (!check(state, what, workload(), expected)) {
        return;
    }
    const weft_bench::wall_time_per_unit timer;
    for (auto _ : state) {
        if (!check(state, what, workload(), expected)) {
            break;
        }
    }
    timer.report(state, "ns_per_task", static_cast<double>(tasks));
}

// weft workloads.

weft::coro<int> trivial(int index) {
    co_return index;
}

weft::coro<long> spawn_and_join(int count) {
    std::vector<weft::task<int>> tasks;
    tasks.reserve(static_cast<std::size_t>(count));
    for (int index = 0; index < count; ++index) {
        tasks.push_back(weft::create_task(trivial(index)));
    }
    long sum = 0;
    for (auto& task : tasks) {
        sum += co_await task;
    }
    co_return sum;
}

weft::coro<long> spawn_and_join_batched(int rounds, int round_tasks) {
    std::vector<weft::task<int>> tasks;
    tasks.reserve(static_cast<std::size_t>(round_tasks));
    long sum = 0;
    for (int round = 0; round < rounds; ++round) {
        const int first = round * round_tasks;
        for (int index = first; index < first + round_tasks; ++index) {
            tasks.push_back(weft::create_task(trivial(index)));
        }
        for (auto& task : tasks) {
            sum += co_await task;
        }
        tasks.clear();
    }
    co_return sum;
}

weft::coro<long> skynet(long num, long size) {
    if (size == 1) {
        co_return num;
    }
    const long child_size = size / 10;
    std::vector<weft::coro<long>> children;
    children.reserve(10);
    for (long index = 0; index < 10; ++index) {
        children.push_back(skynet(num + index * child_size, child_size));
    }
    std::vector<long> results = co_await weft::gather(std::move(children));
    long sum = 0;
    for (long result : results) {
        sum += result;
    }
    co_return sum;
}

weft::coro<long> fib(int n) {
    if (n < 2) {
        co_return n;
    }
    auto [a, b] = co_await weft::gather(fib(n - 1), fib(n - 2));
    co_return a + b;
}

weft::coro<long> nothing() {
    co_return 0;
}

// oneTBB workloads.

long spawn_and_join_tbb(int count) {
    std::vector<int> results(static_cast<std::size_t>(count));
    tbb::task_group group;
    for (int index = 0; index < count; ++index) {
        group.run([&results, index] { results[static_cast<std::size_t>(index)] = index; });
    }
    group.wait();
    long sum = 0;
    for (int result : results) {
        sum += result;
    }
    return sum;
}

long spawn_and_join_batched_tbb(int rounds, int round_tasks) {
    std::vector<int> results(static_cast<std::size_t>(round_tasks));
    long sum = 0;
    for (int round = 0; round < rounds; ++round) {
        const int first = round * round_tasks;
        tbb::task_group group;
        for (int index = 0; index < round_tasks; ++index) {
            group.run([&results, index, first] {
                results[static_cast<std::size_t>(index)] = first + index;
            });
        }
        group.wait();
        for (int result : results) {
            sum += result;
        }
    }
    return sum;
}

long skynet_tbb(long num, long size) {
    if (size == 1) {
        return num;
    }
    const long child_size = size / 10;
    long results[10];
    tbb::task_group group;
    for (long index = 0; index < 10; ++index) {
        group.run([&results, num, index, child_size] {
            results[index] = skynet_tbb(num + index * child_size, child_size);
        });
    }
    group.wait();
    long sum = 0;
    for (long result : results) {
        sum += result;
    }
    return sum;
}

long fib_tbb(int n) {
    if (n < 2) {
        return n;
    }
    long a = 0;
    tbb::task_group group;
    group.run([&a, n] { a = fib_tbb(n - 1); });
    const long b = fib_tbb(n - 2);
    group.wait();
    return a + b;
}

// Benchmarks, paired by name: BM_<workload>_weft and BM_<workload>_tbb.

void BM_spawn_join_weft(benchmark::State& state) {
    const weft::run_options options{.workers = threads_of(state)};
    measure(state, "weft spawn+join", spawn_join_sum, spawn_join_tasks,
            [&] { return weft::run(spawn_and_join(spawn_join_tasks), options); });
}

void BM_spawn_join_tbb(benchmark::State& state) {
    tbb::task_arena arena(static_cast<int>(threads_of(state)));
    measure(state, "tbb spawn+join", spawn_join_sum, spawn_join_tasks,
            [&] { return arena.execute([] { return spawn_and_join_tbb(spawn_join_tasks); }); });
}

void BM_spawn_join_batched_weft(benchmark::State& state) {
    const weft::run_options options{.workers = threads_of(state)};
    measure(state, "weft batched spawn+join", spawn_join_sum, spawn_join_tasks, [&] {
        return weft::run(spawn_and_join_batched(batched_rounds, batched_round_tasks), options);
    });
}

void BM_spawn_join_batched_tbb(benchmark::State& state) {
    tbb::task_arena arena(static_cast<int>(threads_of(state)));
    measure(state, "tbb batched spawn+join", spawn_join_sum, spawn_join_tasks, [&] {
        return arena.execute(
            [] { return spawn_and_join_batched_tbb(batched_rounds, batched_round_tasks); });
    });
}

void BM_skynet_weft(benchmark::State& state) {
    const weft::run_options options{.workers = threads_of(state)};
    measure(state, "weft skynet", skynet_sum, skynet_tasks,
            [&] { return weft::run(skynet(0, skynet_leaves), options); });
}

void BM_skynet_tbb(benchmark::State& state) {
    tbb::task_arena arena(static_cast<int>(threads_of(state)));
    measure(state, "tbb skynet", skynet_sum, skynet_tasks,
            [&] { return arena.execute([] { return skynet_tbb(0, skynet_leaves); }); });
}

void BM_fib_weft(benchmark::State& state) {
    const weft::run_options options{.workers = threads_of(state)};
    measure(state, "weft fib(30)", fib_result, fib_calls,
            [&] { return weft::run(fib(fib_n), options); });
}

void BM_fib_tbb(benchmark::State& state) {
    tbb::task_arena arena(static_cast<int>(threads_of(state)));
    measure(state, "tbb fib(30)", fib_result, fib_calls,
            [&] { return arena.execute([] { return fib_tbb(fib_n); }); });
}

// The fixed cost inside every weft iteration above: start a runtime, run one empty
// coroutine, shut down. Its ns_per_task is the whole run.
void BM_runtime_startup_weft(benchmark::State& state) {
    const weft::run_options options{.workers = threads_of(state)};
    measure(state, "weft empty run", 0, 1, [&] { return weft::run(nothing(), options); });
}

void thread_counts(benchmark::internal::Benchmark* benchmark) {
    benchmark->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_spawn_join_weft)->Apply(thread_counts)->Iterations(3);
BENCHMARK(BM_spawn_join_tbb)->Apply(thread_counts)->Iterations(3);
BENCHMARK(BM_spawn_join_batched_weft)->Apply(thread_counts)->Iterations(5);
BENCHMARK(BM_spawn_join_batched_tbb)->Apply(thread_counts)->Iterations(5);
BENCHMARK(BM_skynet_weft)->Apply(thread_counts)->Iterations(10);
BENCHMARK(BM_skynet_tbb)->Apply(thread_counts)->Iterations(10);
BENCHMARK(BM_fib_weft)->Apply(thread_counts)->Iterations(10);
BENCHMARK(BM_fib_tbb)->Apply(thread_counts)->Iterations(10);
BENCHMARK(BM_runtime_startup_weft)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond)
    ->Iterations(200);

} // namespace
