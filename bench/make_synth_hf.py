#!/usr/bin/env python3
"""Write a synthetic Hugging Face Qwen2 directory with Qwen2-1.5B's shapes
(hidden 1536, intermediate 8960, 28 layers, 12 heads / 2 KV heads, vocab
151936, tied embeddings, q/k/v biases): config.json, one F16
model.safetensors (~3.1 GB, 1.54e9 parameters) and a 256-token byte-level
tokenizer.json.  Weights are a repeated pseudo-random block of small F16
values (enough to run the model; not a trained model).  Standard library only.

usage: make_synth_hf.py OUT_DIR [--layers N]
"""
import json
import os
import random
import struct
import sys


def main():
    out = sys.argv[1]
    layers = int(sys.argv[sys.argv.index("--layers") + 1]) if "--layers" in sys.argv else 28
    H, I, NH, NKV, V = 1536, 8960, 12, 2, 151936
    hd = H // NH
    kvd = NKV * hd
    os.makedirs(out, exist_ok=True)
    tensors = [("model.embed_tokens.weight", [V, H])]
    for l in range(layers):
        p = f"model.layers.{l}."
        tensors += [(p + "input_layernorm.weight", [H]), (p + "self_attn.q_proj.weight", [H, H]),
                    (p + "self_attn.q_proj.bias", [H]), (p + "self_attn.k_proj.weight", [kvd, H]),
                    (p + "self_attn.k_proj.bias", [kvd]), (p + "self_attn.v_proj.weight", [kvd, H]),
                    (p + "self_attn.v_proj.bias", [kvd]), (p + "self_attn.o_proj.weight", [H, H]),
                    (p + "post_attention_layernorm.weight", [H]), (p + "mlp.gate_proj.weight", [I, H]),
                    (p + "mlp.up_proj.weight", [I, H]), (p + "mlp.down_proj.weight", [H, I])]
    tensors.append(("model.norm.weight", [H]))
    header, off = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in tensors:
        n = 1
        for d in shape:
            n *= d
        header[name] = {"dtype": "F16", "shape": shape, "data_offsets": [off, off + 2 * n]}
        off += 2 * n
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-(8 + len(h)) % 8)
    rng = random.Random(1)
    # halves with exponent 9..12 (|x| in [2^-6, 2^-2)) and random sign/mantissa
    block = bytearray()
    for _ in range(1 << 20):
        r = rng.getrandbits(16)
        block += struct.pack("<H", (r & 0x83FF) | ((9 + (r >> 10) % 4) << 10))
    ones = struct.pack("<H", 0x3C00) * (1 << 16)  # norms = 1.0
    with open(os.path.join(out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for name, shape in tensors:
            nbytes = header[name]["data_offsets"][1] - header[name]["data_offsets"][0]
            src = ones if "norm" in name else block
            while nbytes > 0:
                k = min(nbytes, len(src))
                f.write(src[:k])
                nbytes -= k
    cfg = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": H, "intermediate_size": I,
           "num_hidden_layers": layers, "num_attention_heads": NH, "num_key_value_heads": NKV, "vocab_size": V,
           "max_position_embeddings": 256, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "tie_word_embeddings": True,
           "hidden_act": "silu", "bos_token_id": 0, "eos_token_id": 0, "torch_dtype": "float16"}
    json.dump(cfg, open(os.path.join(out, "config.json"), "w"), indent=2)
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    vocab = {chr(c): b for b, c in zip(bs, cs)}
    tok = {"added_tokens": [], "normalizer": None, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False},
           "model": {"type": "BPE", "vocab": vocab, "merges": []}}
    json.dump(tok, open(os.path.join(out, "tokenizer.json"), "w"), ensure_ascii=False)
    params = sum(eval("*".join(map(str, s))) for _, s in tensors)
    print(f"{out}: {params} parameters, {8 + len(h) + off} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
