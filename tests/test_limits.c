/* test_limits.c — resource limits against hostile headers.
 *
 * Every parser must reject a header that claims more than its file holds
 * (counts, lengths, dimensions, products that overflow) with a format error
 * naming the file, before it allocates anything sized from the claim.  Each
 * case runs under a 1 MiB allocation cap: a parser that trusted the claim
 * would fail with the cap's out-of-memory error instead of the format error
 * asserted here.  The cap's own error is checked too, in the library and on
 * the command line. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/qdecode.h"
#include "formats/jsonfile.h"
#include "formats/safetensors.h"
#include "model/model.h"
#include "quant/packfile.h"
#include "sim/sim.h"
#include "testutil.h"

#define CAP ((uint64_t)1 << 20)

/* ---- a little-endian byte builder ----------------------------------------------- */
typedef struct { uint8_t *p; size_t n, cap; } bytes;

static void put(bytes *b, const void *v, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, v, n);
    b->n += n;
}
static void u32(bytes *b, uint32_t v) { put(b, &v, 4); }
static void u64(bytes *b, uint64_t v) { put(b, &v, 8); }
static void str(bytes *b, const char *s) {
    u64(b, strlen(s));
    put(b, s, strlen(s));
}
static void gguf_head(bytes *b, uint64_t n_tensors, uint64_t n_kv) {
    put(b, "GGUF", 4);
    u32(b, 3);
    u64(b, n_tensors);
    u64(b, n_kv);
}
static void pad(bytes *b, size_t to) {
    while (b->n < to) put(b, "", 1);
}

