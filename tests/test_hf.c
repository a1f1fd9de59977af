/* test_hf.c — safetensors container, Hugging Face directories (config.json +
 * safetensors + index), round trips through GGUF, and every error path. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/safetensors.h"
#include "testutil.h"

#define N_TOK 12

static const int32_t k_tokens[N_TOK] = {1, 17, 250, 3, 99, 42, 7, 7, 128, 255, 64, 2};

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static qmc_model *load_ok(const char *path) {
    qmc_model *m = NULL;
    int rc = qmc_model_load(path, NULL, &m);
    if (rc) fail_msg("loading %s: %s", path, qmc_errmsg());
    return m;
}

/* Loading fails with `status` and a one-line message containing `what`. */
static void load_fails(const char *path, int status, const char *what) {
    qmc_model *m = NULL;
    int rc = qmc_model_load(path, NULL, &m);
    assert_null(m);
    if (rc != status || !strstr(qmc_errmsg(), what) || strchr(qmc_errmsg(), '\n'))
        fail_msg("loading %s: got %d '%s', expected %d with '%s'", path, rc, qmc_errmsg(), status, what);
}

static float *logits(const qmc_model *m) {
    float *lg = tu_logits(m, k_tokens, N_TOK);
    assert_non_null(lg);
    return lg;
}

static void assert_same_logits(const qmc_model *a, const qmc_model *b, double tol) {
    assert_int_equal(a->cfg.vocab_size, b->cfg.vocab_size);
    float *la = logits(a), *lb = logits(b);
    int64_t n = (int64_t)N_TOK * a->cfg.vocab_size;
    double d = tu_max_abs_diff(la, lb, n);
    if (tol == 0 ? memcmp(la, lb, (size_t)n * sizeof(float)) != 0 : !(d <= tol))
        fail_msg("logits differ by %g (tolerance %g)", d, tol);
    free(la);
    free(lb);
}

static const char *fresh_dir(const char *name) {
    const char *d = tu_tmp(name);
    tu_run(NULL, "rm -rf '%s' && mkdir -p '%s'", d, d);
    return d;
}

static const char *in_dir(const char *dir, const char *file) {
    static char buf[8][8400];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", dir, file);
    return p;
}

/* ---- the container ------------------------------------------------------------- */

typedef struct { const void *data; size_t n; } blob;
static int fill_blob(void *u, qmc_out *o) { return qmc_out_write(o, ((blob *)u)->data, ((blob *)u)->n); }

static void test_container_roundtrip(void **state) {
    const char *path = tu_tmp("c.safetensors");
    float v[3] = {1.5f, -2.0f, 0.25f};
    uint16_t h[2][3] = {{0x3c00, 0xc000, 0x0001}, {0x7bff, 0x8000, 0x3555}};
    uint16_t bf[5] = {0x3f80, 1, 2, 3, 4};
    blob bv = {v, sizeof v}, bh = {h, sizeof h}, bb = {bf, sizeof bf};
    st_writer *w = st_writer_new();
    int64_t s1[1] = {3}, s2[2] = {2, 3}, s3[1] = {5};
    /* F16 with an odd byte count first: the writer puts 4-byte types first */
    assert_int_equal(st_add(w, "half", QMC_TYPE_F16, 2, s2, fill_blob, &bh), 0);
    assert_int_equal(st_add(w, "bf", QMC_TYPE_BF16, 1, s3, fill_blob, &bb), 0);
    assert_int_equal(st_add(w, "vec\"q", QMC_TYPE_F32, 1, s1, fill_blob, &bv), 0);
    assert_int_equal(st_set_meta(w, "format", "pt"), 0);
    assert_int_equal(st_write(w, path), 0);
    st_writer_free(w);

    qmc_mapped_file f;
    assert_int_equal(qmc_map_file(path, &f), 0);
    uint64_t n;
    memcpy(&n, f.data, 8);
    assert_int_equal((8 + n) % 8, 0); /* header padded so the data section is aligned */
    st_file sf;
    assert_int_equal(st_parse(f.data, f.size, path, &sf), 0);
    assert_int_equal(sf.n, 3);
    const st_tensor *t = st_find(&sf, "vec\"q");
    assert_non_null(t);
    assert_string_equal(t->dtype, "F32");
    assert_int_equal(t->n_dims, 1);
    assert_int_equal(t->shape[0], 3);
    assert_memory_equal(t->data, v, sizeof v);
    assert_int_equal((uintptr_t)t->data % 4, 0);
    assert_ptr_equal(t->data, f.data + sf.data_offset); /* first in the data section */
    t = st_find(&sf, "half");
    assert_int_equal(t->type, QMC_TYPE_F16);
    assert_int_equal(t->shape[0], 2);
    assert_int_equal(t->shape[1], 3);
    assert_memory_equal(t->data, h, sizeof h);
    t = st_find(&sf, "bf");
    assert_int_equal(t->type, QMC_TYPE_BF16);
    assert_memory_equal(t->data, bf, sizeof bf);
    assert_null(st_find(&sf, "nope"));
    st_free(&sf);
    qmc_unmap_file(&f);
}

