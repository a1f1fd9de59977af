/* study_run.c — running the cells of a study: quantize once per (method,
 * bits, rho), evaluate perplexity and zero-shot tasks noise-free or over
 * Monte-Carlo device-noise trials, record each finished cell (fsync'd) so
 * an interrupted study resumes, and write the final outputs. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device/montecarlo.h"
#include "device/profile.h"
#include "eval/study.h"
#include "quant/calib.h"
#include "eval/study_internal.h"
#include "eval/zeroshot.h"
#include "quant/quantize.h"
#include "util/util.h"

/* What every cell evaluates: the text's tokens and the tasks' requests. */
typedef struct {
    const qmc_study_config *c;
    const int32_t *tokens;
    int64_t n_tokens;
    qmc_ppl_opts ppl;
    qmc_task_set *sets[QMC_STUDY_MAX_TASKS];
    qmc_zs_trial zs[QMC_STUDY_MAX_TASKS];
    /* accumulated over the trials of the cell in progress */
    double *ppl_vals;        /* [trials] */
    int n_vals;
    int64_t ppl_tokens;
    qmc_study_task_score sum[QMC_STUDY_MAX_TASKS];
} eval_ctx;

/* One evaluation of m: perplexity (the value) and every task (accumulated). */
static int eval_model(const qmc_model *m, void *user, double *value) {
    eval_ctx *e = user;
    qmc_ppl_result r;
    int rc = qmc_perplexity(m, e->tokens, e->n_tokens, &e->ppl, &r);
    if (rc) return rc;
    *value = r.ppl;
    e->ppl_vals[e->n_vals++] = r.ppl;
    e->ppl_tokens = r.n_scored;
    for (int t = 0; t < e->c->n_tasks; t++) {
        double v;
        if ((rc = qmc_zs_trial_eval(m, &e->zs[t], &v))) return qmc_error_prefix(rc, "task %s", e->c->tasks[t]);
        const qmc_zs_result *z = &e->zs[t].last;
        qmc_study_task_score *s = &e->sum[t];
        s->n = z->n;
        s->acc += z->acc;
        s->acc_stderr += z->acc_stderr;
        s->has_acc_norm = z->has_acc_norm;
        if (z->has_acc_norm) {
            s->acc_norm += z->acc_norm;
            s->acc_norm_stderr += z->acc_norm_stderr;
        }
    }
    return 0;
}

static void begin_cell(eval_ctx *e) {
    e->n_vals = 0;
    memset(e->sum, 0, sizeof e->sum);
}

static void end_cell(eval_ctx *e, qmc_study_row *row) {
    qmc_sample_stats_compute(e->ppl_vals, e->n_vals, 0.95, &row->ppl);
    row->ppl_tokens = e->ppl_tokens;
    row->n_tasks = e->c->n_tasks;
    for (int t = 0; t < e->c->n_tasks; t++) {
        qmc_study_task_score s = e->sum[t];
        const double k = e->n_vals ? (double)e->n_vals : 1;
        s.acc /= k;
        s.acc_stderr /= k;
        s.acc_norm = s.has_acc_norm ? s.acc_norm / k : NAN;
        s.acc_norm_stderr = s.has_acc_norm ? s.acc_norm_stderr / k : NAN;
        row->task[t] = s;
    }
}

/* ---- the quantized model of a group of cells ---------------------------------- */

static int load_model(const qmc_study_config *c, qmc_model **m) {
    qmc_load_opts lo = {0};
    lo.tokenizer_path = c->tokenizer[0] ? c->tokenizer : NULL;
    int rc = qmc_model_load(c->model, &lo, m);
    if (rc) return rc;
    if (!(*m)->tok) {
        qmc_model_free(*m);
        *m = NULL;
        return qmc_fail(QMC_ERR_FORMAT, "%s: the model has no tokenizer (give \"tokenizer\" in the config)", c->model);
    }
    return 0;
}

