/* cli_device.c — see cli_device.h. */
#include <string.h>

#include "cli/cli_device.h"

static bool knob(const cli_args *a, const char *name, double hi, double *v) {
    return cli_double(a, name, 0, hi, *v, v);
}

int cli_device_load(const char *cmd, const cli_args *a, const char *spec, cli_device *d, bool *present) {
    memset(d, 0, sizeof *d);
    if (!spec) spec = cli_get(a, "device");
    *present = spec != NULL;
    if (!spec) {
        static const char *const needs[] = {"mlc", "encoding", "retention", "device-dir", "stuck-at-0", "stuck-at-1", "mram-ber"};
        for (size_t i = 0; i < QMC_ARRAY_LEN(needs); i++)
            if (cli_get(a, needs[i])) {
                cli_error(cmd, "--%s needs --device PROFILE", needs[i]);
                return 2;
            }
        return 0;
    }
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
