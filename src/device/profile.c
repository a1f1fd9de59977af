/* profile.c — reading and validating device profiles (format: docs/device-noise.md). */
#include <cJSON.h>
#include <math.h>
#include <string.h>

#include "device/profile.h"
#include "util/util.h"

#define MAX_PROFILE_BYTES (1u << 20)

/* ---- small JSON helpers: every failure names the origin and the key ------- */

static int bad(const char *origin, const char *where, const char *fmt, const char *detail) {
    char msg[512];
    snprintf(msg, sizeof msg, fmt, detail ? detail : "");
    return qmc_fail(QMC_ERR_FORMAT, "%s: %s: %s", origin, where, msg);
}

static int get_number(const cJSON *obj, const char *key, const char *origin, const char *where, bool required,
                      double lo, double hi, double def, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char w[160];
    snprintf(w, sizeof w, "%s%s%s", where, where[0] ? "." : "", key);
    if (!v) {
        if (required) return bad(origin, w, "missing%s", NULL);
        *out = def;
        return QMC_OK;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return bad(origin, w, "not a number%s", NULL);
    if (v->valuedouble < lo || v->valuedouble > hi) {
        char range[96];
        snprintf(range, sizeof range, "%.9g is outside [%g, %g]", v->valuedouble, lo, hi);
        return bad(origin, w, "%s", range);
    }
    *out = v->valuedouble;
    return QMC_OK;
}

static int get_string(const cJSON *obj, const char *key, const char *origin, const char *where, bool required,
                      char *out, size_t cap) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char w[160];
    snprintf(w, sizeof w, "%s%s%s", where, where[0] ? "." : "", key);
    out[0] = 0;
    if (!v) return required ? bad(origin, w, "missing%s", NULL) : QMC_OK;
    if (!cJSON_IsString(v)) return bad(origin, w, "not a string%s", NULL);
    if (strlen(v->valuestring) >= cap) {
        char msg[64];
        snprintf(msg, sizeof msg, "longer than %zu characters", cap - 1);
        return bad(origin, w, "%s", msg);
    }
    snprintf(out, cap, "%s", v->valuestring);
    return QMC_OK;
}

static bool has_control(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return true;
    return false;
}

/* An array of exactly n finite numbers (n < 0: any length up to -n, count in *got). */
static int get_numbers(const cJSON *obj, const char *key, const char *origin, const char *where, int n, double *out,
                       int *got) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);
    char w[160];
    snprintf(w, sizeof w, "%s.%s", where, key);
    if (!a) return bad(origin, w, "missing%s", NULL);
    if (!cJSON_IsArray(a)) return bad(origin, w, "not an array%s", NULL);
    int size = cJSON_GetArraySize(a);
    char msg[96];
    if (n >= 0 && size != n) {
        snprintf(msg, sizeof msg, "has %d entries, expected %d", size, n);
        return bad(origin, w, "%s", msg);
    }
    if (n < 0 && (size < 1 || size > -n)) {
        snprintf(msg, sizeof msg, "has %d entries, expected 1 to %d", size, -n);
        return bad(origin, w, "%s", msg);
    }
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble)) {
            snprintf(msg, sizeof msg, "entry %d is not a finite number", i);
            return bad(origin, w, "%s", msg);
        }
        out[i++] = e->valuedouble;
    }
    if (got) *got = size;
    return QMC_OK;
}

/* Reject keys outside the allowed list (catches typos such as "sigma"). */
static int only_keys(const cJSON *obj, const char *const *allowed, const char *origin, const char *where) {
    const cJSON *e;
    cJSON_ArrayForEach(e, obj) {
        bool ok = false;
        for (int i = 0; allowed[i]; i++) ok = ok || strcmp(e->string, allowed[i]) == 0;
        if (!ok) {
            char w[200];
            snprintf(w, sizeof w, "%s%s%s", where, where[0] ? "." : "", e->string);
            return bad(origin, w, "unknown key%s", NULL);
        }
    }
    return QMC_OK;
}

static int check_increasing(const double *x, int n, const char *origin, const char *where, const char *what) {
    for (int i = 1; i < n; i++)
        if (!(x[i] > x[i - 1])) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s must increase strictly (entry %d is %.9g after %.9g)", what, i, x[i], x[i - 1]);
            return bad(origin, where, "%s", msg);
        }
    return QMC_OK;
}

/* ---- the reram section ---------------------------------------------------- */

