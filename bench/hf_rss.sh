#!/bin/sh
# Peak resident memory of loading and running a 1.54e9-parameter F16 Hugging
# Face directory (Qwen2-1.5B shapes, bench/make_synth_hf.py): the weights are
# used in place from the mapped model.safetensors, so `qmc info` (load only)
# stays small and `qmc generate` (every weight read) peaks near the file size.
# usage: bench/hf_rss.sh [path/to/qmc] [workdir]   (needs python3, ~3.1 GB of disk)
set -eu
cd "$(dirname "$0")/.."
QMC=${1:-build/qmc}
DIR=${2:-$(mktemp -d)}/synth-qwen2-1.5b
[ -f "$DIR/model.safetensors" ] || python3 bench/make_synth_hf.py "$DIR"
size=$(stat -c %s "$DIR/model.safetensors")
rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk '/Maximum resident set size/ {print $6}'; }
info_kb=$(rss "$QMC" info "$DIR")
gen_kb=$(rss "$QMC" generate -m "$DIR" -p "hello" -n 4)
printf 'model.safetensors        %8.0f MiB\n' "$(echo "$size / 1048576" | bc -l)"
printf 'qmc info (load)          %8.0f MiB peak RSS\n' "$(echo "$info_kb / 1024" | bc -l)"
printf 'qmc generate -n 4        %8.0f MiB peak RSS\n' "$(echo "$gen_kb / 1024" | bc -l)"
