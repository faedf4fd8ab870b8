// What running a trivial main costs (wall time per run, as the calling thread sees it):
//   BM_runner_run/W  r.run(trivial) on a weft::runner of W workers made once: launching main
//                    on the calling thread as worker 0, one step, and leaving the loop
//   BM_fresh_run/W   weft::run(trivial, {.workers = W}): all of the above plus making the
//                    runtime (reactor, signal source, queues), starting W - 1 threads,
//                    shutting down and joining them, as every weft::run does
#include <weft/weft.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>

namespace {

weft::coro<int> trivial() {
    co_return 1;
}

weft::run_options with_workers(const benchmark::State& state) {
    return weft::run_options{.workers = static_cast<std::size_t>(state.range(0))};
}

void BM_runner_run(benchmark::State& state) {
    weft::runner r(with_workers(state));
    for (auto _ : state) {
        benchmark::DoNotOptimize(r.run(trivial()));
    }
}
BENCHMARK(BM_runner_run)->Arg(1)->Arg(2)->UseRealTime();

void BM_fresh_run(benchmark::State& state) {
    const weft::run_options options = with_workers(state);
    for (auto _ : state) {
        benchmark::DoNotOptimize(weft::run(trivial(), options));
    }
}
BENCHMARK(BM_fresh_run)->Arg(1)->Arg(2)->UseRealTime();

} // namespace
