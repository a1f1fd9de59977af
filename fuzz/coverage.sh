#!/bin/sh
# coverage.sh TARGET... — source line coverage of what each fuzz target's
# corpus reaches (built by `make fuzz-coverage`: clang source-based coverage,
# no sanitizers, in build-fuzz/cov/).  Each target runs once over its corpus:
# FUZZ_CORPUS/<target>/ plus the seeds fuzz/corpus/<target>/ (FUZZ_CORPUS
# defaults to build-fuzz/corpus, where fuzz/run.sh keeps what it found).
# Prints, per target, the lines covered in the source files it exists for
# (FILES below), and writes an HTML report to build-fuzz/cov/html/<target>/.
set -eu
cd "$(dirname "$0")/.."
B=build-fuzz/cov
CORPUS=${FUZZ_CORPUS:-build-fuzz/corpus}

# The sources a target is about (coverage of everything else is incidental).
files_for() {
    case "$1" in
    gguf) echo src/formats/gguf.c ;;
    gguf_model) echo src/model/gguf_model.c src/model/model.c src/quant/packfile.c ;;
    gguf_vocab) echo src/model/tokenizer.c src/model/tokenizer_bpe.c ;;
    packed) echo src/quant/packfile.c src/quant/qtensor.c ;;
    llama2c) echo src/model/llama2c.c ;;
    tokbin) echo src/model/tokenizer.c ;;
    tokenizer_json) echo src/model/tokenizer_hf.c src/model/tokenizer_bpe.c ;;
    safetensors|st_index) echo src/formats/safetensors.c ;;
    hf_config) echo src/model/hf_model.c src/formats/jsonfile.c ;;
    hf_dir) echo src/model/hf_model.c src/formats/safetensors.c src/model/tokenizer_hf.c ;;
    sim_tech) echo src/sim/tech.c ;;
    sim_config) echo src/sim/workload.c ;;
    tasks) echo src/eval/tasks.c src/eval/task_layouts.c ;;
    *) ls src/*/*.c | grep -i "$(echo "$1" | sed 's/_.*//')" || true ;;
    esac
}

mkdir -p "$B/prof" "$B/html"
printf '%-16s %s\n' target "lines covered (of the target's own sources)"
for t in "$@"; do
    dirs="fuzz/corpus/$t"
    [ -d "$CORPUS/$t" ] && dirs="$CORPUS/$t $dirs"
    rm -f "$B/prof/$t".*
    # shellcheck disable=SC2086
    LLVM_PROFILE_FILE="$B/prof/$t.%p.profraw" "$B/fuzz/$t" -runs=0 $dirs >"$B/prof/$t.log" 2>&1 ||
        { echo "$t: replay failed, see $B/prof/$t.log" >&2; exit 1; }
    llvm-profdata-14 merge -sparse "$B/prof/$t".*.profraw -o "$B/prof/$t.profdata"
    files=$(files_for "$t")
    # shellcheck disable=SC2086
    summary=$(llvm-cov-14 report "$B/fuzz/$t" -instr-profile="$B/prof/$t.profdata" $files | tail -1)
    # TOTAL regions missed cover functions missed executed lines missed cover ...
    printf '%-16s %s  in %s\n' "$t" "$(echo "$summary" | awk '{printf "%d of %d lines (%s)", $8 - $9, $8, $10}')" \
        "$(echo $files | tr '\n' ' ')"
    # shellcheck disable=SC2086
    llvm-cov-14 show "$B/fuzz/$t" -instr-profile="$B/prof/$t.profdata" -format=html -output-dir="$B/html/$t" $files >/dev/null
done
