/* ppl.c — perplexity and KL divergence against saved base log-probabilities.
 *
 * KL base file (little-endian): "QMCKL002", u32 vocab, u32 n_ctx,
 * u32 protocol, u32 pad, u64 n_scored, u64 token hash, then n_scored rows of
 * vocab F32 log-probabilities of the base model.  F32 rather than a 16-bit
 * code (llama.cpp's choice): 16-bit rounding of log-probabilities alone
 * leaves a KL floor of ~1e-3 nats, as large as the effect being measured. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "eval/eval.h"

const char *qmc_ppl_protocol_name(qmc_ppl_protocol p) { return p == QMC_PPL_FULL ? "full" : "llamacpp"; }

double qmc_log_softmax(const float *logits, int n, float *out) {
    float mx = logits[0];
    for (int i = 1; i < n; i++) mx = logits[i] > mx ? logits[i] : mx;
    double sum = 0;
    for (int i = 0; i < n; i++) sum += exp((double)(logits[i] - mx));
    double lse = (double)mx + log(sum);
    if (out)
        for (int i = 0; i < n; i++) out[i] = (float)((double)logits[i] - lse);
    return lse;
}

typedef struct {
    char magic[8];
    uint32_t vocab, n_ctx, protocol, pad;
    uint64_t n_scored, token_hash;
} kl_header;

typedef struct {
    qmc_mapped_file base;    /* compare mode */
    const float *rows;
    qmc_out *out;            /* save mode */
    float *lp;
    int64_t next;            /* scored rows so far */
    double kl_sum, kl_sq;
    int64_t agree;
} kl_state;

static int kl_open(const qmc_ppl_opts *o, const qmc_model *m, int n_ctx, uint64_t hash, int64_t n_scored, kl_state *k) {
    int V = m->cfg.vocab_size;
    k->lp = qmc_alloc((size_t)V, sizeof(float));
    if (!k->lp) return QMC_ERR_NOMEM;
    kl_header h = {{'Q', 'M', 'C', 'K', 'L', '0', '0', '2'}, (uint32_t)V, (uint32_t)n_ctx, (uint32_t)o->protocol, 0,
                   (uint64_t)n_scored, hash};
    if (o->kl_save) {
        int rc = qmc_out_open(o->kl_base, &k->out);
        if (!rc) rc = qmc_out_write(k->out, &h, sizeof h);
        return rc;
    }
    int rc = qmc_map_file(o->kl_base, &k->base);
    if (rc) return rc;
    kl_header fh;
    if (k->base.size < sizeof fh) return qmc_fail(QMC_ERR_FORMAT, "%s: not a qmc KL base file (too short)", o->kl_base);
    memcpy(&fh, k->base.data, sizeof fh);
    if (memcmp(fh.magic, h.magic, 8) != 0) return qmc_fail(QMC_ERR_FORMAT, "%s: not a qmc KL base file (bad magic)", o->kl_base);
    if (fh.vocab != h.vocab || fh.n_ctx != h.n_ctx || fh.protocol != h.protocol || fh.n_scored != h.n_scored ||
        fh.token_hash != h.token_hash)
        return qmc_fail(QMC_ERR_ARG, "%s: saved for a different text, vocabulary, context or protocol (vocab %u, n_ctx %u, %llu tokens)",
                        o->kl_base, fh.vocab, fh.n_ctx, (unsigned long long)fh.n_scored);
    uint64_t need = sizeof fh + fh.n_scored * (uint64_t)fh.vocab * 4;
    if (k->base.size != need)
        return qmc_fail(QMC_ERR_FORMAT, "%s: %zu bytes, expected %llu (truncated?)", o->kl_base, k->base.size, (unsigned long long)need);
    k->rows = (const float *)(k->base.data + sizeof fh);
    return QMC_OK;
}

/* One scored position: log-probs lp of the model. */
static int kl_row(kl_state *k, const float *lp, int V) {
    if (k->out) {
        k->next++;
        return qmc_out_write(k->out, lp, (size_t)V * 4);
    }
    const float *b = k->rows + k->next * V;
    double kl = 0;
    int am = 0, bm = 0;
    float bmax = -INFINITY;
    for (int i = 0; i < V; i++) {
        float bl = b[i];
        if (bl > bmax) bmax = bl, bm = i;
        if (lp[i] > lp[am]) am = i;
        kl += exp((double)bl) * ((double)bl - (double)lp[i]);
    }
    k->kl_sum += kl;
    k->kl_sq += kl * kl;
    k->agree += am == bm;
    k->next++;
    return QMC_OK;
}

static int kl_close(kl_state *k, int rc) {
    if (k->out) {
        if (rc) qmc_out_abort(k->out);
        else rc = qmc_out_commit(k->out);
    }
    qmc_unmap_file(&k->base);
    qmc_free(k->lp);
    return rc;
}

