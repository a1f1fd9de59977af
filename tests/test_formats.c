/* test_formats.c — llama2.c v0/v1 and GGUF: identical logits across formats,
 * the reference generation and perplexity of the real models, GGUF layout
 * checked by an independent reader, tokenizer round trips, and bad input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "testutil.h"

static const char *STORIES = "models/stories260K/stories260K.bin";
static const int32_t PROBE[12] = {1, 403, 407, 261, 378, 275, 297, 338, 263, 401, 312, 46};

static qmc_model *load(const char *path) {
    qmc_model *m = NULL;
    if (qmc_model_load(path, NULL, &m)) fail_msg("load %s: %s", path, qmc_errmsg());
    return m;
}

static void assert_same_logits(qmc_model *a, qmc_model *b, double tol) {
    assert_int_equal(a->cfg.vocab_size, b->cfg.vocab_size);
    int32_t probe[12];
    for (int i = 0; i < 12; i++) probe[i] = PROBE[i] % a->cfg.vocab_size;
    float *la = tu_logits(a, probe, 12), *lb = tu_logits(b, probe, 12);
    assert_non_null(la);
    assert_non_null(lb);
    double d = tu_max_abs_diff(la, lb, 12LL * a->cfg.vocab_size);
    if (d > tol) fail_msg("logits differ by %g (tolerance %g)", d, tol);
    free(la);
    free(lb);
}

static void test_v0_v1_identical(void **state) {
    TU_REQUIRE_SHARED(v1, "models/stories260K/stories260K_v1.bin");
    qmc_model *a = load(STORIES);
    qmc_load_opts o = {.tokenizer_path = "models/stories260K/tok512.bin"};
    qmc_model *b = NULL;
    assert_int_equal(qmc_model_load(v1, &o, &b), 0);
    assert_string_equal(a->source_format, "llama2c-v0");
    assert_string_equal(b->source_format, "llama2c-v1");
    assert_int_equal(a->cfg.dim, 64);
    assert_int_equal(a->cfg.hidden_dim, 172);
    assert_int_equal(a->cfg.n_kv_heads, 4);
    assert_true(a->cfg.tied_output && b->cfg.tied_output);
    assert_same_logits(a, b, 0.0);
    qmc_model_free(a);
    qmc_model_free(b);
}

/* ---- an independent GGUF reader: sequential, straight from the spec ---- */
typedef struct { const uint8_t *p, *end; } cur_t;
static uint64_t rd(cur_t *c, int n) {
    uint64_t v = 0;
    if (c->end - c->p < n) fail_msg("independent reader: truncated");
    memcpy(&v, c->p, (size_t)n);
    c->p += n;
    return v;
}
static void skip_value(cur_t *c, uint32_t t) {
    static const int sz[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    if (t == 8) c->p += rd(c, 8);
    else if (t == 9) {
        uint32_t at = (uint32_t)rd(c, 4);
        uint64_t n = rd(c, 8);
        for (uint64_t i = 0; i < n; i++) skip_value(c, at);
    } else c->p += sz[t];
}

static void check_gguf_layout(const char *path, int expect_tensors) {
    char *buf;
    size_t n;
    assert_int_equal(qmc_read_file(path, 1 << 30, &buf, &n), 0);
    cur_t c = {(const uint8_t *)buf, (const uint8_t *)buf + n};
    assert_memory_equal(buf, "GGUF", 4);
    c.p += 4;
    assert_int_equal(rd(&c, 4), 3);
    uint64_t nt = rd(&c, 8), nkv = rd(&c, 8);
    assert_int_equal(nt, expect_tensors);
    uint64_t align = 32;
    bool saw_arch = false;
    for (uint64_t i = 0; i < nkv; i++) {
        uint64_t kl = rd(&c, 8);
        char key[256] = {0};
        memcpy(key, c.p, kl < 255 ? kl : 255);
        c.p += kl;
        uint32_t t = (uint32_t)rd(&c, 4);
        if (!strcmp(key, "general.architecture")) {
            assert_int_equal(t, 8);
            saw_arch = true;
        }
        if (!strcmp(key, "general.alignment")) align = (uint32_t)(c.p[0] | c.p[1] << 8 | c.p[2] << 16 | (uint32_t)c.p[3] << 24);
        skip_value(&c, t);
    }
    assert_true(saw_arch);
    uint64_t max_end = 0;
    bool saw_blk = false;
    for (uint64_t i = 0; i < nt; i++) {
        uint64_t nl = rd(&c, 8);
        char name[128] = {0};
        memcpy(name, c.p, nl);
        c.p += nl;
        uint32_t nd = (uint32_t)rd(&c, 4);
        uint64_t ne = 1;
        for (uint32_t d = 0; d < nd; d++) ne *= rd(&c, 8);
        uint32_t type = (uint32_t)rd(&c, 4);
        uint64_t off = rd(&c, 8);
        assert_int_equal(off % align, 0);
        uint64_t bytes = ne * (type == 0 ? 4 : 2);
        if (off + bytes > max_end) max_end = off + bytes;
        if (!strcmp(name, "blk.0.attn_q.weight")) saw_blk = true;
    }
    assert_true(saw_blk);
    uint64_t data = ((uint64_t)(c.p - (const uint8_t *)buf) + align - 1) / align * align;
    assert_true(data + max_end <= n);
    assert_true(n - (data + max_end) < align); /* only padding after the last tensor */
    qmc_free(buf);
}

static void test_gguf_roundtrip_stories(void **state) {
    qmc_model *a = load(STORIES);
    const char *p32 = tu_tmp("stories-f32.gguf"), *p16 = tu_tmp("stories-f16.gguf");
    assert_int_equal(qmc_model_save_gguf(a, p32, QMC_WRITE_F32), 0);
    assert_int_equal(qmc_model_save_gguf(a, p16, QMC_WRITE_F16), 0);
    check_gguf_layout(p32, 2 + 9 * 5);
    check_gguf_layout(p16, 2 + 9 * 5);
    qmc_model *b = load(p32), *c = load(p16);
    assert_string_equal(b->source_format, "gguf");
    assert_same_logits(a, b, 0.0);     /* F32: bit-identical */
    assert_same_logits(a, c, 0.05);    /* F16 weights */
    /* the vocabulary travels: same tokens for a text */
    const char *text = "Once upon a time, Lily met a dragon.\nThe end.";
    int32_t *ta, *tb;
    int64_t na, nb;
    assert_int_equal(qmc_tok_encode(a->tok, text, strlen(text), true, &ta, &na), 0);
    assert_int_equal(qmc_tok_encode(b->tok, text, strlen(text), true, &tb, &nb), 0);
    assert_int_equal(na, nb);
    assert_memory_equal(ta, tb, (size_t)na * 4);
    qmc_free(ta);
    qmc_free(tb);
    /* and GGUF -> GGUF again */
    const char *p2 = tu_tmp("stories-again.gguf");
    assert_int_equal(qmc_model_save_gguf(b, p2, QMC_WRITE_KEEP), 0);
    qmc_model *d = load(p2);
    assert_same_logits(a, d, 0.0);
    qmc_model_free(a), qmc_model_free(b), qmc_model_free(c), qmc_model_free(d);
}

static void roundtrip_random(tu_model_spec *sp) {
    qmc_model *a = tu_random_model(sp, 9);
    const char *p = tu_tmp("random.gguf");
    assert_int_equal(qmc_model_save_gguf(a, p, QMC_WRITE_F32), 0);
    qmc_model *b = load(p);
    assert_int_equal(b->cfg.arch, sp->arch);
    assert_int_equal(b->cfg.qkv_bias, sp->qkv_bias);
    assert_int_equal(b->cfg.tied_output, sp->tied);
    assert_int_equal(b->cfg.head_dim, a->cfg.head_dim);
    assert_true(b->cfg.rope_theta == a->cfg.rope_theta);
    assert_int_equal(!!b->rope_freqs.data, !!a->rope_freqs.data);
    assert_same_logits(a, b, 0.0);
    qmc_model_free(a);
    qmc_model_free(b);
}

static void test_gguf_roundtrip_qwen2_llama3(void **state) {
    tu_model_spec q = {.arch = QMC_ARCH_QWEN2, .dim = 32, .hidden = 48, .layers = 2, .heads = 4, .kv_heads = 2,
                       .vocab = 300, .seq_len = 64, .qkv_bias = true, .tied = false, .rope = QMC_ROPE_NEOX,
                       .rope_theta = 1e6f, .with_tokenizer = true};
    roundtrip_random(&q);
    tu_model_spec l = {.arch = QMC_ARCH_LLAMA, .dim = 32, .hidden = 64, .layers = 2, .heads = 4, .kv_heads = 1,
                       .head_dim = 16, .vocab = 300, .seq_len = 64, .tied = true, .rope = QMC_ROPE_NORM,
                       .llama3_scaling = true, .rope_theta = 5e5f, .with_tokenizer = true};
    roundtrip_random(&l);
    /* a Hugging Face style llama (half-split RoPE) written as GGUF llama: Q/K rows are permuted */
    tu_model_spec h = l;
    h.rope = QMC_ROPE_NEOX;
    h.tied = false;
    qmc_model *a = tu_random_model(&h, 5);
    const char *p = tu_tmp("neox-llama.gguf");
    assert_int_equal(qmc_model_save_gguf(a, p, QMC_WRITE_F32), 0);
    qmc_model *b = load(p);
    assert_int_equal(b->cfg.rope_style, QMC_ROPE_NORM);
    assert_same_logits(a, b, 0.0);
    qmc_model_free(a);
    qmc_model_free(b);
}

static void test_generation_reference(void **state) {
    char *out;
    int rc = tu_run(&out, "%s generate -m %s -p 'Once upon a time' -n 40", tu_qmc(), STORIES);
    assert_int_equal(rc, 0);
    const char *want = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";
    if (strncmp(out, want, strlen(want)) != 0) fail_msg("got: %.200s", out);
    free(out);
}

static double ppl_of(const char *model, const char *text, qmc_ppl_protocol proto, int n_ctx, int64_t *scored) {
    qmc_model *m = load(model);
    char *buf;
    size_t len;
    assert_int_equal(qmc_read_file(text, 1 << 26, &buf, &len), 0);
    size_t w = 0;
    for (size_t i = 0; i < len; i++)
        if (buf[i] != '\r') buf[w++] = buf[i];
    int32_t *t;
    int64_t n;
    assert_int_equal(qmc_tok_encode(m->tok, buf, w, false, &t, &n), 0);
    qmc_ppl_opts o = {.protocol = proto, .n_ctx = n_ctx};
    qmc_ppl_result r;
    assert_int_equal(qmc_perplexity(m, t, n, &o, &r), 0);
    if (proto == QMC_PPL_LLAMACPP) {
        /* chunks of the BOS-prefixed text; n_ctx - 1 - n_ctx/2 scored per chunk */
        assert_int_equal(r.n_chunks, (n + 1) / n_ctx);
        assert_int_equal(r.n_scored, r.n_chunks * (n_ctx - 1 - n_ctx / 2));
    } else assert_int_equal(r.n_scored, n); /* every text token */
    *scored = r.n_scored;
    qmc_free(t);
    qmc_free(buf);
    qmc_model_free(m);
    return r.ppl;
}

static void test_perplexity_references(void **state) {
    TU_REQUIRE_SHARED(ts, "data/tinystories/TinyStories-valid-sample-30k.txt");
    if (tu_quick()) {
        print_message("skip: whole-text perplexities are too slow under sanitizers\n");
        skip();
    }
    int64_t n;
    double p = ppl_of(STORIES, ts, QMC_PPL_FULL, 512, &n);
    /* our measured figure (the shared README's ~5.57 used a protocol we could not reproduce;
     * see docs/evaluation.md); regression-checked here */
    assert_int_equal(n, 15536);
    assert_true(fabs(p - 5.8121) < 5e-4);
    p = ppl_of(STORIES, ts, QMC_PPL_LLAMACPP, 512, &n);
    assert_true(fabs(p - 5.3856) < 5e-4);
    /* gutenberg5M on WikiText-2 raw: the independently measured 65.37 over 113,490 tokens */
    TU_REQUIRE_SHARED(g5, "models/gutenberg5M/gutenberg5M.bin");
    TU_REQUIRE_SHARED(wt, "data/wikitext-2-raw/wiki.test.raw");
    if (tu_quick()) return;
    char *buf;
    size_t len;
    assert_int_equal(qmc_read_file(wt, 1 << 26, &buf, &len), 0);
    const char *cut = tu_tmp("wiki-300k.txt");
    assert_int_equal(qmc_write_file_atomic(cut, buf, 300000), 0);
    qmc_free(buf);
    p = ppl_of(g5, cut, QMC_PPL_FULL, 256, &n);
    assert_int_equal(n, 113490);
    assert_true(fabs(p - 65.37) < 0.01);
}

static void test_kl_divergence(void **state) {
    TU_REQUIRE_SHARED(ts, "data/tinystories/TinyStories-valid-sample-30k.txt");
    const char *base = tu_tmp("base.kl"), *f16 = tu_tmp("kl-f16.gguf");
    qmc_model *m = load(STORIES);
    assert_int_equal(qmc_model_save_gguf(m, f16, QMC_WRITE_F16), 0);
    qmc_model_free(m);
    char *out;
    assert_int_equal(tu_run(&out, "%s ppl -m %s -f %s --strip-cr --chunks 4 --kl-base %s --json", tu_qmc(), STORIES, ts, base), 0);
    assert_non_null(strstr(out, "\"saved\""));
    free(out);
    /* the same model against itself: KL 0 (to float rounding), full agreement */
    assert_int_equal(tu_run(&out, "%s ppl -m %s -f %s --strip-cr --chunks 4 --kl-base %s --json", tu_qmc(), STORIES, ts, base), 0);
    double kl = atof(strstr(out, "\"kl_mean\":") + 10), agree = atof(strstr(out, "\"top1_agreement\":") + 17);
    assert_true(fabs(kl) < 1e-6);
    assert_true(agree == 1.0);
    free(out);
    /* F16 weights: small but non-zero KL */
    assert_int_equal(tu_run(&out, "%s ppl -m %s -f %s --strip-cr --chunks 4 --kl-base %s --json", tu_qmc(), f16, ts, base), 0);
    double kl16 = atof(strstr(out, "\"kl_mean\":") + 10);
    assert_true(kl16 > 0 && kl16 < 1e-2);
    free(out);
    /* a different text is refused */
    assert_int_not_equal(tu_run(&out, "%s ppl -m %s -f %s --chunks 2 --kl-base %s", tu_qmc(), STORIES, ts, base), 0);
    assert_non_null(strstr(out, "different text"));
    free(out);
}

static void roundtrip_text(qmc_tokenizer *t, const char *text, size_t len) {
    int32_t *ids;
    int64_t n;
    assert_int_equal(qmc_tok_encode(t, text, len, true, &ids, &n), 0);
    char *back = malloc(len * 2 + 16);
    size_t w = 0;
    char piece[512];
    for (int64_t i = 1; i < n; i++) {
        int k = qmc_tok_decode(t, ids[i - 1], ids[i], piece, sizeof piece);
        memcpy(back + w, piece, (size_t)k);
        w += (size_t)k;
    }
    if (w != len || memcmp(back, text, len) != 0) {
        size_t i = 0;
        while (i < w && i < len && back[i] == text[i]) i++;
        fail_msg("round trip differs at byte %zu of %zu (decoded %zu bytes)", i, len, w);
    }
    free(back);
    qmc_free(ids);
}

static void test_tokenizer_roundtrips(void **state) {
    TU_REQUIRE_SHARED(ts, "data/tinystories/TinyStories-valid-sample-30k.txt");
    TU_REQUIRE_SHARED(wt, "data/wikitext-2-raw/wiki.test.raw");
    const char *toks[3][2] = {{"models/stories260K/tok512.bin", "512"},
                              {tu_shared("models/gutenberg5M/tokenizer.bin"), "2048"},
                              {tu_shared("tokenizers/llama2/tokenizer.bin"), "32000"}};
    const char *texts[2] = {ts, wt};
    for (int i = 0; i < 3; i++) {
        if (!toks[i][0]) continue;
        qmc_tokenizer *t;
        assert_int_equal(qmc_tok_load_llama2c(toks[i][0], atoi(toks[i][1]), &t), 0);
        for (int k = 0; k < 2; k++) {
            char *buf;
            size_t len;
            assert_int_equal(qmc_read_file(texts[k], 1 << 26, &buf, &len), 0);
            size_t cap = tu_quick() ? 20000 : 200000;
            roundtrip_text(t, buf, len > cap ? cap : len);
            qmc_free(buf);
        }
        /* hand-checked pieces: "▁" prefix and byte fallback for a character outside the vocabulary */
        int32_t *ids;
        int64_t n;
        assert_int_equal(qmc_tok_encode(t, "\xe2\x98\x83", 3, false, &ids, &n), 0);
        if (i == 0) {
            /* tok512 has no "☃": "▁" then the three UTF-8 bytes as <0xE2> <0x98> <0x83> (ids byte + 3) */
            assert_int_equal(n, 4);
            assert_int_equal(ids[1], 0xE2 + 3);
            assert_int_equal(ids[2], 0x98 + 3);
            assert_int_equal(ids[3], 0x83 + 3);
        }
        qmc_free(ids);
        qmc_tok_free(t);
    }
}

/* ---- bad input ----------------------------------------------------------- */

static void write_bytes(const char *path, const void *data, size_t n) {
    assert_int_equal(qmc_write_file_atomic(path, data, n), 0);
}

/* The CLI must fail with one line naming the file, exit code 1, no crash. */
static void expect_cli_error(const char *path, const char *needle) {
    char *out;
    int rc = tu_run(&out, "%s info -m '%s'", tu_qmc(), path);
    if (rc != 1 || !strstr(out, path) || !strstr(out, needle) || strchr(out, '\n') != out + strlen(out) - 1)
        fail_msg("for %s expected exit 1 and one line with '%s', got %d: %s", path, needle, rc, out);
    free(out);
}

static void test_bad_llama2c(void **state) {
    char *buf;
    size_t len;
    assert_int_equal(qmc_read_file(STORIES, 1 << 22, &buf, &len), 0);
    const char *p = tu_tmp("trunc.bin");
    write_bytes(p, buf, len - 100);
    expect_cli_error(p, "needs 1056540 bytes");
    int32_t h[7] = {1 << 30, 172, 5, 8, 4, 512, 512};
    write_bytes(p, h, sizeof h);
    expect_cli_error(p, "header field 0");
    int32_t h2[7] = {64, 172, 5, 7, 4, 512, 512}; /* 64 % 7 != 0 */
    memcpy(buf, h2, sizeof h2);
    write_bytes(p, buf, len);
    expect_cli_error(p, "not a valid llama2.c checkpoint");
    int32_t h3[7] = {4096, 11008, 32, 32, 32, 32000, 2048}; /* a 7B header on a 1 MB file: no allocation */
    memcpy(buf, h3, sizeof h3);
    write_bytes(p, buf, len);
    expect_cli_error(p, "needs");
    memcpy(buf, "\x32\x34\x6b\x61\x02\x00\x00\x00", 8); /* v1 magic, version 2 */
    write_bytes(p, buf, len);
    expect_cli_error(p, "version 2");
    write_bytes(p, "hello", 5);
    expect_cli_error(p, "not a model file");
    qmc_free(buf);
    expect_cli_error(tu_tmp("does-not-exist.bin"), "cannot open");
    expect_cli_error(tu_tmpdir(), "");
}

static void test_bad_gguf(void **state) {
    qmc_model *a = load(STORIES);
    const char *good = tu_tmp("good.gguf");
    assert_int_equal(qmc_model_save_gguf(a, good, QMC_WRITE_F32), 0);
    qmc_model_free(a);
    char *buf;
    size_t len;
    assert_int_equal(qmc_read_file(good, 1 << 24, &buf, &len), 0);
    const char *p = tu_tmp("bad.gguf");
    /* truncations at many points: always an error, never a crash */
    for (size_t cut = 4; cut < len; cut += len / 37) {
        write_bytes(p, buf, cut);
        qmc_model *m = NULL;
        assert_int_not_equal(qmc_model_load(p, NULL, &m), 0);
        assert_null(m);
        assert_non_null(strstr(qmc_errmsg(), p));
    }
    write_bytes(p, buf, len - 1000);
    expect_cli_error(p, "truncated");
    char *bad = malloc(len);
    /* version 7 */
    memcpy(bad, buf, len);
    bad[4] = 7;
    write_bytes(p, bad, len);
    expect_cli_error(p, "unknown GGUF version 7");
    /* absurd tensor count: rejected before any allocation */
    memcpy(bad, buf, len);
    uint64_t huge = (uint64_t)1 << 60;
    memcpy(bad + 8, &huge, 8);
    write_bytes(p, bad, len);
    expect_cli_error(p, "more than the file can hold");
    /* absurd metadata count */
    memcpy(bad, buf, len);
    memcpy(bad + 16, &huge, 8);
    write_bytes(p, bad, len);
    expect_cli_error(p, "more than the file can hold");
    /* an unknown architecture string: "llama" -> "llamb" */
    memcpy(bad, buf, len);
    char *arch = memmem(bad, len, "llama", 5);
    arch[4] = 'b';
    write_bytes(p, bad, len);
    expect_cli_error(p, "architecture 'llamb'");
    /* a tensor with an unknown ggml type: find "token_embd.weight" in the index and patch its type */
    memcpy(bad, buf, len);
    char *tn = memmem(bad, len, "token_embd.weight", 17);
    uint32_t t99 = 99;
    memcpy(tn + 17 + 4 + 2 * 8, &t99, 4); /* name, n_dims (2), ne[2], type */
    write_bytes(p, bad, len);
    expect_cli_error(p, "unknown ggml type 99");
    /* a quantized ggml type qmc does not run */
    uint32_t q8 = 8;
    memcpy(tn + 17 + 4 + 2 * 8, &q8, 4);
    write_bytes(p, bad, len);
    expect_cli_error(p, "Q8_0");
    /* data offset beyond the file */
    memcpy(bad, buf, len);
    tn = memmem(bad, len, "token_embd.weight", 17);
    uint64_t off = (uint64_t)1 << 40;
    memcpy(tn + 17 + 4 + 2 * 8 + 4, &off, 8);
    write_bytes(p, bad, len);
    expect_cli_error(p, "token_embd.weight");
    free(bad);
    qmc_free(buf);
}

static void test_cli_errors(void **state) {
    char *out;
    assert_int_equal(tu_run(&out, "%s ppl -m %s --bogus 3", tu_qmc(), STORIES), 2);
    assert_non_null(strstr(out, "unknown option '--bogus'"));
    free(out);
    assert_int_equal(tu_run(&out, "%s ppl -m %s -f /nonexistent.txt", tu_qmc(), STORIES), 1);
    assert_non_null(strstr(out, "/nonexistent.txt"));
    free(out);
    assert_int_equal(tu_run(&out, "%s generate -m %s --temp abc", tu_qmc(), STORIES), 2);
    assert_non_null(strstr(out, "--temp"));
    free(out);
    assert_int_equal(tu_run(&out, "%s frobnicate", tu_qmc()), 2);
    free(out);
    for (const char *cmd = "generate\0ppl\0convert\0synth\0info\0tokenize\0"; *cmd; cmd += strlen(cmd) + 1) {
        assert_int_equal(tu_run(&out, "%s %s --help", tu_qmc(), cmd), 0);
        assert_non_null(strstr(out, "usage: qmc"));
        free(out);
    }
    /* convert writes nothing when it fails */
    const char *o = tu_tmp("never.gguf");
    assert_int_equal(tu_run(NULL, "%s convert /nonexistent.bin -o %s", tu_qmc(), o), 1);
    assert_false(qmc_file_exists(o));
}

int main(void) {
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v0_v1_identical),
        cmocka_unit_test(test_gguf_roundtrip_stories),
        cmocka_unit_test(test_gguf_roundtrip_qwen2_llama3),
        cmocka_unit_test(test_generation_reference),
        cmocka_unit_test(test_perplexity_references),
        cmocka_unit_test(test_kl_divergence),
        cmocka_unit_test(test_tokenizer_roundtrips),
        cmocka_unit_test(test_bad_llama2c),
        cmocka_unit_test(test_bad_gguf),
        cmocka_unit_test(test_cli_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
