#!/usr/bin/env bash
# Build and run the whole test suite: once with ASan+UBSan (build-asan/), then the
# normal build (build/), whose ctest summary is the last thing printed.
# Usage: tools/test-all.sh            (from anywhere; installs missing packages first)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc 2>/dev/null || echo 2)

bash tools/install-deps.sh

echo "== ASan+UBSan build (build-asan/) =="
cmake -S . -B build-asan -DVITS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure -j"$jobs")

echo "== Release build (build/) =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
cd build && ctest --output-on-failure -j"$jobs"
