#!/bin/sh
# Speed of cell-error injection (no timing lives in the unit tests).
# usage: bench/noise_inject_speed.sh   (after `make`; needs about 500 MB of memory)
set -eu
cd "$(dirname "$0")/.."
make -s build/libqmc.a
out=build/bench/noise_inject_speed
mkdir -p build/bench
cc -O2 -std=c11 -D_GNU_SOURCE -fopenmp -Iinclude -Isrc $(pkg-config --cflags libcjson) -o "$out" bench/noise_inject_speed.c \
    build/libqmc.a $(pkg-config --libs libcjson) -lm
"$out"
