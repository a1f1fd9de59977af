/* test_zeroshot.c — zero-shot scoring: metrics on hand-chosen scores,
 * loglikelihoods of a bigram model whose logits are set by hand, prefix reuse
 * equal to scoring every full sequence from scratch (F32 and packed models,
 * with truncation), thread-count independence, and the qmc eval command. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "eval/zeroshot.h"
#include "quant/qtensor.h"
#include "testutil.h"

/* ---- building task sets in memory ----------------------------------------------- */

static qmc_task_set *new_set(qmc_task_kind kind) {
    qmc_task_set *t = qmc_alloc(1, sizeof *t);
    snprintf(t->name, sizeof t->name, "handmade");
    snprintf(t->path, sizeof t->path, "handmade.jsonl");
    t->kind = kind;
    t->report_acc_norm = kind == QMC_TASK_CHOICE;
    return t;
}

/* An example of n options; ctx[i] / cont[i] (contexts may repeat). */
static void add_ex(qmc_task_set *t, int n, int gold, const char *const *ctx, const char *const *cont) {
    qmc_task_example *e = qmc_task_add_example(t, n, gold, t->n_examples + 1);
    assert_non_null(e);
    for (int i = 0; i < n; i++) {
        qmc_task_option *o = &t->options[e->first_option + i];
        o->context = qmc_task_add_text(t, ctx[i], strlen(ctx[i]));
        o->continuation = qmc_task_add_text(t, cont[i], strlen(cont[i]));
        const char *norm = cont[i][0] == ' ' ? cont[i] + 1 : cont[i];
        o->norm_chars = qmc_utf8_chars(norm, strlen(norm));
        o->norm_bytes = (int32_t)strlen(norm);
    }
}

/* ---- metrics from given scores (a fake evaluator) ---------------------------------- */

static void set_norm(qmc_task_set *t, int64_t e, int i, int chars, int bytes) {
    qmc_task_option *o = &t->options[t->examples[e].first_option + i];
    o->norm_chars = chars;
    o->norm_bytes = bytes;
}

