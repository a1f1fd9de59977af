#!/bin/sh
# Peak resident memory of loading and running a 1.54e9-parameter F16 Hugging
# Face directory: `qmc synth --shape qwen2.5-1.5b` (Qwen2.5-1.5B's shapes,
# random weights) converted with `qmc convert --format hf`.  The weights are
# used in place from the mapped model.safetensors, so `qmc info` (load and
# validate) stays small and `qmc generate` (every weight read) peaks near the
# file size.
# usage: bench/hf_rss.sh [path/to/qmc] [workdir]   (~6 GB of disk in workdir)
set -eu
cd "$(dirname "$0")/.."
QMC=${1:-build/qmc}
WORK=${2:-$(mktemp -d)}
DIR=$WORK/qwen2.5-1.5b-hf
[ -f "$WORK/qwen2.5-1.5b.gguf" ] || "$QMC" synth --shape qwen2.5-1.5b --outtype f16 -o "$WORK/qwen2.5-1.5b.gguf"
[ -f "$DIR/config.json" ] || "$QMC" convert "$WORK/qwen2.5-1.5b.gguf" --format hf -o "$DIR"
rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk '/Maximum resident set size/ {print $6}'; }
size=$(stat -c %s "$DIR/model.safetensors")
info_kb=$(rss "$QMC" info "$DIR")
gen_kb=$(rss "$QMC" generate -m "$DIR" -p "hello" -n 4)
awk -v s="$size" -v i="$info_kb" -v g="$gen_kb" 'BEGIN {
    printf "model.safetensors      %6.0f MiB\n", s / 1048576
    printf "qmc info (load)        %6.0f MiB peak RSS\n", i / 1024
    printf "qmc generate -n 4      %6.0f MiB peak RSS\n", g / 1024 }'
