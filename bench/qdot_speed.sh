#!/bin/sh
# bench/qdot_speed.sh — the single-token fused kernels alone, one thread: the QMC
# default layout (3/5 bits, rho 0.3) and the 8-bit embedding / head format, from
# L2 and from DRAM, in G weights/s (docs/quantization.md §5).
# Usage: make bench-tools && bench/qdot_speed.sh [--json]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$ROOT/build/bench/qdot_speed" ] || { echo "run: make all bench-tools" >&2; exit 1; }
export OMP_NUM_THREADS=1
"$ROOT/build/bench/qdot_speed" "$@" qmc
"$ROOT/build/bench/qdot_speed" "$@" rtn8 16384
