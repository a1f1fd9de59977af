/* zeroshot.c — lm-evaluation-harness style loglikelihood scoring of a task
 * set: tokenization of the requests, the prefix-reusing runner, and the
 * metrics (see zeroshot.h and docs/zeroshot.md). */
#include <ctype.h>
#include <math.h>
#include <omp.h>
#include <stdatomic.h>
#include <string.h>

#include "engine/engine.h"
#include "eval/eval.h"
#include "eval/zeroshot.h"

double qmc_zs_binary_stderr(double p, int64_t n) {
    if (n < 2) return NAN;
    double v = p * (1.0 - p) / (double)(n - 1);
    return v > 0 ? sqrt(v) : 0.0;
}

/* ---- tokenization ------------------------------------------------------------ */

void qmc_zs_requests_free(qmc_zs_requests *r) {
    if (!r) return;
    qmc_free(r->skip);
    qmc_free(r->req);
    qmc_free(r->tokens);
    qmc_free(r);
}

static int push_tokens(qmc_zs_requests *r, int64_t *cap, const int32_t *t, int64_t n) {
    if (r->n_tokens + n > *cap) {
        int64_t c = *cap ? *cap : 1 << 16;
        while (c < r->n_tokens + n) c *= 2;
        int32_t *p = qmc_realloc(r->tokens, (size_t)c, sizeof(int32_t));
        if (!p) return QMC_ERR_NOMEM;
        r->tokens = p;
        *cap = c;
    }
    if (n) memcpy(r->tokens + r->n_tokens, t, (size_t)n * sizeof(int32_t));
    r->n_tokens += n;
    return QMC_OK;
}

/* lm-eval HFLM._encode_pair: trailing whitespace of the context moves to the
 * continuation; continuation tokens = encode(context + continuation) minus
 * the first len(encode(context)) tokens.  *cont points into *whole. */
typedef struct {
    int32_t *ctx, *whole, *cont;   /* qmc-allocated */
    int64_t n_ctx, n_cont;
    bool fallback;                 /* the joint encoding left no continuation token */
} encoded_pair;

static void pair_free(encoded_pair *p) {
    qmc_free(p->ctx);
    qmc_free(p->whole);
    qmc_free(p->cont);
    memset(p, 0, sizeof *p);
}

static int encode_pair(const qmc_tokenizer *tok, const char *ctx, const char *cont, encoded_pair *p) {
    memset(p, 0, sizeof *p);
    size_t nc = strlen(ctx), nk = strlen(cont), keep = nc;
    while (keep && isspace((unsigned char)ctx[keep - 1])) keep--;
    qmc_str joined = {0};
    qmc_str_append(&joined, ctx, nc); /* context + moved spaces + continuation = the same string */
    qmc_str_append(&joined, cont, nk);
    if (joined.failed) return QMC_ERR_NOMEM;
    int64_t n_whole;
    int rc = qmc_tok_encode(tok, joined.s, joined.len, false, &p->whole, &n_whole);
    if (!rc) rc = qmc_tok_encode(tok, ctx, keep, false, &p->ctx, &p->n_ctx);
    if (!rc && n_whole > p->n_ctx) {
        p->n_cont = n_whole - p->n_ctx;
        p->cont = qmc_alloc((size_t)p->n_cont, sizeof(int32_t));
        if (!p->cont) rc = QMC_ERR_NOMEM;
        else memcpy(p->cont, p->whole + p->n_ctx, (size_t)p->n_cont * sizeof(int32_t));
    } else if (!rc) {
        /* the context's last token swallowed the continuation: encode the
         * (moved spaces +) continuation on its own */
        p->fallback = true;
        rc = qmc_tok_encode(tok, ctx + keep, nc - keep + nk, false, &p->cont, &p->n_cont);
        if (!rc && p->n_cont == 0) rc = qmc_fail(QMC_ERR_FORMAT, "continuation encodes to no tokens");
    }
    qmc_str_free(&joined);
    return rc;
}

