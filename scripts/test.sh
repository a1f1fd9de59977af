#!/bin/sh
# Build qmc and run every test: the normal build, then the same suite under
# AddressSanitizer + UndefinedBehaviorSanitizer, warnings as errors.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
JOBS=$(nproc 2>/dev/null || echo 2)
make -j"$JOBS" WERROR=1 all
make -j"$JOBS" WERROR=1 test
if [ "${QMC_SKIP_SAN:-0}" != "1" ]; then
    make -j"$JOBS" WERROR=1 SAN=1 all
    QMC_TEST_QUICK=1 make -j"$JOBS" WERROR=1 SAN=1 test
fi
echo "qmc: all tests passed"
