#!/bin/sh
# bench/dse.sh — time `qmc dse` (design-space exploration) over >= 10,000
# configurations; the target is under 1 second per run, process start and
# data loading included.  Usage: bench/dse.sh [path/to/qmc]
set -eu
cd "$(dirname "$0")/.."
QMC=${1:-build/qmc}
[ -x "$QMC" ] || { echo "bench/dse.sh: $QMC not found (run make)" >&2; exit 1; }
status=0
run() {
    label=$1
    shift
    start=$(date +%s.%N)
    line=$("$QMC" dse "$@" | head -1)
    end=$(date +%s.%N)
    configs=$(printf '%s\n' "$line" | sed -n 's/.*; \([0-9]*\) configurations.*/\1/p')
    inner=$(printf '%s\n' "$line" | sed -n 's/.* in \([0-9.]*\) s$/\1/p')
    wall=$(awk "BEGIN{printf \"%.3f\", $end - $start}")
    verdict=$(awk "BEGIN{print ($wall < 1.0 && $configs >= 10000) ? \"ok\" : \"SLOW\"}")
    [ "$verdict" = ok ] || status=1
    printf '%-34s %9s configurations  %8ss explore  %8ss wall  %s\n' "$label" "$configs" "$inner" "$wall" "$verdict"
}
echo "qmc dse timings ($(nproc) cores; target: >= 10,000 configurations in < 1 s wall)"
run "1.52e9 params, default space" --params 1.52e9
run "Hymba-1.5B config, default space" -m hymba-1.5b
run "Llama-3.2-3B, 10 rho x 16 x 256" -m llama-3.2-3b --rho-list 0.05:0.5:0.05
run "Hymba, 16 rho x 32 x 1024" -m hymba-1.5b --rho-list 0.05:0.8:0.05 --channels 1:32 --arrays 1:1024 --gen 512
exit $status
