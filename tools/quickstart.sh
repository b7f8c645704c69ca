#!/usr/bin/env bash
# The main job: install what is needed, build, and analyse a bundled trace of a real
# Linux guest (Linux 6.1 under QEMU 7.2, NVMe, 2 CPUs, 1440 affinity changes, a run
# long enough to wrap its 64 KiB command queue): its statistics, then what each vITS
# policy would have cost on the same traffic.
# Usage: tools/quickstart.sh [TRACE]      (default: corpus/traces/wrap-64k.itr)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
trace=${1:-corpus/traces/wrap-64k.itr}

bash tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
echo "== its-trace stats $trace =="
build/bin/its-trace stats "$trace"
echo
echo "== its-trace whatif $trace: the same guest traffic under each policy =="
build/bin/its-trace whatif "$trace"
