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
du -sh fuzz/corpus
for d in fuzz/corpus/*/; do printf '%-16s %3d files\n' "$(basename "$d")" "$(ls "$d" | wc -l)"; done
