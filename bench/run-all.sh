#!/bin/sh
# bench/run-all.sh — every benchmark of the repository, one after the other.
set -eu
cd "$(dirname "$0")/.."
for b in engine rss tokenize dse zeroshot noise_inject_speed qdot_speed; do
    echo "== bench/$b.sh"
    "./bench/$b.sh"
    echo
done