/* Parse b as a GGUF file under the cap: must be a format error containing needle. */
static void expect_gguf_error(bytes *b, const char *needle) {
    size_t live = qmc_alloc_live();
    qmc_set_alloc_cap(CAP);
    gguf_ctx *g = NULL;
    int rc = gguf_parse(b->p, b->n, "hostile.gguf", &g);
    qmc_set_alloc_cap(0);
    if (rc != QMC_ERR_FORMAT || !strstr(qmc_errmsg(), needle) || !strstr(qmc_errmsg(), "hostile.gguf"))
        fail_msg("expected a format error with '%s', got %d: %s", needle, rc, qmc_errmsg());
    assert_null(g);
    assert_int_equal(qmc_alloc_live(), live);
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void test_gguf_counts(void **state) {
    bytes b = {0};
    gguf_head(&b, 0, (uint64_t)1 << 40); /* 2^40 metadata keys in a 24-byte file */
    expect_gguf_error(&b, "claims 1099511627776 metadata keys, more than the file can hold");
    gguf_head(&b, (uint64_t)1 << 40, 0);
    pad(&b, 4096);
    expect_gguf_error(&b, "claims 1099511627776 tensors, more than the file can hold");
    /* a string array of 2^40 entries */
    gguf_head(&b, 0, 1);
    str(&b, "tokenizer.ggml.tokens");
    u32(&b, 9);
    u32(&b, 8);
    u64(&b, (uint64_t)1 << 40);
    pad(&b, 1000);
    expect_gguf_error(&b, "array of 1099511627776 strings cannot fit in the file");
    /* a u32 array of 2^62 entries: count * 4 would overflow */
    gguf_head(&b, 0, 1);
    str(&b, "tokenizer.ggml.token_type");
    u32(&b, 9);
    u32(&b, 4);
    u64(&b, (uint64_t)1 << 62);
    expect_gguf_error(&b, "array of 4611686018427387904 elements runs past the end of the file");
    /* a string of 2^62 bytes */
    gguf_head(&b, 0, 1);
    str(&b, "general.name");
    u32(&b, 8);
    u64(&b, (uint64_t)1 << 62);
    expect_gguf_error(&b, "string of 4611686018427387904 bytes runs past the end of the file");
}

static void test_gguf_dims(void **state) {
    bytes b = {0};
    /* 2^31 x 2^31 F32: 2^64 bytes, overflows */
    gguf_head(&b, 1, 0);
    str(&b, "token_embd.weight");
    u32(&b, 2);
    u64(&b, (uint64_t)1 << 31);
    u64(&b, (uint64_t)1 << 31);
    u32(&b, 0);
    u64(&b, 0);
    pad(&b, 256);
    expect_gguf_error(&b, "overflows or does not fit type F32");
    /* ne[0] = 2^62 F32: ne[0] * 4 alone overflows (a UBSan report before the fix) */
    gguf_head(&b, 1, 0);
    str(&b, "t");
    u32(&b, 1);
    u64(&b, (uint64_t)1 << 62);
    u32(&b, 0);
    u64(&b, 0);
    expect_gguf_error(&b, "overflows");
    /* 65536 x 65536 F32 = 16 GiB claimed by a 256-byte file */
    gguf_head(&b, 1, 0);
    str(&b, "t");
    u32(&b, 2);
    u64(&b, 65536);
    u64(&b, 65536);
    u32(&b, 0);
    u64(&b, 0);
    pad(&b, 256);
    expect_gguf_error(&b, "needs 17179869184 bytes at offset 96 but the file has only 256 bytes");
}

/* A packed tensor descriptor of 2^31 x 2^31 weights: rejected before any plane is sized. */
static void test_packed_shape(void **state) {
    bytes b = {0};
    gguf_head(&b, 0, 1);
    str(&b, "qmc.tensor.w");
    u32(&b, 8);
    str(&b, "rows=2147483648 cols=2147483648 method=qmc in=3:int:sym:0 out=5:int:sym nout=1 rho=0.3 tau=0.1");
    gguf_ctx *g = NULL;
    assert_int_equal(gguf_parse(b.p, b.n, "p.gguf", &g), 0);
    qmc_set_alloc_cap(CAP);
    qmc_tensor t = {0};
    int rc = qmc_packed_read(g, "p.gguf", "w", &t);
    qmc_set_alloc_cap(0);
    assert_int_equal(rc, QMC_ERR_FORMAT);
    assert_string_equal(qmc_errmsg(), "p.gguf: packed tensor 'w': bad shape or outlier count");
    gguf_free(g);
    free(b.p);
}

/* Hostile planes in a real `qmc quantize` output (fuzz/corpus/packed): a
 * descriptor that no longer matches its planes' sizes, an outlier bitmap
 * whose popcount disagrees with the stored outliers.  The row offsets are not
 * stored: they are derived from the bitmap, so a bitmap with the right
 * popcount but outliers moved between rows must load and decode within its
 * streams (fast decoder = reference, fused dot = reference). */
static char *packed_seed(size_t *len) {
    char *buf = NULL;
    assert_int_equal(qmc_read_file("fuzz/corpus/packed/quantize-qmc-3-5-asym.qmc.gguf", 1 << 20, &buf, len), 0);
    return buf;
}

static int read_packed(const char *buf, size_t len, qmc_tensor *t, gguf_ctx **g) {
    assert_int_equal(gguf_parse((const uint8_t *)buf, len, "p.gguf", g), 0);
    qmc_set_alloc_cap(CAP);
    int rc = qmc_packed_read(*g, "p.gguf", "blk.0.attn_q.weight", t);
    qmc_set_alloc_cap(0);
    return rc;
}

static void test_packed_planes(void **state) {
    size_t len;
    char *buf = packed_seed(&len);
    gguf_ctx *g = NULL;
    qmc_tensor t = {0};
    /* 4-bit inlier codes claimed for a 3-bit plane */
    assert_int_equal(gguf_parse((const uint8_t *)buf, len, "p.gguf", &g), 0);
    const gguf_kv *kv = gguf_find(g, "qmc.tensor.blk.0.attn_q.weight");
    assert_non_null(kv);
    char *in = memmem(buf + (kv->v.s.s - buf), kv->v.s.len, " in=3:", 6);
    gguf_free(g);
    assert_non_null(in);
    in[4] = '4';
    assert_int_equal(read_packed(buf, len, &t, &g), QMC_ERR_FORMAT);
    assert_non_null(strstr(qmc_errmsg(), "p.gguf: plane 'blk.0.attn_q.weight.qin' has "));
    gguf_free(g);
    in[4] = '3';
    assert_int_equal(read_packed(buf, len, &t, &g), 1);
    const qmc_qtensor *q = t.q;
    const int64_t rows = q->rows, cols = q->cols;
    assert_true(q->n_out > 0 && rows > 1);
    uint8_t *mask = (uint8_t *)(uintptr_t)q->mask;
    qmc_tensor_release(&t);
    gguf_free(g);
    /* one outlier too many, then one too few */
    int64_t set = -1, clear = -1;
    for (int64_t k = 0; k < cols && (set < 0 || clear < 0); k++) {
        if (qmc_bits_get(mask, k, 1)) set = set < 0 ? k : set;
        else clear = clear < 0 ? k : clear;
    }
    assert_true(set >= 0 && clear >= 0);
    for (int i = 0; i < 2; i++) {
        int64_t k = i ? set : clear;
        qmc_bits_put(mask, k, 1, !qmc_bits_get(mask, k, 1));
        assert_int_equal(read_packed(buf, len, &t, &g), QMC_ERR_FORMAT);
        assert_non_null(strstr(qmc_errmsg(), "p.gguf: packed tensor 'blk.0.attn_q.weight': outlier mask has "));
        gguf_free(g);
        qmc_bits_put(mask, k, 1, !qmc_bits_get(mask, k, 1));
    }
    /* every outlier of row 0 moved to the last row (as far as it has room): same popcount,
     * other row offsets; it loads and every row decodes inside its streams */
    int64_t last = (rows - 1) * cols, moved = 0;
    for (int64_t k = 0; k < cols; k++) {
        if (!qmc_bits_get(mask, k, 1)) continue;
        int64_t c = 0;
        while (c < cols && qmc_bits_get(mask, last + c, 1)) c++;
        if (c == cols) break;
        qmc_bits_put(mask, k, 1, 0);
        qmc_bits_put(mask, last + c, 1, 1);
        moved++;
    }
    assert_true(moved > 0);
    assert_int_equal(read_packed(buf, len, &t, &g), 1);
    q = t.q;
    float *a = malloc((size_t)cols * sizeof(float)), *b = malloc((size_t)cols * sizeof(float));
    float *x = malloc((size_t)cols * sizeof(float)), *xi = malloc((size_t)qmc_qt_dot_xi_len(cols) * sizeof(float));
    float *y = malloc((size_t)rows * sizeof(float)), *yr = malloc((size_t)rows * sizeof(float));
    for (int64_t c = 0; c < cols; c++) x[c] = (float)(c % 5) - 2.0f;
    for (int64_t r = 0; r < rows; r++) {
        qmc_qt_decode_row_ref(q, r, a);
        qmc_qt_decode_row(q, r, b);
        assert_memory_equal(a, b, (size_t)cols * sizeof(float));
    }
    qmc_qt_dot_in din = {.x = x, .xi = xi};
    qmc_qt_dot_prepare(q, &din);
    qmc_qt_dot_rows(q, 0, rows, &din, y);
    qmc_qt_dot_rows_ref(q, 0, rows, x, yr);
    for (int64_t r = 0; r < rows; r++) assert_float_equal(y[r], yr[r], 1e-3f * (1.0f + fabsf(yr[r])));
    free(a), free(b), free(x), free(xi), free(y), free(yr);
    qmc_tensor_release(&t);
    gguf_free(g);
    qmc_free(buf);
}

static void test_llama2c_header(void **state) {
    /* a 7B header on a 4 KiB file */
    int32_t h[1024] = {4096, 11008, 32, 32, 32, 32000, 2048};
    qmc_set_alloc_cap(CAP);
    qmc_model *m = NULL;
    int rc = qmc_model_from_buffer((const uint8_t *)h, sizeof h, "7b.bin", &m);
    qmc_set_alloc_cap(0);
    assert_int_equal(rc, QMC_ERR_FORMAT);
    assert_non_null(strstr(qmc_errmsg(), "7b.bin: not a valid llama2.c checkpoint: its header (dim 4096, hidden 11008, 32 layers, vocab 32000) needs"));
    assert_non_null(strstr(qmc_errmsg(), "but the file has 4096"));
    assert_null(m);
}

static void test_tokenizer_counts(void **state) {
    uint8_t buf[100] = {16};
    qmc_tokenizer *t = NULL;
    qmc_set_alloc_cap(CAP);
    int rc = qmc_tok_parse_llama2c(buf, sizeof buf, "tok.bin", 1 << 24, &t);
    assert_int_equal(rc, QMC_ERR_FORMAT);
    assert_string_equal(qmc_errmsg(), "tok.bin: tokenizer file of 100 bytes cannot hold 16777216 tokens (wrong tokenizer for this model?)");
    /* tokenizer.json whose ids run to 16M with one token defined */
    const char *json = "{\"pre_tokenizer\":{\"type\":\"ByteLevel\"},\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":16000000},\"merges\":[]}}";
    rc = qmc_tok_parse_hf(json, strlen(json), "tokenizer.json", &t);
    qmc_set_alloc_cap(0);
    assert_int_equal(rc, QMC_ERR_FORMAT);
    assert_string_equal(qmc_errmsg(), "tokenizer.json: token ids run up to 16000000 but only 1 tokens are defined");
    assert_null(t);
}

