#!/bin/sh
# fuzz-ci.sh — CI's short fuzz run (called by scripts/test.sh): builds every
# libFuzzer target (clang, ASan + UBSan, in build-fuzz/) and runs each for
# FUZZ_SECONDS seconds (default 20), FUZZ_JOBS at a time (default 2), from its
# seed corpus.  Fails on any crash, hang or sanitizer report; the failing
# input is left in build-fuzz/artifacts/<target>/ (see docs/fuzzing.md for
# turning it into a regression test).
set -eu
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
mkdir -p build-fuzz
make -j"$JOBS" fuzz-build >build-fuzz/build.log 2>&1 || { tail -30 build-fuzz/build.log; exit 1; }
make --no-print-directory fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-20}" FUZZ_JOBS="${FUZZ_JOBS:-2}"
