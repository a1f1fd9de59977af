#!/bin/sh
# The main job on the embedded default model (models/stories260K): build qmc,
# generate text, measure perplexity, run the memory-system comparison, and end
# with the demo study (configs/study-demo.json: the paper-style tables).
# Everything it reads is in the repository; it needs no network.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
make -j"$(nproc 2>/dev/null || echo 2)" all >/dev/null
QMC=build/qmc
# Spinning OpenMP workers waste the cores on a shared machine; the small models here need no spin.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
MODEL=models/stories260K/stories260K.bin
TEXT=data/text/tinystories-valid-sample.txt
echo "== qmc generate (greedy) on the embedded stories260K model"
$QMC generate -m $MODEL -p "Once upon a time" -n 48
echo
echo "== qmc ppl: FP32 perplexity on the TinyStories sample (full protocol)"
$QMC ppl -m $MODEL -f $TEXT --protocol full
echo
echo "== qmc sim --paper: the paper's system-level numbers (1.52e9 parameters, Table 1)"
$QMC sim --paper
echo
echo "== qmc study configs/study-demo.json: FP32 vs RTN INT4 vs MXINT4 vs QMC (no noise, 2-bit and 3-bit"
echo "   cells under nvmexplorer and wan2022 noise), bits per weight, and system ratios vs FP16 (this model, Hymba-1.5B)"
$QMC study configs/study-demo.json --quiet --out "${QMC_DEMO_OUT:-results/study-demo}"
