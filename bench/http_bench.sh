#!/usr/bin/env bash
# Loads two HTTP servers that behave the same with wrk, one after the other, in alternating
# rounds: examples/http_hello (weft, 2 workers) and bench/asio_http_hello (Boost.Asio, an
# io_context run by 2 threads). Each round runs `wrk -t2 -c100 -d10s` against 127.0.0.1 and
# keeps requests per second and the latency percentiles (bench/wrk_percentiles.lua); the
# summary gives the median of the rounds for each server, and their ratios. wrk's two
# threads share the machine's cores with the server's two, the same for both servers.
#
# Usage: bench/http_bench.sh [build directory, default build/release]
# Environment: WEFT_HTTP_ROUNDS (default 5), WEFT_HTTP_DURATION (default 10s),
# WEFT_HTTP_CONNECTIONS (default 100). Raw wrk output goes to build/bench-results/http/.
set -euo pipefail

source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$source_dir"
build_dir="${1:-$source_dir/build/release}"
rounds="${WEFT_HTTP_ROUNDS:-5}"
duration="${WEFT_HTTP_DURATION:-10s}"
connections="${WEFT_HTTP_CONNECTIONS:-100}"
workers=2

for binary in examples/http_hello bench/asio_http_hello; do
    if [[ ! -x "$build_dir/$binary" ]]; then
        echo "http_bench: $build_dir/$binary is missing; build the release preset with Boost" >&2
        exit 1
    fi
done
command -v wrk >/dev/null || { echo "http_bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }

results_dir="$source_dir/build/bench-results/http"
mkdir -p "$results_dir"

server_pid=""
stop_server() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
trap stop_server EXIT

# Starts `$1` on a free port and sets `port` to the one it printed.
start_server() {
    local log="$results_dir/server.log"
    "$1" 0 "$workers" >"$log" 2>&1 &
    server_pid=$!
    port=""
    for _ in $(seq 1 100); do
        port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$log")
        [[ -n "$port" ]] && return 0
        sleep 0.05
    done
    echo "http_bench: $1 did not start" >&2
    cat "$log" >&2
    exit 1
}

percentiles=(p50 p90 p99 p99.9)
declare -A results
for round in $(seq 1 "$rounds"); do
    for server in weft asio; do
        case "$server" in
            weft) binary="$build_dir/examples/http_hello" ;;
            asio) binary="$build_dir/bench/asio_http_hello" ;;
        esac
        start_server "$binary"
        out="$results_dir/$server-$round.txt"
        wrk -t2 -c"$connections" -d"$duration" -s "$source_dir/bench/wrk_percentiles.lua" \
            "http://127.0.0.1:$port/" >"$out"
        stop_server
        if grep -q "Non-2xx\|Socket errors" "$out"; then
            echo "http_bench: $server round $round had errors:" >&2
            cat "$out" >&2
            exit 1
        fi
        line="round $round  $server  requests/s $(awk '/^Requests\/sec:/ { print $2 }' "$out")"
        results[$server,rps]+="$(awk '/^Requests\/sec:/ { print $2 }' "$out") "
        for p in "${percentiles[@]}"; do
            value=$(sed -n "s/.* $p=\([0-9]*\).*/\1/p" "$out")
            results[$server,$p]+="$value "
            line+="  $p ${value} us"
        done
        echo "$line"
    done
done

median() {
    tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "== median of $rounds rounds, wrk -t2 -c$connections -d$duration, $workers server threads"
for server in weft asio; do
    line="$server  requests/s $(median "${results[$server,rps]}")"
    for p in "${percentiles[@]}"; do
        line+="  $p $(median "${results[$server,$p]}") us"
    done
    echo "$line"
done
for key in rps "${percentiles[@]}"; do
    awk -v w="$(median "${results[weft,$key]}")" -v a="$(median "${results[asio,$key]}")" \
        -v key="$key" 'BEGIN { printf "weft / asio %s: %.3f\n", key, w / a }'
done
