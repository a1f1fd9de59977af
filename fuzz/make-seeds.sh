#!/bin/sh
# make-seeds.sh — regenerate the checked-in seed corpora fuzz/corpus/<target>/
# from files made the way the tests make them (fuzz/seedgen.c: tu_random_model
# and qmc's writers), the simulator's data files, and the small real
# tokenizer shipped with the embedded model.  Deterministic: running it again
# gives the same files.
set -eu
cd "$(dirname "$0")/.."
make -j"$(nproc 2>/dev/null || echo 2)" build/fuzz/seedgen >/dev/null
rm -rf fuzz/corpus
./build/fuzz/seedgen fuzz/corpus
mkdir -p fuzz/corpus/sim_tech
cp data/tech/*.json data/platforms/*.json fuzz/corpus/sim_tech/
for f in data/configs/*.json; do
    cp "$f" fuzz/corpus/sim_config/
    cp "$f" fuzz/corpus/hf_config/
done
cp models/stories260K/tok512.bin fuzz/corpus/tokbin/
mkdir -p fuzz/corpus/study_config
cp configs/*.json fuzz/corpus/study_config/

# packed: what the real `qmc quantize` writes (QMC asym 3/5 and sym 2/8, RTN
# grouped and per channel, MXINT4, MXINT6, MXFP4; each with the 8-bit
# embedding and head) from the generated Llama model
make -j"$(nproc 2>/dev/null || echo 2)" build/qmc >/dev/null
q() {
    out=$1
    shift
    ./build/qmc quantize -q -t 1 -m fuzz/corpus/gguf/llama-spm-f32.gguf -o "fuzz/corpus/packed/quantize-$out.qmc.gguf" "$@" >/dev/null
}
q qmc-3-5-asym --method qmc
q qmc-2-8-sym --method qmc --sym --bits-in 2 --bits-out 8 --rho 0.05
q rtn4-asym-g8 --method rtn --group 8
q rtn4-sym --method rtn --sym
q mxint4 --method mxint4
q mxint6 --method mxint4 --bits-in 6
q mxfp4 --method mxfp4

# device: the shipped profiles (gaussian, sigma_poly with retention times,
# confusion matrix, ideal) and the kinds of users' own files the tests write
mkdir -p fuzz/corpus/device
cp data/devices/*.json fuzz/corpus/device/
printf '%s' '{"qmc_device_profile": 1, "name": "t", "sources": ["test"], "reram": {"model": "gaussian", "thresholds": "midpoint", "cells": [{"bits": 1, "means": [0, 1], "sigmas": [0.2, 0.4]}]}, "stuck_at_0": 0.01, "stuck_at_1": 0.02}' \
    >fuzz/corpus/device/gaussian-midpoint-stuck.json
printf '%s' '{"qmc_device_profile": 1, "name": "mine", "sources": ["my bench, 2026"], "reram": {"model": "confusion", "cells": [{"bits": 1, "matrix": [[0.9, 0.1], [0.2, 0.8]]}, {"bits": 2, "matrix": [[0.97, 0.03, 0, 0], [0.01, 0.98, 0.01, 0], [0, 0.02, 0.96, 0.02], [0, 0, 0.05, 0.95]]}]}, "mram_ber": 1e-6}' \
    >fuzz/corpus/device/confusion-1b-2b.json
printf '%s' '{"qmc_device_profile": 1, "name": "g", "sources": ["s"], "reram": {"model": "gaussian", "cells": [{"bits": 2, "means": [0, 1, 2, 3], "sigmas": [0.1, 0.2, 0.2, 0.1], "thresholds": [0.4, 1.5, 2.6]}]}}' \
    >fuzz/corpus/device/gaussian-thresholds.json
printf '%s' '{"qmc_device_profile": 1, "name": "p", "sources": ["s"], "reram": {"model": "sigma_poly", "thresholds": "midpoint", "g_min": 1, "g_max": 20, "cell_bits": [2, 4], "retention": [{"time_s": 1, "coeffs": [0.3, 1]}, {"time_s": 3600, "coeffs": [0.5, 1.5]}]}, "stuck_at_1": 0.001}' \
    >fuzz/corpus/device/sigma-poly-2times.json
printf '1.5h' >fuzz/corpus/device/time-1.5h
printf '30' >fuzz/corpus/device/time-30
du -sh fuzz/corpus
for d in fuzz/corpus/*/; do printf '%-16s %3d files\n' "$(basename "$d")" "$(ls "$d" | wc -l)"; done