/* A file of u64 length + header + data_len zero bytes. */
static const char *raw_st(const char *name, uint64_t n_claim, const char *header, size_t data_len) {
    const char *path = tu_tmp(name);
    FILE *f = fopen(path, "wb");
    uint64_t n = n_claim ? n_claim : strlen(header);
    fwrite(&n, 8, 1, f);
    fputs(header, f);
    for (size_t i = 0; i < data_len; i++) fputc(0, f);
    fclose(f);
    return path;
}

static void parse_fails(const char *path, const char *what) {
    qmc_mapped_file f;
    assert_int_equal(qmc_map_file(path, &f), 0);
    st_file sf;
    int rc = st_parse(f.data, f.size, path, &sf);
    qmc_unmap_file(&f);
    if (rc != QMC_ERR_FORMAT || !strstr(qmc_errmsg(), what) || !strstr(qmc_errmsg(), path))
        fail_msg("%s: got %d '%s', expected '%s'", path, rc, qmc_errmsg(), what);
}

static void test_container_errors(void **state) {
    const char *ok = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    /* sanity: the good file parses */
    const char *p = raw_st("ok.st", 0, ok, 8);
    qmc_mapped_file f;
    st_file sf;
    assert_int_equal(qmc_map_file(p, &f), 0);
    assert_int_equal(st_parse(f.data, f.size, p, &sf), 0);
    st_free(&sf);
    qmc_unmap_file(&f);
    write_text(tu_tmp("short.st"), "abc");
    parse_fails(tu_tmp("short.st"), "too short");
    parse_fails(raw_st("hugeheader.st", (uint64_t)1 << 40, ok, 8), "exceeds the limit");
    parse_fails(raw_st("pastend.st", 4096, ok, 8), "runs past the end");
    parse_fails(raw_st("notjson.st", 0, "{\"a\":", 0), "not valid JSON");
    parse_fails(raw_st("notobj.st", 0, "[1,2]", 0), "does not start with '{'");
    parse_fails(raw_st("dtype.st", 0, "{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "unknown dtype 'Q4'");
    parse_fails(raw_st("size.st", 0, "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8), "need 12");
    parse_fails(raw_st("overflow.st", 0, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8),
                "too many elements");
    parse_fails(raw_st("negshape.st", 0, "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8), "bad shape");
    parse_fails(raw_st("offs.st", 0, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8), "bad data_offsets");
    parse_fails(raw_st("trunc.st", 0, ok, 5), "truncated file");
    parse_fails(raw_st("trail.st", 0, ok, 12), "4 bytes after the last tensor");
    parse_fails(raw_st("hole.st", 0,
                       "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12),
                "overlap or hole");
    parse_fails(raw_st("overlap.st", 0,
                       "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
                "overlap or hole");
    parse_fails(raw_st("dup.st", 0,
                       "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
                "appears twice");
    parse_fails(raw_st("meta.st", 0, "{\"__metadata__\":3}", 0), "__metadata__");
}

/* Random byte changes in a valid file: every parse succeeds or fails cleanly
 * (under the sanitizers: no invalid access), and what parses is consistent. */
static void test_container_mutations(void **state) {
    qmc_model *m = NULL;
    assert_int_equal(qmc_model_load("models/stories260K/stories260K.bin", NULL, &m), 0);
    const char *d = fresh_dir("mut");
    assert_int_equal(qmc_model_save_hf(m, d, QMC_WRITE_F16), 0);
    qmc_model_free(m);
    qmc_mapped_file f;
    assert_int_equal(qmc_map_file(in_dir(d, "model.safetensors"), &f), 0);
    uint64_t n;
    memcpy(&n, f.data, 8);
    uint8_t *buf = malloc(f.size);
    int ok = 0, iters = tu_quick() ? 300 : 3000;
    for (int it = 0; it < iters; it++) {
        memcpy(buf, f.data, f.size);
        int flips = 1 + (int)(qmc_rand_u64(99, (uint64_t)it * 8) % 4);
        for (int k = 0; k < flips; k++) {
            uint64_t pos = qmc_rand_u64(100, (uint64_t)it * 8 + (uint64_t)k) % (8 + n);
            buf[pos] = (uint8_t)qmc_rand_u64(101, (uint64_t)it * 8 + (uint64_t)k);
        }
        size_t size = it % 7 == 0 ? (size_t)(qmc_rand_u64(102, (uint64_t)it) % f.size) : f.size;
        st_file sf;
        if (st_parse(buf, size, "mutant", &sf) == 0) {
            ok++;
            for (int64_t i = 0; i < sf.n; i++) /* every tensor lies inside the buffer */
                assert_true(sf.tensors[i].data >= buf && sf.tensors[i].data + sf.tensors[i].nbytes <= buf + size);
            st_free(&sf);
        } else assert_non_null(strstr(qmc_errmsg(), "mutant"));
    }
    print_message("%d of %d mutated files still parse\n", ok, iters);
    free(buf);
    qmc_unmap_file(&f);
}

/* ---- model round trips ------------------------------------------------------------ */

static qmc_model *qwen2_model(void) {
    tu_model_spec sp = {.arch = QMC_ARCH_QWEN2, .dim = 64, .hidden = 96, .layers = 2, .heads = 4, .kv_heads = 2,
                        .vocab = 300, .seq_len = 64, .qkv_bias = true, .tied = false, .rope = QMC_ROPE_NEOX,
                        .rope_theta = 1000000.0f, .with_tokenizer = true};
    return tu_random_model(&sp, 11);
}

static qmc_model *llama3_model(void) {
    tu_model_spec sp = {.arch = QMC_ARCH_LLAMA, .dim = 64, .hidden = 128, .layers = 2, .heads = 4, .kv_heads = 2,
                        .head_dim = 32, .vocab = 280, .seq_len = 64, .tied = true, .rope = QMC_ROPE_NEOX,
                        .llama3_scaling = true, .rope_theta = 500000.0f, .with_tokenizer = true};
    return tu_random_model(&sp, 12);
}

static void check_config(const qmc_config *a, const qmc_config *b) {
    assert_int_equal(a->arch, b->arch);
    assert_int_equal(a->dim, b->dim);
    assert_int_equal(a->hidden_dim, b->hidden_dim);
    assert_int_equal(a->n_layers, b->n_layers);
    assert_int_equal(a->n_heads, b->n_heads);
    assert_int_equal(a->n_kv_heads, b->n_kv_heads);
    assert_int_equal(a->head_dim, b->head_dim);
    assert_int_equal(a->vocab_size, b->vocab_size);
    assert_int_equal(a->seq_len, b->seq_len);
    assert_true(a->norm_eps == b->norm_eps);
    assert_true(a->rope_theta == b->rope_theta);
    assert_true(a->rope_scaling_factor == b->rope_scaling_factor);
    assert_true(a->rope_low_freq_factor == b->rope_low_freq_factor);
    assert_true(a->rope_high_freq_factor == b->rope_high_freq_factor);
    assert_int_equal(a->rope_orig_max_pos, b->rope_orig_max_pos);
    assert_int_equal(a->qkv_bias, b->qkv_bias);
    assert_int_equal(a->tied_output, b->tied_output);
}

/* Bit-identical weights (as floats), whatever the stored types. */
static int same_tensor(qmc_model *m, qmc_tensor *t, int layer, void *user) {
    qmc_model *o = user;
    const qmc_tensor *u = NULL;
    if (t == &m->token_embd) u = &o->token_embd;
    else if (t == &m->output_norm) u = &o->output_norm;
    else if (t == &m->output) u = &o->output;
    else if (t == &m->rope_freqs) u = &o->rope_freqs;
    else u = (const qmc_tensor *)((const char *)&o->layers[layer] + ((const char *)t - (const char *)&m->layers[layer]));
    assert_string_equal(t->name, u->name);
    assert_int_equal(t->ne[0], u->ne[0]);
    assert_int_equal(t->ne[1], u->ne[1]);
    float *a = malloc(sizeof(float) * (size_t)t->ne[0]), *b = malloc(sizeof(float) * (size_t)t->ne[0]);
    for (int64_t r = 0; r < qmc_tensor_rows(t); r++) {
        qmc_tensor_get_row(t, r, a);
        qmc_tensor_get_row(u, r, b);
        if (memcmp(a, b, sizeof(float) * (size_t)t->ne[0])) fail_msg("tensor %s row %lld differs", t->name, (long long)r);
    }
    free(a);
    free(b);
    return 0;
}

static void roundtrip(qmc_model *orig, const char *tag, double gguf_tol) {
    char name[64];
    snprintf(name, sizeof name, "%s-hf", tag);
    const char *hf = fresh_dir(name);
    assert_int_equal(qmc_model_save_hf(orig, hf, QMC_WRITE_F32), 0);
    qmc_model *a = load_ok(hf);
    assert_string_equal(qmc_model_source_format(a), "safetensors");
    assert_int_equal(a->cfg.rope_style, QMC_ROPE_NEOX);
    check_config(&orig->cfg, &a->cfg);
    assert_same_logits(orig, a, 0);
    qmc_model_for_each_tensor(orig, same_tensor, a); /* HF names map back to the canonical ones */

    /* GGUF straight from memory, and HF -> GGUF -> HF */
    snprintf(name, sizeof name, "%s.gguf", tag);
    const char *gg = tu_tmp(name);
    assert_int_equal(qmc_model_save_gguf(a, gg, QMC_WRITE_F32), 0);
    qmc_model *b = load_ok(gg);
    check_config(&orig->cfg, &b->cfg);
    assert_same_logits(orig, b, gguf_tol);
    snprintf(name, sizeof name, "%s-hf2", tag);
    const char *hf2 = fresh_dir(name);
    assert_int_equal(qmc_model_save_hf(b, hf2, QMC_WRITE_F32), 0);
    qmc_model *c = load_ok(hf2);
    check_config(&orig->cfg, &c->cfg);
    assert_same_logits(orig, c, 0);
    qmc_model_for_each_tensor(orig, same_tensor, c);

    /* F16: HF and GGUF round the same weights; both stay close to F32 */
    snprintf(name, sizeof name, "%s-hf16", tag);
    const char *hf16 = fresh_dir(name);
    assert_int_equal(qmc_model_save_hf(orig, hf16, QMC_WRITE_F16), 0);
    qmc_model *d = load_ok(hf16);
    assert_int_equal(d->layers[0].wq.type, QMC_TYPE_F16);
    assert_int_equal(d->layers[0].attn_norm.type, QMC_TYPE_F32);
    assert_same_logits(orig, d, 0.02);
    snprintf(name, sizeof name, "%s-16.gguf", tag);
    const char *gg16 = tu_tmp(name);
    assert_int_equal(qmc_model_save_gguf(d, gg16, QMC_WRITE_KEEP), 0);
    qmc_model *e = load_ok(gg16);
    assert_same_logits(d, e, gguf_tol);
    snprintf(name, sizeof name, "%s-hf16b", tag);
    const char *hf16b = fresh_dir(name);
    assert_int_equal(qmc_model_save_hf(e, hf16b, QMC_WRITE_KEEP), 0);
    qmc_model *g = load_ok(hf16b);
    assert_same_logits(d, g, 0);
    qmc_model_free(a);
    qmc_model_free(b);
    qmc_model_free(c);
    qmc_model_free(d);
    qmc_model_free(e);
    qmc_model_free(g);
}

static void test_qwen2_roundtrip(void **state) {
    qmc_model *m = qwen2_model();
    /* qwen2 GGUF keeps the half-split order: no reordering, bit-identical */
    roundtrip(m, "qwen2", 0);
    qmc_model_free(m);
}

static void test_llama3_roundtrip(void **state) {
    qmc_model *m = llama3_model();
    /* GGUF llama stores adjacent-pair order: the same rotations with the
     * head's elements summed in another order in q.k, so the logits may move
     * by float rounding (measured max 0 .. 1e-6); HF -> GGUF -> HF is exact */
    roundtrip(m, "llama3", 0);
    const char *hf = in_dir(tu_tmp("llama3-hf"), "config.json");
    char *out = NULL;
    tu_run(&out, "cat '%s'", hf);
    assert_non_null(strstr(out, "\"rope_type\":\t\"llama3\""));
    assert_non_null(strstr(out, "\"original_max_position_embeddings\":\t64"));
    free(out);
    qmc_model_free(m);
}

/* stories260K (llama2.c, adjacent-pair RoPE): HF directory computes the same logits. */
static void test_stories260k(void **state) {
    const char *bin = "models/stories260K/stories260K.bin";
    qmc_model *orig = load_ok(bin);
    const char *hf = fresh_dir("s260-hf");
    assert_int_equal(qmc_model_save_hf(orig, hf, QMC_WRITE_F32), 0);
    qmc_model *a = load_ok(hf);
    assert_int_equal(a->cfg.rope_style, QMC_ROPE_NEOX);
    assert_int_equal(orig->cfg.rope_style, QMC_ROPE_NORM);
    /* Q/K rows were reordered: row 1 of head 0 in HF order is row 2 of llama2.c's */
    float r_hf[64], r_l2c[64];
    qmc_tensor_get_row(&a->layers[0].wq, 1, r_hf);
    qmc_tensor_get_row(&orig->layers[0].wq, 2, r_l2c);
    assert_memory_equal(r_hf, r_l2c, sizeof r_hf);
    /* same rotation, only the order of the q.k sums differs */
    assert_same_logits(orig, a, 0); /* the engine orders q/k heads the same for both RoPE layouts */
    /* HF -> GGUF (reordered back) gives the llama2.c weights bit for bit */
    const char *gg = tu_tmp("s260.gguf");
    assert_int_equal(qmc_model_save_gguf(a, gg, QMC_WRITE_F32), 0);
    qmc_model *b = load_ok(gg);
    qmc_model_for_each_tensor(orig, same_tensor, b);
    assert_same_logits(orig, b, 0);
    /* the tokenizer came along */
    assert_non_null(a->tok);
    int32_t *t1, *t2;
    int64_t n1, n2;
    const char *text = "Once upon a time, there was a little girl named Lily.";
    assert_int_equal(qmc_tok_encode(orig->tok, text, strlen(text), true, &t1, &n1), 0);
    assert_int_equal(qmc_tok_encode(a->tok, text, strlen(text), true, &t2, &n2), 0);
    assert_int_equal(n1, n2);
    assert_memory_equal(t1, t2, (size_t)n1 * sizeof(int32_t));
    qmc_free(t1);
    qmc_free(t2);
    /* also reachable by its config.json or its model.safetensors */
    qmc_model *c = load_ok(in_dir(hf, "config.json"));
    qmc_model *d = load_ok(in_dir(hf, "model.safetensors"));
    assert_same_logits(a, c, 0);
    assert_same_logits(a, d, 0);
    qmc_model_free(orig);
    qmc_model_free(a);
    qmc_model_free(b);
    qmc_model_free(c);
    qmc_model_free(d);
}

/* ---- sharded ---------------------------------------------------------------------- */

static int fill_st(void *u, qmc_out *o) { return qmc_out_write(o, ((const st_tensor *)u)->data, ((const st_tensor *)u)->nbytes); }

/* Split dir/model.safetensors into two shards + index; returns the index text's shard names. */
static void shard(const char *dir) {
    qmc_mapped_file f;
    assert_int_equal(qmc_map_file(in_dir(dir, "model.safetensors"), &f), 0);
    st_file sf;
    assert_int_equal(st_parse(f.data, f.size, "x", &sf), 0);
    st_writer *w[2] = {st_writer_new(), st_writer_new()};
    qmc_str idx = {0};
    qmc_str_printf(&idx, "{\"metadata\": {\"total_size\": 0}, \"weight_map\": {");
    for (int64_t i = 0; i < sf.n; i++) {
        const st_tensor *t = &sf.tensors[i];
        int k = strstr(t->name, "layers.1.") || strstr(t->name, "norm.weight") == t->name + 6 ? 1 : 0;
        assert_int_equal(st_add(w[k], t->name, t->type, t->n_dims, t->shape, fill_st, (void *)t), 0);
        qmc_str_printf(&idx, "%s\"%s\": \"model-0000%d-of-00002.safetensors\"", i ? ", " : "", t->name, k + 1);
    }
    qmc_str_printf(&idx, "}}");
    assert_int_equal(st_write(w[0], in_dir(dir, "model-00001-of-00002.safetensors")), 0);
    assert_int_equal(st_write(w[1], in_dir(dir, "model-00002-of-00002.safetensors")), 0);
    write_text(in_dir(dir, "model.safetensors.index.json"), idx.s);
    qmc_str_free(&idx);
    st_writer_free(w[0]);
    st_writer_free(w[1]);
    st_free(&sf);
    qmc_unmap_file(&f);
    unlink(in_dir(dir, "model.safetensors"));
}

static void test_sharded(void **state) {
    qmc_model *orig = qwen2_model();
    const char *dir = fresh_dir("sharded");
    assert_int_equal(qmc_model_save_hf(orig, dir, QMC_WRITE_F16), 0);
    qmc_model *one = load_ok(dir);
    shard(dir);
    qmc_model *two = load_ok(dir);
    assert_int_equal(two->n_files, 2); /* each shard mapped once */
    assert_same_logits(one, two, 0);
    qmc_model_free(one);
    qmc_model_free(two);

    /* a shard that is missing, a shard name with a path, a tensor the shard lacks */
    const char *idx = in_dir(dir, "model.safetensors.index.json");
    tu_run(NULL, "cp '%s' '%s.bak'", idx, idx);
    tu_run(NULL, "sed -i 's/model-00002-of-00002/model-00003-of-00002/' '%s'", idx);
    load_fails(dir, QMC_ERR_IO, "shard 'model-00003-of-00002.safetensors' named by the index is missing");
    tu_run(NULL, "cp '%s.bak' '%s' && sed -i 's|\"model-00002-of-00002|\"../model-00002-of-00002|' '%s'", idx, idx, idx);
    load_fails(dir, QMC_ERR_FORMAT, "is not a plain file name");
    tu_run(NULL, "cp '%s.bak' '%s' && sed -i 's|\"model.norm.weight\": \"model-00002|\"model.norm.weight\": \"model-00001|' '%s'", idx, idx, idx);
    load_fails(dir, QMC_ERR_FORMAT, "tensor 'model.norm.weight' is listed for this shard by the index but is not in it");
    tu_run(NULL, "cp '%s.bak' '%s' && sed -i 's|\"model.norm.weight\"|\"model.norm.weightX\"|' '%s'", idx, idx, idx);
    load_fails(dir, QMC_ERR_FORMAT, "tensor 'model.norm.weight' is missing");
    write_text(idx, "{\"weight_map\": [1]}");
    load_fails(dir, QMC_ERR_FORMAT, "\"weight_map\" is missing or not an object");
    write_text(idx, "{\"weight_map\": ");
    load_fails(dir, QMC_ERR_FORMAT, "malformed JSON");
    qmc_model_free(orig);
}

/* ---- bad directories ----------------------------------------------------------------- */

static const char *good_dir(void) {
    static char dir[4096];
    if (!dir[0]) {
        qmc_model *m = llama3_model();
        snprintf(dir, sizeof dir, "%s", fresh_dir("good"));
        assert_int_equal(qmc_model_save_hf(m, dir, QMC_WRITE_F32), 0);
        qmc_model_free(m);
    }
    return dir;
}

/* A copy of the good directory whose config.json has `from` replaced by `to`. */
static const char *edited(const char *name, const char *from, const char *to) {
    const char *d = fresh_dir(name);
    tu_run(NULL, "cp '%s'/* '%s'/", good_dir(), d);
    if (from) {
        char *cfg = NULL;
        size_t len;
        assert_int_equal(qmc_read_file(in_dir(d, "config.json"), 1 << 20, &cfg, &len), 0);
        char *at = strstr(cfg, from);
        if (!at) fail_msg("'%s' not in config.json", from);
        qmc_str s = {0};
        qmc_str_append(&s, cfg, (size_t)(at - cfg));
        qmc_str_append(&s, to, strlen(to));
        qmc_str_append(&s, at + strlen(from), strlen(at + strlen(from)));
        write_text(in_dir(d, "config.json"), s.s);
        qmc_str_free(&s);
        qmc_free(cfg);
    }
    return d;
}

static void test_bad_config(void **state) {
    const char *d = edited("nocfg", NULL, NULL);
    unlink(in_dir(d, "config.json"));
    load_fails(d, QMC_ERR_IO, "config.json is missing");
    load_fails(edited("malformed", "\"hidden_size\":", "\"hidden_size\""), QMC_ERR_FORMAT, "malformed JSON near byte");
    load_fails(edited("arch", "LlamaForCausalLM", "GPT2LMHeadModel"), QMC_ERR_UNSUPPORTED, "unsupported architecture 'GPT2LMHeadModel'");
    load_fails(edited("nohidden", "\"hidden_size\"", "\"hidden_sizeX\""), QMC_ERR_FORMAT, "missing \"hidden_size\"");
    load_fails(edited("badint", "\"num_hidden_layers\":\t2", "\"num_hidden_layers\":\t2.5"), QMC_ERR_FORMAT,
               "\"num_hidden_layers\" must be an integer");
    load_fails(edited("badheads", "\"num_key_value_heads\":\t2", "\"num_key_value_heads\":\t3"), QMC_ERR_FORMAT,
               "not a multiple of num_key_value_heads 3");
    load_fails(edited("rope", "\"llama3\"", "\"yarn\""), QMC_ERR_UNSUPPORTED, "rope_scaling type 'yarn' is not supported");
    load_fails(edited("ropefields", "\"low_freq_factor\"", "\"low_freq\""), QMC_ERR_FORMAT, "llama3 rope_scaling needs");
    load_fails(edited("act", "\"silu\"", "\"gelu\""), QMC_ERR_UNSUPPORTED, "hidden_act 'gelu'");
    load_fails(edited("mlpbias", "\"mlp_bias\":\tfalse", "\"mlp_bias\":\ttrue"), QMC_ERR_UNSUPPORTED, "mlp_bias");
    /* the config says there is a head of its own, but the file has none */
    load_fails(edited("untied", "\"tie_word_embeddings\":\ttrue", "\"tie_word_embeddings\":\tfalse"), QMC_ERR_FORMAT,
               "tensor 'lm_head.weight' is missing");
    /* shapes from the config do not match the tensors */
    load_fails(edited("shape", "\"intermediate_size\":\t128", "\"intermediate_size\":\t64"), QMC_ERR_FORMAT,
               "tensor 'model.layers.0.mlp.gate_proj.weight' has shape [128, 64], expected [64, 64]");
    load_fails(edited("vocab", "\"vocab_size\":\t280", "\"vocab_size\":\t281"), QMC_ERR_FORMAT,
               "tensor 'model.embed_tokens.weight' has shape [280, 64], expected [281, 64]");
    d = edited("noweights", NULL, NULL);
    unlink(in_dir(d, "model.safetensors"));
    load_fails(d, QMC_ERR_IO, "no model.safetensors or model.safetensors.index.json");
    d = edited("trunc", NULL, NULL);
    assert_int_equal(truncate(in_dir(d, "model.safetensors"), 5000), 0);
    load_fails(d, QMC_ERR_FORMAT, "model.safetensors: tensor");
    load_fails(in_dir(good_dir(), "tokenizer_config.json"), QMC_ERR_ARG, "expected a Hugging Face directory");
    load_fails(in_dir(good_dir(), "nothing.safetensors"), QMC_ERR_IO, "no model.safetensors");
}

/* A directory with one tensor replaced (dtype/shape/absent). */
static void test_bad_tensors(void **state) {
    qmc_model *m = llama3_model();
    const char *d = fresh_dir("i8");
    assert_int_equal(qmc_model_save_hf(m, d, QMC_WRITE_F32), 0);
    qmc_mapped_file f;
    assert_int_equal(qmc_map_file(in_dir(d, "model.safetensors"), &f), 0);
    char *copy = malloc(f.size);
    memcpy(copy, f.data, f.size);
    size_t size = f.size;
    qmc_unmap_file(&f);
    /* F32 [64] (256 bytes) -> I8 [256]: same bytes, same header length */
    const char *from = "\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[64]";
    const char *to = "\"model.norm.weight\":{\"dtype\":\"I8\",\"shape\":[256]";
    char *at = memmem(copy, size, from, strlen(from));
    assert_non_null(at);
    memcpy(at, to, strlen(to));
    FILE *fp = fopen(in_dir(d, "model.safetensors"), "wb");
    fwrite(copy, 1, size, fp);
    fclose(fp);
    free(copy);
    load_fails(d, QMC_ERR_UNSUPPORTED, "tensor 'model.norm.weight' has dtype I8; qmc loads F32, F16 and BF16");
    qmc_model_free(m);
}

/* A 3-element F16 tensor at the start of the data leaves every F32 tensor
 * after it misaligned: those are copied, the logits do not change. */
static void test_misaligned(void **state) {
    qmc_model *m = llama3_model();
    const char *d = fresh_dir("misaligned");
    assert_int_equal(qmc_model_save_hf(m, d, QMC_WRITE_F16), 0);
    qmc_mapped_file f;
    assert_int_equal(qmc_map_file(in_dir(d, "model.safetensors"), &f), 0);
    st_file sf;
    assert_int_equal(st_parse(f.data, f.size, "x", &sf), 0);
    qmc_str h = {0};
    qmc_str_printf(&h, "{\"extra\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]}");
    for (int64_t i = 0; i < sf.n; i++) {
        const st_tensor *t = &sf.tensors[i];
        uint64_t b = (uint64_t)(t->data - (f.data + sf.data_offset)) + 6;
        qmc_str_printf(&h, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%lld", t->name, t->dtype, (long long)t->shape[0]);
        if (t->n_dims == 2) qmc_str_printf(&h, ",%lld", (long long)t->shape[1]);
        qmc_str_printf(&h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)b, (unsigned long long)(b + t->nbytes));
    }
    qmc_str_printf(&h, "}");
    FILE *fp = fopen(in_dir(d, "model.safetensors.new"), "wb");
    uint64_t n = h.len;
    fwrite(&n, 8, 1, fp);
    fwrite(h.s, 1, h.len, fp);
    fwrite("\0\0\0\0\0\0", 1, 6, fp);
    fwrite(f.data + sf.data_offset, 1, f.size - sf.data_offset, fp);
    fclose(fp);
    qmc_str_free(&h);
    st_free(&sf);
    qmc_unmap_file(&f);
    qmc_model *a = load_ok(d);
    rename(in_dir(d, "model.safetensors.new"), in_dir(d, "model.safetensors"));
    qmc_model *b = load_ok(d);
    assert_non_null(b->output_norm.owned); /* copied, not pointing into the file */
    assert_int_equal((uintptr_t)b->output_norm.data % 4, 0);
    assert_same_logits(a, b, 0);
    qmc_model_free(a);
    qmc_model_free(b);
    qmc_model_free(m);
}

static void test_write_errors(void **state) {
    qmc_model *m = llama3_model();
    /* packed weights cannot go into safetensors: error, nothing written */
    const char *d = tu_tmp("packed-out");
    m->layers[1].w_up.type = QMC_TYPE_PACKED;
    assert_int_equal(qmc_model_save_hf(m, d, QMC_WRITE_F32), QMC_ERR_UNSUPPORTED);
    assert_non_null(strstr(qmc_errmsg(), "blk.1.ffn_up.weight' is packed"));
    assert_false(qmc_is_dir(d));
    m->layers[1].w_up.type = QMC_TYPE_F32;
    /* rope_freqs that config.json cannot describe */
    m->cfg.rope_scaling_factor = 4.0f;
    assert_int_equal(qmc_model_save_hf(m, d, QMC_WRITE_F32), QMC_ERR_UNSUPPORTED);
    assert_non_null(strstr(qmc_errmsg(), "rope_freqs"));
    m->cfg.rope_scaling_factor = 8.0f;
    /* a directory that cannot be created */
    assert_int_equal(qmc_model_save_hf(m, "/nonexistent-dir/x/y", QMC_WRITE_F32), QMC_ERR_IO);
    assert_non_null(strstr(qmc_errmsg(), "/nonexistent-dir/x/y: cannot create directory"));
    qmc_model_free(m);
}

/* Llama with attention_bias: q/k/v biases plus an all-zero o_proj bias, any RoPE order. */
static void test_llama_bias(void **state) {
    tu_model_spec sp = {.arch = QMC_ARCH_LLAMA, .dim = 32, .hidden = 48, .layers = 1, .heads = 4, .kv_heads = 4,
                        .vocab = 260, .seq_len = 32, .qkv_bias = true, .rope = QMC_ROPE_NORM};
    qmc_model *m = tu_random_model(&sp, 3);
    const char *d = fresh_dir("llama-bias");
    assert_int_equal(qmc_model_save_hf(m, d, QMC_WRITE_F32), 0);
    qmc_model *a = load_ok(d);
    assert_true(a->cfg.qkv_bias);
    assert_same_logits(m, a, 0); /* NORM -> NEOX: the engine orders q/k heads the same for both */
    /* back through GGUF: the biases are reordered with their rows */
    const char *g = tu_tmp("llama-bias.gguf");
    assert_int_equal(qmc_model_save_gguf(a, g, QMC_WRITE_F32), 0);
    qmc_model *b = load_ok(g);
    qmc_model_for_each_tensor(m, same_tensor, b);
    qmc_model_free(a);
    qmc_model_free(b);
    qmc_model_free(m);
}

static void test_cli(void **state) {
    char *out = NULL;
    const char *d = fresh_dir("cli-hf");
    int st = tu_run(&out, "%s convert models/stories260K/stories260K.bin -o '%s' --format hf --outtype f16", tu_qmc(), d);
    assert_int_equal(st, 0);
    free(out);
    st = tu_run(&out, "%s info --json '%s'", tu_qmc(), d);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "\"format\":\t\"safetensors\""));
    free(out);
    unlink(in_dir(d, "config.json"));
    st = tu_run(&out, "%s info '%s'", tu_qmc(), d);
    assert_int_equal(st, 1);
    assert_non_null(strstr(out, "config.json is missing"));
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1); /* one line */
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_container_roundtrip), cmocka_unit_test(test_container_errors),
        cmocka_unit_test(test_container_mutations),
        cmocka_unit_test(test_qwen2_roundtrip),     cmocka_unit_test(test_llama3_roundtrip),
        cmocka_unit_test(test_stories260k),         cmocka_unit_test(test_sharded),
        cmocka_unit_test(test_bad_config),          cmocka_unit_test(test_bad_tensors),
        cmocka_unit_test(test_write_errors),        cmocka_unit_test(test_llama_bias),
        cmocka_unit_test(test_misaligned),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
