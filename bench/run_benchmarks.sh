#!/usr/bin/env bash
# Builds weft's benchmarks with the `release` CMake preset, prints the facts of the machine
# and build they ran on, then runs each benchmark binary with 5 repetitions, reporting
# only the aggregates (docs/benchmarks.md quotes the medians). Console output and JSON go
# to build/bench-results/. About 6 minutes on an idle 2-core machine.
#
# Usage: bench/run_benchmarks.sh [extra Google Benchmark flags, e.g. --benchmark_filter=skynet]
# Set WEFT_BENCH_BUILD_DIR to build in another directory than the preset's build/release.
set -euo pipefail

source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$source_dir"

if [[ -n "${WEFT_BENCH_BUILD_DIR:-}" ]]; then
    build_dir="$WEFT_BENCH_BUILD_DIR"
    cmake --preset release -B "$build_dir"
    cmake --build "$build_dir" --target spawn_bench forkjoin_bench frame_alloc_bench timer_bench sleep_bench cancel_bench generator_bench runner_bench sync_bench blocking_bench
else
    build_dir="$source_dir/build/release"
    cmake --preset release
    cmake --build --preset release --target spawn_bench forkjoin_bench frame_alloc_bench timer_bench sleep_bench cancel_bench generator_bench runner_bench sync_bench blocking_bench
fi

results_dir="$source_dir/build/bench-results"
mkdir -p "$results_dir"

cache_value() {
    sed -n "s/^$1:[A-Z]*=//p" "$build_dir/CMakeCache.txt"
}

{
    echo "== machine"
    echo "date:       $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "nproc:      $(nproc)"
    echo "cpu:        $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)"
    echo "kernel:     $(uname -r)"
    echo "load:       $(cut -d ' ' -f 1-3 /proc/loadavg) (1, 5, 15 min)"
    echo "compiler:   $(g++ --version | head -n 1)"
    echo "packages:   $(dpkg-query -W -f '${Package} ${Version}  ' libbenchmark-dev libtbb-dev 2>/dev/null || true)"
    echo "== build ($build_dir)"
    echo "CMAKE_BUILD_TYPE:         $(cache_value CMAKE_BUILD_TYPE)"
    echo "CMAKE_CXX_COMPILER:       $(cache_value CMAKE_CXX_COMPILER)"
    echo "CMAKE_CXX_FLAGS:          $(cache_value CMAKE_CXX_FLAGS)"
    echo "CMAKE_CXX_FLAGS_RELEASE:  $(cache_value CMAKE_CXX_FLAGS_RELEASE)"
    if [[ -f "$build_dir/compile_commands.json" ]]; then
        echo "spawn_bench.cpp compiled with:"
        grep -o '"command": "[^"]*spawn_bench\.cpp[^"]*"' "$build_dir/compile_commands.json" |
            sed 's/^"command": "//; s/"$//'
    fi
} | tee "$results_dir/machine.txt"

for bench in spawn_bench forkjoin_bench frame_alloc_bench timer_bench sleep_bench cancel_bench generator_bench runner_bench sync_bench blocking_bench; do
    echo "== $bench"
    "$build_dir/bench/$bench" \
        --benchmark_repetitions=5 \
        --benchmark_report_aggregates_only=true \
        --benchmark_out="$results_dir/$bench.json" \
        --benchmark_out_format=json \
        "$@" | tee "$results_dir/$bench.txt"
done
echo "== results in $results_dir"
