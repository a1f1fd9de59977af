#!/bin/sh
# Run each test program, report pass/fail and time; non-zero exit if any fails.
set -u
# Spinning OpenMP workers starve each other on a busy machine; tests do not need the spin.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
fail=0
total_start=$(date +%s.%N)
for t in "$@"; do
    start=$(date +%s.%N)
    if out=$("$t" 2>&1); then status=PASS; else status=FAIL; fail=1; fi
    end=$(date +%s.%N)
    printf '%-4s %-40s %6.2fs\n' "$status" "$(basename "$t")" "$(awk "BEGIN{print $end - $start}")"
    if [ "$status" = FAIL ] || [ "${QMC_TEST_VERBOSE:-0}" = 1 ]; then printf '%s\n' "$out" | tail -40; fi
    printf '%s\n' "$out" | grep -E '^\[  SKIPPED \]|^skip:' | sed 's/^/     /'
done
total_end=$(date +%s.%N)
printf 'total %.1fs\n' "$(awk "BEGIN{print $total_end - $total_start}")"
exit $fail