int qmc_zs_prepare(const qmc_model *m, const qmc_task_set *t, const qmc_zs_opts *o, qmc_zs_requests **out) {
    *out = NULL;
    const qmc_tokenizer *tok = m->tok;
    if (!tok) return qmc_fail(QMC_ERR_ARG, "%s: the model has no tokenizer", m->path);
    const int max_ctx = o->max_ctx > 0 ? o->max_ctx : m->cfg.seq_len;
    if (max_ctx < 2) return qmc_fail(QMC_ERR_ARG, "context window of %d tokens is too small", max_ctx);
    const int64_t n_ex = o->limit > 0 ? QMC_MIN(o->limit, t->n_examples) : t->n_examples;
    if (n_ex <= 0) return qmc_fail(QMC_ERR_ARG, "%s: no examples to score", t->path);
    const qmc_task_example *last = &t->examples[n_ex - 1];
    const int64_t n_req = last->first_option + last->n_options;
    const bool bos = !o->no_bos;
    const int32_t bos_id = m->cfg.bos_id >= 0 ? m->cfg.bos_id : tok->bos_id;
    if (bos && (bos_id < 0 || bos_id >= m->cfg.vocab_size))
        return qmc_fail(QMC_ERR_STATE, "%s: the model has no BOS token (use no-BOS scoring)", m->path);

    qmc_zs_requests *r = qmc_alloc(1, sizeof *r);
    if (!r) return QMC_ERR_NOMEM;
    r->task = t;
    r->n_examples = n_ex;
    r->n_requests = n_req;
    r->max_ctx = max_ctx;
    r->req = qmc_alloc((size_t)n_req, sizeof(qmc_zs_request));
    r->skip = qmc_alloc((size_t)n_ex, 1);
    int rc = r->req && r->skip ? QMC_OK : QMC_ERR_NOMEM;
    int64_t cap = 0;
    for (int64_t e = 0; e < n_ex && !rc; e++) {
        const qmc_task_example *ex = &t->examples[e];
        encoded_pair p[QMC_TASK_MAX_CHOICES];
        int n_enc = 0;
        bool too_long = false;
        for (int i = 0; i < ex->n_options && !rc; i++, n_enc++) {
            const qmc_task_option *op = qmc_task_opt(t, ex, i);
            rc = encode_pair(tok, qmc_task_text(t, op->context), qmc_task_text(t, op->continuation), &p[i]);
            if (!rc && p[i].n_ctx + (bos ? 1 : 0) == 0)
                rc = qmc_fail(QMC_ERR_FORMAT, "context encodes to no tokens and there is no BOS");
            if (rc) qmc_error_prefix(rc, "%s:%lld: option %d", t->path, (long long)ex->line, i);
            too_long = too_long || p[i].n_cont > max_ctx;
        }
        /* a continuation longer than the window cannot be scored (lm-eval asserts
         * len(continuation) <= max_length): the example is skipped and counted */
        if (!rc && too_long) {
            r->skip[e] = 1;
            r->n_too_long++;
        }
        for (int i = 0; i < ex->n_options && !rc && !too_long; i++) {
            /* full = [BOS] + context + continuation; the input (all but the last token)
             * keeps BOS and the newest max_ctx - BOS tokens */
            int64_t n_body = p[i].n_ctx + p[i].n_cont, drop = 0;
            int64_t n_full = n_body + (bos ? 1 : 0);
            if (n_full - 1 > max_ctx) drop = n_full - 1 - max_ctx;
            qmc_zs_request *q = &r->req[ex->first_option + i];
            q->tok = r->n_tokens;
            q->n_cont = (int32_t)p[i].n_cont;
            q->n_full = (int32_t)(n_full - drop);
            q->truncated = drop > 0;
            /* n_cont <= max_ctx, so only context tokens are dropped */
            if (bos) rc = push_tokens(r, &cap, &bos_id, 1);
            if (!rc) rc = push_tokens(r, &cap, p[i].ctx + drop, p[i].n_ctx - drop);
            if (!rc) rc = push_tokens(r, &cap, p[i].cont, p[i].n_cont);
            r->n_truncated += q->truncated;
            r->n_split_fallback += p[i].fallback;
            r->longest = QMC_MAX(r->longest, q->n_full - 1);
            r->longest_cont = QMC_MAX(r->longest_cont, q->n_cont);
        }
        for (int i = 0; i < n_enc; i++) pair_free(&p[i]);
    }
    if (!rc && r->n_too_long == n_ex)
        rc = qmc_fail(QMC_ERR_RANGE, "%s: no example fits a context of %d tokens (continuations are longer)", t->path,
                      max_ctx);
    if (rc) {
        qmc_zs_requests_free(r);
        return rc;
    }
    *out = r;
    return QMC_OK;
}

