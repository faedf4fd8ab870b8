#!/usr/bin/env bash
# Builds weft's examples in the release preset and runs each of them; the echo server runs
# in the background for the echo client, on a port the kernel picks.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure_packages.sh

# A build directory of its own, so that turning the tests off here leaves the release
# preset's directory (which scripts/check.sh tests) as it was.
build=build/demo
cmake --preset release -B "$build" -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_BENCH=OFF >/dev/null
cmake --build "$build"

for example in fanout "sleepy --virtual" "factorial --virtual" factorial; do
    echo "== $example"
    # shellcheck disable=SC2086
    "$build"/examples/$example
done

echo "== echo_server and echo_client"
log=$(mktemp)
"$build"/examples/echo_server 0 2 >"$log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
port=""
for _ in $(seq 1 100); do
    port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$log")
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || { echo "echo_server did not start" >&2; exit 1; }
cat "$log"
"$build"/examples/echo_client localhost "$port" 3
