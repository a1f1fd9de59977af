/* seedgen.c — writes the seed corpora of the fuzz targets (run by
 * fuzz/make-seeds.sh): small models made the way the tests make them
 * (tu_random_model) and written by qmc's own writers — GGUF (F32, F16, packed
 * planes in several formats, SPM and byte-level BPE vocabularies, Llama-3 rope
 * scaling), llama2.c v0/v1 checkpoints and tokenizer.bin, Hugging Face
 * directories (config.json, model.safetensors, tokenizer.json), a sharded
 * index — plus hand-written tokenizer.json variants.
 *
 * usage: seedgen OUTDIR   (creates OUTDIR/<target>/<seed>) */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../tests/testutil.h"
#include "model/tokenizer.h"
#include "quant/qtensor.h"

static const char *g_out;

static void die(const char *what) {
    fprintf(stderr, "seedgen: %s: %s\n", what, qmc_errmsg());
    exit(1);
}

static const char *path_in(const char *target, const char *name) {
    static char buf[4][4096];
    static int k;
    char *p = buf[k++ % 4];
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/%s", g_out, target);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        perror(dir);
        exit(1);
    }
    snprintf(p, 4096, "%s/%s", dir, name);
    return p;
}

static void copy_file(const char *from, const char *target, const char *name) {
    char *buf;
    size_t len;
    if (qmc_read_file(from, (size_t)1 << 24, &buf, &len)) die(from);
    if (qmc_write_file_atomic(path_in(target, name), buf, len)) die(name);
    qmc_free(buf);
}

static void write_text(const char *target, const char *name, const char *text) {
    if (qmc_write_file_atomic(path_in(target, name), text, strlen(text))) die(name);
}

/* ---- GGUF ------------------------------------------------------------------ */

static const char *k_gguf_targets[] = {"gguf", "gguf_model", "gguf_vocab", "packed"};

static void save_gguf(const qmc_model *m, const char *name, qmc_write_type type, int first_target, int n_targets) {
    for (int i = first_target; i < first_target + n_targets; i++)
        if (qmc_model_save_gguf(m, path_in(k_gguf_targets[i], name), type)) die(name);
}

/* Replace every block linear of m by packed planes in format (in, out) with
 * outliers at a fraction rho of the positions and random codes and scales. */