/* ---- running ------------------------------------------------------------------ */

/* One thread's state: a session whose KV cache holds cached[0..n_cached). */
typedef struct {
    qmc_session *s;
    int32_t *cached;   /* [max_ctx] tokens at the cache positions */
    int n_cached;
    float *logits;     /* [longest_cont][vocab] logits of the scored positions */
    int64_t tokens_run;
} scorer;

static void scorer_free(scorer *sc) {
    qmc_session_free(sc->s);
    qmc_free(sc->cached);
    qmc_free(sc->logits);
}

static int scorer_init(scorer *sc, const qmc_model *m, const qmc_zs_requests *r, int batch) {
    memset(sc, 0, sizeof *sc);
    int rc = qmc_session_new_batch(m, r->longest, batch, &sc->s);
    if (rc) return rc;
    sc->cached = qmc_alloc((size_t)r->longest, sizeof(int32_t));
    sc->logits = qmc_alloc((size_t)r->longest_cont, (size_t)m->cfg.vocab_size * sizeof(float));
    return sc->cached && sc->logits ? QMC_OK : QMC_ERR_NOMEM;
}

/* Score one request, reusing the cached prefix.  Positions first..n_in-1 of
 * the input produce the logits that predict the n_cont continuation tokens. */
static int score_request(scorer *sc, const int32_t *full, int n_full, int n_cont, int V, qmc_zs_score *out) {
    const int n_in = n_full - 1, first = n_in - n_cont;
    int lcp = 0;
    while (lcp < sc->n_cached && lcp < n_in && sc->cached[lcp] == full[lcp]) lcp++;
    const int start = QMC_MIN(lcp, first);
    sc->n_cached = start; /* what stays valid whatever happens below */
    int rc;
    if (start < first && (rc = qmc_forward(sc->s, full + start, first - start, start, NULL, false))) return rc;
    if ((rc = qmc_forward(sc->s, full + first, n_cont, first, sc->logits, true))) return rc;
    memcpy(sc->cached + start, full + start, (size_t)(n_in - start) * sizeof(int32_t));
    sc->n_cached = n_in;
    sc->tokens_run += n_in - start;
    double ll = 0;
    bool greedy = true;
    for (int j = 0; j < n_cont; j++) {
        const float *lg = sc->logits + (int64_t)j * V;
        const int32_t target = full[first + 1 + j];
        ll += (double)lg[target] - qmc_log_softmax(lg, V, NULL);
        int am = 0; /* first maximum, as torch/numpy argmax */
        for (int k = 1; k < V; k++)
            if (lg[k] > lg[am]) am = k;
        greedy = greedy && am == target;
    }
    out->ll = ll;
    out->greedy = greedy;
    return QMC_OK;
}