static int parse_width(const cJSON *cell, const char *origin, const char *where, int *bits) {
    double b;
    int rc = get_number(cell, "bits", origin, where, true, 1, QMC_CELL_MAX_BITS, 0, &b);
    if (rc) return rc;
    if (b != floor(b)) return bad(origin, where, "bits must be an integer%s", NULL);
    *bits = (int)b;
    return QMC_OK;
}

static int parse_gaussian_cell(const cJSON *cell, const char *origin, const char *where, qmc_device_cells *c) {
    static const char *const keys[] = {"bits", "means", "sigmas", "thresholds", "notes", NULL};
    int rc = only_keys(cell, keys, origin, where);
    if (!rc) rc = parse_width(cell, origin, where, &c->bits);
    if (rc) return rc;
    int L = 1 << c->bits;
    if ((rc = get_numbers(cell, "means", origin, where, L, c->mean, NULL)) ||
        (rc = get_numbers(cell, "sigmas", origin, where, L, c->sigma, NULL)))
        return rc;
    char w[160];
    snprintf(w, sizeof w, "%s.means", where);
    if ((rc = check_increasing(c->mean, L, origin, w, "level means"))) return rc;
    for (int i = 0; i < L; i++)
        if (!(c->sigma[i] > 0)) {
            char msg[96];
            snprintf(msg, sizeof msg, "sigma of level %d is %.9g; sigmas must be > 0", i, c->sigma[i]);
            return bad(origin, where, "%s", msg);
        }
    if (cJSON_GetObjectItemCaseSensitive(cell, "thresholds")) {
        if ((rc = get_numbers(cell, "thresholds", origin, where, L - 1, c->threshold, NULL))) return rc;
        snprintf(w, sizeof w, "%s.thresholds", where);
        for (int i = 0; i < L - 1; i++)
            if (!(c->threshold[i] > c->mean[i] && c->threshold[i] < c->mean[i + 1])) {
                char msg[128];
                snprintf(msg, sizeof msg, "threshold %d (%.9g) is not between the means of levels %d and %d", i,
                         c->threshold[i], i, i + 1);
                return bad(origin, w, "%s", msg);
            }
        c->has_thresholds = true;
    }
    return QMC_OK;
}

static int parse_confusion_cell(const cJSON *cell, const char *origin, const char *where, qmc_device_cells *c) {
    static const char *const keys[] = {"bits", "matrix", "notes", NULL};
    int rc = only_keys(cell, keys, origin, where);
    if (!rc) rc = parse_width(cell, origin, where, &c->bits);
    if (rc) return rc;
    int L = 1 << c->bits;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(cell, "matrix");
    char w[160], msg[160];
    snprintf(w, sizeof w, "%s.matrix", where);
    if (!cJSON_IsArray(m)) return bad(origin, w, "missing or not an array of rows%s", NULL);
    if (cJSON_GetArraySize(m) != L) {
        snprintf(msg, sizeof msg, "has %d rows, expected %d (one per written level)", cJSON_GetArraySize(m), L);
        return bad(origin, w, "%s", msg);
    }
    int r = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, m) {
        char wr[200];
        snprintf(wr, sizeof wr, "%s.matrix[%d]", where, r);
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != L) {
            snprintf(msg, sizeof msg, "must be an array of %d probabilities (one per read level)", L);
            return bad(origin, wr, "%s", msg);
        }
        double sum = 0;
        int k = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, row) {
            if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0 && e->valuedouble <= 1)) {
                snprintf(msg, sizeof msg, "entry %d is not a probability in [0, 1]", k);
                return bad(origin, wr, "%s", msg);
            }
            c->matrix[r][k++] = e->valuedouble;
            sum += e->valuedouble;
        }
        if (fabs(sum - 1.0) > 1e-6) {
            snprintf(msg, sizeof msg, "probabilities sum to %.9g, not 1", sum);
            return bad(origin, wr, "%s", msg);
        }
        r++;
    }
    return QMC_OK;
}