static void test_safetensors_claims(void **state) {
    st_file f;
    uint8_t big[16] = {0};
    uint64_t n = (uint64_t)1 << 60;
    memcpy(big, &n, 8);
    qmc_set_alloc_cap(CAP);
    assert_int_equal(st_parse(big, sizeof big, "a.safetensors", &f), QMC_ERR_FORMAT);
    assert_string_equal(qmc_errmsg(), "a.safetensors: safetensors header length 1152921504606846976 exceeds the limit of 104857600 bytes");
    /* a 1M x 1M F32 tensor (4 TiB) in a file of a few bytes */
    const char *hdr = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1048576,1048576],\"data_offsets\":[0,4398046511104]}}";
    bytes b = {0};
    u64(&b, strlen(hdr));
    put(&b, hdr, strlen(hdr));
    put(&b, "data", 4);
    assert_int_equal(st_parse(b.p, b.n, "b.safetensors", &f), QMC_ERR_FORMAT);
    assert_non_null(strstr(qmc_errmsg(), "b.safetensors: tensor 'w' data [0, 4398046511104) runs past the end of the data section (4 bytes"));
    /* a shape whose product overflows */
    b.n = 0;
    hdr = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,4]}}";
    u64(&b, strlen(hdr));
    put(&b, hdr, strlen(hdr));
    put(&b, "data", 4);
    assert_int_equal(st_parse(b.p, b.n, "c.safetensors", &f), QMC_ERR_FORMAT);
    assert_string_equal(qmc_errmsg(), "c.safetensors: tensor 'w' has too many elements");
    /* an index naming more shards than allowed */
    qmc_str ix = {0};
    qmc_str_printf(&ix, "{\"weight_map\":{");
    for (int i = 0; i <= ST_MAX_SHARDS; i++) qmc_str_printf(&ix, "%s\"t%d\":\"s%d.safetensors\"", i ? "," : "", i, i);
    qmc_str_printf(&ix, "}}");
    st_index x;
    assert_int_equal(st_index_parse(ix.s, ix.len, "model.safetensors.index.json", &x), QMC_ERR_FORMAT);
    assert_string_equal(qmc_errmsg(), "model.safetensors.index.json: more than 4096 shards");
    qmc_set_alloc_cap(0);
    qmc_str_free(&ix);
    free(b.p);
}