static void test_metrics_by_hand(void **state) {
    qmc_task_set *t = new_set(QMC_TASK_CHOICE);
    const char *c2[] = {"q", "q"}, *k2[] = {" a", " b"};
    for (int e = 0; e < 4; e++) add_ex(t, 2, e == 3 ? 0 : 1, c2, k2);
    /* lengths (chars, bytes) and loglikelihoods chosen by hand:
     * ex0 gold 1: ll -2 (1 char) vs -3 (10 chars): acc picks 0, acc_norm -2 < -0.3 picks 1
     * ex1 gold 1: ll -1 vs -5, equal lengths: both pick 0
     * ex2 gold 1: ll -4 vs -4 (tie): argmax takes the first; per char -4/4 = -1 < -4/2: 0
     * ex3 gold 0: ll -2 (2 chars, 4 bytes: "éé") vs -2.9 (3 chars, 3 bytes):
     *     acc 0 right; acc_norm -1 < -0.967 picks 1 (wrong); acc_bytes -0.5 > -0.967 picks 0 (right) */
    set_norm(t, 0, 0, 1, 1), set_norm(t, 0, 1, 10, 10);
    set_norm(t, 1, 0, 5, 5), set_norm(t, 1, 1, 5, 5);
    set_norm(t, 2, 0, 4, 4), set_norm(t, 2, 1, 2, 2);
    set_norm(t, 3, 0, 2, 4), set_norm(t, 3, 1, 3, 3);
    qmc_zs_score s[8] = {{-2, 0}, {-3, 0}, {-1, 0}, {-5, 0}, {-4, 0}, {-4, 0}, {-2, 0}, {-2.9, 0}};
    qmc_zs_result r;
    qmc_zs_aggregate(t, 4, s, NULL, &r);
    assert_int_equal(r.n, 4);
    assert_true(r.acc == 0.25);        /* ex3 */
    assert_true(r.acc_norm == 0.25);   /* ex0 */
    assert_true(r.acc_bytes == 0.5);   /* ex0, ex3 */
    assert_true(r.has_acc_norm && !r.has_ppl);
    /* lm-eval mean_stderr: sqrt(p(1-p)/(n-1)) */
    assert_true(fabs(r.acc_stderr - sqrt(0.25 * 0.75 / 3)) < 1e-15);
    assert_true(fabs(r.acc_bytes_stderr - sqrt(0.25 / 3)) < 1e-15);
    /* the first 2 examples only */
    qmc_zs_aggregate(t, 2, s, NULL, &r);
    assert_true(r.acc == 0.0 && r.acc_norm == 0.5);
    qmc_zs_aggregate(t, 1, s, NULL, &r);
    assert_true(isnan(r.acc_stderr)); /* n = 1: undefined, as lm-eval */
    /* NaN never wins the argmax */
    qmc_zs_score sn[2] = {{NAN, 0}, {-7, 0}};
    qmc_zs_aggregate(t, 1, sn, NULL, &r);
    assert_true(r.acc == 1.0);
    qmc_task_free(t);

    /* TARGET: accuracy = greedy, perplexity = exp(-mean ll) */
    t = new_set(QMC_TASK_TARGET);
    const char *c1[] = {"x"}, *k1[] = {" y"};
    for (int e = 0; e < 3; e++) add_ex(t, 1, 0, c1, k1);
    qmc_zs_score st[3] = {{-1.0, true}, {-2.0, false}, {-6.0, true}};
    qmc_zs_aggregate(t, 3, st, NULL, &r);
    assert_true(r.has_ppl && !r.has_acc_norm);
    assert_true(fabs(r.acc - 2.0 / 3) < 1e-15);
    assert_true(fabs(r.ppl - exp(3.0)) < 1e-12);
    assert_true(fabs(r.mean_ll + 3.0) < 1e-15);
    /* delta method: ppl * sd(ll)/sqrt(n); sd of {-1,-2,-6} = sqrt(7) */
    assert_true(fabs(r.ppl_stderr - exp(3.0) * sqrt(7.0 / 3)) < 1e-9);
    qmc_task_free(t);
    assert_true(fabs(qmc_zs_binary_stderr(0.5, 101) - 0.05) < 1e-15);
}

/* ---- a bigram model with logits set by hand ----------------------------------------- */

enum { BV = 272 }; /* byte vocabulary of tu_random_model: 3 specials, 256 bytes, 10 pieces, 3 more */
enum { T_SP = 259, T_E = 260, T_A = 262, T_THE = 265 };

/* One layer with all-zero weights keeps the residual stream at the token's
 * embedding; with one-hot embeddings (dim = vocab) the logits of token c are
 * column c of the output matrix times rmsnorm's scale, so W[n][c] = B[c][n] /
 * scale makes logits(after c) = B[c]. */
