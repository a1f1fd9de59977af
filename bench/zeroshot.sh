#!/bin/sh
# bench/zeroshot.sh — the eight zero-shot tasks (HellaSwag, ARC-e, ARC-c, BoolQ,
# PIQA, WinoGrande, OpenBookQA, LAMBADA) on one model, as a table: accuracy with
# lm-eval's standard error, acc_norm, LAMBADA perplexity, truncated requests,
# seconds and tokens run per second.
#
#   bench/zeroshot.sh [QMC] [MODEL] [LIMIT] [THREADS]
#     QMC      the qmc binary (default build/qmc)
#     MODEL    default models/stories260K/stories260K.bin (the embedded model)
#     LIMIT    examples per task (default 500; 0 = every example)
#     THREADS  worker threads (default: all cores)
# The task files come from the data directory qmc eval finds ($QMC_ZEROSHOT_DIR,
# $QMC_SHARED/data/zeroshot, ../shared/data/zeroshot or ../../shared/data/zeroshot).
set -eu
cd "$(dirname "$0")/.."
QMC=${1:-build/qmc}
MODEL=${2:-models/stories260K/stories260K.bin}
LIMIT=${3:-500}
THREADS=${4:-}
TASKS=hellaswag,arc_easy,arc_challenge,boolq,piqa,winogrande,openbookqa,lambada
[ -x "$QMC" ] || { echo "bench/zeroshot.sh: $QMC not built (run make)" >&2; exit 1; }
set -- -m "$MODEL" --task "$TASKS"
[ "$LIMIT" != 0 ] && set -- "$@" --limit "$LIMIT"
[ -n "$THREADS" ] && set -- "$@" -t "$THREADS"
echo "model: $MODEL   examples per task: ${LIMIT:-all} (0 = all)   threads: ${THREADS:-all cores}"
start=$(date +%s.%N)
"$QMC" eval "$@"
end=$(date +%s.%N)
awk "BEGIN { printf \"total %.1f s\\n\", $end - $start }"
