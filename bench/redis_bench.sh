#!/usr/bin/env bash
# Loads two Redis-protocol servers with redis-benchmark, in alternating rounds:
# examples/mini_redis (weft, 2 workers unless told) and redis-server (single-threaded, persistence off:
# --save '' --appendonly no), each on its own port, both started here. Each round runs, for
# each server in turn, `redis-benchmark -t ping,set,get,incr -c 50 -n 200000 --csv` without
# pipelining and with -P 16; the summary gives, per mode and command, the median of the
# rounds for requests/s and the p50 and p99 latencies (redis-benchmark 7's --csv columns),
# and weft / redis-server for each. redis-benchmark's one thread shares the machine's cores
# with the servers, the same for both.
#
# Usage: bench/redis_bench.sh [build directory, default build/release]
# Environment: WEFT_REDIS_ROUNDS (default 5), WEFT_REDIS_REQUESTS (default 200000),
# WEFT_REDIS_CLIENTS (default 50), WEFT_REDIS_WORKERS (mini_redis's workers, default 2).
# Raw CSV goes to build/bench-results/redis/.
set -euo pipefail

source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$source_dir"
build_dir="${1:-$source_dir/build/release}"
rounds="${WEFT_REDIS_ROUNDS:-5}"
requests="${WEFT_REDIS_REQUESTS:-200000}"
clients="${WEFT_REDIS_CLIENTS:-50}"
commands=ping,set,get,incr
workers="${WEFT_REDIS_WORKERS:-2}"

[[ -x "$build_dir/examples/mini_redis" ]] || {
    echo "redis_bench: $build_dir/examples/mini_redis is missing; build the release preset" >&2
    exit 1
}
for tool in redis-server redis-benchmark redis-cli; do
    command -v "$tool" >/dev/null || {
        echo "redis_bench: $tool is missing (apt-get install redis-server redis-tools)" >&2
        exit 1
    }
done

results_dir="$source_dir/build/bench-results/redis"
mkdir -p "$results_dir"
rm -f "$results_dir"/*.csv

pids=()
stop_servers() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}
trap stop_servers EXIT

# weft: mini_redis on a port it picks, read from what it prints.
"$build_dir/examples/mini_redis" 0 "$workers" >"$results_dir/mini_redis.log" 2>&1 &
pids+=($!)
weft_port=""
for _ in $(seq 1 100); do
    weft_port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$results_dir/mini_redis.log")
    [[ -n "$weft_port" ]] && break
    sleep 0.05
done
[[ -n "$weft_port" ]] || { echo "redis_bench: mini_redis did not start" >&2; exit 1; }

# redis-server: the first port above mini_redis's that nothing answers on.
redis_port=$((weft_port + 1))
while (exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null; do
    redis_port=$((redis_port + 1))
done
redis-server --port "$redis_port" --save '' --appendonly no >"$results_dir/redis-server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
    redis-cli -p "$redis_port" PING 2>/dev/null | grep -q PONG && break
    sleep 0.05
done
redis-cli -p "$redis_port" PING | grep -q PONG || {
    echo "redis_bench: redis-server did not start" >&2
    exit 1
}

# One line per run: server mode command rps p50 p99.
runs="$results_dir/runs.txt"
: >"$runs"
for round in $(seq 1 "$rounds"); do
    for mode in plain pipelined; do
        pipeline=1
        [[ "$mode" == pipelined ]] && pipeline=16
        for server in weft redis; do
            port=$weft_port
            [[ "$server" == redis ]] && port=$redis_port
            out="$results_dir/$server-$mode-$round.csv"
            redis-benchmark -p "$port" -t "$commands" -c "$clients" -n "$requests" \
                -P "$pipeline" --csv >"$out"
            # Columns: "test","rps","avg","min","p50","p95","p99","max"; PING is PING_MBULK.
            tr -d '"' <"$out" | awk -F, -v s="$server" -v m="$mode" '
                NR > 1 && $1 != "PING_INLINE" {
                    name = ($1 == "PING_MBULK") ? "PING" : $1
                    print s, m, name, $2, $5, $7 }' >>"$runs"
            echo "round $round $mode $server: $(awk -v s="$server" -v m="$mode" \
                '$1 == s && $2 == m { printf "%s %s/s  ", $3, $4 }' <(tail -4 "$runs"))"
        done
    done
done

median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
value() { # server mode command column (4 rps, 5 p50, 6 p99)
    awk -v s="$1" -v m="$2" -v c="$3" -v k="$4" '$1 == s && $2 == m && $3 == c { print $k }' \
        "$runs" | median
}

echo "== median of $rounds rounds: redis-benchmark -t $commands -c $clients -n $requests" \
    "(-P 16 when pipelined); mini_redis with $workers workers"
printf '%-9s %-5s | %12s %8s %8s | %12s %8s %8s | %6s %6s %6s\n' mode cmd \
    "weft req/s" "p50 ms" "p99 ms" "redis req/s" "p50 ms" "p99 ms" "rps" "p50" "p99"
for mode in plain pipelined; do
    for command in PING SET GET INCR; do
        w_rps=$(value weft "$mode" "$command" 4)
        w_p50=$(value weft "$mode" "$command" 5)
        w_p99=$(value weft "$mode" "$command" 6)
        r_rps=$(value redis "$mode" "$command" 4)
        r_p50=$(value redis "$mode" "$command" 5)
        r_p99=$(value redis "$mode" "$command" 6)
        awk -v mode="$mode" -v c="$command" -v wr="$w_rps" -v w5="$w_p50" -v w9="$w_p99" \
            -v rr="$r_rps" -v r5="$r_p50" -v r9="$r_p99" 'BEGIN {
            printf "%-9s %-5s | %12.0f %8.3f %8.3f | %12.0f %8.3f %8.3f | %6.2f %6.2f %6.2f\n",
                mode, c, wr, w5, w9, rr, r5, r9, wr / rr, w5 / r5, w9 / r9 }'
    done
done
echo "(last three columns: weft / redis-server; above 1 is better for req/s, worse for latency)"