static int parse_cells(const cJSON *reram, const char *origin, qmc_device_profile *p) {
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(reram, "cells");
    if (!cJSON_IsArray(cells) || cJSON_GetArraySize(cells) < 1)
        return bad(origin, "reram.cells", "missing or not a non-empty array%s", NULL);
    if (cJSON_GetArraySize(cells) > QMC_CELL_MAX_BITS)
        return bad(origin, "reram.cells", "more than 4 cell widths%s", NULL);
    int i = 0;
    const cJSON *cell;
    cJSON_ArrayForEach(cell, cells) {
        char where[64];
        snprintf(where, sizeof where, "reram.cells[%d]", i);
        if (!cJSON_IsObject(cell)) return bad(origin, where, "not an object%s", NULL);
        qmc_device_cells *c = &p->cells[i];
        int rc = p->kind == QMC_DEVICE_GAUSSIAN ? parse_gaussian_cell(cell, origin, where, c)
                                                : parse_confusion_cell(cell, origin, where, c);
        if (rc) return rc;
        if (p->width_mask & (1u << c->bits)) return bad(origin, where, "a second entry for the same cell width%s", NULL);
        p->width_mask |= 1u << c->bits;
        i++;
    }
    p->n_cells = i;
    return QMC_OK;
}

static int parse_sigma_poly(const cJSON *reram, const char *origin, qmc_device_profile *p) {
    int rc;
    if ((rc = get_number(reram, "g_min", origin, "reram", false, 0, 1e12, 0, &p->g_min)) ||
        (rc = get_number(reram, "g_max", origin, "reram", true, 1e-12, 1e12, 0, &p->g_max)))
        return rc;
    if (!(p->g_max > p->g_min)) return bad(origin, "reram.g_max", "must exceed g_min%s", NULL);
    if ((rc = get_number(reram, "coeff_g_ref", origin, "reram", false, 1e-12, 1e12, p->g_max, &p->g_ref))) return rc;
    double widths[QMC_CELL_MAX_BITS];
    int nw = 0;
    if ((rc = get_numbers(reram, "cell_bits", origin, "reram", -QMC_CELL_MAX_BITS, widths, &nw))) return rc;
    for (int i = 0; i < nw; i++) {
        if (widths[i] != floor(widths[i]) || widths[i] < 1 || widths[i] > QMC_CELL_MAX_BITS)
            return bad(origin, "reram.cell_bits", "entries must be integers 1..4%s", NULL);
        p->width_mask |= 1u << (int)widths[i];
    }
    const cJSON *ret = cJSON_GetObjectItemCaseSensitive(reram, "retention");
    if (!cJSON_IsArray(ret) || cJSON_GetArraySize(ret) < 1 || cJSON_GetArraySize(ret) > QMC_DEVICE_MAX_TIMES)
        return bad(origin, "reram.retention", "must be an array of 1 to 8 {time_s, coeffs} entries%s", NULL);
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, ret) {
        char where[64];
        snprintf(where, sizeof where, "reram.retention[%d]", i);
        static const char *const keys[] = {"time_s", "coeffs", "notes", NULL};
        if (!cJSON_IsObject(e)) return bad(origin, where, "not an object%s", NULL);
        if ((rc = only_keys(e, keys, origin, where)) ||
            (rc = get_number(e, "time_s", origin, where, true, 1e-9, 1e12, 0, &p->time_s[i])))
            return rc;
        int nc = 0;
        if ((rc = get_numbers(e, "coeffs", origin, where, -QMC_DEVICE_MAX_COEFFS, p->coeff[i], &nc))) return rc;
        if (i > 0 && nc != p->n_coeffs) return bad(origin, where, "coeffs differ in length from the first entry%s", NULL);
        p->n_coeffs = nc;
        i++;
    }
    p->n_times = i;
    return check_increasing(p->time_s, p->n_times, origin, "reram.retention", "time_s");
}

static int parse_reram(const cJSON *reram, const char *origin, qmc_device_profile *p) {
    if (!cJSON_IsObject(reram)) return bad(origin, "reram", "missing or not an object%s", NULL);
    char model[32], rule[32];
    int rc = get_string(reram, "model", origin, "reram", true, model, sizeof model);
    if (rc) return rc;
    static const char *const k_gauss[] = {"model", "thresholds", "unit", "cells", "notes", NULL};
    static const char *const k_poly[] = {"model", "thresholds", "unit", "g_min", "g_max", "coeff_g_ref",
                                         "cell_bits", "retention", "notes", NULL};
    static const char *const k_conf[] = {"model", "cells", "notes", NULL};
    static const char *const k_ideal[] = {"model", "notes", NULL};
    const char *const *keys;
    if (strcmp(model, "gaussian") == 0) p->kind = QMC_DEVICE_GAUSSIAN, keys = k_gauss;
    else if (strcmp(model, "sigma_poly") == 0) p->kind = QMC_DEVICE_SIGMA_POLY, keys = k_poly;
    else if (strcmp(model, "confusion") == 0) p->kind = QMC_DEVICE_CONFUSION, keys = k_conf;
    else if (strcmp(model, "ideal") == 0) p->kind = QMC_DEVICE_IDEAL, keys = k_ideal;
    else return bad(origin, "reram.model", "'%s' is not one of gaussian, sigma_poly, confusion, ideal", model);
    if ((rc = only_keys(reram, keys, origin, "reram"))) return rc;
    if ((rc = get_string(reram, "thresholds", origin, "reram", false, rule, sizeof rule))) return rc;
    if (!rule[0] || strcmp(rule, "intersection") == 0) p->rule = QMC_THRESHOLDS_INTERSECTION;
    else if (strcmp(rule, "midpoint") == 0) p->rule = QMC_THRESHOLDS_MIDPOINT;
    else return bad(origin, "reram.thresholds", "'%s' is not intersection or midpoint", rule);
    switch (p->kind) {
    case QMC_DEVICE_GAUSSIAN:
    case QMC_DEVICE_CONFUSION: return parse_cells(reram, origin, p);
    case QMC_DEVICE_SIGMA_POLY: return parse_sigma_poly(reram, origin, p);
    case QMC_DEVICE_IDEAL: p->width_mask = 0x1e; return QMC_OK;
    }
    return QMC_OK;
}

