// Crossing between weft and other threads, per round trip (wall time, counter ns_per_call):
//   BM_to_thread_weft          a task awaits weft::to_thread of a trivial callable: the
//                              call goes to the blocking pool and its result comes back
//   BM_std_async               for scale, the same trivial call through
//                              std::async(std::launch::async, ...).get(): a thread per call
//   BM_tbb_arena_round_trip    a plain thread enqueues the call into a tbb::task_arena and
//                              waits for a std::promise the call sets: a warm pool
//   BM_spawn_weft              a thread outside the runtime spawns a trivial coroutine with
//                              runtime_handle::spawn and waits for the std::future
//   BM_call_soon_weft          the same with call_soon, the callable setting a std::promise
// The weft rows take the runtime's worker count as argument (1 and 2); the TBB arena runs
// with 2 threads. Each call's result is checked; a wrong one fails the benchmark.
#include <future>
#include <thread>

#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>
#include <weft/weft.hpp>

#include "wall_time_per_unit.hpp"

namespace {

int trivial() {
    return 1;
}

weft::coro<int> trivial_coro() {
    co_return 1;
}

weft::run_options options_for(const benchmark::State& state) {
    return weft::run_options{.workers = static_cast<std::size_t>(state.range(0))};
}

void BM_to_thread_weft(benchmark::State& state) {
    weft::run(
        [](benchmark::State& state) -> weft::coro<> {
            co_await weft::to_thread(trivial); // warm: the pool thread exists from here on
            const weft_bench::wall_time_per_unit timer;
            for (auto _ : state) {
                if (co_await weft::to_thread(trivial) != 1) {
                    state.SkipWithError("to_thread returned a wrong value");
                    break;
                }
            }
            timer.report(state, "ns_per_call", 1);
        }(state),
        options_for(state));
}
BENCHMARK(BM_to_thread_weft)->ArgName("workers")->Arg(1)->Arg(2)->UseRealTime();

void BM_std_async(benchmark::State& state) {
    const weft_bench::wall_time_per_unit timer;
    for (auto _ : state) {
        if (std::async(std::launch::async, trivial).get() != 1) {
            state.SkipWithError("std::async returned a wrong value");
            break;
        }
    }
    timer.report(state, "ns_per_call", 1);
}
BENCHMARK(BM_std_async)->UseRealTime();

void BM_tbb_arena_round_trip(benchmark::State& state) {
    tbb::task_arena arena(2);
    arena.initialize();
    const auto round_trip = [&arena] {
        std::promise<int> result;
        std::future<int> ready = result.get_future();
        arena.enqueue([&result] { result.set_value(trivial()); });
        return ready.get();
    };
    round_trip(); // warm: the arena's threads exist from here on
    const weft_bench::wall_time_per_unit timer;
    for (auto _ : state) {
        if (round_trip() != 1) {
            state.SkipWithError("the arena returned a wrong value");
            break;
        }
    }
    timer.report(state, "ns_per_call", 1);
}
BENCHMARK(BM_tbb_arena_round_trip)->UseRealTime();

// Runs a weft runtime on another thread for as long as `measure(handle)` runs here, the
// benchmark's thread being the thread outside the runtime.
template <class Measure>
void with_runtime_beside(benchmark::State& state, Measure measure) {
    std::promise<weft::runtime_handle> handed;
    weft::future<> stop;
    std::thread runtime([&handed, stop, options = options_for(state)] {
        weft::run(
            [](std::promise<weft::runtime_handle>& handed, weft::future<> stop) -> weft::coro<> {
                handed.set_value(weft::current_runtime());
                co_await stop;
            }(handed, stop),
            options);
    });
    measure(handed.get_future().get());
    stop.set_result();
    runtime.join();
}

void BM_spawn_weft(benchmark::State& state) {
    with_runtime_beside(state, [&state](const weft::runtime_handle& handle) {
        handle.spawn(trivial_coro()).get(); // warm
        const weft_bench::wall_time_per_unit timer;
        for (auto _ : state) {
            if (handle.spawn(trivial_coro()).get() != 1) {
                state.SkipWithError("spawn returned a wrong value");
                break;
            }
        }
        timer.report(state, "ns_per_call", 1);
    });
}
BENCHMARK(BM_spawn_weft)->ArgName("workers")->Arg(1)->Arg(2)->UseRealTime();

void BM_call_soon_weft(benchmark::State& state) {
    with_runtime_beside(state, [&state](const weft::runtime_handle& handle) {
        const auto round_trip = [&handle] {
            std::promise<int> result;
            std::future<int> ready = result.get_future();
            handle.call_soon([&result] { result.set_value(trivial()); });
            return ready.get();
        };
        round_trip(); // warm
        const weft_bench::wall_time_per_unit timer;
        for (auto _ : state) {
            if (round_trip() != 1) {
                state.SkipWithError("call_soon's callable set a wrong value");
                break;
            }
        }
        timer.report(state, "ns_per_call", 1);
    });
}
BENCHMARK(BM_call_soon_weft)->ArgName("workers")->Arg(1)->Arg(2)->UseRealTime();

} // namespace
