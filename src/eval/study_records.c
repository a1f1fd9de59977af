/* study_records.c — a study's rows as JSON (the per-cell record and
 * results.json) and CSV, and the final outputs written crash-safely. */
#include <cJSON.h>
#include <math.h>
#include <string.h>

#include "eval/study_internal.h"
#include "formats/jsonfile.h"
#include "util/util.h"

/* Numbers are written with 17 significant digits (cJSON's own printing
 * accepts an approximate round trip): a resumed study reads back exactly
 * the values it recorded. */
static void add_num(cJSON *o, const char *k, double v) {
    char buf[40];
    if (!isfinite(v)) {
        cJSON_AddNullToObject(o, k);
        return;
    }
    snprintf(buf, sizeof buf, "%.17g", v);
    cJSON_AddRawToObject(o, k, buf);
}

static double get_num(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static cJSON *row_json(const qmc_study_config *c, const qmc_study_row *r) {
    cJSON *o = cJSON_CreateObject();
    char hash[32];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)c->hash);
    cJSON_AddStringToObject(o, "config_hash", hash);
    const qmc_study_cell *x = &r->cell;
    cJSON_AddStringToObject(o, "key", x->key);
    cJSON_AddStringToObject(o, "method", x->method);
    cJSON_AddNumberToObject(o, "bits", x->bits);
    add_num(o, "rho", x->rho);
    cJSON_AddStringToObject(o, "device", x->device);
    cJSON_AddNumberToObject(o, "cell_bits", x->cell_bits);
    cJSON_AddNumberToObject(o, "trials", x->trials);
    cJSON *p = cJSON_AddObjectToObject(o, "ppl");
    cJSON_AddNumberToObject(p, "n", r->ppl.n);
    add_num(p, "mean", r->ppl.mean);
    add_num(p, "sd", r->ppl.sd);
    add_num(p, "sem", r->ppl.sem);
    add_num(p, "t", r->ppl.t);
    add_num(p, "ci95_lo", r->ppl.ci_lo);
    add_num(p, "ci95_hi", r->ppl.ci_hi);
    add_num(p, "min", r->ppl.min);
    add_num(p, "max", r->ppl.max);
    add_num(o, "ppl_clean", r->ppl_clean);
    cJSON_AddNumberToObject(o, "ppl_tokens", (double)r->ppl_tokens);
    add_num(o, "bpw_nominal", r->bpw_nominal);
    add_num(o, "bpw_honest", r->bpw_honest);
    add_num(o, "bpw_honest_all", r->bpw_honest_all);
    add_num(o, "seconds", r->seconds);
    cJSON *ts = cJSON_AddArrayToObject(o, "tasks");
    for (int t = 0; t < r->n_tasks; t++) {
        const qmc_study_task_score *s = &r->task[t];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "task", c->tasks[t]);
        cJSON_AddNumberToObject(j, "n", (double)s->n);
        add_num(j, "acc", s->acc);
        add_num(j, "acc_stderr", s->acc_stderr);
        if (s->has_acc_norm) {
            add_num(j, "acc_norm", s->acc_norm);
            add_num(j, "acc_norm_stderr", s->acc_norm_stderr);
        }
        cJSON_AddItemToArray(ts, j);
    }
    return o;
}

int qmc_study_row_to_json(const qmc_study_config *c, const qmc_study_row *r, char **line) {
    cJSON *o = row_json(c, r);
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!s) return qmc_fail(QMC_ERR_NOMEM, "out of memory");
    size_t n = strlen(s);
    *line = qmc_alloc(n + 2, 1);
    if (*line) {
        memcpy(*line, s, n);
        (*line)[n] = '\n';
    }
    cJSON_free(s);
    return *line ? 0 : QMC_ERR_NOMEM;
}