static void test_config_claims(void **state) {
    qmc_set_alloc_cap(CAP);
    sim_workload w;
    const char *cfg = "{\"model_type\":\"llama\",\"hidden_size\":4096,\"intermediate_size\":11008,\"num_hidden_layers\":1e9,"
                      "\"num_attention_heads\":32,\"vocab_size\":32000}";
    assert_int_equal(sim_workload_from_hf_config(cfg, "sim.json", &w), QMC_ERR_FORMAT);
    assert_non_null(strstr(qmc_errmsg(), "sim.json: \"num_hidden_layers\" must be an integer in [1, "));
    qmc_model m;
    memset(&m, 0, sizeof m);
    cfg = "{\"model_type\":\"llama\",\"hidden_size\":4096,\"intermediate_size\":11008,\"num_hidden_layers\":32,"
          "\"num_attention_heads\":32,\"vocab_size\":1e300}";
    assert_int_equal(qmc_hf_config_parse(cfg, strlen(cfg), "config.json", &m), QMC_ERR_FORMAT);
    assert_string_equal(qmc_errmsg(), "config.json: \"vocab_size\" must be an integer in [1, 16777216]");
    qmc_set_alloc_cap(0);
}

/* A tokenizer.json whose pre-tokenizer regex backtracks catastrophically:
 * PCRE2's match limit stops it, and encoding fails with a format error. */
