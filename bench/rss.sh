#!/bin/sh
# bench/rss.sh — peak resident memory when loading (and when running) the
# synthetic qwen2.5-1.5b model in F16, against its file size: as GGUF, and as
# a Hugging Face directory (`qmc convert --format hf`; the size compared is its
# model.safetensors).  Both are used in place from the mapped file.
# Usage: bench/rss.sh [MODEL_DIR]   (~6.2 GB there; default /tmp/qmc-bench-models)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QMC=$ROOT/build/qmc
DIR=${1:-/tmp/qmc-bench-models}
mkdir -p "$DIR"
f="$DIR/qwen2.5-1.5b-f16.gguf"
hf="$DIR/qwen2.5-1.5b-f16-hf"
[ -f "$f" ] || "$QMC" synth --shape qwen2.5-1.5b --outtype f16 -o "$f"
[ -f "$hf/config.json" ] || "$QMC" convert "$f" --format hf -o "$hf"
peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
[ -x /usr/bin/time ] || { echo "bench/rss.sh needs /usr/bin/time (Debian package 'time')" >&2; exit 1; }
measure() { # label model file-whose-size-counts
    size=$(stat -c %s "$3")
    load=$(peak "$QMC" info -m "$2")
    run=$(peak "$QMC" bench -m "$2" -p 16 -n 4 -r 1)
    awk -v n="$1" -v s="$size" -v l="$load" -v r="$run" 'BEGIN{
      printf "%s: file %.2f GB\n", n, s/1e9;
      printf "  peak RSS, load only (qmc info):            %.3f GB (%.1f%% of the file)\n", l*1024/1e9, 100*l*1024/s;
      printf "  peak RSS, load + run every weight (bench): %.3f GB (%.1f%% of the file)\n", r*1024/1e9, 100*r*1024/s }'
}
measure "GGUF" "$f" "$f"
measure "Hugging Face directory" "$hf" "$hf/model.safetensors"