static void pack_linears(qmc_model *m, qmc_plane_fmt in, qmc_plane_fmt out, double rho, uint64_t seed) {
    for (int l = 0; l < m->cfg.n_layers; l++) {
        qmc_layer *L = &m->layers[l];
        qmc_tensor *lin[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
        for (size_t i = 0; i < QMC_ARRAY_LEN(lin); i++) {
            qmc_tensor *t = lin[i];
            int64_t rows = qmc_tensor_rows(t), cols = qmc_tensor_cols(t), n = rows * cols, n_out = 0;
            uint64_t key = qmc_key(seed, t->name);
            bool *is_out = calloc((size_t)n, 1);
            for (int64_t k = 0; k < n; k++) n_out += is_out[k] = rho > 0 && qmc_rand_unit(key, (uint64_t)k) < rho;
            qmc_qtensor *q = NULL;
            if (qmc_qt_alloc(rows, cols, in, out, n_out, &q)) die("qmc_qt_alloc");
            q->method = rho > 0 ? QMC_METHOD_QMC : in.elem == QMC_ELEM_MXFP4 ? QMC_METHOD_MXFP4
                                                  : in.elem == QMC_ELEM_MXINT ? QMC_METHOD_MXINT : QMC_METHOD_RTN;
            q->rho = (float)rho;
            q->tau = rho > 0 ? 0.05f : 0.0f;
            if (n_out)
                for (int64_t k = 0; k < n; k++)
                    if (is_out[k]) qmc_bits_put(qmc_qt_mut(q->mask), k, 1, 1);
            for (size_t b = 0; b + QMC_BITS_PAD < q->in_codes_bytes; b++)
                qmc_qt_mut(q->in_codes)[b] = (uint8_t)qmc_rand_u64(key + 1, b);
            int64_t ng = rows * qmc_qt_groups(q);
            for (int64_t g = 0; g < ng; g++) {
                if (in.elem == QMC_ELEM_INT) {
                    uint16_t h = qmc_f32_to_f16(0.01f + 0.01f * (float)qmc_rand_unit(key + 2, (uint64_t)g));
                    memcpy(qmc_qt_mut(q->in_scale) + 2 * g, &h, 2);
                    if (in.asym) {
                        h = qmc_f32_to_f16(-0.05f);
                        memcpy(qmc_qt_mut(q->in_min) + 2 * g, &h, 2);
                    }
                } else qmc_qt_mut(q->in_scale)[g] = (uint8_t)(120 + qmc_rand_u64(key + 2, (uint64_t)g) % 8);
            }
            if (n_out) {
                for (size_t b = 0; b + QMC_BITS_PAD < q->out_codes_bytes; b++)
                    qmc_qt_mut(q->out_codes)[b] = (uint8_t)qmc_rand_u64(key + 3, b);
                for (int64_t r = 0; r < rows; r++) {
                    uint16_t h = qmc_f32_to_f16(0.02f);
                    memcpy(qmc_qt_mut(q->out_scale) + 2 * r, &h, 2);
                }
            }
            free(is_out);
            if (qmc_qt_finish(q)) die("qmc_qt_finish");
            qmc_tensor_release(t);
            t->type = QMC_TYPE_PACKED;
            t->q = q;
        }
    }
}

/* ---- byte-level BPE tokenizer ------------------------------------------------------ */

/* GPT-2's byte map: printable Latin-1 bytes stand for themselves, the rest for U+0100... */
static int byte_char(int b, char out[4]) {
    int n = 0, cp = -1;
    for (int c = 0; c <= b; c++) {
        bool printable = (c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255);
        cp = printable ? c : 256 + n++;
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    out[0] = (char)(0xc0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
}

/* tokenizer.json text: 256 byte tokens, "th", "the", "Ġt", "Ġth", special tokens, merges. */
static char *bpe_json(const char *pre_tokenizer, bool ignore_merges) {
    qmc_str s = {0};
    qmc_str_printf(&s, "{\"version\":\"1.0\",\"added_tokens\":[{\"id\":260,\"content\":\"<|endoftext|>\",\"special\":true},"
                       "{\"id\":261,\"content\":\"<|user|>\",\"special\":false}],");
    qmc_str_printf(&s, "\"normalizer\":null,\"pre_tokenizer\":%s,", pre_tokenizer);
    qmc_str_printf(&s, "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<|endoftext|>\",\"type_id\":0}},"
                       "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}]},");
    qmc_str_printf(&s, "\"model\":{\"type\":\"BPE\",\"ignore_merges\":%s,\"vocab\":{", ignore_merges ? "true" : "false");
    for (int b = 0; b < 256; b++) {
        char u[4] = {0};
        byte_char(b, u);
        if (u[0] == '"' || u[0] == '\\') qmc_str_printf(&s, "\"\\%c\":%d,", u[0], b);
        else qmc_str_printf(&s, "\"%s\":%d,", u, b);
    }
    qmc_str_printf(&s, "\"th\":256,\"the\":257,\"\xc4\xa0t\":258,\"\xc4\xa0th\":259},");
    qmc_str_printf(&s, "\"merges\":[\"t h\",\"th e\",[\"\xc4\xa0\",\"t\"],\"\xc4\xa0t h\"]}}");
    if (s.failed) die("bpe_json");
    return s.s;
}

/* ---- llama2.c ------------------------------------------------------------------------ */

static void put(FILE *fp, const void *p, size_t n) {
    if (fwrite(p, 1, n, fp) != n) die("fwrite");
}

static void put_tensor(FILE *fp, const qmc_tensor *t) { put(fp, t->data, (size_t)qmc_tensor_nelem(t) * 4); }

#define EACH_LAYER(field)                                                        \
    for (int l = 0; l < m->cfg.n_layers; l++) put_tensor(fp, &m->layers[l].field)

/* Checkpoint in llama2.c's legacy v0 layout or its v1 export (F32 weights). */
static void write_llama2c(const qmc_model *m, const char *name, bool v1) {
    const qmc_config *c = &m->cfg;
    FILE *fp = fopen(path_in("llama2c", name), "wb");
    if (!fp) die(name);
    int32_t h[7] = {c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads,
                    c->tied_output ? c->vocab_size : -c->vocab_size, c->seq_len};
    if (v1) {
        uint8_t hdr[256] = {0};
        uint32_t magic = 0x616b3432u;
        int32_t version = 1;
        h[5] = c->vocab_size;
        memcpy(hdr, &magic, 4);
        memcpy(hdr + 4, &version, 4);
        memcpy(hdr + 8, h, sizeof h);
        hdr[36] = c->tied_output;
        put(fp, hdr, sizeof hdr);
        EACH_LAYER(attn_norm);
        EACH_LAYER(ffn_norm);
        put_tensor(fp, &m->output_norm);
        put_tensor(fp, &m->token_embd);
    } else {
        put(fp, h, sizeof h);
        put_tensor(fp, &m->token_embd);
        EACH_LAYER(attn_norm);
    }
    EACH_LAYER(wq);
    EACH_LAYER(wk);
    EACH_LAYER(wv);
    EACH_LAYER(wo);
    if (!v1) EACH_LAYER(ffn_norm);
    EACH_LAYER(w_gate);
    EACH_LAYER(w_down);
    EACH_LAYER(w_up);
    if (!v1) {
        put_tensor(fp, &m->output_norm);
        size_t n = (size_t)c->seq_len * (size_t)c->head_dim; /* freq_cis_real + freq_cis_imag */
        float *zero = calloc(n, sizeof(float));
        put(fp, zero, n * sizeof(float));
        free(zero);
    }
    if (!c->tied_output) put_tensor(fp, &m->output);
    if (fclose(fp)) die(name);
}
#undef EACH_LAYER

/* llama2.c tokenizer.bin: max_token_length, then score, length, bytes ("▁" as ' '). */
static void write_tokbin(const qmc_tokenizer *t, const char *name) {
    FILE *fp = fopen(path_in("tokbin", name), "wb");
    if (!fp) die(name);
    int32_t max_len = 0;
    for (int32_t i = 0; i < t->n_vocab; i++) max_len = QMC_MAX(max_len, t->piece_len[i]);
    put(fp, &max_len, 4);
    for (int32_t i = 0; i < t->n_vocab; i++) {
        int32_t len;
        const char *p = qmc_tok_piece(t, i, &len);
        char buf[256];
        int32_t k = 0;
        for (int32_t j = 0; j < len && k < (int32_t)sizeof buf; j++) {
            if (j + 3 <= len && memcmp(p + j, "\xe2\x96\x81", 3) == 0) {
                buf[k++] = ' ';
                j += 2;
            } else buf[k++] = p[j];
        }
        put(fp, &t->scores[i], 4);
        put(fp, &k, 4);
        put(fp, buf, (size_t)k);
    }
    if (fclose(fp)) die(name);
}

/* ---- Hugging Face directories ---------------------------------------------------------------- */

static void save_hf(const qmc_model *m, const char *tag, qmc_write_type type) {
    char dir[4096], from[4200], name[128];
    snprintf(dir, sizeof dir, "%s/hf-%s", tu_tmpdir(), tag);
    if (qmc_model_save_hf(m, dir, type)) die(tag);
    snprintf(from, sizeof from, "%s/config.json", dir);
    snprintf(name, sizeof name, "%s-config.json", tag);
    copy_file(from, "hf_config", name);
    copy_file(from, "sim_config", name);
    snprintf(from, sizeof from, "%s/model.safetensors", dir);
    snprintf(name, sizeof name, "%s.safetensors", tag);
    copy_file(from, "safetensors", name);
    snprintf(from, sizeof from, "%s/tokenizer.json", dir);
    snprintf(name, sizeof name, "%s-tokenizer.json", tag);
    if (m->tok) copy_file(from, "tokenizer_json", name);
    /* the whole directory as one hf_dir input: each file after its marker line */
    static const char *parts[] = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"};
    qmc_str all = {0};
    for (int i = 0; i < 4; i++) {
        snprintf(from, sizeof from, "%s/%s", dir, parts[i]);
        if (!qmc_file_exists(from)) continue;
        char *buf;
        size_t len;
        if (qmc_read_file(from, (size_t)1 << 24, &buf, &len)) die(from);
        qmc_str_printf(&all, "--qmc-fuzz-file %s--\n", parts[i]);
        qmc_str_append(&all, buf, len);
        qmc_free(buf);
    }
    snprintf(name, sizeof name, "%s.hfdir", tag);
    if (all.failed || qmc_write_file_atomic(path_in("hf_dir", name), all.s, all.len)) die(name);
    qmc_str_free(&all);
}

/* An index splitting model m's tensors (HF names) over two shards. */
static void write_index(void) {
    static const char *names[] = {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
                                  "model.layers.0.input_layernorm.weight", "model.layers.0.self_attn.q_proj.weight",
                                  "model.layers.0.self_attn.k_proj.weight", "model.layers.0.mlp.up_proj.weight",
                                  "model.layers.1.self_attn.q_proj.bias", "model.layers.1.mlp.down_proj.weight"};
    qmc_str s = {0};
    qmc_str_printf(&s, "{\"metadata\":{\"total_size\":123456},\"weight_map\":{");
    for (size_t i = 0; i < QMC_ARRAY_LEN(names); i++)
        qmc_str_printf(&s, "%s\"%s\":\"model-0000%d-of-00002.safetensors\"", i ? "," : "", names[i], (int)(i % 2) + 1);
    qmc_str_printf(&s, "}}");
    write_text("st_index", "two-shards.json", s.s);
    qmc_str_free(&s);
    write_text("st_index", "one-shard.json", "{\"weight_map\":{\"a\":\"model.safetensors\",\"b\":\"model.safetensors\"}}");
}

/* Zero-shot task files in the three layouts, with the variants the parsers
 * handle (written by hand, as tests/test_tasks.c does). */
static void write_tasks(void) {
    write_text("tasks", "foundry-choice.jsonl",
               "{\"query\": \"The sky is\", \"choices\": [\"blue\", \"green\", \"\\u00e9t\\u00e9\"], \"gold\": 0}\n"
               "{\"query\": \"Q2 \", \"choices\": [\"x\", \"yy\"], \"gold\": 1}\r\n"
               "\n"
               "{\"query\": \"bad\", \"choices\": [\"a\"], \"gold\": 3}\n");
    write_text("tasks", "foundry-partial.jsonl",
               "{\"context_options\": [\"Anna helped Ben because Anna\", \"Anna helped Ben because Ben\"], "
               "\"continuation\": \"was kind.\", \"gold\": 0}\n"
               "{\"context_options\": [\"x\", \"y\"], \"continuation\": \"z\", \"gold\": 1}\n");
    write_text("tasks", "foundry-target.jsonl",
               "{\"context\": \"It was a dark and stormy\", \"continuation\": \"night\"}\n"
               "{\"context\": \"Once upon a\", \"continuation\": \"time\"}\n");
    write_text("tasks", "foundry-boolq.jsonl",
               "{\"query\": \"Passage: Water is wet.\\nQuestion: is water wet?\", \"choices\": [\"no\", \"yes\"], \"gold\": 1}\n");
    write_text("tasks", "foundry-piqa.jsonl",
               "{\"query\": \"Question: open a jar\\n\", \"choices\": [\"twist the lid\", \"push the lid\"], \"gold\": 0}\n");
    write_text("tasks", "hellaswag.txt",
               "Removing ice from car: Then, the man writes over the snow covering the window of a car, and a woman\n"
               "3\n"
               "uses a shovel. [title] Clear snow.\n"
               "sits in the car.\n"
               "stands up.  [header] Step two\n"
               "paints the car.\n"
               "Baking cookies: A woman mixes flour\n"
               "0\n"
               "and bakes them.\n"
               "b\n"
               "c\n"
               "d\n");
    write_text("tasks", "arc.jsonl",
               "{\"id\": \"Mercury_1\", \"question\": \"Which is a gas?\", \"choices\": {\"text\": [\"ice\", \"steam\", \"rock\", \"wood\"], "
               "\"label\": [\"A\", \"B\", \"C\", \"D\"]}, \"answerKey\": \"B\"}\n"
               "{\"id\": \"NYSED_2\", \"question\": \"Pick one\", \"choices\": {\"text\": [\"x\", \"y\", \"z\"], "
               "\"label\": [\"1\", \"2\", \"3\"]}, \"answerKey\": \"3\"}\n");
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: seedgen OUTDIR\n");
        return 2;
    }
    g_out = argv[1];
    if (mkdir(g_out, 0755) != 0 && errno != EEXIST) {
        perror(g_out);
        return 1;
    }
    /* A: Llama, SPM byte-fallback vocabulary, tied head */
    tu_model_spec a = {.arch = QMC_ARCH_LLAMA, .dim = 16, .hidden = 32, .layers = 1, .heads = 2, .kv_heads = 1,
                       .vocab = 270, .seq_len = 32, .tied = true, .with_tokenizer = true};
    qmc_model *ma = tu_random_model(&a, 1);
    save_gguf(ma, "llama-spm-f32.gguf", QMC_WRITE_F32, 0, 3);
    save_gguf(ma, "llama-spm-f16.gguf", QMC_WRITE_F16, 0, 2);
    write_tokbin(ma->tok, "spm270.bin");
    save_hf(ma, "llama-spm", QMC_WRITE_F16);
    qmc_model_free(ma);

    /* B: Qwen2 with q/k/v biases, separate head, no vocabulary */
    tu_model_spec b = {.arch = QMC_ARCH_QWEN2, .dim = 16, .hidden = 24, .layers = 2, .heads = 4, .kv_heads = 2,
                       .vocab = 48, .seq_len = 64, .qkv_bias = true, .rope = QMC_ROPE_NEOX};
    qmc_model *mb = tu_random_model(&b, 2);
    save_gguf(mb, "qwen2-f32.gguf", QMC_WRITE_F32, 0, 2);
    save_hf(mb, "qwen2", QMC_WRITE_F32);
    qmc_model_free(mb);

    /* C: Llama-3 rope scaling, head_dim * heads != dim */
    tu_model_spec c = {.arch = QMC_ARCH_LLAMA, .dim = 24, .hidden = 16, .layers = 1, .heads = 2, .kv_heads = 2,
                       .head_dim = 8, .vocab = 40, .seq_len = 16, .rope = QMC_ROPE_NEOX, .llama3_scaling = true};
    qmc_model *mc = tu_random_model(&c, 3);
    save_gguf(mc, "llama3-f16.gguf", QMC_WRITE_F16, 0, 2);
    save_hf(mc, "llama3", QMC_WRITE_F32);
    qmc_model_free(mc);

    /* D: byte-level BPE vocabulary (GPT-2 and Llama-3 pre-tokenizers) */
    static const char *pres[2][2] = {
        {"gpt2", "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true}"},
        {"llama3", "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":"
                   "\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}{1,3}| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"},"
                   "\"behavior\":\"Isolated\",\"invert\":false},"
                   "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":false}]}"}};
    for (int k = 0; k < 2; k++) {
        char *json = bpe_json(pres[k][1], k == 1);
        char name[64];
        snprintf(name, sizeof name, "bpe-%s.json", pres[k][0]);
        write_text("tokenizer_json", name, json);
        tu_model_spec d = {.arch = QMC_ARCH_LLAMA, .dim = 8, .hidden = 16, .layers = 1, .heads = 2, .kv_heads = 2,
                           .vocab = 262, .seq_len = 16, .tied = true};
        qmc_model *md = tu_random_model(&d, 4);
        if (qmc_tok_parse_hf(json, strlen(json), name, &md->tok)) die(name);
        snprintf(name, sizeof name, "llama-bpe-%s.gguf", pres[k][0]);
        save_gguf(md, name, QMC_WRITE_F16, 0, 3);
        qmc_model_free(md);
        qmc_free(json);
    }
    char *digits = bpe_json("{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Digits\",\"individual_digits\":true},"
                            "{\"type\":\"Split\",\"pattern\":{\"String\":\"the\"},\"behavior\":\"Isolated\"},"
                            "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true}]}", false);
    write_text("tokenizer_json", "bpe-digits-split.json", digits);
    qmc_free(digits);
    write_text("tokenizer_json", "spm-metaspace.json",
               "{\"added_tokens\":[{\"id\":0,\"content\":\"<unk>\",\"special\":true},{\"id\":1,\"content\":\"<s>\",\"special\":true}],"
               "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\xe2\x96\x81\",\"prepend_scheme\":\"first\",\"split\":false},"
               "\"model\":{\"type\":\"BPE\",\"byte_fallback\":true,\"unk_token\":\"<unk>\",\"vocab\":{\"<unk>\":0,\"<s>\":1,\"<0x41>\":2,"
               "\"\xe2\x96\x81\":3,\"a\":4,\"b\":5,\"ab\":6,\"\xe2\x96\x81" "ab\":7,\"[PAD9]\":9},"
               "\"merges\":[\"a b\",\"\xe2\x96\x81 ab\"]}}");

    /* packed planes: QMC (3-bit inliers, 5-bit outliers), RTN asym groups, MXINT4, MXFP4 */
    static const struct { const char *name; qmc_plane_fmt in, out; double rho; } packs[] = {
        {"qmc-3-5.gguf", {3, QMC_ELEM_INT, 0, 0}, {5, QMC_ELEM_INT, 0, 0}, 0.3},
        {"rtn4-asym-g8.gguf", {4, QMC_ELEM_INT, 1, 8}, {0, 0, 0, 0}, 0.0},
        {"qmc-2-8-asym.gguf", {2, QMC_ELEM_INT, 0, 8}, {8, QMC_ELEM_INT, 1, 0}, 0.1},
        {"mxint4.gguf", {4, QMC_ELEM_MXINT, 0, 8}, {0, 0, 0, 0}, 0.0},
        {"mxfp4.gguf", {4, QMC_ELEM_MXFP4, 0, 8}, {0, 0, 0, 0}, 0.0},
    };
    for (size_t k = 0; k < QMC_ARRAY_LEN(packs); k++) {
        tu_model_spec p = {.arch = QMC_ARCH_LLAMA, .dim = 16, .hidden = 24, .layers = 1, .heads = 2, .kv_heads = 1,
                           .vocab = 16, .seq_len = 16, .tied = true};
        qmc_model *mp = tu_random_model(&p, 10 + k);
        pack_linears(mp, packs[k].in, packs[k].out, packs[k].rho, 20 + k);
        save_gguf(mp, packs[k].name, QMC_WRITE_KEEP, 0, 4);
        qmc_model_free(mp);
    }

    /* llama2.c checkpoints: v0 with and without a shared classifier, v1 */
    tu_model_spec l = {.arch = QMC_ARCH_LLAMA, .dim = 16, .hidden = 24, .layers = 2, .heads = 4, .kv_heads = 2,
                       .vocab = 32, .seq_len = 8, .tied = true};
    qmc_model *ml = tu_random_model(&l, 5);
    write_llama2c(ml, "v0-shared.bin", false);
    write_llama2c(ml, "v1-shared.bin", true);
    qmc_model_free(ml);
    l.tied = false;
    ml = tu_random_model(&l, 6);
    write_llama2c(ml, "v0-unshared.bin", false);
    write_llama2c(ml, "v1-unshared.bin", true);
    qmc_model_free(ml);

    write_index();
    write_tasks();
    return 0;
}
