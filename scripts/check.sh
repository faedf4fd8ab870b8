#!/usr/bin/env bash
# Checks that runtime/'s includes point down its layers (scripts/check_layers.sh), then
# builds and runs every test of weft: the g++ and clang++ release builds, the
# ThreadSanitizer build and the AddressSanitizer + UndefinedBehaviorSanitizer build with
# clang++, then the g++ ThreadSanitizer and ASan+UBSan builds a Debian user makes, where
# symmetric transfer goes through the worker's trampoline, and the g++ -O0 build of the
# await-chain tests (one `cmake --workflow` each: configure, build, ctest); then installs
# weft and builds an outside project against the installed package.
#
# Time (the CI machine has 2 cores): the sanitizer presets keep line tables only (-g1),
# which is all a sanitizer's report needs; full debug information (-g) made compiling a test
# 14 % (clang ASan) to 36 % (g++ TSan) slower. They build no benchmark and only the example
# a test runs. The test presets run two tests at a time. Every preset compiles a test
# folder's files eight to a translation unit (tests/CMakeLists.txt): the g++ TSan build
# took 2 min 45 s instead of 4 min 31 s.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== layers"
scripts/check_layers.sh
source scripts/ensure_packages.sh

for preset in release release-clang tsan asan tsan-gcc asan-gcc debug-gcc; do
    echo "== workflow: $preset ($(date +%T))"
    cmake --workflow --preset "$preset"
done

echo "== install and consume"
rm -rf build/install build/consumer
cmake --install build/release --prefix build/install
cmake -S tests/consumer -B build/consumer -G Ninja -DCMAKE_PREFIX_PATH="$PWD/build/install"
cmake --build build/consumer
build/consumer/consumer
