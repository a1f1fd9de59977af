#!/bin/sh
# bench/quant_table.sh — perplexity and bits per weight of every quantizer on
# one model (default: stories260K on the TinyStories sample, `full` protocol).
# Usage: bench/quant_table.sh [-j OUT.json] [MODEL [TEXT]]
# Prints a markdown table on stdout; -j also writes the rows as JSON.
# bpw columns: the transformer-block linears (nominal = the paper's count,
# honest = every stored byte incl. positions, scales, padding), and all
# weights including the 8-bit embedding/head.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QMC=$ROOT/build/qmc
JSON=
if [ "${1:-}" = "-j" ]; then JSON=$2; shift 2; fi
MODEL=${1:-$ROOT/models/stories260K/stories260K.bin}
TEXT=${2:-$ROOT/data/text/tinystories-valid-sample.txt}
[ -x "$QMC" ] || { echo "run make first" >&2; exit 1; }
TMP=$(mktemp -d /tmp/qmc-quant-table.XXXXXX)
trap 'rm -rf "$TMP"' EXIT INT TERM

val() { printf '%s' "$1" | sed -n "s/.*\"$2\":[^0-9-]*\\([-0-9.e+]*\\).*/\\1/p" | head -1; }
flat() { tr -d '\n\t' ; }

echo "model: $(basename "$MODEL"), text: $(basename "$TEXT"), protocol: full (every token scored), $(date -u +%Y-%m-%d)"
echo
echo "| config | quantize options | perplexity | ratio to FP32 | block nominal bpw | block honest bpw | all-weights honest bpw | block SQNR dB |"
echo "|---|---|---|---|---|---|---|---|"
rows=""
fp=$("$QMC" ppl -m "$MODEL" -f "$TEXT" --protocol full --json | flat)
ppl32=$(val "$fp" perplexity)
printf '| FP32 | - | %.4f | 1.000 | 32 | 32 | 32 | - |\n' "$ppl32"
rows="{\"config\": \"FP32\", \"options\": \"\", \"perplexity\": $ppl32}"
run() { # label, options...
    label=$1; shift
    q=$("$QMC" quantize -q -m "$MODEL" -o "$TMP/m.qmc.gguf" --json "$@" | flat)
    p=$("$QMC" ppl -m "$TMP/m.qmc.gguf" -f "$TEXT" --protocol full --json | flat)
    ppl=$(val "$p" perplexity); bn=$(val "$q" block_nominal_bpw); bh=$(val "$q" block_honest_bpw)
    ah=$(val "$q" all_honest_bpw); sq=$(val "$q" block_sqnr_db)
    awk -v l="$label" -v o="$*" -v p="$ppl" -v r="$ppl32" -v bn="$bn" -v bh="$bh" -v ah="$ah" -v sq="$sq" \
        'BEGIN{printf "| %s | `%s` | %.4f | %.3f | %.3f | %.3f | %.3f | %.2f |\n", l, o, p, p/r, bn, bh, ah, sq}'
    rows="$rows, {\"config\": \"$label\", \"options\": \"$*\", \"perplexity\": $ppl, \"block_nominal_bpw\": $bn, \"block_honest_bpw\": $bh, \"all_honest_bpw\": $ah, \"block_sqnr_db\": $sq}"
}
run "RTN INT4 per-channel" --method rtn
run "RTN INT4 per-channel, symmetric" --method rtn --sym
run "RTN INT4 per-channel, MSE-searched scale" --method rtn --grid 100
run "RTN INT4 g32" --method rtn --group 32
run "MXINT4 (OCP MX, blocks of 32)" --method mxint4
run "MXFP4 (OCP MX, blocks of 32)" --method mxfp4
for rho in 0 0.1 0.2 0.3 0.4 0.5; do run "QMC 3/5 rho $rho" --rho "$rho"; done
run "QMC 3/5 rho 0.3, symmetric" --rho 0.3 --sym
run "QMC 4/6 rho 0.3" --bits-in 4 --bits-out 6
if [ -n "$JSON" ]; then
    printf '{"model": "%s", "text": "%s", "protocol": "full", "rows": [%s]}\n' "$MODEL" "$TEXT" "$rows" > "$JSON"
    echo; echo "JSON: $JSON"
fi
