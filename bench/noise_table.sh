#!/bin/sh
# The device-noise table of docs/device-noise.md: stories260K on the TinyStories
# sample (full protocol, CR stripped), FP32, QMC without noise, and QMC (MSE and
# noise-aware scales) and RTN INT4/INT3 with every weight in MLC ReRAM
# ("eMEMs-MLC-ReRAM") under two device profiles in 3-bit and 2-bit cell mode,
# each as mean and 95% confidence interval over TRIALS noise trials.
#
# usage: bench/noise_table.sh [OUTDIR]      (default bench/results)
# env:   QMC_SHARED (default ../shared or ../../shared), TRIALS (10), SEED (1),
#        DEVICES ("nvmexplorer wan2022-1s"), MODES ("3 2"), CHUNKS (0 = all 512-token windows),
#        FOCUS_TRIALS (30: noise-aware vs MSE scales on wan2022-1s 3-bit cells again; 0 skips),
#        THREADS (qmc -t; default: qmc's default.  On a busy machine -t 1 is much faster: OpenMP
#        threads spin-wait for each other when the cores are shared)
# The noise-aware rows are quantized with `qmc quantize --device PROFILE --mlc N`, which derives
# p_minus/p_plus from the profile (docs/device-noise.md); the MSE rows use no device.
# Writes OUTDIR/noise_table.md and the JSON of every run under OUTDIR/noise_table/.
set -eu
cd "$(dirname "$0")/.."
QMC=${QMC:-build/qmc}
OUT=${1:-bench/results}
TRIALS=${TRIALS:-10}
SEED=${SEED:-1}
DEVICES=${DEVICES:-"nvmexplorer wan2022-1s"}
MODES=${MODES:-"3 2"}
CHUNKS=${CHUNKS:-0}
THREADS=${THREADS:-}
TOPT=${THREADS:+-t $THREADS}
for d in "${QMC_SHARED:-}" ../shared ../../shared; do
    if [ -n "$d" ] && [ -f "$d/models/stories260K/stories260K.bin" ]; then SHARED=$d; break; fi
done
: "${SHARED:?stories260K not found: set QMC_SHARED}"
MODEL=$SHARED/models/stories260K/stories260K.bin
TEXT=$SHARED/data/tinystories/TinyStories-valid-sample-30k.txt
EVAL="-f $TEXT --protocol full --strip-cr --chunks $CHUNKS $TOPT"
RAW=$OUT/noise_table
MODELS=$RAW/models
mkdir -p "$RAW" "$MODELS"
make -s "$QMC"

log() { echo "noise_table: $*" >&2; }

quantize() { # name args...
    name=$1
    shift
    if [ ! -f "$MODELS/$name.qmc.gguf" ]; then
        log "quantize $name: $*"
        "$QMC" quantize -m "$MODEL" -o "$MODELS/$name.qmc.gguf" -q --json $TOPT "$@" >"$RAW/quantize-$name.json"
    fi
}

noise() { # model device mode
    f=$RAW/noise-$1-$2-$3b.json
    if [ ! -f "$f" ]; then
        log "noise $1 on $2, $3-bit cells, $TRIALS trials"
        "$QMC" noise -m "$MODELS/$1.qmc.gguf" $EVAL --device "$2" --mlc "$3" --trials "$TRIALS" --seed "$SEED" --json \
            >"$f.tmp" 2>/dev/null
        mv "$f.tmp" "$f"
    fi
}

# ---- models -------------------------------------------------------------------
log "FP32"
"$QMC" ppl -m "$MODEL" $EVAL --json >"$RAW/ppl-fp32.json"
quantize qmc-mse --method qmc --rho 0.3 --bits-in 3 --bits-out 5
"$QMC" ppl -m "$MODELS/qmc-mse.qmc.gguf" $EVAL --json >"$RAW/ppl-qmc-mse.json"
quantize rtn-int4 --method rtn --bits-in 4
quantize rtn-int3 --method rtn --bits-in 3
for dev in $DEVICES; do
    for mode in $MODES; do
        quantize "qmc-aware-$dev-${mode}b" --method qmc --rho 0.3 --bits-in 3 --bits-out 5 --device "$dev" --mlc "$mode"
    done
done

# ---- noise runs ------------------------------------------------------------------
for dev in $DEVICES; do
    for mode in $MODES; do
        noise qmc-mse "$dev" "$mode"
        noise "qmc-aware-$dev-${mode}b" "$dev" "$mode"
        noise rtn-int4 "$dev" "$mode"
        noise rtn-int3 "$dev" "$mode"
    done
