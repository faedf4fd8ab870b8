#!/usr/bin/env bash
# Counts the instructions each task of weft's and oneTBB's workloads costs at one worker,
# with valgrind's callgrind, which counts every instruction executed (Ir) by every thread of
# the process. It builds bench/instructions_driver in its own build directory, Release with
# -O3 and no -march=native (valgrind rejects AVX-512 instructions), then, for each workload
# (skynet, skynet_vector, fib, spawn_join, nqueens, matmul) and each runtime (weft, tbb):
#
#     instructions per task = (Ir of `instructions_driver W R 1`
#                              - Ir of `instructions_driver W R 1 --baseline`) / tasks of W
#
# Both runs are whole processes. The baseline run makes W's inputs, starts the same runtime
# with one worker, runs an empty coroutine (weft) or lambda (TBB) on it, computes W's check
# and exits, so the difference is what W's tasks cost beyond process start, runtime start
# and stop, and setup. tasks is what the driver prints: skynet 1,111,111 tasks, fib(30)
# 2,692,537 calls, spawn_join 1,000,000 tasks, nqueens(12) 856,189 boards, matmul 37,449
# nodes (whose count is mostly the serial 32x32 block multiplies, the same in both
# runtimes). Counts do not move with the machine's load; a run takes a few minutes.
#
# Usage: bench/instructions.sh [--locked] [workload ...]        (default: all six)
# Set WEFT_INSTRUCTIONS_BUILD_DIR to build elsewhere than build/instructions, and CXX to
# choose the compiler (default g++).
#
# --locked also counts the locked instructions per task (lock-prefixed read-modify-writes,
# xchg with memory, mfence: each waits for the store buffer to drain, which the plain count
# does not weigh), the same difference of two runs, with bench/locked_instructions.py
# (python3), and lists the three locked instructions each weft workload executed most.
set -euo pipefail

count_locked=false
if [[ "${1:-}" == "--locked" ]]; then
    count_locked=true
    shift
    if ! command -v python3 >/dev/null; then
        echo "bench/instructions.sh --locked needs python3 (Debian: sudo apt-get install python3)" >&2
        exit 1
    fi
fi

if ! command -v valgrind >/dev/null; then
    echo "bench/instructions.sh needs valgrind (Debian: sudo apt-get install valgrind)" >&2
    exit 1
fi

source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${WEFT_INSTRUCTIONS_BUILD_DIR:-$source_dir/build/instructions}"
workloads=("$@")
if [[ ${#workloads[@]} -eq 0 ]]; then
    workloads=(skynet skynet_vector fib spawn_join nqueens matmul)
fi

launcher=()
if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# A build directory configured with another compiler would make cmake start over and drop
# the flags given below, leaving an unoptimised build: start it afresh instead.
cache="$build_dir/CMakeCache.txt"
if [[ -f "$cache" ]] && ! grep -qx "CMAKE_CXX_COMPILER:[A-Z]*=${CXX:-g++}" "$cache"; then
    rm -rf "$cache" "$build_dir/CMakeFiles"
fi
cmake -S "$source_dir" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER="${CXX:-g++}" -DCMAKE_CXX_FLAGS="" \
    -DCMAKE_CXX_FLAGS_RELEASE="-O3 -DNDEBUG" "${launcher[@]}" \
    -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build_dir" --target instructions_driver
driver="$build_dir/bench/instructions_driver"

echo "compiler: $("${CXX:-g++}" --version | head -n 1); flags: -O3 -DNDEBUG"
echo "valgrind: $(valgrind --version)"

# Prints the total Ir of one run of the driver with arguments "$@" under callgrind and, with
# --locked, the locked instructions it executed; SITES=N adds the N locked instructions run
# most, on further lines.
count_instructions() {
    local out
    out="$(mktemp)"
    local dump=()
    if $count_locked; then
        dump=(--dump-instr=yes)
    fi
    valgrind --tool=callgrind "${dump[@]}" --callgrind-out-file="$out" "$driver" "$@" \
        >/dev/null 2>&1 || {
        echo "instructions_driver $* failed:" >&2
        "$driver" "$@" >&2 || true
        rm -f "$out"
        exit 1
    }
    sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out"
    if $count_locked; then
        python3 "$source_dir/bench/locked_instructions.py" "$out" --sites "${SITES:-0}"
    fi
    rm -f "$out"
}

# Locked instructions per task: (the run's - its baseline's) / tasks, to three decimals.
locked_per_task() {
    awk -v run="$1" -v baseline="$2" -v tasks="$3" \
        'BEGIN { printf "%.3f", (run - baseline) / tasks }'
}

printf '%-11s %10s %15s %15s %10s' workload tasks "weft Ir/task" "tbb Ir/task" "weft/tbb"
if $count_locked; then
    printf ' %17s %16s' "weft locked/task" "tbb locked/task"
fi
printf '\n'
for workload in "${workloads[@]}"; do
    tasks="$("$driver" "$workload" weft 1 --baseline | sed -n 's/^tasks //p')"
    instructions=()
    locked=()
    sites=()
    for runtime in weft tbb; do
        [[ "$runtime" == weft ]] && listed=3 || listed=0
        # Captured first, so that a failed run stops the script (set -e).
        output="$(SITES=$listed count_instructions "$workload" "$runtime" 1)"
        mapfile -t run <<<"$output"
        output="$(count_instructions "$workload" "$runtime" 1 --baseline)"
        mapfile -t baseline <<<"$output"
        instructions+=("$(((run[0] - baseline[0]) / tasks))")
        if $count_locked; then
            locked+=("$(locked_per_task "${run[1]}" "${baseline[1]}" "$tasks")")
            sites+=("${run[@]:2}")
        fi
    done
    printf '%-11s %10s %15s %15s %10s' "$workload" "$tasks" "${instructions[0]}" \
        "${instructions[1]}" \
        "$(awk -v w="${instructions[0]}" -v t="${instructions[1]}" 'BEGIN { printf "%.2f", w / t }')"
    if $count_locked; then
        printf ' %17s %16s' "${locked[0]}" "${locked[1]}"
    fi
    printf '\n'
    for site in "${sites[@]}"; do
        printf '    %s\n' "$site"
    done
done
