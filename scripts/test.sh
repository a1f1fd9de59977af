#!/bin/sh
# Build qmc and run every test: the normal build, end-to-end commands under
# valgrind, the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
# (warnings as errors throughout), then a short run of every fuzz target.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
JOBS=$(nproc 2>/dev/null || echo 2)
make -j"$JOBS" WERROR=1 all
make -j"$JOBS" WERROR=1 test
# end-to-end commands under valgrind: zero errors, no definite leaks
if [ "${QMC_SKIP_VALGRIND:-0}" != "1" ]; then
    ./scripts/valgrind-ci.sh
fi
if [ "${QMC_SKIP_SAN:-0}" != "1" ]; then
    make -j"$JOBS" WERROR=1 SAN=1 all
    QMC_TEST_QUICK=1 make -j"$JOBS" WERROR=1 SAN=1 test
fi
# every fuzz target for a short while (docs/fuzzing.md; FUZZ_SECONDS per target)
if [ "${QMC_SKIP_FUZZ:-0}" != "1" ]; then
    ./scripts/fuzz-ci.sh
fi
echo "qmc: all tests passed"
