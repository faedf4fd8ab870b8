#!/usr/bin/env bash
# Draws the plots of docs/benchmarks.md into docs/img/ from the benchmarks' JSON output:
# spawn.png (bench/spawn_bench.cpp and bench/forkjoin_bench.cpp, weft beside oneTBB) and
# timer_lateness.png (the lateness percentiles of bench/sleep_bench.cpp). The medians of 5
# repetitions are drawn. bench/plots/benchmark_tables.py turns the JSON into tables, and
# bench/plots/*.gp draw them with gnuplot, installed (Debian's gnuplot-nox) when missing.
#
# Usage: bench/plot_benchmarks.sh [--run BUILD_DIR] [JSON_DIR]
#   JSON_DIR         where spawn_bench.json, forkjoin_bench.json and sleep_bench.json are
#                    (default build/bench-results, where bench/run_benchmarks.sh writes them)
#   --run BUILD_DIR  first configure BUILD_DIR with the release preset, build the three
#                    benchmarks, and run them into JSON_DIR (about 3 minutes on 2 cores); the
#                    load average before and after goes to JSON_DIR/plot_load.txt
set -euo pipefail

source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

build_dir=""
json_dir="$source_dir/build/bench-results"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --run)
            build_dir="$(realpath -m "${2:?--run needs a build directory}")"
            shift 2
            ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        *)
            json_dir="$(realpath -m "$1")"
            shift
            ;;
    esac
done
cd "$source_dir"

# Installs gnuplot-nox when missing, the way scripts/ensure_packages.sh installs the build's
# packages: as root with apt-get, otherwise by printing the command and stopping.
if ! dpkg-query -W -f='${Status}' gnuplot-nox 2>/dev/null | grep -q "install ok installed"; then
    if [[ "$(id -u)" -eq 0 ]]; then
        echo "installing: gnuplot-nox"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends gnuplot-nox
    else
        echo "the plots need gnuplot; install it with:" >&2
        echo "    sudo apt-get install gnuplot-nox" >&2
        exit 1
    fi
fi

if [[ -n "$build_dir" ]]; then
    benches=(spawn_bench forkjoin_bench sleep_bench)
    cmake --preset release -B "$build_dir"
    cmake --build "$build_dir" --target "${benches[@]}"
    mkdir -p "$json_dir"
    echo "before: $(uptime)" | tee "$json_dir/plot_load.txt"
    for bench in "${benches[@]}"; do
        # Only what the plots draw: sleep_bench's million sleepers, which measure memory and
        # take most of its time, and spawn_bench's runtime start-up stay out.
        case "$bench" in
            spawn_bench) filter='^BM_(spawn_join|skynet|fib)_' ;;
            sleep_bench) filter='^BM_lateness_' ;;
            *) filter=. ;;
        esac
        echo "== $bench"
        "$build_dir/bench/$bench" \
            --benchmark_filter="$filter" \
            --benchmark_repetitions=5 \
            --benchmark_report_aggregates_only=true \
            --benchmark_out="$json_dir/$bench.json" \
            --benchmark_out_format=json
    done
    echo "after:  $(uptime)" | tee -a "$json_dir/plot_load.txt"
fi

data_dir="$(mktemp -d)"
trap 'rm -rf "$data_dir"' EXIT
python3 bench/plots/benchmark_tables.py "$json_dir" "$data_dir"

terminal=png
if gnuplot -e 'set terminal pngcairo' 2>/dev/null; then
    terminal=pngcairo
fi
mkdir -p docs/img
for plot in spawn timer_lateness; do
    gnuplot -e "data_dir='$data_dir'; output='docs/img/$plot.png'; terminal='$terminal'" \
        "bench/plots/$plot.gp"
    echo "wrote docs/img/$plot.png"
done