/* A fresh copy of the model quantized as cell x says (fp32: as loaded). */
static int quantized_model(const qmc_study_config *c, const qmc_study_cell *x, qmc_model **out) {
    qmc_model *m = NULL;
    int rc = load_model(c, &m);
    if (rc) return rc;
    if (strcmp(x->method, "fp32") != 0) {
        qmc_model_quant_opts o;
        qmc_model_quant_opts_default(&o);
        qmc_calib_opts co;
        qmc_calib_opts_default(&co);
        if (!(rc = qmc_quant_params_for_method(x->method, &o.blocks, NULL, NULL))) {
            o.blocks.bits_in = x->bits;
            o.blocks.rho = (float)x->rho;
            if (qmc_method_is_calibrated(o.blocks.method)) { /* statistics of the unquantized model */
                char text[4096];
                int64_t n = c->calib_tokens;
                int ctx = 0;
                snprintf(text, sizeof text, "%s", c->calib);
                if (!(rc = text[0] ? QMC_OK : qmc_calib_default_text(text, sizeof text)))
                    rc = qmc_calib_collect_text(m, text, &n, &ctx, NULL, NULL, &o.calib);
                o.calib_opts = &co;
            }
            if (!rc) rc = qmc_quantize_model(m, &o, NULL);
            qmc_calib_stats_free(o.calib);
        }
        if (rc) {
            qmc_model_free(m);
            return qmc_error_prefix(rc, "%s: cell %s", c->path, x->key);
        }
    }
    *out = m;
    return 0;
}

static bool same_quant(const qmc_study_cell *a, const qmc_study_cell *b) {
    return strcmp(a->method, b->method) == 0 && a->bits == b->bits && a->rho == b->rho;
}

/* Evaluate cell x on model m (the quantized model of its group). */
static int run_cell(eval_ctx *e, const qmc_model *m, const qmc_study_cell *x, double *clean_ppl, qmc_study_row *row) {
    const qmc_study_config *c = e->c;
    memset(row, 0, sizeof *row);
    row->cell = *x;
    qmc_model_bpw bpw;
    qmc_model_bpw_compute(m, &bpw);
    row->bpw_nominal = qmc_bpw_nominal(&bpw.blocks);
    row->bpw_honest = qmc_bpw_honest(&bpw.blocks);
    row->bpw_honest_all = qmc_bpw_honest(&bpw.all);
    double t0 = qmc_now(), v;
    int rc = 0;
    if (strcmp(x->device, "none") == 0) {
        begin_cell(e);
        if ((rc = eval_model(m, e, &v))) return rc;
        end_cell(e, row);
        *clean_ppl = v;
        row->ppl_clean = v;
        row->seconds = qmc_now() - t0;
        return 0;
    }
    if (isnan(*clean_ppl)) {
        qmc_ppl_result r;
        if ((rc = qmc_perplexity(m, e->tokens, e->n_tokens, &e->ppl, &r))) return rc;
        *clean_ppl = r.ppl;
    }
    row->ppl_clean = *clean_ppl;
    qmc_device_profile prof;
    qmc_device_name_sel sel;
    qmc_noise_model nm;
    if ((rc = qmc_device_load(x->device, c->device_dir[0] ? c->device_dir : NULL, &prof, &sel)) ||
        (rc = qmc_noise_model_init(&nm, &prof, x->cell_bits, sel.retention_s, QMC_ENC_BINARY)))
        return qmc_error_prefix(rc, "%s", c->path);
    qmc_noisy_model *noisy = NULL;
    qmc_trial_result *tr = qmc_alloc((size_t)x->trials, sizeof *tr);
    double *vals = qmc_alloc((size_t)x->trials, sizeof *vals);
    if (!tr || !vals) rc = QMC_ERR_NOMEM;
    if (!rc) rc = qmc_noisy_model_new(m, &nm, QMC_NOISE_SCOPE_BLOCKS, &noisy);
    if (!rc) {
        double *saved = e->ppl_vals;
        e->ppl_vals = vals;
        begin_cell(e);
        rc = qmc_noise_trials(noisy, x->trials, c->seed, eval_model, e, tr, NULL);
        if (!rc) end_cell(e, row);
        e->ppl_vals = saved;
    }
    qmc_noisy_model_free(noisy);
    qmc_free(tr);
    qmc_free(vals);
    row->seconds = qmc_now() - t0;
    return rc ? qmc_error_prefix(rc, "cell %s", x->key) : 0;
}