done

# The one comparison where the device is noisy enough for the scales to matter
# (wan2022-1s, 3-bit cells), again with FOCUS_TRIALS trials (0: skip).
FOCUS_TRIALS=${FOCUS_TRIALS:-30}
focus() { # model
    f=$RAW/focus-$1.json
    if [ "$FOCUS_TRIALS" -gt 0 ] && [ ! -f "$f" ]; then
        log "focus: $1 on wan2022-1s, 3-bit cells, $FOCUS_TRIALS trials"
        "$QMC" noise -m "$MODELS/$1.qmc.gguf" $EVAL --device wan2022-1s --mlc 3 --trials "$FOCUS_TRIALS" --seed "$SEED" \
            --json >"$f.tmp" 2>/dev/null
        mv "$f.tmp" "$f"
    fi
}
focus qmc-mse
quantize qmc-aware-wan2022-1s-3b --method qmc --rho 0.3 --bits-in 3 --bits-out 5 --device wan2022-1s --mlc 3
focus qmc-aware-wan2022-1s-3b

# ---- the table ---------------------------------------------------------------------
row_noise() { # label model device mode
    f=$RAW/noise-$2-$3-$4b.json
    jq -r '[.device.cell_bits, .clean_perplexity, .perplexity.mean, .perplexity.ci95_lo, .perplexity.ci95_hi,
            .perplexity.sd, .cell_error_rate.measured, .cell_error_rate.expected] | map(tostring) | join(" ")' "$f" |
        awk -v lbl="$1" -v dev="$3" '{
            printf "| %s | %s | %d-bit cells | %.4f | %.4f ± %.4f | [%.4f, %.4f] | %+.4f | %.4f | %.3e | %.3e |\n",
                lbl, dev, $1, $2, $3, ($5 - $4) / 2, $4, $5, $3 - $2, $6, $7, $8 }'
}

# Noise-aware minus MSE scales: difference of the mean perplexities with a Welch 95% interval
# (t quantiles for the Welch degrees of freedom from a table; 1.96 beyond 30).
welch() { # file_a file_b
    { jq -r '[.trials[].value] | map(tostring) | join(" ")' "$1"; jq -r '[.trials[].value] | map(tostring) | join(" ")' "$2"; } |
        awk 'NR == 1 { na = split($0, a, " ") } NR == 2 { nb = split($0, b, " ") }
        END {
            split("12.706 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262 2.228 2.201 2.179 2.160 2.145 2.131 2.120 2.110 2.101 2.093 2.086 2.080 2.074 2.069 2.064 2.060 2.056 2.052 2.048 2.045 2.042", tq, " ")
            for (i = 1; i <= na; i++) ma += a[i] / na
            for (i = 1; i <= nb; i++) mb += b[i] / nb
            for (i = 1; i <= na; i++) va += (a[i] - ma) ^ 2 / (na - 1)
            for (i = 1; i <= nb; i++) vb += (b[i] - mb) ^ 2 / (nb - 1)
            sa = va / na; sb = vb / nb; se = sqrt(sa + sb)
            if (se < 1e-12) { printf "%+.4f (no spread: no trial differs)", ma - mb; exit }
            df = int((sa + sb) ^ 2 / (sa ^ 2 / (na - 1) + sb ^ 2 / (nb - 1)))
            t = df < 1 ? tq[1] : df <= 30 ? tq[df] : 1.96
            printf "%+.4f [%+.4f, %+.4f]", ma - mb, ma - mb - t * se, ma - mb + t * se
        }'
}

