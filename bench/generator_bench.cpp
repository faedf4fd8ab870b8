// What one value costs through a weft::generator, beside a plain coroutine call (ns per
// unit, wall time over the loop):
//   BM_generator_round_trip  co_await gen.next() on a generator that co_yields a counter:
//                            the claim, the transfer into the frame, the yield storing the
//                            value in the consumer's awaiter, the transfer back
//   BM_coro_call             co_await of a coro<int> that returns at once: its frame's
//                            allocation, the transfer in and out, the free
// One worker, so the numbers are the coroutine machinery and nothing else; 1,000 units per
// iteration.
#include <weft/weft.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>

#include "wall_time_per_unit.hpp"

namespace {

constexpr int units = 1'000;

const weft::run_options one_worker{.workers = 1};

weft::generator<std::int64_t> counter() {
    for (std::int64_t i = 0;; ++i) {
        co_yield i;
    }
}

void BM_generator_round_trip(benchmark::State& state) {
    weft::run(
        [](benchmark::State& state) -> weft::coro<> {
            auto gen = counter();
            std::int64_t sum = 0;
            const weft_bench::wall_time_per_unit timer;
            for (auto _ : state) {
                for (int i = 0; i < units; ++i) {
                    sum += *co_await gen.next();
                }
            }
            timer.report(state, "ns_per_item", units);
            benchmark::DoNotOptimize(sum);
        }(state),
        one_worker);
}
BENCHMARK(BM_generator_round_trip);

weft::coro<std::int64_t> plus_one(std::int64_t value) {
    co_return value + 1;
}

void BM_coro_call(benchmark::State& state) {
    weft::run(
        [](benchmark::State& state) -> weft::coro<> {
            std::int64_t sum = 0;
            const weft_bench::wall_time_per_unit timer;
            for (auto _ : state) {
                for (int i = 0; i < units; ++i) {
                    sum = co_await plus_one(sum);
                }
            }
            timer.report(state, "ns_per_call", units);
            benchmark::DoNotOptimize(sum);
        }(state),
        one_worker);
}
BENCHMARK(BM_coro_call);

} // namespace
