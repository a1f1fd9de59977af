#!/usr/bin/env python3
"""Make a byte-level BPE tokenizer.json (Llama-3 pre-tokenizer) from a llama2.c
tokenizer.bin, for benchmarking qmc's byte-level BPE on a realistic vocabulary.

Every SentencePiece piece becomes the bytes it stands for ("<0xNN>" -> byte NN,
spaces as spaces), written in the GPT-2 byte map's alphabet; merges are all
splits of every piece into two pieces, ordered by the piece's score (as
transformers' SentencePieceExtractor orders them).  Standard library only.

usage: make_bpe_tokenizer.py tokenizer.bin out/tokenizer.json
"""
import json
import os
import re
import struct
import sys


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + \
        list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def main():
    src, dst = sys.argv[1], sys.argv[2]
    data = open(src, "rb").read()
    pos = 4
    pieces = []
    while pos + 8 <= len(data):
        score, n = struct.unpack_from("<fi", data, pos)
        pos += 8
        pieces.append((data[pos:pos + n], score))
        pos += n
    bmap = bytes_to_unicode()
    special = {b"<unk>", b"<s>", b"</s>", b"\n<s>\n", b"\n</s>\n"}
    vocab, scores, added = {}, {}, []
    for i, (raw, score) in enumerate(pieces):
        if raw in special:
            added.append({"id": i, "content": raw.decode().strip(), "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True})
            continue
        m = re.fullmatch(rb"<0x([0-9A-Fa-f]{2})>", raw)
        b = bytes([int(m.group(1), 16)]) if m else raw
        s = "".join(bmap[x] for x in b)
        if s not in vocab:
            vocab[s] = i
            scores[s] = score
    merges = []
    for s, i in vocab.items():
        local = [(s[:k], s[k:]) for k in range(1, len(s)) if s[:k] in vocab and s[k:] in vocab]
        local.sort(key=lambda p: (vocab[p[0]], vocab[p[1]]))
        merges.extend((l, r, scores[s]) for l, r in local)
    merges.sort(key=lambda m: m[2], reverse=True)  # stable
    llama3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
    tok = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": llama3}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [l + " " + r for l, r, _ in merges]},
    }
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False)
    print(f"{dst}: {len(vocab)} pieces, {len(merges)} merges", file=sys.stderr)


if __name__ == "__main__":
    main()