/* ---- the record of finished cells ------------------------------------------------ */

static int ensure_dir(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || !*p) {
            char save = *p;
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return qmc_fail(QMC_ERR_IO, "%s: cannot create directory: %s", buf, strerror(errno));
            *p = save;
            if (!save) break;
        }
    }
    if (!qmc_is_dir(path)) return qmc_fail(QMC_ERR_IO, "%s: is not a directory", path);
    return 0;
}

/* Read the finished cells of c from the record (rows[i] for cell i, have[i]
 * set).  A torn last line (interruption mid-write) is dropped and the record
 * rewritten without it; records of another config are an error. */
static int read_record(const qmc_study_config *c, const char *path, qmc_study_row *rows, uint8_t *have, int *n_have) {
    *n_have = 0;
    if (!qmc_file_exists(path)) return 0;
    char *text = NULL;
    size_t len = 0;
    int rc = qmc_read_file(path, (size_t)1 << 30, &text, &len);
    if (rc) return rc;
    size_t good = 0;   /* bytes of whole, valid lines */
    int lineno = 0;
    for (size_t pos = 0; pos < len && !rc;) {
        char *nl = memchr(text + pos, '\n', len - pos);
        if (!nl) break; /* torn last line */
        *nl = 0;
        lineno++;
        qmc_study_row r;
        int prc = qmc_study_row_from_json(c, text + pos, &r);
        if (prc == 1) {
            rc = qmc_fail(QMC_ERR_STATE,
                          "%s: holds results of a different config (line %d); remove it or set another \"out\" in %s", path,
                          lineno, c->path);
            break;
        }
        if (prc) break; /* damaged line: keep what precedes it */
        for (int i = 0; i < c->n_cells; i++)
            if (!have[i] && strcmp(c->cells[i].key, r.cell.key) == 0) {
                rows[i] = r;
                have[i] = 1;
                (*n_have)++;
            }
        pos = (size_t)(nl - text) + 1;
        good = pos;
    }
    if (!rc && good < len) rc = qmc_write_file_atomic(path, text, good);
    qmc_free(text);
    return rc;
}