/* 0: parsed; 1: a record of another config; QMC_ERR_FORMAT: damaged. */
int qmc_study_row_from_json(const qmc_study_config *c, const char *line, qmc_study_row *r) {
    memset(r, 0, sizeof *r);
    cJSON *o = cJSON_Parse(line);
    if (!o) return QMC_ERR_FORMAT;
    int rc = QMC_ERR_FORMAT;
    const char *hash = qmc_json_get_str(o, "config_hash"), *key = qmc_json_get_str(o, "key");
    const char *method = qmc_json_get_str(o, "method"), *device = qmc_json_get_str(o, "device");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "ppl"), *ts = cJSON_GetObjectItemCaseSensitive(o, "tasks");
    char want[32];
    snprintf(want, sizeof want, "%016llx", (unsigned long long)c->hash);
    if (hash && strcmp(hash, want) != 0) rc = 1;
    else if (hash && key && method && device && cJSON_IsObject(p) && cJSON_IsArray(ts) &&
             cJSON_GetArraySize(ts) == c->n_tasks && strlen(key) < sizeof r->cell.key &&
             strlen(method) < sizeof r->cell.method && strlen(device) < sizeof r->cell.device) {
        qmc_study_cell *x = &r->cell;
        snprintf(x->key, sizeof x->key, "%s", key);
        snprintf(x->method, sizeof x->method, "%s", method);
        snprintf(x->device, sizeof x->device, "%s", device);
        x->bits = (int)get_num(o, "bits");
        x->rho = get_num(o, "rho");
        x->cell_bits = (int)get_num(o, "cell_bits");
        x->trials = (int)get_num(o, "trials");
        r->ppl.n = (int)get_num(p, "n");
        r->ppl.mean = get_num(p, "mean");
        r->ppl.sd = get_num(p, "sd");
        r->ppl.sem = get_num(p, "sem");
        r->ppl.t = get_num(p, "t");
        r->ppl.ci_lo = get_num(p, "ci95_lo");
        r->ppl.ci_hi = get_num(p, "ci95_hi");
        r->ppl.min = get_num(p, "min");
        r->ppl.max = get_num(p, "max");
        r->ppl_clean = get_num(o, "ppl_clean");
        r->ppl_tokens = (int64_t)get_num(o, "ppl_tokens");
        r->bpw_nominal = get_num(o, "bpw_nominal");
        r->bpw_honest = get_num(o, "bpw_honest");
        r->bpw_honest_all = get_num(o, "bpw_honest_all");
        r->seconds = get_num(o, "seconds");
        r->n_tasks = c->n_tasks;
        int t = 0;
        for (const cJSON *j = ts->child; j; j = j->next, t++) {
            qmc_study_task_score *s = &r->task[t];
            s->n = (int64_t)get_num(j, "n");
            s->acc = get_num(j, "acc");
            s->acc_stderr = get_num(j, "acc_stderr");
            s->has_acc_norm = cJSON_GetObjectItemCaseSensitive(j, "acc_norm") != NULL;
            s->acc_norm = get_num(j, "acc_norm");
            s->acc_norm_stderr = get_num(j, "acc_norm_stderr");
        }
        rc = isfinite(r->ppl.mean) && x->trials > 0 ? 0 : QMC_ERR_FORMAT;
    }
    cJSON_Delete(o);
    return rc;
}

/* ---- results.csv / results.json ----------------------------------------------------- */

static void csv_num(qmc_str *s, double v) {
    if (isfinite(v)) qmc_str_printf(s, ",%.17g", v);
    else qmc_str_printf(s, ",");
}

static int write_csv(const qmc_study_config *c, const qmc_study_results *res, const char *path) {
    qmc_str s = {0};
    qmc_str_printf(&s, "method,bits,rho,device,cell_bits,trials,ppl_mean,ppl_sd,ppl_ci95_lo,ppl_ci95_hi,ppl_clean,ppl_tokens,"
                       "bpw_nominal,bpw_honest,bpw_honest_all,seconds");
    for (int t = 0; t < c->n_tasks; t++)
        qmc_str_printf(&s, ",%s_n,%s_acc,%s_acc_stderr,%s_acc_norm,%s_acc_norm_stderr", c->tasks[t], c->tasks[t], c->tasks[t],
                       c->tasks[t], c->tasks[t]);
    qmc_str_printf(&s, "\n");
    for (int i = 0; i < res->n_rows; i++) {
        const qmc_study_row *r = &res->rows[i];
        const qmc_study_cell *x = &r->cell;
        qmc_str_printf(&s, "%s,%d,%.17g,%s,%d,%d", x->method, x->bits, x->rho, x->device, x->cell_bits, x->trials);
        csv_num(&s, r->ppl.mean);
        csv_num(&s, r->ppl.sd);
        csv_num(&s, r->ppl.ci_lo);
        csv_num(&s, r->ppl.ci_hi);
        csv_num(&s, r->ppl_clean);
        qmc_str_printf(&s, ",%lld", (long long)r->ppl_tokens);
        csv_num(&s, r->bpw_nominal);
        csv_num(&s, r->bpw_honest);
        csv_num(&s, r->bpw_honest_all);
        csv_num(&s, r->seconds);
        for (int t = 0; t < r->n_tasks; t++) {
            const qmc_study_task_score *ts = &r->task[t];
            qmc_str_printf(&s, ",%lld", (long long)ts->n);
            csv_num(&s, ts->acc);
            csv_num(&s, ts->acc_stderr);
            csv_num(&s, ts->has_acc_norm ? ts->acc_norm : NAN);
            csv_num(&s, ts->has_acc_norm ? ts->acc_norm_stderr : NAN);
        }
        qmc_str_printf(&s, "\n");
    }
    int rc = s.failed ? QMC_ERR_NOMEM : qmc_write_file_atomic(path, s.s, s.len);
    qmc_str_free(&s);
    return rc;
}