static void test_regex_limit(void **state) {
    const char *json = "{\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":"
                       "{\"Regex\":\"(\\\\w+\\\\s?)*$\"},\"behavior\":\"Isolated\"},{\"type\":\"ByteLevel\",\"use_regex\":false}]},"
                       "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"!\":2,\"\\u0120\":3},\"merges\":[]}}";
    qmc_tokenizer *t = NULL;
    assert_int_equal(qmc_tok_parse_hf(json, strlen(json), "t.json", &t), 0);
    char text[80];
    memset(text, 'a', 60);
    strcpy(text + 60, " ab!");
    int32_t *toks = NULL;
    int64_t n = 0;
    assert_int_equal(qmc_tok_encode(t, text, strlen(text), false, &toks, &n), QMC_ERR_FORMAT);
    assert_string_equal(qmc_errmsg(), "pre-tokenizer regex failed: match limit exceeded");
    assert_null(toks);
    qmc_tok_free(t);
}

/* The cap's own error: one line with the request, the cap and what is in use. */
static void test_cap_message(void **state) {
    size_t live = qmc_alloc_live();
    qmc_set_alloc_cap(live + 4096);
    void *p = qmc_alloc(8192, 1);
    qmc_set_alloc_cap(0);
    assert_null(p);
    char want[256];
    snprintf(want, sizeof want,
             "allocation of 8192 bytes would exceed the memory cap of %zu bytes with %zu in use "
             "(raise it with --max-alloc or QMC_MAX_ALLOC)",
             live + 4096, live);
    assert_string_equal(qmc_errmsg(), want);
    assert_null(qmc_alloc(SIZE_MAX / 2, 4));
    assert_non_null(strstr(qmc_errmsg(), "allocation size overflows"));
    assert_int_equal(qmc_alloc_live(), live);
}

/* On the command line: the cap from --max-alloc or QMC_MAX_ALLOC; a hostile
 * header gives its format error, not an allocation failure. */
static void test_cli(void **state) {
    char *out;
    int rc = tu_run(&out, "%s info --max-alloc 16K -m models/stories260K/stories260K.bin", tu_qmc());
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "qmc info: models/stories260K/stories260K.bin: allocation of "));
    assert_non_null(strstr(out, "would exceed the memory cap of 16384 bytes with"));
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
    free(out);
    rc = tu_run(&out, "QMC_MAX_ALLOC=16K %s info -m models/stories260K/stories260K.bin", tu_qmc());
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "memory cap of 16384 bytes"));
    free(out);
    bytes b = {0};
    gguf_head(&b, 0, (uint64_t)1 << 40);
    pad(&b, 64);
    const char *p = tu_tmp("hostile.gguf");
    assert_int_equal(qmc_write_file_atomic(p, b.p, b.n), 0);
    free(b.p);
    rc = tu_run(&out, "QMC_MAX_ALLOC=1M %s info -m %s", tu_qmc(), p);
    assert_int_equal(rc, 1);
    char want[4300];
    snprintf(want, sizeof want, "qmc info: %s: GGUF header claims 1099511627776 metadata keys, more than the file can hold\n", p);
    assert_string_equal(out, want);
    free(out);
}