int qmc_device_parse(const char *json, size_t len, const char *origin, qmc_device_profile *p) {
    memset(p, 0, sizeof *p);
    snprintf(p->origin, sizeof p->origin, "%s", origin);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, false);
    if (!root) {
        size_t off = end && end >= json ? (size_t)(end - json) : 0;
        return qmc_fail(QMC_ERR_FORMAT, "%s: not valid JSON (error near byte %zu)", origin, off);
    }
    int rc = QMC_OK;
    static const char *const keys[] = {"qmc_device_profile", "name", "description", "sources", "notes", "reram",
                                       "stuck_at_0", "stuck_at_1", "mram_ber", NULL};
    double version;
    if (!cJSON_IsObject(root)) {
        rc = bad(origin, "top level", "must be a JSON object%s", NULL);
        goto done;
    }
    if ((rc = only_keys(root, keys, origin, "")) ||
        (rc = get_number(root, "qmc_device_profile", origin, "", true, 1, 1, 1, &version)) ||
        (rc = get_string(root, "name", origin, "", true, p->name, sizeof p->name)) ||
        (rc = get_string(root, "description", origin, "", false, p->description, sizeof p->description)))
        goto done;
    /* the name goes into one-line messages and listings */
    if (!p->name[0] || has_control(p->name)) {
        rc = bad(origin, "name", "must be non-empty text without control characters%s", NULL);
        goto done;
    }
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(root, "sources");
    if (!cJSON_IsArray(src) || cJSON_GetArraySize(src) < 1) {
        rc = bad(origin, "sources", "missing: every profile must cite where its numbers come from%s", NULL);
        goto done;
    }
    const cJSON *s;
    cJSON_ArrayForEach(s, src) {
        if (!cJSON_IsString(s) || !s->valuestring[0]) {
            rc = bad(origin, "sources", "entries must be non-empty strings%s", NULL);
            goto done;
        }
        size_t have = strlen(p->sources);
        if (have + strlen(s->valuestring) + 4 >= sizeof p->sources) {
            rc = bad(origin, "sources", "longer than 1023 characters in total%s", NULL);
            goto done;
        }
        snprintf(p->sources + have, sizeof p->sources - have, "%s%s", have ? " | " : "", s->valuestring);
    }
    if ((rc = parse_reram(cJSON_GetObjectItemCaseSensitive(root, "reram"), origin, p)) ||
        (rc = get_number(root, "stuck_at_0", origin, "", false, 0, 1, 0, &p->stuck_at_0)) ||
        (rc = get_number(root, "stuck_at_1", origin, "", false, 0, 1, 0, &p->stuck_at_1)) ||
        (rc = get_number(root, "mram_ber", origin, "", false, 0, 0.5, 0, &p->mram_ber)))
        goto done;
    if (p->stuck_at_0 + p->stuck_at_1 > 1) rc = bad(origin, "stuck_at_0 + stuck_at_1", "exceeds 1%s", NULL);
done:
    cJSON_Delete(root);
    return rc;
}

int qmc_device_read_file(const char *path, qmc_device_profile *p) {
    char *buf = NULL;
    size_t len = 0;
    int rc = qmc_read_file(path, MAX_PROFILE_BYTES, &buf, &len);
    if (rc) return rc;
    rc = qmc_device_parse(buf, len, path, p);
    qmc_free(buf);
    return rc;
}