T=$OUT/noise_table.md
{
    echo "# Device-noise table: stories260K, TinyStories sample"
    echo
    echo "Generated by \`bench/noise_table.sh\` on $(date -u +%Y-%m-%d) ($(uname -m), $("$QMC" --version))."
    echo "Text: \`data/tinystories/TinyStories-valid-sample-30k.txt\`, \`--protocol full --strip-cr\`"
    if [ "$CHUNKS" -gt 0 ]; then
        echo "(windows of 512 tokens, every token scored), limited to the first $CHUNKS windows"
        echo "($(jq -r '.tokens_scored' "$RAW/ppl-fp32.json") tokens scored; CHUNKS=$CHUNKS). $TRIALS noise trials per row, seed $SEED;"
    else
        echo "(windows of 512 tokens, every token scored). $TRIALS noise trials per row, seed $SEED;"
    fi
    echo "± is the half-width of the 95% confidence interval of the mean (Student t, $((TRIALS - 1)) df)."
    echo "Noise hits the ReRAM cells of the transformer-block linears; MRAM (outliers, positions, scales) is"
    echo "error-free (BER 0, as in the paper). The 8-bit token embedding / head is not in ReRAM."
    echo
    echo "| configuration | noise-free perplexity |"
    echo "|---|---|"
    echo "| FP32 | $(jq -r '.perplexity * 10000 | round / 10000' "$RAW/ppl-fp32.json") |"
    echo "| QMC rho 0.3, 3/5 bits, MSE scales | $(jq -r '.perplexity * 10000 | round / 10000' "$RAW/ppl-qmc-mse.json") |"
    for dev in $DEVICES; do
        for mode in $MODES; do
            m=qmc-aware-$dev-${mode}b
            echo "| QMC rho 0.3, 3/5 bits, noise-aware scales for $dev ${mode}-bit cells | $(jq -r '.clean_perplexity * 10000 | round / 10000' "$RAW/noise-$m-$dev-${mode}b.json") |"
        done
    done
    echo "| RTN INT4 per channel | $(jq -r '.clean_perplexity * 10000 | round / 10000' "$RAW/noise-rtn-int4-$(echo $DEVICES | cut -d' ' -f1)-$(echo $MODES | cut -d' ' -f1)b.json") |"
    echo "| RTN INT3 per channel | $(jq -r '.clean_perplexity * 10000 | round / 10000' "$RAW/noise-rtn-int3-$(echo $DEVICES | cut -d' ' -f1)-$(echo $MODES | cut -d' ' -f1)b.json") |"
    echo
    echo "| configuration | device | cells | noise-free ppl | ppl under noise (mean ± 95% CI) | 95% CI | noise cost | sd | cell error rate measured | expected |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    for dev in $DEVICES; do
        for mode in $MODES; do
            row_noise "QMC, MSE scales" qmc-mse "$dev" "$mode"
            row_noise "QMC, noise-aware scales" "qmc-aware-$dev-${mode}b" "$dev" "$mode"
            row_noise "RTN INT4, all in ReRAM (eMEMs-MLC-ReRAM)" rtn-int4 "$dev" "$mode"
            row_noise "RTN INT3, all in ReRAM (eMEMs-MLC-ReRAM)" rtn-int3 "$dev" "$mode"
        done
    done
    echo
    echo "Noise-aware minus MSE scales, perplexity under the same device (difference of means, Welch 95% interval;"
    echo "negative = noise-aware better):"
    echo
    for dev in $DEVICES; do
        for mode in $MODES; do
            echo "- $dev, ${mode}-bit cells: $(welch "$RAW/noise-qmc-aware-$dev-${mode}b-$dev-${mode}b.json" "$RAW/noise-qmc-mse-$dev-${mode}b.json")"
        done
    done
    if [ "$FOCUS_TRIALS" -gt 0 ]; then
        echo
        echo "The same comparison for wan2022-1s, 3-bit cells, with $FOCUS_TRIALS trials each:"
        echo
        for m in qmc-mse qmc-aware-wan2022-1s-3b; do
            jq -r --arg m "$m" '"- \($m): \(.perplexity.mean * 10000 | round / 10000) [\(.perplexity.ci95_lo * 10000 | round / 10000), \(.perplexity.ci95_hi * 10000 | round / 10000)]"' "$RAW/focus-$m.json"
        done
        echo "- noise-aware minus MSE: $(welch "$RAW/focus-qmc-aware-wan2022-1s-3b.json" "$RAW/focus-qmc-mse.json")"
    fi
    echo
    echo "p_minus/p_plus used by the noise-aware rows (from \`qmc device PROFILE --mlc N --json\`):"
    echo
    for dev in $DEVICES; do
        for mode in $MODES; do
            "$QMC" device "$dev" --mlc "$mode" --json |
                jq -r --arg d "$dev" '.cells[0] | "- \($d), \(.bits)-bit cells: misread per cell \(.misread_mean), p_minus \(.p_minus), p_plus \(.p_plus)"'
        done
    done
} >"$T.tmp"
mv "$T.tmp" "$T"
log "wrote $T"
cat "$T"