int qmc_perplexity(const qmc_model *m, const int32_t *tokens, int64_t n_tokens, const qmc_ppl_opts *o,
                   qmc_ppl_result *res) {
    memset(res, 0, sizeof *res);
    const int V = m->cfg.vocab_size;
    int n_ctx = o->n_ctx > 0 ? o->n_ctx : QMC_MIN(m->cfg.seq_len, 2048);
    if (n_ctx < 2) return qmc_fail(QMC_ERR_ARG, "context must be at least 2 tokens");
    if (n_ctx > m->cfg.seq_len)
        fprintf(stderr, "warning: context %d is longer than the model's training context %d\n", n_ctx, m->cfg.seq_len);
    const int32_t bos = m->cfg.bos_id >= 0 ? m->cfg.bos_id : 1;
    if (bos >= V) return qmc_fail(QMC_ERR_STATE, "BOS id %d outside the vocabulary", bos);

    /* windows: [start, start+len) of the text tokens */
    int64_t step, n_chunks, first_scored;
    if (o->protocol == QMC_PPL_LLAMACPP) {
        /* the tokenized text is BOS + tokens; chunk j covers [j*n_ctx, (j+1)*n_ctx) of it */
        step = n_ctx;
        n_chunks = (n_tokens + 1) / n_ctx;
        first_scored = n_ctx / 2;
    } else {
        step = n_ctx - 1;
        n_chunks = (n_tokens + step - 1) / step;
        first_scored = 0;
    }
    if (o->max_chunks > 0 && n_chunks > o->max_chunks) n_chunks = o->max_chunks;
    if (n_chunks <= 0)
        return qmc_fail(QMC_ERR_ARG, "text has %lld tokens, too few for one chunk of %d (%s protocol)", (long long)n_tokens,
                        n_ctx, qmc_ppl_protocol_name(o->protocol));
    int64_t n_scored_total = 0;
    for (int64_t c = 0; c < n_chunks; c++) {
        if (o->protocol == QMC_PPL_LLAMACPP) n_scored_total += n_ctx - 1 - first_scored;
        else n_scored_total += QMC_MIN(step, n_tokens - c * step);
    }
    uint64_t hash = qmc_hash_bytes(tokens, (size_t)n_tokens * sizeof(int32_t));

    const int batch = o->batch > 0 ? o->batch : 64;
    qmc_session *s = NULL;
    int32_t *win = qmc_alloc((size_t)n_ctx, sizeof(int32_t));
    float *logits = qmc_alloc((size_t)batch, (size_t)V * sizeof(float));
    float *lp = qmc_alloc((size_t)V, sizeof(float));
    kl_state kl = {0};
    int rc = win && logits && lp ? QMC_OK : QMC_ERR_NOMEM;
    if (!rc) rc = qmc_session_new_batch(m, n_ctx, batch, &s);
    if (!rc && o->kl_base) rc = kl_open(o, m, n_ctx, hash, n_scored_total, &kl);
    double sum = 0, sq = 0;
    int64_t scored = 0, evaluated = 0;
    double t0 = qmc_now();
    for (int64_t c = 0; c < n_chunks && !rc; c++) {
        /* build the window: win[0] = BOS, then text */
        int len;
        if (o->protocol == QMC_PPL_LLAMACPP) {
            len = n_ctx;
            for (int i = 0; i < n_ctx; i++) {
                int64_t j = c * n_ctx + i - 1; /* index into the text (the tokenized text starts with BOS) */
                win[i] = j < 0 ? bos : tokens[j];
            }
            win[0] = bos;
        } else {
            int64_t start = c * step;
            len = (int)QMC_MIN((int64_t)n_ctx, n_tokens - start + 1);
            win[0] = bos;
            for (int i = 1; i < len; i++) win[i] = tokens[start + i - 1];
        }
        /* logits at position p predict win[p+1]; score p in [first_scored, len-2] */
        for (int p0 = 0; p0 < len && !rc; p0 += batch) {
            int k = QMC_MIN(batch, len - p0);
            if ((rc = qmc_forward(s, win + p0, k, p0, logits, true))) break;
            for (int i = 0; i < k && !rc; i++) {
                int p = p0 + i;
                if (p < first_scored || p >= len - 1) continue;
                const float *lg = logits + (int64_t)i * V;
                double lse = qmc_log_softmax(lg, V, o->kl_base ? lp : NULL);
                double nll = lse - (double)lg[win[p + 1]];
                sum += nll;
                sq += nll * nll;
                scored++;
                if (o->kl_base) rc = kl_row(&kl, lp, V);
            }
        }
        evaluated += len;
        if (o->progress && isatty(2))
            fprintf(stderr, "\rppl: chunk %lld/%lld  ppl %.4f", (long long)(c + 1), (long long)n_chunks, exp(sum / (double)QMC_MAX(scored, 1)));
    }
    if (o->progress && isatty(2)) fprintf(stderr, "\n");
    double secs = qmc_now() - t0;
    if (o->kl_base) rc = kl_close(&kl, rc);
    qmc_session_free(s);
    qmc_free(win);
    qmc_free(logits);
    qmc_free(lp);
    if (rc) return rc;
    res->n_scored = scored;
    res->n_evaluated = evaluated;
    res->n_chunks = n_chunks;
    res->n_ctx = n_ctx;
    res->nll_mean = sum / (double)scored;
    double var = sq / (double)scored - res->nll_mean * res->nll_mean;
    res->nll_stderr = scored > 1 && var > 0 ? sqrt(var / (double)(scored - 1)) : 0;
    res->ppl = exp(res->nll_mean);
    res->seconds = secs;
    res->tokens_per_s = secs > 0 ? (double)evaluated / secs : 0;
    if (o->kl_base && !o->kl_save) {
        res->has_kl = true;
        res->kl_mean = kl.kl_sum / (double)scored;
        double kv = kl.kl_sq / (double)scored - res->kl_mean * res->kl_mean;
        res->kl_stderr = scored > 1 && kv > 0 ? sqrt(kv / (double)(scored - 1)) : 0;
        res->top1_agree = (double)kl.agree / (double)scored;
    }
    return QMC_OK;
}
