// What a task costs in weft, next to oneTBB's task_group in the same binary, at 1 and 2
// threads. Three workloads (bench/spawn_workloads.hpp), each reported as wall time per task
// (counter ns_per_task):
//   spawn_join  one task spawns 1,000,000 trivial tasks, then joins them all
//   skynet      a 10-ary spawn-and-join tree with 1,000,000 leaves (1,111,111 tasks)
//   fib         fib(30) forking one branch and running the other, 2,692,537 calls
// Besides, spawn_join_batched does the same 1,000,000 spawns as 100 rounds of 10,000, so
// only 10,000 tasks are pending at once: it shows the spawn cost once the frames' memory
// is reused, where spawn_join also pays for first touching the memory of 1,000,000 frames.
// spawn_join also reports bytes_per_pending_task: the growth of the peak resident set over
// the spawn phase of its untimed first run, divided by the tasks spawned. Only the first
// flat spawn of each runtime in the process reports it (threads:1 in a full run): later
// ones reuse memory the allocators kept, and would count nothing.
// A weft iteration is one weft::run, so it includes starting and joining the runtime's
// threads; BM_runtime_startup_weft measures that fixed cost on its own. A TBB iteration
// runs in a task_arena made once per benchmark with the same thread count. Every result is
// checked; a wrong one fails the benchmark with SkipWithError.
#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>
#include <weft/weft.hpp>

#include "checked_measure.hpp"
#include "proc_status.hpp"
#include "spawn_workloads.hpp"

namespace {

using namespace weft_bench;

// The resident memory the pending tasks of one spawn phase hold: VmHWM at the phase's end
// (the peak restarted at its beginning) minus VmRSS at its beginning. spawn_and_join calls
// the observer at both ends of every run; only the first run, of the first benchmark that
// asks, is measured.
class pending_task_memory {
public:
    struct observer {
        pending_task_memory* memory;

        void begin() const {
            if (memory->measuring_) {
                reset_peak_rss();
                memory->begin_mib_ = proc_status_mib("VmRSS");
            }
        }
        void end() const {
            if (memory->measuring_) {
                memory->growth_mib_ = proc_status_mib("VmHWM") - memory->begin_mib_;
                memory->measuring_ = false;
            }
        }
    };

    // `first_in_process` is a flag of the runtime measured, cleared by the first to use it.
    explicit pending_task_memory(bool& first_in_process) : measuring_(first_in_process) {
        first_in_process = false;
    }

    observer spawn_phase() { return {this}; }

    void report(benchmark::State& state, double tasks) const {
        if (growth_mib_ >= 0) {
            state.counters["bytes_per_pending_task"] = growth_mib_ * 1024 * 1024 / tasks;
        }
    }

private:
    bool measuring_;
    double begin_mib_ = 0;
    double growth_mib_ = -1;
};

bool weft_spawn_join_first = true;
bool tbb_spawn_join_first = true;

// Benchmarks, paired by name: BM_<workload>_weft and BM_<workload>_tbb.

void BM_spawn_join_weft(benchmark::State& state) {
    const weft::run_options options{.workers = threads_of(state)};
    pending_task_memory memory(weft_spawn_join_first);
    measure(state, "weft spawn+join", spawn_join_sum, spawn_join_tasks, [&] {
        return weft::run(spawn_and_join(spawn_join_tasks, memory.spawn_phase()), options);
    });
    memory.report(state, spawn_join_tasks);
}

void BM_spawn_join_tbb(benchmark::State& state) {
    tbb::task_arena arena(static_cast<int>(threads_of(state)));
    pending_task_memory memory(tbb_spawn_join_first);
    measure(state, "tbb spawn+join", spawn_join_sum, spawn_join_tasks, [&] {
        return arena.execute(
            [&] { return spawn_and_join_tbb(spawn_join_tasks, memory.spawn_phase()); });
    });
    memory.report(state, spawn_join_tasks);
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
