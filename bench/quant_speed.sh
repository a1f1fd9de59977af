#!/bin/sh
# bench/quant_speed.sh — speed of the packed format:
#   1. wall time to quantize the synthetic qwen2.5-1.5b (F16) with the QMC
#      defaults on 2 threads (the progress bar goes to stderr);
#   2. single-token decode tokens/s of the synthetic llama-3.2-1b, F32 against
#      the packed QMC file, 2 threads (ROUNDS alternating rounds, default 5:
#      fastest of each, and the ratio within each round).
# Usage: bench/quant_speed.sh [MODEL_DIR [decode]]  (`decode`: part 2 only, reusing the packed
# llama file when present). Synthetic models are created in MODEL_DIR
# (once, ~8 GB; default /tmp/qmc-bench-models).  Prints a markdown table and
# writes bench-quant-speed.json in the current directory.
# The machine should be otherwise idle: decode with 2 threads on 2 cores is
# sensitive to any other process (OpenMP threads wait for each other).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QMC=$ROOT/build/qmc
DIR=${1:-/tmp/qmc-bench-models}
ONLY=${2:-all}
T=${QMC_BENCH_THREADS:-2}
mkdir -p "$DIR"
[ -x "$QMC" ] || { echo "run make first" >&2; exit 1; }
QW=$DIR/qwen2.5-1.5b-f16.gguf
LL=$DIR/llama-3.2-1b-f32.gguf
[ -f "$QW" ] || "$QMC" synth --shape qwen2.5-1.5b --outtype f16 -o "$QW"
[ -f "$LL" ] || "$QMC" synth --shape llama-3.2-1b --outtype f32 -o "$LL"
val() { printf '%s' "$1" | tr -d '\n\t' | sed -n "s/.*\"$2\":[^0-9-]*\\([-0-9.e+]*\\).*/\\1/p" | head -1; }
now() { date +%s.%N; }

load0=$(cut -d' ' -f1-3 /proc/loadavg)
qwall=; qj=
if [ "$ONLY" != decode ]; then
    cat "$QW" > /dev/null   # page the source in: time the quantizer, not the disk
    t0=$(now)
    qj=$("$QMC" quantize -t "$T" -m "$QW" -o "$DIR/qwen2.5-1.5b.qmc.gguf" --json)
    t1=$(now)
    qwall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}')
fi
[ "$ONLY" = decode ] && [ -f "$DIR/llama-3.2-1b.qmc.gguf" ] ||
    "$QMC" quantize -t "$T" -q -m "$LL" -o "$DIR/llama-3.2-1b.qmc.gguf" > /dev/null

# F32 and packed alternate (ROUNDS rounds, default 5) so both see the same machine: the table
# gives the fastest of each and the ratio of the two runs of each round (median, lowest, highest),
# since F32 decode follows the host's memory bandwidth, which drifts from minute to minute here
best() { awk -v a="$1" -v b="$2" 'BEGIN{print (b > a) ? b : a}'; }
ROUNDS=${ROUNDS:-5}
d32=0; dq=0; f32=; qmc=; ratios=; rounds_json=
for round in $(seq "$ROUNDS"); do
    j=$("$QMC" bench -m "$LL" -p 16 -n 16 -t "$T" -r 1 --json)
    a=$(val "$j" decode_tokens_per_s); [ "$(best "$d32" "$a")" = "$a" ] && { d32=$a; f32=$j; }
    j=$("$QMC" bench -m "$DIR/llama-3.2-1b.qmc.gguf" -p 16 -n 32 -t "$T" -r 1 --json)
    b=$(val "$j" decode_tokens_per_s); [ "$(best "$dq" "$b")" = "$b" ] && { dq=$b; qmc=$j; }
    ratios="$ratios $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.3f", b / a}')"
    rounds_json="$rounds_json${rounds_json:+, }{\"f32_tokens_per_s\": $a, \"packed_tokens_per_s\": $b}"
done
rstat=$(printf '%s\n' $ratios | sort -g | awk '{v[NR]=$1} END{m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.2f %.2f %.2f", m, v[1], v[NR]}')
b32=$(val "$f32" weight_bytes_per_token); bq=$(val "$qmc" weight_bytes_per_token)
echo
echo "load average before/after: $load0 / $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| measurement | value |"
echo "|---|---|"
[ -n "$qj" ] && awk -v w="$qwall" -v q="$(val "$qj" seconds_quantize)" -v t="$T" \
    'BEGIN{printf "| quantize qwen2.5-1.5b (F16 source, QMC defaults, %d threads), wall | %.1f s (quantizer alone %.1f s) |\n", t, w, q}'
[ -n "$qj" ] && awk -v h="$(val "$qj" block_honest_bpw)" -v n="$(val "$qj" block_nominal_bpw)" \
    'BEGIN{printf "| qwen2.5-1.5b packed: block linears honest / nominal bpw | %.3f / %.3f |\n", h, n}'
awk -v d="$d32" -v b="$b32" -v t="$T" 'BEGIN{printf "| llama-3.2-1b F32 decode, %d threads | %.2f tokens/s (%.0f MB of weights per token) |\n", t, d, b/1e6}'
awk -v d="$dq" -v b="$bq" -v t="$T" 'BEGIN{printf "| llama-3.2-1b QMC packed decode, %d threads | %.2f tokens/s (%.0f MB of weights per token) |\n", t, d, b/1e6}'
awk -v a="$dq" -v b="$d32" 'BEGIN{printf "| packed / F32 decode speed, fastest of each | %.2fx |\n", a/b}'
echo "$rstat" | awk -v n="$ROUNDS" '{printf "| packed / F32 within each of %d rounds: median (lowest, highest) | %.2fx (%.2fx, %.2fx) |\n", n, $1, $2, $3}'
set -- $rstat
printf '{"threads": %s, "quantize_qwen2.5_1.5b_wall_s": %s, "quantize": %s, "bench_f32": %s, "bench_packed": %s, "rounds": [%s], "ratio_median": %s, "ratio_min": %s, "ratio_max": %s}\n' \
    "$T" "${qwall:-null}" "${qj:-null}" "$f32" "$qmc" "$rounds_json" "$1" "$2" "$3" > bench-quant-speed.json
