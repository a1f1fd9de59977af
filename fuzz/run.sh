#!/bin/sh
# run.sh SECONDS TARGET... — run each libFuzzer target of build-fuzz/fuzz/ for
# SECONDS, FUZZ_JOBS at a time (default 1), starting from its checked-in seed
# corpus fuzz/corpus/TARGET (new inputs go to build-fuzz/corpus/TARGET, never
# into the repository).  Prints executions and coverage per target; exits
# non-zero if any target found a crash, a hang (an input taking more than
# FUZZ_TIMEOUT seconds, default 10) or a sanitizer report.  The input that
# failed is left in build-fuzz/artifacts/TARGET/, the log in build-fuzz/logs/.
set -eu
cd "$(dirname "$0")/.."
B=${FUZZ_BUILD:-build-fuzz}

# Dictionary of a target: GGUF keys for the GGUF-based ones, JSON keys and
# tokens for the JSON ones.
dict_for() {
    case "$1" in
    gguf*|packed) echo fuzz/dict/gguf.dict ;;
    tokenizer_json|hf_config|st_index|safetensors|sim_*|tasks*|device*|study_*) echo fuzz/dict/json.dict ;;
    *) echo "" ;;
    esac
}

if [ "${1:-}" = "--one" ]; then
    t=$2 secs=$3
    mkdir -p "$B/corpus/$t" "$B/artifacts/$t" "$B/logs"
    dict=$(dict_for "$t")
    set +e
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$B/fuzz/$t" -max_total_time="$secs" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 \
        -print_final_stats=1 ${dict:+-dict=$dict} ${FUZZ_FLAGS:-} \
        -artifact_prefix="$B/artifacts/$t/" "$B/corpus/$t" "fuzz/corpus/$t" >"$B/logs/$t.log" 2>&1
    rc=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/logs/$t.log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$B/logs/$t.log" | tail -1)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$B/logs/$t.log" | tail -1 | awk '{print $2 " " $4}')
    status=ok
    [ "$rc" -ne 0 ] && status="FAILED (exit $rc, see $B/logs/$t.log)"
    printf '%-16s %10s execs %7s/s  cov %5s ft %6s  %s\n' "$t" "${execs:-?}" "${speed:-?}" \
        "${cov%% *}" "${cov##* }" "$status"
    exit "$rc"
fi

secs=${1:?usage: fuzz/run.sh SECONDS TARGET...}
shift
[ $# -gt 0 ] || { echo "fuzz/run.sh: no targets" >&2; exit 2; }
for t in "$@"; do
    [ -x "$B/fuzz/$t" ] || { echo "fuzz/run.sh: $B/fuzz/$t is not built (make fuzz-build)" >&2; exit 2; }
done
echo "fuzzing $# targets for ${secs}s each, ${FUZZ_JOBS:-1} at a time"
if printf '%s\n' "$@" | xargs -P "${FUZZ_JOBS:-1}" -I{} "$0" --one {} "$secs"; then
    echo "fuzz: no crashes"
else
    echo "fuzz: FAILED (inputs in $B/artifacts/)" >&2
    exit 1
fi