static bool file_is(const char *path, const char *buf, size_t len) {
    char *now = NULL;
    size_t n = 0;
    if (qmc_read_file(path, (size_t)1 << 30, &now, &n)) return false;
    bool same = n == len && memcmp(now, buf, len) == 0;
    qmc_free(now);
    return same;
}

/* qmc quantize under the cap: too small a cap fails with the cap's one-line
 * error (flag or environment) and leaves the previous output untouched; a
 * sufficient cap gives the same bytes as no cap. */
/* JSON integers at the edge of int64: 2^63 - 5 is stored as the double 2^63
 * (INT64_MAX + 1), which must be refused, not cast (crash 9, docs/fuzzing.md);
 * 2^62 and -2^63 are exact and in range. */
static void test_json_int_edges(void **state) {
    cJSON *j = cJSON_Parse("{\"big\": 9223372036854775803, \"ok\": 4611686018427387904, \"low\": -9223372036854775808}");
    assert_non_null(j);
    int64_t v = 0;
    assert_true(qmc_json_get_int(j, "big", "t", 0, INT64_MAX, &v) < 0);
    assert_int_equal(qmc_json_get_int(j, "ok", "t", 0, INT64_MAX, &v), 1);
    assert_true(v == ((int64_t)1 << 62));
    assert_true(qmc_json_get_int(j, "low", "t", INT64_MIN, 0, &v) == 1 && v == INT64_MIN);
    cJSON_Delete(j);
}

static void test_quantize_cap(void **state) {
    const char *model = "models/stories260K/stories260K.bin";
    const char *out = tu_tmp("capped.qmc.gguf"), *ref = tu_tmp("uncapped.qmc.gguf");
    assert_int_equal(tu_run(NULL, "%s quantize -q -t 1 -m %s -o %s --method rtn", tu_qmc(), model, out), 0);
    assert_int_equal(tu_run(NULL, "%s quantize -q -t 1 -m %s -o %s --grid 10", tu_qmc(), model, ref), 0);
    char *prev = NULL, *want = NULL;
    size_t prev_len, want_len;
    assert_int_equal(qmc_read_file(out, (size_t)1 << 30, &prev, &prev_len), 0);
    assert_int_equal(qmc_read_file(ref, (size_t)1 << 30, &want, &want_len), 0);
    for (int env = 0; env < 2; env++) {
        char *msg;
        int rc = env ? tu_run(&msg, "QMC_MAX_ALLOC=256K %s quantize -q -t 1 -m %s -o %s --grid 10", tu_qmc(), model, out)
                     : tu_run(&msg, "%s quantize -q -t 1 --max-alloc 256K -m %s -o %s --grid 10", tu_qmc(), model, out);
        assert_int_equal(rc, 1);
        assert_non_null(strstr(msg, "qmc quantize: models/stories260K/stories260K.bin: "));
        assert_non_null(strstr(msg, "would exceed the memory cap of 262144 bytes with"));
        assert_ptr_equal(strchr(msg, '\n'), msg + strlen(msg) - 1);
        free(msg);
        assert_true(file_is(out, prev, prev_len));
    }
    assert_int_equal(tu_run(NULL, "%s quantize -q -t 1 --max-alloc 4M -m %s -o %s --grid 10", tu_qmc(), model, out), 0);
    assert_true(file_is(out, want, want_len));
    qmc_free(prev);
    qmc_free(want);
}

int main(void) {
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gguf_counts),    cmocka_unit_test(test_gguf_dims),
        cmocka_unit_test(test_packed_shape),   cmocka_unit_test(test_packed_planes),   cmocka_unit_test(test_llama2c_header),
        cmocka_unit_test(test_tokenizer_counts), cmocka_unit_test(test_safetensors_claims),
        cmocka_unit_test(test_config_claims),  cmocka_unit_test(test_regex_limit),
        cmocka_unit_test(test_cap_message),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_quantize_cap),
        cmocka_unit_test(test_json_int_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