static qmc_model *bigram_model(const double B[BV][BV]) {
    tu_model_spec sp = {.dim = BV, .hidden = 8, .layers = 1, .heads = 4, .kv_heads = 4, .vocab = BV, .seq_len = 64,
                        .with_tokenizer = true};
    qmc_model *m = tu_random_model(&sp, 7);
    qmc_layer *L = &m->layers[0];
    qmc_tensor *zero[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
    for (size_t i = 0; i < sizeof zero / sizeof *zero; i++)
        memset(zero[i]->owned, 0, (size_t)qmc_tensor_nelem(zero[i]) * sizeof(float));
    float *emb = m->token_embd.owned, *out = m->output.owned, *norm = m->output_norm.owned;
    memset(emb, 0, (size_t)BV * BV * sizeof(float));
    for (int i = 0; i < BV; i++) emb[(size_t)i * BV + i] = 1.0f, norm[i] = 1.0f;
    const float scale = 1.0f / sqrtf(1.0f / (float)BV + m->cfg.norm_eps);
    for (int n = 0; n < BV; n++)
        for (int c = 0; c < BV; c++) out[(size_t)n * BV + c] = (float)(B[c][n] / scale);
    return m;
}

static double B[BV][BV];

static void set_table(void) {
    memset(B, 0, sizeof B);
    B[T_THE][T_SP] = 2.0; /* after "▁the": "▁" */
    B[T_SP][T_A] = 3.0;   /* after "▁": "a" ... */
    B[T_SP][T_E] = 1.0;   /* ... or "e" */
    B[1][T_THE] = 1.5;    /* after BOS */
}

/* log p(next | prev) of the table: B[prev][next] - log sum_n exp(B[prev][n]) */
static double lp(int prev, int next) {
    double z = 0;
    for (int n = 0; n < BV; n++) z += exp(B[prev][n]);
    return B[prev][next] - log(z);
}

static void test_bigram_loglikelihoods(void **state) {
    set_table();
    qmc_model *m = bigram_model(B);
    /* the tokenizations the hand computation relies on */
    int32_t *tk;
    int64_t n;
    assert_int_equal(qmc_tok_encode(m->tok, "the a", 5, false, &tk, &n), 0);
    assert_int_equal(n, 3);
    assert_true(tk[0] == T_THE && tk[1] == T_SP && tk[2] == T_A);
    qmc_free_tokens(tk);
    assert_int_equal(qmc_tok_encode(m->tok, "the", 3, false, &tk, &n), 0);
    assert_true(n == 1 && tk[0] == T_THE);
    qmc_free_tokens(tk);

    /* closed forms: row "▁the" has one 2 and 271 zeros; row "▁" has a 3, a 1, 270 zeros */
    const double lp_sp = 2 - log(exp(2.0) + 271), lp_a = 3 - log(exp(3.0) + exp(1.0) + 270),
                 lp_e = 1 - log(exp(3.0) + exp(1.0) + 270);
    assert_true(fabs(lp_sp - lp(T_THE, T_SP)) < 1e-12 && fabs(lp_a - lp(T_SP, T_A)) < 1e-12);

    /* multiple choice: "the" + " a" / " e"; the second with the space still on the context */
    qmc_task_set *t = new_set(QMC_TASK_CHOICE);
    const char *ctx[] = {"the", "the"}, *cont[] = {" a", " e"};
    add_ex(t, 2, 0, ctx, cont);
    const char *ctx2[] = {"the ", "the "}, *cont2[] = {"e", "a"};
    add_ex(t, 2, 1, ctx2, cont2);
    for (int bos = 0; bos < 2; bos++) {
        qmc_zs_opts o = {.no_bos = !bos};
        qmc_zs_requests *r = NULL;
        assert_int_equal(qmc_zs_prepare(m, t, &o, &r), 0);
        assert_int_equal(r->n_requests, 4);
        /* request 0: [BOS] the ▁ a; continuation = the last 2 */
        const qmc_zs_request *q = &r->req[0];
        assert_int_equal(q->n_full, 3 + bos);
        assert_int_equal(q->n_cont, 2);
        assert_true(!bos || r->tokens[q->tok] == 1);
        qmc_zs_score s[4];
        assert_int_equal(qmc_zs_run(m, r, &o, s, NULL), 0);
        assert_true(fabs(s[0].ll - (lp_sp + lp_a)) < 1e-5);
        assert_true(fabs(s[1].ll - (lp_sp + lp_e)) < 1e-5);
        assert_true(s[0].greedy && !s[1].greedy);
        /* trailing space of the context moved to the continuation: same tokens */
        assert_true(s[2].ll == s[1].ll && s[3].ll == s[0].ll);
        qmc_zs_result res;
        qmc_zs_aggregate(t, 2, s, NULL, &res);
        assert_true(res.acc == 1.0);
        qmc_zs_requests_free(r);
    }
    qmc_task_free(t);

    /* WinoGrande partial scoring: the shared continuation " a" after each context */
    t = new_set(QMC_TASK_PARTIAL);
    const char *pctx[] = {"the", "a"}, *pcont[] = {" a", " a"};
    add_ex(t, 2, 0, pctx, pcont);
    add_ex(t, 2, 1, pctx, pcont);
    qmc_zs_opts o = {0};
    qmc_zs_requests *r = NULL;
    assert_int_equal(qmc_zs_prepare(m, t, &o, &r), 0);
    qmc_zs_score s[4];
    assert_int_equal(qmc_zs_run(m, r, &o, s, NULL), 0);
    /* "a" alone is "▁a": the continuation follows "a", whose row is all zeros */
    assert_true(fabs(s[0].ll - (lp_sp + lp_a)) < 1e-5);
    assert_true(fabs(s[1].ll - (-log((double)BV) + lp_a)) < 1e-5);
    qmc_zs_result res;
    qmc_zs_aggregate(t, 2, s, NULL, &res);
    assert_true(res.acc == 0.5 && !res.has_acc_norm);
    qmc_zs_requests_free(r);
    qmc_task_free(t);

    /* LAMBADA-style: accuracy = every token greedy, perplexity over examples */
    t = new_set(QMC_TASK_TARGET);
    const char *lctx[] = {"the"}, *la[] = {" a"}, *le[] = {" e"};
    add_ex(t, 1, 0, lctx, la);
    add_ex(t, 1, 0, lctx, le);
    assert_int_equal(qmc_zeroshot_eval(m, t, &o, &res), 0);
    assert_int_equal(res.n, 2);
    assert_true(res.acc == 0.5);
    assert_true(fabs(res.ppl - exp(-((lp_sp + lp_a) + (lp_sp + lp_e)) / 2)) < 1e-4 * res.ppl);
    assert_int_equal(res.n_truncated, 0);
    qmc_task_free(t);
    qmc_model_free(m);
}

/* ---- prefix reuse == scoring every sequence from scratch --------------------------- */

/* Deterministic text of n characters over a small alphabet (spaces included). */
static void fake_text(char *out, int n, uint64_t seed) {
    static const char alpha[] = "the an er in at ea t e a h";
    for (int i = 0; i < n; i++) out[i] = alpha[qmc_rand_u64(seed, (uint64_t)i) % (sizeof alpha - 1)];
    out[n] = 0;
    if (n && out[n - 1] == ' ') out[n - 1] = 'e';
}

static qmc_task_set *random_tasks(qmc_task_kind kind, int n_ex, uint64_t seed) {
    qmc_task_set *t = new_set(kind);
    for (int e = 0; e < n_ex; e++) {
        char c[4][200], k[4][80];
        const char *cp[4], *kp[4];
        int n = kind == QMC_TASK_TARGET ? 1 : 2 + e % 3;
        int ctx_len = 3 + (int)(qmc_rand_u64(seed, 1000 + e) % 150); /* some need truncation */
        for (int i = 0; i < n; i++) {
            fake_text(c[i], ctx_len, kind == QMC_TASK_PARTIAL ? seed * 100 + e * 10 + i : seed * 100 + e);
            if (kind == QMC_TASK_PARTIAL) memcpy(c[i], c[0], (size_t)ctx_len / 2); /* shared beginning */
            k[i][0] = ' ';
            fake_text(k[i] + 1, 1 + (int)(qmc_rand_u64(seed, 2000 + e * 8 + i) % 30),
                      kind == QMC_TASK_PARTIAL ? seed * 77 + e : seed * 77 + e * 8 + i);
            cp[i] = c[i];
            kp[i] = k[i];
        }
        if (e % 5 == 1) strcat(c[0], " "); /* a trailing space to move */
        add_ex(t, n, (int)(seed + e) % n, cp, kp);
    }
    return t;
}

static double log_softmax_at(const float *lg, int V, int k) {
    double mx = lg[0], z = 0;
    for (int i = 1; i < V; i++) mx = lg[i] > mx ? lg[i] : mx;
    for (int i = 0; i < V; i++) z += exp((double)lg[i] - mx);
    return (double)lg[k] - mx - log(z);
}

/* Independent tokenization of one request by the lm-eval rule. */
static void expect_tokens(const qmc_model *m, const qmc_task_set *t, const qmc_task_option *op, bool bos, int max_ctx,
                          const qmc_zs_requests *r, const qmc_zs_request *q) {
    const char *ctx = qmc_task_text(t, op->context), *cont = qmc_task_text(t, op->continuation);
    size_t keep = strlen(ctx);
    while (keep && ctx[keep - 1] == ' ') keep--;
    char whole[512];
    snprintf(whole, sizeof whole, "%s%s", ctx, cont);
    int32_t *we, *ce;
    int64_t nw, nc;
    assert_int_equal(qmc_tok_encode(m->tok, whole, strlen(whole), false, &we, &nw), 0);
    assert_int_equal(qmc_tok_encode(m->tok, ctx, keep, false, &ce, &nc), 0);
    int32_t seq[1024];
    int n = 0;
    if (bos) seq[n++] = 1;
    for (int64_t i = 0; i < nc; i++) seq[n++] = ce[i];
    for (int64_t i = nc; i < nw; i++) seq[n++] = we[i];
    assert_int_equal(q->n_cont, nw - nc);
    int drop = n - 1 > max_ctx ? n - 1 - max_ctx : 0;
    assert_int_equal(q->n_full, n - drop);
    assert_int_equal(q->truncated, drop > 0);
    const int32_t *got = r->tokens + q->tok;
    int j = 0;
    if (bos) assert_int_equal(got[j++], 1);
    for (int i = (bos ? 1 : 0) + drop; i < n; i++, j++) assert_int_equal(got[j], seq[i]);
    qmc_free_tokens(we);
    qmc_free_tokens(ce);
}

/* exact: F32 weights, whose kernels are batch-invariant.  Packed weights decode a single token
 * with the fused decode + dot kernels (engine/qdecode.h), which read x rounded to 16 bits per
 * block of 256 columns (relative error <= 2^-16 of the block's largest |x|) and sum in another
 * order than the batched kernel, so prefix reuse agrees with the from-scratch run to 2e-5
 * (measured: at most 1.6e-6 here). */
static void check_against_scratch(const qmc_model *m, qmc_task_kind kind, int n_ex, int max_ctx, bool bos,
                                  bool exact) {
    qmc_task_set *t = random_tasks(kind, n_ex, 11 + (uint64_t)kind);
    qmc_zs_opts o = {.max_ctx = max_ctx, .no_bos = !bos, .batch = 7};
    qmc_zs_requests *r = NULL;
    assert_int_equal(qmc_zs_prepare(m, t, &o, &r), 0);
    qmc_zs_score *s1 = calloc((size_t)r->n_requests, sizeof *s1), *s2 = calloc((size_t)r->n_requests, sizeof *s2);
    int64_t run = 0, requested = 0;
    const int threads = qmc_threads();
    qmc_set_threads(1);
    assert_int_equal(qmc_zs_run(m, r, &o, s1, &run), 0);
    qmc_set_threads(2);
    assert_int_equal(qmc_zs_run(m, r, &o, s2, NULL), 0);
    qmc_set_threads(1); /* the reference below: many tiny forward passes, no thread team */
    const int V = m->cfg.vocab_size;
    for (int64_t k = 0; k < r->n_requests; k++) {
        const qmc_zs_request *q = &r->req[k];
        requested += q->n_full - 1;
        expect_tokens(m, t, &t->options[k], bos, max_ctx, r, q);
        /* from scratch: a fresh session, the whole input, every position's logits */
        const int32_t *full = r->tokens + q->tok;
        const int n_in = q->n_full - 1, first = n_in - q->n_cont;
        float *lg = tu_logits(m, full, n_in);
        assert_non_null(lg);
        double ll = 0, ll_engine = 0;
        bool greedy = true;
        for (int j = 0; j < q->n_cont; j++) {
            const float *row = lg + (int64_t)(first + j) * V;
            ll += log_softmax_at(row, V, full[first + 1 + j]);
            ll_engine += (double)row[full[first + 1 + j]] - qmc_log_softmax(row, V, NULL);
            int am = 0;
            for (int v = 1; v < V; v++) am = row[v] > row[am] ? v : am;
            greedy = greedy && am == full[first + 1 + j];
        }
        free(lg);
        /* the engine's per-token results do not depend on batching (tests/test_engine.c),
         * so prefix reuse is bit-identical (F32) to the from-scratch run with the engine's
         * log-softmax, and close to an independent one */
        const bool same = exact ? ll_engine == s1[k].ll : fabs(ll_engine - s1[k].ll) <= 2e-5 * (1 + fabs(ll));
        if (!same || fabs(ll - ll_engine) > 1e-9 * (1 + fabs(ll)) || greedy != s1[k].greedy)
            fail_msg("request %lld: from scratch %.12f (greedy %d), with prefix reuse %.12f (greedy %d)", (long long)k,
                     ll_engine, greedy, s1[k].ll, s1[k].greedy);
        /* the thread count changes nothing, bit for bit */
        assert_memory_equal(&s1[k].ll, &s2[k].ll, sizeof(double));
        assert_int_equal(s1[k].greedy, s2[k].greedy);
    }
    qmc_set_threads(threads);
    assert_true(r->n_truncated > 0 || max_ctx >= 200);
    /* the shared prefix ran once per example (a target task has nothing to share) */
    if (kind == QMC_TASK_TARGET) assert_int_equal(run, requested);
    else assert_true(run < requested);
    free(s1);
    free(s2);
    qmc_zs_requests_free(r);
    qmc_task_free(t);
}

static qmc_model *small_model(void) {
    tu_model_spec sp = {.dim = 32, .hidden = 48, .layers = 2, .heads = 4, .kv_heads = 2, .vocab = 300, .seq_len = 256,
                        .with_tokenizer = true};
    return tu_random_model(&sp, 3);
}

static void test_prefix_reuse_matches_scratch(void **state) {
    qmc_model *m = small_model();
    const int n = tu_quick() ? 6 : 24;
    check_against_scratch(m, QMC_TASK_CHOICE, n, 40, true, true);
    check_against_scratch(m, QMC_TASK_PARTIAL, n, 40, true, true);
    check_against_scratch(m, QMC_TASK_TARGET, n, 40, false, true);
    check_against_scratch(m, QMC_TASK_CHOICE, n, 256, false, true);
    qmc_model_free(m);
}

/* Symmetric 8-bit per-row packing of every block linear (a stand-in for the
 * quantizers: what matters here is that the tensors are PACKED). */
static void pack8(qmc_tensor *w) {
    const int64_t rows = qmc_tensor_rows(w), cols = w->ne[0];
    qmc_plane_fmt in = {.bits = 8, .elem = QMC_ELEM_INT}, none = {0};
    qmc_qtensor *q = NULL;
    assert_int_equal(qmc_qt_alloc(rows, cols, in, none, 0, &q), 0);
    const float *src = w->data;
    for (int64_t r = 0; r < rows; r++) {
        float mx = 0;
        for (int64_t c = 0; c < cols; c++) mx = fmaxf(mx, fabsf(src[r * cols + c]));
        uint16_t h = qmc_f32_to_f16(mx > 0 ? mx / 127 : 1);
        memcpy(qmc_qt_mut(q->in_scale) + r * 2, &h, 2);
        float d = qmc_f16_to_f32(h);
        for (int64_t c = 0; c < cols; c++) {
            long v = lrintf(src[r * cols + c] / d) + 128;
            qmc_bits_put(qmc_qt_mut(q->in_codes), (r * cols + c) * 8, 8, (uint32_t)(v < 0 ? 0 : v > 255 ? 255 : v));
        }
    }
    assert_int_equal(qmc_qt_finish(q), 0);
    qmc_tensor_release(w);
    w->type = QMC_TYPE_PACKED;
    w->q = q;
}

static void test_packed_model(void **state) {
    qmc_model *m = small_model(), *ref = small_model();
    for (int l = 0; l < m->cfg.n_layers; l++) {
        qmc_layer *L = &m->layers[l];
        qmc_tensor *w[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
        for (size_t i = 0; i < sizeof w / sizeof *w; i++) pack8(w[i]);
    }
    assert_int_equal(m->layers[0].wq.type, QMC_TYPE_PACKED);
    check_against_scratch(m, QMC_TASK_CHOICE, tu_quick() ? 4 : 12, 40, true, false);
    /* 8-bit weights: close to, not equal to, the F32 model */
    qmc_task_set *t = random_tasks(QMC_TASK_CHOICE, 6, 5);
    qmc_zs_opts o = {0};
    qmc_zs_requests *r = NULL;
    assert_int_equal(qmc_zs_prepare(m, t, &o, &r), 0);
    qmc_zs_score *a = calloc((size_t)r->n_requests, sizeof *a), *b = calloc((size_t)r->n_requests, sizeof *b);
    assert_int_equal(qmc_zs_run(m, r, &o, a, NULL), 0);
    assert_int_equal(qmc_zs_run(ref, r, &o, b, NULL), 0); /* same requests, another model */
    double maxd = 0;
    for (int64_t k = 0; k < r->n_requests; k++) maxd = fmax(maxd, fabs(a[k].ll - b[k].ll) / (1 + fabs(b[k].ll)));
    assert_true(maxd > 0 && maxd < 0.05);
    free(a);
    free(b);
    qmc_zs_requests_free(r);

    /* the Monte-Carlo trial callback: tokenizes once, scores each trial's model */
    qmc_zs_trial tr = {.task = t, .metric = QMC_ZS_METRIC_ACC_NORM};
    qmc_zs_result want;
    double v = -1;
    assert_int_equal(qmc_zs_trial_eval(m, &tr, &v), 0);
    const qmc_zs_requests *made = tr.req;
    assert_int_equal(qmc_zeroshot_eval(m, t, &tr.opts, &want), 0);
    assert_true(v == want.acc_norm && tr.last.acc == want.acc && tr.last.n == 6);
    assert_int_equal(qmc_zs_trial_eval(ref, &tr, &v), 0);
    assert_ptr_equal(tr.req, made);
    assert_int_equal(qmc_zeroshot_eval(ref, t, &tr.opts, &want), 0);
    assert_true(v == want.acc_norm);
    tr.metric = QMC_ZS_METRIC_PPL;
    assert_int_equal(qmc_zs_trial_eval(ref, &tr, &v), QMC_ERR_ARG);
    assert_non_null(strstr(qmc_errmsg(), "perplexity is only defined for target tasks"));
    qmc_zs_trial_free(&tr);
    qmc_task_free(t);
    qmc_model_free(m);
    qmc_model_free(ref);
}

static void test_bad_requests(void **state) {
    qmc_model *m = small_model();
    /* a continuation longer than the window */
    qmc_task_set *t = new_set(QMC_TASK_TARGET);
    char longc[200];
    longc[0] = ' ';
    fake_text(longc + 1, 150, 9);
    const char *c[] = {"the"}, *k[] = {longc};
    add_ex(t, 1, 0, c, k);
    qmc_zs_opts o = {.max_ctx = 16};
    qmc_zs_result res;
    assert_int_equal(qmc_zeroshot_eval(m, t, &o, &res), QMC_ERR_RANGE);
    assert_non_null(strstr(qmc_errmsg(), "handmade.jsonl: no example fits a context of 16 tokens"));
    /* with another example that fits, the long one is skipped and counted */
    const char *k2[] = {" a"};
    add_ex(t, 1, 0, c, k2);
    assert_int_equal(qmc_zeroshot_eval(m, t, &o, &res), 0);
    assert_int_equal(res.n, 1);
    assert_int_equal(res.n_too_long, 1);
    assert_true(res.tokens_requested > 0 && res.tokens_requested < 16);
    /* skipped examples are left out of the metrics */
    qmc_zs_score sk[2] = {{NAN, false}, {-1, true}};
    uint8_t skip[2] = {1, 0};
    qmc_zs_aggregate(t, 2, sk, skip, &res);
    assert_true(res.n == 1 && res.acc == 1.0 && res.ppl == exp(1.0));
    /* a model without a tokenizer */
    qmc_tokenizer *tok = m->tok;
    m->tok = NULL;
    assert_int_equal(qmc_zeroshot_eval(m, t, &o, &res), QMC_ERR_ARG);
    assert_non_null(strstr(qmc_errmsg(), "no tokenizer"));
    m->tok = tok;
    qmc_task_free(t);
    qmc_model_free(m);
}

/* ---- the command ------------------------------------------------------------------ */

static void test_cli(void **state) {
    const char *model = tu_repo("models/stories260K/stories260K.bin");
    const char *p = tu_tmp("cli.jsonl");
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    for (int i = 0; i < 12; i++)
        fprintf(f, "{\"query\": \"Lily saw a %s.\", \"choices\": [\"She was happy.\", \"The dog ran away.\", "
                   "\"It was big and red.\"], \"gold\": %d}\n",
                i % 2 ? "cat" : "ball", i % 3);
    fclose(f);
    char *o1 = NULL, *o2 = NULL;
    assert_int_equal(tu_run(&o1, "%s eval -m %s --task %s --json -t 1 | grep -v seconds", tu_qmc(), model, p), 0);
    assert_int_equal(tu_run(&o2, "%s eval -m %s --task %s --json -t 2 | grep -v seconds", tu_qmc(), model, p), 0);
    /* identical apart from the thread count line */
    char *a = strstr(o1, "\"tasks\""), *b = strstr(o2, "\"tasks\"");
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "\"n\":\t12"));
    assert_non_null(strstr(a, "\"acc_norm\""));
    free(o1);
    free(o2);
    assert_int_equal(tu_run(&o1, "%s eval -m %s --task %s --limit 5", tu_qmc(), model, p), 0);
    assert_non_null(strstr(o1, "cli.jsonl"));
    assert_non_null(strstr(o1, "     5  0."));
    free(o1);
}

static void test_cli_shipped_tasks(void **state) {
    TU_REQUIRE_SHARED(dir, "data/zeroshot");
    char *out = NULL;
    int st = tu_run(&out, "%s eval -m %s --data-dir %s --limit 3 --json "
                          "--task hellaswag,arc_easy,arc_challenge,boolq,piqa,winogrande,openbookqa,lambada",
                    tu_qmc(), tu_repo("models/stories260K/stories260K.bin"), dir);
    if (st) fail_msg("%s", out);
    static const char *names[] = {"hellaswag", "arc_easy", "arc_challenge", "boolq",
                                  "piqa",      "winogrande", "openbookqa", "lambada"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char want[64];
        snprintf(want, sizeof want, "\"task\":\t\"%s\"", names[i]);
        assert_non_null(strstr(out, want));
    }
    assert_non_null(strstr(out, "\"perplexity\""));
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_by_hand),  cmocka_unit_test(test_bigram_loglikelihoods),
        cmocka_unit_test(test_prefix_reuse_matches_scratch), cmocka_unit_test(test_packed_model),
        cmocka_unit_test(test_bad_requests),     cmocka_unit_test(test_cli),
        cmocka_unit_test(test_cli_shipped_tasks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
