#!/bin/sh
# bench/engine.sh — decode and prefill tokens/s with 1 and 2 threads for
# stories260K and synthetic smollm-135m and llama-3.2-1b (F32 and F16), and
# the ratio of the weight-read bandwidth decode achieves to this machine's
# measured memory bandwidth (build/bench/membw).
# Usage: bench/engine.sh [MODEL_DIR]   (synthetic models are created there
# once: ~7.5 GB for llama-3.2-1b F32 + F16; default /tmp/qmc-bench-models)
# Output: a markdown table on stdout and bench-engine.json in the current dir.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QMC=$ROOT/build/qmc
DIR=${1:-/tmp/qmc-bench-models}
mkdir -p "$DIR"
[ -x "$QMC" ] && [ -x "$ROOT/build/bench/membw" ] || { echo "run: make all bench-tools" >&2; exit 1; }
for spec in smollm-135m:f32 smollm-135m:f16 llama-3.2-1b:f32 llama-3.2-1b:f16; do
    shape=${spec%%:*}; type=${spec##*:}
    f="$DIR/$shape-$type.gguf"
    [ -f "$f" ] || "$QMC" synth --shape "$shape" --outtype "$type" -o "$f"
done
bw_json=$("$ROOT/build/bench/membw" 2048 --json)
bw2=$(printf '%s' "$bw_json" | sed -n 's/.*"threads": 2, "read_gbs": \([0-9.]*\).*/\1/p')
bw1=$(printf '%s' "$bw_json" | sed -n 's/.*"threads": 1, "read_gbs": \([0-9.]*\).*/\1/p')
[ -n "$bw2" ] || bw2=$bw1
echo "memory read bandwidth (bench/membw): 1 thread $bw1 GB/s, 2 threads $bw2 GB/s"
echo
echo "| model | threads | prefill tok/s | decode tok/s | weight MB/token | decode GB/s | / memory bandwidth |"
echo "|---|---|---|---|---|---|---|"
out=bench-engine.json
printf '{"membw": %s, "runs": [' "$bw_json" > "$out"
sep=""
for m in "$ROOT/models/stories260K/stories260K.bin:128:64" "$DIR/smollm-135m-f32.gguf:128:32" "$DIR/smollm-135m-f16.gguf:128:32" \
         "$DIR/llama-3.2-1b-f32.gguf:64:16" "$DIR/llama-3.2-1b-f16.gguf:64:16"; do
    path=${m%%:*}; rest=${m#*:}; p=${rest%%:*}; n=${rest##*:}
    for t in 1 2; do
        j=$("$QMC" bench -m "$path" -p "$p" -n "$n" -t "$t" -r 3 --json)
        printf '%s%s' "$sep" "$j" >> "$out"; sep=","
        pf=$(printf '%s' "$j" | sed -n 's/.*"prefill_tokens_per_s":[^0-9]*\([0-9.e+]*\).*/\1/p')
        dec=$(printf '%s' "$j" | sed -n 's/.*"decode_tokens_per_s":[^0-9]*\([0-9.e+]*\).*/\1/p')
        wb=$(printf '%s' "$j" | sed -n 's/.*"weight_bytes_per_token":[^0-9]*\([0-9.e+]*\).*/\1/p')
        gbs=$(printf '%s' "$j" | sed -n 's/.*"decode_weight_gb_per_s":[^0-9]*\([0-9.e+]*\).*/\1/p')
        bw=$bw2; [ "$t" = 1 ] && bw=$bw1
        awk -v m="$(basename "$path")" -v t="$t" -v pf="$pf" -v dec="$dec" -v wb="$wb" -v g="$gbs" -v bw="$bw" \
            'BEGIN{printf "| %s | %d | %.1f | %.2f | %.1f | %.2f | %.2f |\n", m, t, pf, dec, wb/1e6, g, g/bw}'
    done
done
echo "]}" >> "$out"
