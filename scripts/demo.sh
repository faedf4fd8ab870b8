#!/usr/bin/env bash
# Builds weft's examples in the release preset and runs each of them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure_packages.sh

cmake --preset release -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_BENCH=OFF >/dev/null
cmake --build --preset release

for example in fanout "sleepy --virtual" "factorial --virtual" factorial; do
    echo "== $example"
    # shellcheck disable=SC2086
    build/release/examples/$example
done
