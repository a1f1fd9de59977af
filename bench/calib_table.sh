#!/bin/sh
# bench/calib_table.sh — calibrated baselines (GPTQ, AWQ, QMC+GPTQ) beside
# FP32, RTN and QMC: perplexity (`full` protocol, every token scored) and bits
# per weight.  docs/calibration.md holds the table this prints.
# Usage: [ROWS=core|all] bench/calib_table.sh [-j OUT.json] [stories260K|gutenberg5M]
#   stories260K  models/stories260K on data/text/tinystories-valid-sample.txt
#   gutenberg5M  ../shared/models/gutenberg5M on the first 300,000 bytes of
#                ../shared/data/wikitext-2-raw/wiki.test.raw, CR removed, n_ctx 256
#                (the reference setup of ../shared/README.md)
# Calibration: the default text (data/text/wikitext2-valid-slice.txt), 2048
# tokens, windows of the model's context.  Extra quantize options for every
# calibrated row may be given in $CALIB_OPTS (e.g. "--calib-tokens 4096").
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QMC=${QMC:-$ROOT/build/qmc}   # QMC=path: another binary (e.g. a copy while rebuilding)
export QMC_DATA=${QMC_DATA:-$ROOT/data}   # the default calibration text, whatever binary runs
SHARED=${QMC_SHARED:-$ROOT/../shared}
[ -d "$SHARED" ] || SHARED=/work/shared
JSON=
if [ "${1:-}" = "-j" ]; then JSON=$2; shift 2; fi
WHICH=${1:-stories260K}
[ -x "$QMC" ] || { echo "run make first" >&2; exit 1; }
TMP=$(mktemp -d /tmp/qmc-calib-table.XXXXXX)
trap 'rm -rf "$TMP"' EXIT INT TERM
case "$WHICH" in
stories260K)
    MODEL=$ROOT/models/stories260K/stories260K.bin
    TEXT=$ROOT/data/text/tinystories-valid-sample.txt
    PPL_OPTS="--protocol full"
    DEFAULT_ROWS=all ;;
gutenberg5M)
    MODEL=$SHARED/models/gutenberg5M/gutenberg5M.bin
    [ -f "$MODEL" ] || { echo "$MODEL not found (set QMC_SHARED)" >&2; exit 1; }
    head -c 300000 "$SHARED/data/wikitext-2-raw/wiki.test.raw" > "$TMP/wiki-test-300k.txt"
    TEXT=$TMP/wiki-test-300k.txt
    PPL_OPTS="--protocol full --strip-cr"
    DEFAULT_ROWS=core ;;
*) echo "unknown model '$WHICH' (stories260K or gutenberg5M)" >&2; exit 2 ;;
esac
CALIB_OPTS=${CALIB_OPTS:-}

val() { printf '%s' "$1" | sed -n "s/.*\"$2\":[^0-9-]*\\([-0-9.e+]*\\).*/\\1/p" | head -1; }
flat() { tr -d '\n\t' ; }

echo "model: $WHICH, text: $(basename "$TEXT"), protocol: full (every token scored), calibration: default text, $(date -u +%Y-%m-%d)"
echo
echo "| config | quantize options | perplexity | ratio to FP32 | block nominal bpw | block honest bpw | block SQNR dB | quantize s |"
echo "|---|---|---|---|---|---|---|---|"
# shellcheck disable=SC2086
fp=$("$QMC" ppl -m "$MODEL" -f "$TEXT" $PPL_OPTS --json | flat)
ppl32=$(val "$fp" perplexity)
printf '| FP32 | - | %.4f | 1.000 | 32 | 32 | - | - |\n' "$ppl32"
rows="{\"config\": \"FP32\", \"options\": \"\", \"perplexity\": $ppl32}"
run() { # label, options...
    label=$1; shift
    # shellcheck disable=SC2086
    q=$("$QMC" quantize -q -m "$MODEL" -o "$TMP/m.qmc.gguf" --json "$@" | flat)
    # shellcheck disable=SC2086
    p=$("$QMC" ppl -m "$TMP/m.qmc.gguf" -f "$TEXT" $PPL_OPTS --json | flat)
    ppl=$(val "$p" perplexity); bn=$(val "$q" block_nominal_bpw); bh=$(val "$q" block_honest_bpw)
    sq=$(val "$q" block_sqnr_db); sec=$(val "$q" seconds_quantize)
    awk -v l="$label" -v o="$*" -v p="$ppl" -v r="$ppl32" -v bn="$bn" -v bh="$bh" -v sq="$sq" -v s="$sec" \
        'BEGIN{printf "| %s | `%s` | %.4f | %.3f | %.3f | %.3f | %.2f | %.1f |\n", l, o, p, p/r, bn, bh, sq, s}'
    rows="$rows, {\"config\": \"$label\", \"options\": \"$*\", \"perplexity\": $ppl, \"block_nominal_bpw\": $bn, \"block_honest_bpw\": $bh, \"block_sqnr_db\": $sq, \"seconds_quantize\": $sec}"
}
# ROWS=core: the six configurations of the comparison; all: also act-order and g32
# (default: all for stories260K, core for gutenberg5M, whose evaluation is ~20x longer)
ROWS=${ROWS:-$DEFAULT_ROWS}
all() { [ "$ROWS" = all ]; }
# shellcheck disable=SC2086
{
run "RTN INT4 per-channel" --method rtn
run "GPTQ INT4 per-channel" --method gptq $CALIB_OPTS
if all; then run "GPTQ INT4 per-channel, act-order" --method gptq --act-order $CALIB_OPTS; fi
run "AWQ INT4 per-channel" --method awq $CALIB_OPTS
if all; then
    run "RTN INT4 g32" --method rtn --group 32
    run "GPTQ INT4 g32" --method gptq --group 32 $CALIB_OPTS
    run "AWQ INT4 g32" --method awq --group 32 $CALIB_OPTS
fi
run "QMC 3/5 rho 0.3" --method qmc
run "QMC+GPTQ 3/5 rho 0.3" --method qmc-gptq $CALIB_OPTS
if all; then run "QMC+GPTQ 3/5 rho 0.3, act-order" --method qmc-gptq --act-order $CALIB_OPTS; fi
}
if [ -n "$JSON" ]; then
    printf '{"model": "%s", "text": "%s", "protocol": "full", "rows": [%s]}\n' "$MODEL" "$(basename "$TEXT")" "$rows" > "$JSON"
    echo; echo "JSON: $JSON"
fi
