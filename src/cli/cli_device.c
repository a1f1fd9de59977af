/* cli_device.c — see cli_device.h. */
#include <string.h>

#include "cli/cli_device.h"

/* Options that mean nothing without --device ("mlc" first: qmc quantize records it alone). */
static const char *const k_needs_device[] = {"mlc", "encoding", "retention", "device-dir", "stuck-at-0", "stuck-at-1",
                                             "mram-ber"};

static int orphan_option(const char *cmd, const cli_args *a, size_t first) {
    for (size_t i = first; i < QMC_ARRAY_LEN(k_needs_device); i++)
        if (cli_get(a, k_needs_device[i])) {
            cli_error(cmd, "--%s needs --device PROFILE", k_needs_device[i]);
            return 2;
        }
    return 0;
}

static bool knob(const cli_args *a, const char *name, double hi, double *v) {
    return cli_double(a, name, 0, hi, *v, v);
}

int cli_device_load(const char *cmd, const cli_args *a, const char *spec, cli_device *d, bool *present) {
    memset(d, 0, sizeof *d);
    if (!spec) spec = cli_get(a, "device");
    *present = spec != NULL;
    if (!spec) return orphan_option(cmd, a, 0);
    int64_t mlc;
    if (!cli_int(a, "mlc", 1, QMC_CELL_MAX_BITS, 0, &mlc)) return 2;
    const char *enc = cli_get(a, "encoding");
    if (enc && qmc_encoding_from_name(enc) < 0) {
        cli_error(cmd, "--encoding must be binary or gray, not '%s'", enc);
        return 2;
    }
    d->encoding = enc ? (qmc_level_encoding)qmc_encoding_from_name(enc) : QMC_ENC_BINARY;
    const char *ret = cli_get(a, "retention");
    double t = 0;
    if (ret && !qmc_device_parse_time(ret, false, &t)) {
        cli_error(cmd, "--retention: '%s' is not a time (e.g. 1s, 1d, 3600)", ret);
        return 2;
    }
    if (qmc_device_load(spec, cli_get(a, "device-dir"), &d->profile, &d->from_name)) return cli_fail(cmd);
    if (mlc && d->from_name.cell_bits && mlc != d->from_name.cell_bits) {
        cli_error(cmd, "--mlc %lld contradicts the profile name '%s' (%d-bit cells)", (long long)mlc, spec,
                  d->from_name.cell_bits);
        return 2;
    }
    if (t > 0 && d->from_name.retention_s > 0 && t != d->from_name.retention_s) {
        cli_error(cmd, "--retention %s contradicts the profile name '%s' (%g s)", ret, spec, d->from_name.retention_s);
        return 2;
    }
    d->cell_bits = mlc ? (int)mlc : d->from_name.cell_bits;
    d->retention_s = t > 0 ? t : d->from_name.retention_s;
    qmc_device_profile *p = &d->profile;
    if (!knob(a, "stuck-at-0", 1, &p->stuck_at_0) || !knob(a, "stuck-at-1", 1, &p->stuck_at_1) ||
        !knob(a, "mram-ber", 0.5, &p->mram_ber))
        return 2;
    if (p->stuck_at_0 + p->stuck_at_1 > 1) {
        cli_error(cmd, "stuck-at-0 + stuck-at-1 rates exceed 1");
        return 2;
    }
    return 0;
}

int cli_device_noise_model(const char *cmd, const cli_device *d, int bits, qmc_noise_model *nm) {
    if (!bits) bits = d->cell_bits ? d->cell_bits : 3;
    if (qmc_noise_model_init(nm, &d->profile, bits, d->retention_s, d->encoding)) return cli_fail(cmd);
    return 0;
}

int cli_device_noise_p(const char *cmd, const cli_device *d, int code_bits, qmc_noise_model *nm, qmc_noise_p *np) {
    int rc = cli_device_noise_model(cmd, d, 0, nm);
    if (rc) return rc;
    if (qmc_noise_p_derive(&nm->cell, nm->encoding, code_bits, NULL, np)) return cli_fail(cmd);
    return 0;
}

