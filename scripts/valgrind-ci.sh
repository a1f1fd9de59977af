#!/bin/sh
# valgrind-ci.sh — end-to-end commands of the normal build under valgrind
# (memcheck), failing on any error or definite/indirect leak: text generation
# with the embedded model, and conversion of it to GGUF and to a Hugging Face
# directory (the crash-safe writers).  Called by scripts/test.sh.
set -eu
cd "$(dirname "$0")/.."
BIN=${QMC_BIN:-build/qmc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"
run() {
    echo "valgrind: qmc $*"
    $VG "$BIN" "$@" >"$tmp/out.txt" 2>&1 || { cat "$tmp/out.txt"; echo "valgrind: FAILED: qmc $*" >&2; exit 1; }
}
M=models/stories260K/stories260K.bin
run generate -m "$M" -p "Once upon a time" -n 16 -t 2
run convert "$M" -o "$tmp/m.gguf" --outtype f16
run convert "$tmp/m.gguf" -o "$tmp/hf" --format hf
echo "valgrind: no errors"