static int append_record(const char *path, const char *line) {
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return qmc_fail(QMC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t n = strlen(line), off = 0;
    int rc = 0;
    while (off < n && !rc) {
        ssize_t w = write(fd, line + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) rc = qmc_fail(QMC_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        else off += (size_t)w;
    }
    if (!rc && fsync(fd) != 0) rc = qmc_fail(QMC_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
    if (close(fd) != 0 && !rc) rc = qmc_fail(QMC_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    return rc;
}

/* ---- the run ------------------------------------------------------------------------ */

static int prepare_eval(const qmc_study_config *c, const qmc_model *m, eval_ctx *e, int32_t **toks) {
    memset(e, 0, sizeof *e);
    e->c = c;
    char *text = NULL;
    size_t len = 0;
    int rc = qmc_read_file(c->text, (size_t)1 << 31, &text, &len);
    if (rc) return rc;
    if (c->strip_cr) len = qmc_strip_cr(text, len);
    int64_t n = 0;
    rc = qmc_tok_encode(m->tok, text, len, false, toks, &n);
    qmc_free(text);
    if (rc) return qmc_error_prefix(rc, "%s", c->text);
    if (c->max_tokens > 0 && n > c->max_tokens) n = c->max_tokens;
    e->tokens = *toks;
    e->n_tokens = n;
    e->ppl.protocol = c->protocol;
    e->ppl.n_ctx = c->ctx;
    qmc_task_load_opts lo = {0};
    lo.data_dir = c->task_dir[0] ? c->task_dir : NULL;
    for (int t = 0; t < c->n_tasks; t++) {
        if ((rc = qmc_task_load(c->tasks[t], &lo, &e->sets[t]))) return qmc_error_prefix(rc, "%s", c->path);
        e->zs[t].task = e->sets[t];
        e->zs[t].opts.limit = c->task_limit;
        e->zs[t].opts.max_ctx = c->ctx;
        e->zs[t].metric = QMC_ZS_METRIC_ACC;
    }
    return 0;
}

static void free_eval(eval_ctx *e) {
    for (int t = 0; t < QMC_STUDY_MAX_TASKS; t++) {
        qmc_zs_trial_free(&e->zs[t]);
        qmc_task_free(e->sets[t]);
    }
}

int qmc_study_run(const qmc_study_config *c, const qmc_study_run_opts *o, qmc_study_results *res) {
    memset(res, 0, sizeof *res);
    const double t0 = qmc_now();
    char record[4200];
    qmc_path_join(record, sizeof record, c->out, "cells.jsonl");
    int rc = ensure_dir(c->out);
    if (rc) return rc;
    res->rows = qmc_alloc((size_t)c->n_cells + 1, sizeof *res->rows);
    uint8_t *have = qmc_alloc((size_t)c->n_cells + 1, 1);
    if (!res->rows || !have) {
        qmc_free(have);
        return QMC_ERR_NOMEM;
    }
    res->n_rows = c->n_cells;
    if ((rc = read_record(c, record, res->rows, have, &res->n_resumed))) {
        qmc_free(have);
        return rc;
    }
    if (o->progress && res->n_resumed)
        fprintf(stderr, "study: %d of %d cells already done (%s)\n", res->n_resumed, c->n_cells, record);
    qmc_model *clean = NULL, *m = NULL;
    int32_t *toks = NULL;
    eval_ctx e;
    memset(&e, 0, sizeof e);
    double *vals = NULL;
    if ((rc = load_model(c, &clean)) || (rc = prepare_eval(c, clean, &e, &toks))) goto done;
    if (!(vals = qmc_alloc(1, sizeof *vals))) {
        rc = QMC_ERR_NOMEM;
        goto done;
    }
    e.ppl_vals = vals;
    const qmc_study_cell *group = NULL;   /* the cell m was quantized for */
    double clean_ppl = NAN;
    int done_now = 0;
    for (int i = 0; i < c->n_cells && !rc; i++) {
        if (have[i]) continue;
        if (o->stop_after > 0 && done_now >= o->stop_after) break;
        const qmc_study_cell *x = &c->cells[i];
        if (!group || !same_quant(group, x)) {
            qmc_model_free(m);
            m = NULL;
            clean_ppl = NAN;
            if (o->progress) fprintf(stderr, "study: quantizing: %s bits=%d rho=%g\n", x->method, x->bits, x->rho);
            if ((rc = quantized_model(c, x, &m))) break;
            group = x;
        }
        if (o->progress) fprintf(stderr, "study: cell %d/%d: %s ...\n", i + 1, c->n_cells, x->key);
        qmc_study_row *row = &res->rows[i];
        if ((rc = run_cell(&e, m, x, &clean_ppl, row))) break;
        char *line = NULL;
        if ((rc = qmc_study_row_to_json(c, row, &line))) break;
        rc = append_record(record, line);
        qmc_free(line);
        if (rc) break;
        have[i] = 1;
        res->n_run++;
        done_now++;
        if (o->progress)
            fprintf(stderr, "study: cell %d/%d: ppl %.4f (sd %.4f, %d trial%s), %.1f s\n", i + 1, c->n_cells, row->ppl.mean,
                    row->ppl.sd, row->ppl.n, row->ppl.n == 1 ? "" : "s", row->seconds);
    }
    if (rc) goto done;
    res->complete = true;
    for (int i = 0; i < c->n_cells; i++) {
        res->complete = res->complete && have[i];
        if (have[i]) res->seconds_cells += res->rows[i].seconds;
    }
    if (res->complete) {
        if ((rc = qmc_study_simulate(c, clean, res))) goto done;
        res->seconds = qmc_now() - t0;
        rc = qmc_study_write_outputs(c, res);
    }
done:
    res->seconds = qmc_now() - t0;
    free_eval(&e);
    qmc_free(toks);
    qmc_free(vals);
    qmc_free(have);
    qmc_model_free(m);
    qmc_model_free(clean);
    return rc;
}

void qmc_study_results_free(qmc_study_results *r) {
    if (!r) return;
    qmc_free(r->rows);
    memset(r, 0, sizeof *r);
}
