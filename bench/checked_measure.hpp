// How the task benchmarks time a workload: one untimed run that warms threads and
// allocators, then the timed iterations, every result checked against the known answer (a
// wrong one fails the benchmark with SkipWithError), reported as wall time per unit of work.
// The benchmark's argument is the thread count; thread_counts registers 1 and 2.
#pragma once

#include <cstddef>
#include <string>

#include <benchmark/benchmark.h>

#include "wall_time_per_unit.hpp"

namespace weft_bench {

// The thread count a benchmark was registered with (thread_counts below).
inline std::size_t threads_of(const benchmark::State& state) {
    return static_cast<std::size_t>(state.range(0));
}

// True if `got` is `expected`; otherwise fails the benchmark, naming `what`.
inline bool check(benchmark::State& state, const char* what, long got, long expected) {
    if (got == expected) {
        return true;
    }
    state.SkipWithError((std::string(what) + ": got " + std::to_string(got) + ", expected " +
                         std::to_string(expected))
                            .c_str());
    return false;
}

// Runs `workload` (returning the workload's result) once untimed, to warm threads and
// allocators and check the result, then once per iteration; counter `unit_name` is the
// wall time per iteration divided by `units`.
template <class Workload>
void measure(benchmark::State& state, const char* what, long expected, long units,
             Workload workload, const char* unit_name = "ns_per_task") {
    if (!check(state, what, workload(), expected)) {
        return;
    }
    const wall_time_per_unit timer;
    for (auto _ : state) {
        if (!check(state, what, workload(), expected)) {
            break;
        }
    }
    timer.report(state, unit_name, static_cast<double>(units));
}

inline void thread_counts(benchmark::internal::Benchmark* benchmark) {
    benchmark->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
}

} // namespace weft_bench