static cJSON *sys_json(const qmc_study_results *res, const qmc_study_sys *sy) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "workload", sy->name);
    cJSON *a = cJSON_AddArrayToObject(o, "architectures");
    for (int k = 0; k < sy->n_arch; k++) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "arch", sy->arch[k]);
        add_num(j, "energy_j_per_token", sy->energy_j[k]);
        add_num(j, "latency_s_per_token", sy->latency_s[k]);
        add_num(j, "weight_bytes", sy->weight_bytes[k]);
        add_num(j, "energy_vs_fp16", sy->energy_j[0] / sy->energy_j[k]);
        add_num(j, "latency_vs_fp16", sy->latency_s[0] / sy->latency_s[k]);
        add_num(j, "memory_vs_fp16", sy->weight_bytes[0] / sy->weight_bytes[k]);
        cJSON_AddItemToArray(a, j);
    }
    cJSON *sw = cJSON_AddArrayToObject(o, "rho_sweep");
    for (int k = 0; k < res->n_sweep; k++) {
        cJSON *j = cJSON_CreateObject();
        add_num(j, "rho", res->sweep_rho[k]);
        add_num(j, "energy_j_per_token", sy->sweep_energy_j[k]);
        add_num(j, "latency_s_per_token", sy->sweep_latency_s[k]);
        cJSON_AddItemToArray(sw, j);
    }
    return o;
}

static int write_json(const qmc_study_config *c, const qmc_study_results *res, const char *path) {
    cJSON *o = cJSON_CreateObject();
    char hash[32];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)c->hash);
    cJSON_AddStringToObject(o, "config", c->path);
    cJSON_AddStringToObject(o, "config_hash", hash);
    cJSON_AddStringToObject(o, "model", c->model);
    cJSON_AddStringToObject(o, "text", c->text);
    cJSON_AddNumberToObject(o, "cells_seconds", res->seconds_cells);
    cJSON *rows = cJSON_AddArrayToObject(o, "cells");
    for (int i = 0; i < res->n_rows; i++) cJSON_AddItemToArray(rows, row_json(c, &res->rows[i]));
    cJSON *sys = cJSON_AddArrayToObject(o, "system");
    for (int i = 0; i < res->n_sys; i++) cJSON_AddItemToArray(sys, sys_json(res, &res->sys[i]));
    int rc = qmc_json_write(path, o);
    cJSON_Delete(o);
    return rc;
}

int qmc_study_write_outputs(const qmc_study_config *c, const qmc_study_results *res) {
    char path[4200];
    qmc_path_join(path, sizeof path, c->out, "results.csv");
    int rc = write_csv(c, res, path);
    if (!rc) {
        qmc_path_join(path, sizeof path, c->out, "results.json");
        rc = write_json(c, res, path);
    }
    qmc_study_report rep;
    if (!rc && !(rc = qmc_study_report_make(c, res, &rep))) {
        qmc_path_join(path, sizeof path, c->out, "report.md");
        rc = qmc_write_file_atomic(path, rep.markdown, strlen(rep.markdown));
        qmc_study_report_free(&rep);
    }
    return rc;
}
