// Reporting helper shared by weft's benchmarks: a user counter giving the wall time of a
// benchmark's timed loop divided by the units of work it did (tasks, calls, blocks), in
// nanoseconds. Wall time, because the work runs on several threads.
#pragma once

#include <chrono>

#include <benchmark/benchmark.h>

namespace weft_bench {

// Start it right before `for (auto _ : state)`; call report() right after the loop. The
// time between the two covers exactly the benchmark's iterations plus Google Benchmark's
// own few-nanosecond loop bookkeeping.
class wall_time_per_unit {
public:
    wall_time_per_unit() : start_(std::chrono::steady_clock::now()) {}

    // Sets counter `name` to elapsed ns / (units_per_iteration * iterations).
    void report(benchmark::State& state, const char* name, double units_per_iteration) const {
        const double elapsed_ns =
            std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start_)
                .count();
        if (state.iterations() > 0) {
            state.counters[name] = benchmark::Counter(
                elapsed_ns / (units_per_iteration * static_cast<double>(state.iterations())));
        }
    }

private:
    std::chrono::steady_clock::time_point start_;
};

} // namespace weft_bench