int qmc_zs_run(const qmc_model *m, const qmc_zs_requests *r, const qmc_zs_opts *o, qmc_zs_score *scores,
               int64_t *tokens_run) {
    const qmc_task_set *t = r->task;
    const int V = m->cfg.vocab_size;
    for (int64_t i = 0; i < r->n_tokens; i++)
        if (r->tokens[i] < 0 || r->tokens[i] >= V)
            return qmc_fail(QMC_ERR_RANGE, "token id %d is outside the model's vocabulary (%d)", r->tokens[i], V);
    const int batch = o->batch > 0 ? o->batch : 64;
    int nt = (int)QMC_MIN((int64_t)qmc_threads(), r->n_examples);
    if (nt < 1) nt = 1;
    /* Examples are split into one contiguous block per thread; each thread
     * runs its own session, the matmuls inside run single-threaded (nested
     * parallel regions are inactive).  An example's requests always run the
     * same way, so scores do not depend on the split. */
    int rc = QMC_OK;
    int64_t failed_at = INT64_MAX, run_total = 0;
    char failed_msg[1024] = "";
    atomic_int stop = 0;
    atomic_llong done = 0;
#pragma omp parallel num_threads(nt) reduction(+ : run_total)
    {
        scorer sc;
        int trc = scorer_init(&sc, m, r, batch);
        if (trc) {
            atomic_store(&stop, 1);
#pragma omp critical(zs_fail)
            if (failed_at > -1) {
                failed_at = -1;
                snprintf(failed_msg, sizeof failed_msg, "%s", qmc_errmsg());
                rc = trc;
            }
        }
#pragma omp for schedule(static)
        for (int64_t e = 0; e < r->n_examples; e++) {
            if (trc || atomic_load(&stop)) continue;
            const qmc_task_example *ex = &t->examples[e];
            if (r->skip[e]) {
                for (int i = 0; i < ex->n_options; i++) scores[ex->first_option + i] = (qmc_zs_score){NAN, false};
                atomic_fetch_add(&done, 1);
                continue;
            }
            /* reuse stays within an example, so an example always runs the same way
             * (scores and tokens_run do not depend on where the thread blocks split,
             * even if the engine's last bits ever depended on batching) */
            sc.n_cached = 0;
            for (int i = 0; i < ex->n_options && !trc; i++) {
                const int64_t k = ex->first_option + i;
                const qmc_zs_request *q = &r->req[k];
                trc = score_request(&sc, r->tokens + q->tok, q->n_full, q->n_cont, V, &scores[k]);
            }
            if (trc) {
                qmc_error_prefix(trc, "%s:%lld", t->path, (long long)ex->line);
                atomic_store(&stop, 1);
#pragma omp critical(zs_fail)
                if (e < failed_at) {
                    failed_at = e;
                    snprintf(failed_msg, sizeof failed_msg, "%s", qmc_errmsg());
                    rc = trc;
                }
            }
            long long d = atomic_fetch_add(&done, 1) + 1;
            if (o->progress && omp_get_thread_num() == 0 && d < r->n_examples)
                qmc_progress_bar((void *)t->name, (double)d / (double)r->n_examples);
        }
        run_total += sc.tokens_run;
        scorer_free(&sc);
    }
    if (o->progress) qmc_progress_bar((void *)t->name, 1.0);
    if (rc) return qmc_fail(rc, "%s", failed_msg);
    if (tokens_run) *tokens_run = run_total;
    return QMC_OK;
}

/* ---- metrics ------------------------------------------------------------------ */

/* Index of the largest value (the first on ties; NaN never wins). */
static int argmax_scaled(const qmc_zs_score *s, const qmc_task_option *op, int n, int norm) {
    int best = 0;
    double bv = -INFINITY;
    for (int i = 0; i < n; i++) {
        double div = norm == 1 ? (double)op[i].norm_chars : norm == 2 ? (double)op[i].norm_bytes : 1.0;
        double v = s[i].ll / div;
        if (v > bv) bv = v, best = i;
    }
    return best;
}

void qmc_zs_aggregate(const qmc_task_set *t, int64_t n_ex, const qmc_zs_score *scores, const uint8_t *skip,
                      qmc_zs_result *res) {
    memset(res, 0, sizeof *res);
    snprintf(res->task, sizeof res->task, "%s", t->name);
    res->kind = t->kind;
    int64_t acc = 0, acc_norm = 0, acc_bytes = 0, n_scored = 0;
    double sum = 0, sq = 0;
    for (int64_t e = 0; e < n_ex; e++) {
        if (skip && skip[e]) continue;
        n_scored++;
        const qmc_task_example *ex = &t->examples[e];
        const qmc_zs_score *s = scores + ex->first_option;
        const qmc_task_option *op = qmc_task_opt(t, ex, 0);
        if (t->kind == QMC_TASK_TARGET) {
            acc += s[0].greedy;
            sum += s[0].ll;
            sq += s[0].ll * s[0].ll;
            continue;
        }
        acc += argmax_scaled(s, op, ex->n_options, 0) == ex->gold;
        acc_norm += argmax_scaled(s, op, ex->n_options, 1) == ex->gold;
        acc_bytes += argmax_scaled(s, op, ex->n_options, 2) == ex->gold;
    }
    res->n = n_ex = n_scored;
    const double n = (double)QMC_MAX(n_ex, 1);
    res->acc = (double)acc / n;
    res->acc_stderr = qmc_zs_binary_stderr(res->acc, n_ex);
    if (t->kind == QMC_TASK_TARGET) {
        /* lm-eval: perplexity aggregation = exp(-mean(loglikelihood)) over examples */
        res->has_ppl = true;
        res->mean_ll = sum / n;
        res->ppl = exp(-res->mean_ll);
        double var = n_ex > 1 ? (sq - sum * sum / n) / (n - 1) : NAN;
        res->ppl_stderr = n_ex > 1 ? res->ppl * sqrt(QMC_MAX(var, 0.0) / n) : NAN;
        return;
    }
    res->has_acc_norm = t->report_acc_norm;
    res->acc_norm = (double)acc_norm / n;
    res->acc_norm_stderr = qmc_zs_binary_stderr(res->acc_norm, n_ex);
    res->acc_bytes = (double)acc_bytes / n;
    res->acc_bytes_stderr = qmc_zs_binary_stderr(res->acc_bytes, n_ex);
}

