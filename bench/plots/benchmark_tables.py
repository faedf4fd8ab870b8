#!/usr/bin/env python3
"""Turns the Google Benchmark JSON of weft's benchmarks into the tables bench/plots/*.gp draw.

Usage: benchmark_tables.py JSON_DIR DATA_DIR

Reads spawn_bench.json, forkjoin_bench.json and sleep_bench.json from JSON_DIR, as
bench/run_benchmarks.sh and bench/plot_benchmarks.sh write them (repetitions with
--benchmark_report_aggregates_only=true), and takes the **median** aggregate of each counter.
Writes into DATA_DIR, one row a bar group, whitespace-separated, labels quoted:
  spawn.dat           workload, workers, weft ns_per_task, oneTBB ns_per_task
  matmul.dat          workers, weft ns_per_node, oneTBB ns_per_node
  lateness_many.dat   percentile, 1 worker, 2 workers, busy-waiting floor (microseconds)
  lateness_chain.dat  the same for the 1 ms chain
A benchmark or counter missing from the JSON stops it with a message naming what is missing.
"""
import json
import re
import sys
from pathlib import Path


def medians(path):
    """Maps (benchmark family, argument) to the counters of its median aggregate."""
    if not path.is_file():
        sys.exit(f"{path}: missing; bench/plot_benchmarks.sh --run BUILD_DIR writes it")
    runs = {}
    for run in json.loads(path.read_text())["benchmarks"]:
        if run.get("run_type") != "aggregate" or run.get("aggregate_name") != "median":
            continue
        parts = run["run_name"].split("/")
        argument = next((int(m.group(1)) for part in parts[1:]
                         if (m := re.fullmatch(r"(?:threads|workers):(\d+)", part))), None)
        runs[(parts[0], argument)] = run
    return runs


def counter(runs, path, family, argument, name):
    run = runs.get((family, argument))
    if run is None or name not in run:
        where = family if argument is None else f"{family} at {argument}"
        sys.exit(f"{path}: no median of {name} for {where}; "
                 "run with --benchmark_repetitions and --benchmark_report_aggregates_only=true")
    return run[name]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    json_dir, data_dir = Path(sys.argv[1]), Path(sys.argv[2])
    data_dir.mkdir(parents=True, exist_ok=True)
    spawn_json = json_dir / "spawn_bench.json"
    forkjoin_json = json_dir / "forkjoin_bench.json"
    sleep_json = json_dir / "sleep_bench.json"
    spawn, forkjoin, sleep = medians(spawn_json), medians(forkjoin_json), medians(sleep_json)

    workloads = [("flat spawn+join", spawn, spawn_json, "BM_spawn_join"),
                 ("batched spawn+join", spawn, spawn_json, "BM_spawn_join_batched"),
                 ("skynet", spawn, spawn_json, "BM_skynet"),
                 ("fib(30)", spawn, spawn_json, "BM_fib"),
                 ("nqueens(12)", forkjoin, forkjoin_json, "BM_nqueens")]
    with open(data_dir / "spawn.dat", "w") as out:
        for label, runs, path, family in workloads:
            for workers in (1, 2):
                weft = counter(runs, path, f"{family}_weft", workers, "ns_per_task")
                tbb = counter(runs, path, f"{family}_tbb", workers, "ns_per_task")
                out.write(f'"{label}" {workers} {weft:.4g} {tbb:.4g}\n')
    with open(data_dir / "matmul.dat", "w") as out:
        for workers in (1, 2):
            weft = counter(forkjoin, forkjoin_json, "BM_matmul_weft", workers, "ns_per_node")
            tbb = counter(forkjoin, forkjoin_json, "BM_matmul_tbb", workers, "ns_per_node")
            out.write(f"{workers} {weft:.5g} {tbb:.5g}\n")

    percentiles = [("p50", "p50_us"), ("p99", "p99_us"), ("p99.9", "p999_us"), ("max", "max_us")]
    for case in ("many", "chain"):
        family = f"BM_lateness_{case}"
        with open(data_dir / f"lateness_{case}.dat", "w") as out:
            for label, name in percentiles:
                row = [counter(sleep, sleep_json, family, workers, name) for workers in (1, 2)]
                row.append(counter(sleep, sleep_json, f"{family}_floor", None, name))
                out.write(f'"{label}" ' + " ".join(f"{value:.4g}" for value in row) + "\n")


if __name__ == "__main__":
    main()
