#!/bin/sh
# bench/hf_rss.sh — peak resident memory when loading (and when running) the
# synthetic qwen2.5-1.5b model in F16 as a Hugging Face directory
# (`qmc convert --format hf` of bench/rss.sh's GGUF), against the size of its
# model.safetensors: the weights are used in place from the mapping.
# Usage: bench/hf_rss.sh [MODEL_DIR]   (default /tmp/qmc-bench-models; ~6 GB)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QMC=$ROOT/build/qmc
DIR=${1:-/tmp/qmc-bench-models}
mkdir -p "$DIR"
[ -x /usr/bin/time ] || { echo "bench/hf_rss.sh needs /usr/bin/time (Debian package 'time')" >&2; exit 1; }
f="$DIR/qwen2.5-1.5b-f16.gguf"
hf="$DIR/qwen2.5-1.5b-f16-hf"
[ -f "$f" ] || "$QMC" synth --shape qwen2.5-1.5b --outtype f16 -o "$f"
[ -f "$hf/config.json" ] || "$QMC" convert "$f" --format hf -o "$hf"
size=$(stat -c %s "$hf/model.safetensors")
peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
load=$(peak "$QMC" info -m "$hf")
run=$(peak "$QMC" bench -m "$hf" -p 16 -n 4 -r 1)
awk -v s="$size" -v l="$load" -v r="$run" 'BEGIN{
  printf "model.safetensors %.2f GB\n", s/1e9;
  printf "peak RSS, load only (qmc info):            %.3f GB (%.1f%% of the file)\n", l*1024/1e9, 100*l*1024/s;
  printf "peak RSS, load + run every weight (bench): %.3f GB (%.1f%% of the file)\n", r*1024/1e9, 100*r*1024/s }'
