#!/bin/sh
# bench/noise_inject_speed.sh — speed of cell-error injection (src/device/inject.c):
# 10^9 2-bit cells at nvmexplorer's 7.7e-9 (geometric skipping), 6.7x10^8 3-bit
# cells at 3.8e-3 and 8.8e-2.  Needs about 500 MB of memory.
# Usage: make bench-tools && bench/noise_inject_speed.sh
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$ROOT/build/bench/noise_inject_speed" ] || { echo "run: make all bench-tools" >&2; exit 1; }
"$ROOT/build/bench/noise_inject_speed"