int cli_quant_device_load(const char *cmd, const cli_args *a, int code_bits, cli_quant_device *q) {
    memset(q, 0, sizeof *q);
    q->p_source = "none";
    int64_t mlc;
    double pm, pp;
    if (!cli_int(a, "mlc", 2, 3, 3, &mlc) || !cli_double(a, "p-minus", 0, 1, 0, &pm) ||
        !cli_double(a, "p-plus", 0, 1, 0, &pp))
        return 2;
    q->cell_bits = (int)mlc;
    const bool has_pm = cli_get(a, "p-minus") != NULL, has_pp = cli_get(a, "p-plus") != NULL;
    if (cli_get(a, "device")) {
        int rc = cli_device_load(cmd, a, NULL, &q->dev, &q->present);
        if (rc) return rc;
        if (q->dev.cell_bits && q->dev.cell_bits != 2 && q->dev.cell_bits != 3) {
            cli_error(cmd, "'%s' selects %d-bit cells; QMC's ReRAM cells hold 2 or 3 bits", cli_get(a, "device"),
                      q->dev.cell_bits);
            return 2;
        }
        q->cell_bits = q->dev.cell_bits ? q->dev.cell_bits : 3;
        q->dev.cell_bits = q->cell_bits;
        qmc_noise_model nm;
        /* a --bits-in outside 2..8 is reported by the quantizer's own check */
        if (code_bits >= 2 && code_bits <= 8 && (rc = cli_device_noise_p(cmd, &q->dev, code_bits, &nm, &q->derived)))
            return rc;
        q->p_source = has_pm || has_pp ? "device+explicit" : "device";
    } else {
        /* --mlc alone records the cell mode; the other device options need a profile */
        int rc = orphan_option(cmd, a, 1);
        if (rc) return rc;
        if (has_pm || has_pp) q->p_source = "explicit";
    }
    q->p_minus = has_pm ? pm : q->derived.p_minus;
    q->p_plus = has_pp ? pp : q->derived.p_plus;
    return 0;
}

void cli_quant_device_json(cJSON *j, const cli_quant_device *q) {
    cJSON *o = cJSON_AddObjectToObject(j, "noise_aware");
    cJSON_AddStringToObject(o, "p_source", q->p_source);
    cJSON_AddNumberToObject(o, "p_minus", q->p_minus);
    cJSON_AddNumberToObject(o, "p_plus", q->p_plus);
    cJSON_AddNumberToObject(o, "cell_bits", q->cell_bits);
    if (!q->present) return;
    cJSON_AddStringToObject(o, "profile", q->dev.profile.name);
    cJSON_AddStringToObject(o, "origin", q->dev.profile.origin);
    cJSON_AddStringToObject(o, "encoding", qmc_encoding_name(q->dev.encoding));
    if (q->dev.retention_s > 0) cJSON_AddNumberToObject(o, "retention_s", q->dev.retention_s);
    cJSON_AddNumberToObject(o, "derived_p_minus", q->derived.p_minus);
    cJSON_AddNumberToObject(o, "derived_p_plus", q->derived.p_plus);
    cJSON_AddNumberToObject(o, "cell_error", q->derived.cell_error);
    cJSON_AddNumberToObject(o, "p_code_error", q->derived.p_code_error);
}

void cli_quant_device_print(FILE *f, const cli_quant_device *q) {
    if (!q->present && strcmp(q->p_source, "none") == 0) return;
    fprintf(f, "noise-aware inlier scales: p_minus %.6e, p_plus %.6e (%s", q->p_minus, q->p_plus, q->p_source);
    if (q->present)
        fprintf(f, ": %s, %d-bit cells, %s encoding, misread per cell %.3e", q->dev.profile.name, q->cell_bits,
                qmc_encoding_name(q->dev.encoding), q->derived.cell_error);
    fprintf(f, ")\n");
}

cJSON *cli_device_json(cJSON *j, const cli_device *dv, const qmc_noise_model *nm, const qmc_noise_p *np) {
    cJSON *d = cJSON_AddObjectToObject(j, "device");
    cJSON_AddStringToObject(d, "profile", dv->profile.name);
    cJSON_AddStringToObject(d, "origin", dv->profile.origin);
    cJSON_AddNumberToObject(d, "cell_bits", nm->cell.bits);
    cJSON_AddStringToObject(d, "encoding", qmc_encoding_name(nm->encoding));
    if (nm->cell.retention_s > 0) cJSON_AddNumberToObject(d, "retention_s", nm->cell.retention_s);
    cJSON_AddNumberToObject(d, "stuck_at_0", dv->profile.stuck_at_0);
    cJSON_AddNumberToObject(d, "stuck_at_1", dv->profile.stuck_at_1);
    cJSON_AddNumberToObject(d, "mram_ber", nm->mram_ber);
    cJSON_AddNumberToObject(d, "misread_mean", np->cell_error);
    cJSON_AddItemToObject(d, "misread_per_level", cJSON_CreateDoubleArray(nm->cell.err, nm->cell.n_levels));
    return d;
}
