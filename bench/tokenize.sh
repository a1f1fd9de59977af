#!/bin/sh
# Tokenizer throughput: MB/s of `qmc tokenize --count` on WikiText-2-raw test
# (1.29 MB) for each tokenizer kind qmc has:
#   - SentencePiece-style BPE from llama2.c tokenizer.bin files (tok512,
#     gutenberg5M's 2048 pieces, Llama 2's 32000 pieces),
#   - tok512 written as tokenizer.json by `qmc convert --format hf` and read
#     back (SPM via Hugging Face),
#   - Llama 2's vocabulary turned into a byte-level BPE with the Llama-3
#     pre-tokenizer (bench/make_bpe_tokenizer.py; 31901 pieces, 61796 merges).
# usage: bench/tokenize.sh [path/to/qmc]   (needs ../shared or $QMC_SHARED; python3)
set -eu
cd "$(dirname "$0")/.."
QMC=${1:-build/qmc}
SHARED=${QMC_SHARED:-}
[ -z "$SHARED" ] && for d in ../shared ../../shared; do [ -d "$d/data" ] && SHARED=$d && break; done
[ -n "$SHARED" ] || { echo "tokenize.sh: shared data not found (set QMC_SHARED)" >&2; exit 1; }
TEXT=$SHARED/data/wikitext-2-raw/wiki.test.raw
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

python3 bench/make_bpe_tokenizer.py "$SHARED/tokenizers/llama2/tokenizer.bin" "$TMP/bpe/tokenizer.json"
# tok512 as tokenizer.json (SPM kind), through stories260K's HF export
"$QMC" convert "$SHARED/models/stories260K/stories260K.bin" --format hf -o "$TMP/s260hf" 2>/dev/null

run() { # name tokenizer-args...
    name=$1
    shift
    for i in 1 2 3; do
        "$QMC" tokenize "$@" -f "$TEXT" --count --json |
            python3 -c 'import json,sys; o=json.load(sys.stdin); print("%.2f %d %d" % (o["bytes"]/o["seconds"]/1e6, o["n_tokens"], o["bytes"]))'
    done | sort -n -r | head -1 | (read -r mbs ntok nbytes
        printf '%-38s %7s MB/s  %7s tokens  %7s bytes\n' "$name" "$mbs" "$ntok" "$nbytes")
}

echo "qmc tokenize on $(basename "$TEXT") (best of 3)"
run "spm tok512 (llama2.c)" --tokenizer "$SHARED/models/stories260K/tok512.bin"
run "spm gutenberg5M 2048 (llama2.c)" --tokenizer "$SHARED/models/gutenberg5M/tokenizer.bin"
run "spm llama2 32000 (llama2.c)" --tokenizer "$SHARED/tokenizers/llama2/tokenizer.bin"
run "spm tok512 (tokenizer.json)" --tokenizer "$TMP/s260hf/tokenizer.json"
run "byte-level bpe 32000 (llama-3 regex)" --tokenizer "$TMP/bpe/tokenizer.json"