/* Run prepared requests through m and fill every field of res but seconds. */
static int score_requests(const qmc_model *m, const qmc_zs_requests *r, const qmc_zs_opts *o, qmc_zs_result *res) {
    qmc_zs_score *scores = qmc_alloc((size_t)r->n_requests, sizeof *scores);
    int64_t run = 0;
    int rc = scores ? qmc_zs_run(m, r, o, scores, &run) : QMC_ERR_NOMEM;
    if (!rc) {
        qmc_zs_aggregate(r->task, r->n_examples, scores, r->skip, res);
        res->n_too_long = r->n_too_long;
        res->n_requests = r->n_requests;
        res->n_truncated = r->n_truncated;
        res->n_split_fallback = r->n_split_fallback;
        res->tokens_run = run;
        for (int64_t i = 0; i < r->n_requests; i++) res->tokens_requested += QMC_MAX(r->req[i].n_full - 1, 0);
    }
    qmc_free(scores);
    return rc;
}

int qmc_zeroshot_eval(const qmc_model *m, const qmc_task_set *t, const qmc_zs_opts *o, qmc_zs_result *res) {
    memset(res, 0, sizeof *res);
    double t0 = qmc_now();
    qmc_zs_requests *r = NULL;
    int rc = qmc_zs_prepare(m, t, o, &r);
    if (!rc) rc = score_requests(m, r, o, res);
    res->seconds = qmc_now() - t0;
    qmc_zs_requests_free(r);
    return rc;
}

/* ---- one Monte-Carlo trial ------------------------------------------------------ */

int qmc_zs_trial_eval(const qmc_model *m, void *user, double *value) {
    qmc_zs_trial *tr = user;
    double t0 = qmc_now();
    int rc = tr->req ? QMC_OK : qmc_zs_prepare(m, tr->task, &tr->opts, &tr->req);
    if (!rc && m->cfg.vocab_size != tr->vocab_size && tr->vocab_size)
        rc = qmc_fail(QMC_ERR_ARG, "%s: trial model has vocabulary %d, the requests were made for %d", m->path,
                      m->cfg.vocab_size, tr->vocab_size);
    tr->vocab_size = m->cfg.vocab_size;
    memset(&tr->last, 0, sizeof tr->last);
    if (!rc) rc = score_requests(m, tr->req, &tr->opts, &tr->last);
    tr->last.seconds = qmc_now() - t0;
    if (rc) return rc;
    switch (tr->metric) {
    case QMC_ZS_METRIC_ACC_NORM: *value = tr->last.has_acc_norm ? tr->last.acc_norm : tr->last.acc; break;
    case QMC_ZS_METRIC_PPL:
        if (!tr->last.has_ppl) return qmc_fail(QMC_ERR_ARG, "%s: perplexity is only defined for target tasks", tr->task->name);
        *value = tr->last.ppl;
        break;
    default: *value = tr->last.acc;
    }
    return QMC_OK;
}

void qmc_zs_trial_free(qmc_zs_trial *tr) {
    qmc_zs_requests_free(tr->req);
    tr->req = NULL;
}
