#!/bin/sh
# bench/rss.sh — peak resident memory when loading (and when running) the
# synthetic qwen2.5-1.5b model in F16, against its file size.
# Usage: bench/rss.sh [MODEL_DIR]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QMC=$ROOT/build/qmc
DIR=${1:-/tmp/qmc-bench-models}
mkdir -p "$DIR"
f="$DIR/qwen2.5-1.5b-f16.gguf"
[ -f "$f" ] || "$QMC" synth --shape qwen2.5-1.5b --outtype f16 -o "$f"
size=$(stat -c %s "$f")
peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
[ -x /usr/bin/time ] || { echo "bench/rss.sh needs /usr/bin/time (Debian package 'time')" >&2; exit 1; }
load=$(peak "$QMC" info -m "$f")
run=$(peak "$QMC" bench -m "$f" -p 16 -n 4 -r 1)
awk -v s="$size" -v l="$load" -v r="$run" 'BEGIN{
  printf "file %.2f GB\n", s/1e9;
  printf "peak RSS, load only (qmc info):          %.3f GB (%.1f%% of the file)\n", l*1024/1e9, 100*l*1024/s;
  printf "peak RSS, load + run every weight (bench): %.3f GB (%.1f%% of the file)\n", r*1024/1e9, 100*r*1024/s }'
