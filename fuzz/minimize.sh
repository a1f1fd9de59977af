#!/bin/sh
# minimize.sh TARGET CRASH_FILE NAME — shrink an input that crashes
# build-fuzz/fuzz/TARGET (libFuzzer -minimize_crash) and store it as
# tests/regress/TARGET/NAME, where build/tests/test_regress replays it.
set -eu
cd "$(dirname "$0")/.."
t=$1 in=$2 name=$3
mkdir -p "tests/regress/$t"
out="tests/regress/$t/$name"
"build-fuzz/fuzz/$t" -minimize_crash=1 -max_total_time="${FUZZ_MIN_SECONDS:-30}" \
    -exact_artifact_path="$out" "$in" >"build-fuzz/logs/minimize-$t.log" 2>&1 || true
[ -s "$out" ] || cp "$in" "$out"
echo "$out: $(wc -c <"$out") bytes (from $(wc -c <"$in"))"
