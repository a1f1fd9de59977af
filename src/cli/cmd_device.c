/* cmd_device.c — qmc device: list device profiles, or show what one implies
 * (levels, thresholds, confusion matrix, misread rates, noise-aware p pair). */
#include <math.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_device.h"
#include "cli/json.h"

static const cli_opt k_opts[] = {
    CLI_DEVICE_OPTS,
    {"code-bits", 0, "B", "code width for the derived p_minus/p_plus (default 3: QMC inliers)"},
    {"json", 0, NULL, "machine-readable output"},
    {0},
};

static const cli_command_info k_info = {
    "device", "qmc device [PROFILE] [--mlc BITS] [--encoding binary|gray] [--retention TIME] [--json]",
    "List the device profiles, or show one: level model, read thresholds, level-confusion matrix, misread rates and "
    "the p_minus/p_plus that noise-aware quantization uses.",
    "Without PROFILE, lists the profiles found (see --device-dir).  With PROFILE, shows every cell width the profile\n"
    "defines, or only --mlc BITS.  p_minus/p_plus are squared-error equivalents for codes of --code-bits bits stored\n"
    "in those cells (docs/device-noise.md): the expected squared code error E[dq^2] split by its sign.",
    k_opts};

static void show_text(const cli_device *d, const qmc_cell_model *c, const qmc_noise_p *np, int code_bits) {
    const int L = c->n_levels;
    printf("\n%d-bit cells (%d levels)%s", c->bits, L, c->retention_s > 0 ? "" : "\n");
    if (c->retention_s > 0) printf(", %g s after programming\n", c->retention_s);
    if (c->has_gaussian) {
        printf("  level  mean          sigma         threshold above\n");
        for (int w = 0; w < L; w++) {
            printf("  %5d  %-12.6g  %-12.6g", w, c->mean[w], c->sigma[w]);
            if (w + 1 < L) printf("  %.9g", c->threshold[w]);
            printf("\n");
        }
    }
    printf("  confusion P(read | written), rows written, columns read:\n");
    for (int w = 0; w < L; w++) {
        printf("  %3d ", w);
        for (int r = 0; r < L; r++) printf(" %-10.3e", c->confusion[w][r]);
        printf("  misread %.3e\n", c->err[w]);
    }
    int worst = 0;
    for (int w = 1; w < L; w++)
        if (c->err[w] > c->err[worst]) worst = w;
    printf("  misread per cell, levels equally likely: %.4e (worst level %d: %.4e)\n", np->cell_error, worst, c->err[worst]);
    printf("  one level low / high: %.4e / %.4e\n", np->cell_p_minus, np->cell_p_plus);
    printf("  %d-bit codes, %s encoding: P(code reads wrong) %.4e, E[dq] %.3e steps\n", code_bits,
           qmc_encoding_name(d->encoding), np->p_code_error, np->mean_dq);
    printf("  noise-aware loss: p_minus %.6e  p_plus %.6e  (p_minus + p_plus = E[dq^2] = %.6e)\n", np->p_minus,
           np->p_plus, np->p_minus + np->p_plus);
}

static cJSON *show_json(const cli_device *d, const qmc_cell_model *c, const qmc_noise_p *np, int code_bits) {
    const int L = c->n_levels;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "bits", c->bits);
    if (c->retention_s > 0) cJSON_AddNumberToObject(o, "retention_s", c->retention_s);
    if (c->has_gaussian) {
        cJSON_AddItemToObject(o, "means", cJSON_CreateDoubleArray(c->mean, L));
        cJSON_AddItemToObject(o, "sigmas", cJSON_CreateDoubleArray(c->sigma, L));
        cJSON_AddItemToObject(o, "thresholds", cJSON_CreateDoubleArray(c->threshold, L - 1));
    }
    cJSON *m = cJSON_AddArrayToObject(o, "confusion");
    for (int w = 0; w < L; w++) cJSON_AddItemToArray(m, cJSON_CreateDoubleArray(c->confusion[w], L));
    cJSON_AddItemToObject(o, "misread_per_level", cJSON_CreateDoubleArray(c->err, L));
    double worst = 0;
    for (int w = 0; w < L; w++) worst = fmax(worst, c->err[w]);
    cJSON_AddNumberToObject(o, "misread_mean", np->cell_error);
    cJSON_AddNumberToObject(o, "misread_worst", worst);
    cJSON_AddNumberToObject(o, "cell_p_minus", np->cell_p_minus);
    cJSON_AddNumberToObject(o, "cell_p_plus", np->cell_p_plus);
    cJSON_AddNumberToObject(o, "code_bits", code_bits);
    cJSON_AddStringToObject(o, "encoding", qmc_encoding_name(d->encoding));
    cJSON_AddNumberToObject(o, "p_code_error", np->p_code_error);
    cJSON_AddNumberToObject(o, "mean_dq", np->mean_dq);
    cJSON_AddNumberToObject(o, "p_minus", np->p_minus);
    cJSON_AddNumberToObject(o, "p_plus", np->p_plus);
    return o;
}

static int list_profiles(const cli_args *a, bool json) {
    char names[8192];
    qmc_device_list(cli_get(a, "device-dir"), names, sizeof names);
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    for (char *s = names, *nl; (nl = strchr(s, '\n')); s = nl + 1) {
        *nl = 0;
        qmc_device_profile p;
        qmc_device_name_sel sel;
        bool ok = qmc_device_load(s, cli_get(a, "device-dir"), &p, &sel) == 0;
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", s);
            cJSON_AddStringToObject(o, ok ? "origin" : "error", ok ? p.origin : qmc_errmsg());
            if (ok) cJSON_AddStringToObject(o, "description", p.description);
            cJSON_AddItemToArray(arr, o);
        } else if (ok) {
            printf("%-16s %.100s%s\n", s, p.description, strlen(p.description) > 100 ? "..." : "");
        } else {
            printf("%-16s (unreadable: %s)\n", s, qmc_errmsg());
        }
    }
    if (json) cli_json_print(arr);
    else printf("\nNames take suffixes: -Nb picks the cell width, -TIME (1s, 1d, ...) the retention time, e.g. "
                "nvmexplorer-3b, wan2022-1s-2b.\n");
    return 0;
}

int cmd_device(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&k_info, argc, argv, &a);
    if (prc) return prc == 1 ? 0 : 2;
    const bool json = cli_flag(&a, "json");
    if (a.n_positional > 1) return cli_error("device", "one profile at a time (got %d)", a.n_positional);
    const char *spec = a.n_positional ? a.positional[0] : NULL;
    if (!spec && !cli_get(&a, "device")) return list_profiles(&a, json);
    int64_t code_bits;
    if (!cli_int(&a, "code-bits", 1, 8, 3, &code_bits)) return 2;
    cli_device d;
    bool present;
    int rc = cli_device_load("device", &a, spec, &d, &present);
    if (rc) return rc;
    const qmc_device_profile *p = &d.profile;
    cJSON *root = NULL, *widths = NULL;
    if (json) {
        root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "name", p->name);
        cJSON_AddStringToObject(root, "origin", p->origin);
        cJSON_AddStringToObject(root, "description", p->description);
        cJSON_AddStringToObject(root, "sources", p->sources);
        cJSON_AddNumberToObject(root, "stuck_at_0", p->stuck_at_0);
        cJSON_AddNumberToObject(root, "stuck_at_1", p->stuck_at_1);
        cJSON_AddNumberToObject(root, "mram_ber", p->mram_ber);
        widths = cJSON_AddArrayToObject(root, "cells");
    } else {
        printf("profile %s  (%s)\n%s\nsources: %s\n", p->name, p->origin, p->description, p->sources);
        printf("stuck-at-0 %g, stuck-at-1 %g per cell; MRAM bit-error rate %g\n", p->stuck_at_0, p->stuck_at_1, p->mram_ber);
    }
    for (int b = 1; b <= QMC_CELL_MAX_BITS; b++) {
        if (d.cell_bits ? b != d.cell_bits : !(p->width_mask & (1u << b))) continue;
        qmc_noise_model nm;
        qmc_noise_p np;
        if ((rc = cli_device_noise_model("device", &d, b, &nm))) break;
        if (qmc_noise_p_derive(&nm.cell, d.encoding, (int)code_bits, NULL, &np)) {
            rc = cli_fail("device");
            break;
        }
        if (json) cJSON_AddItemToArray(widths, show_json(&d, &nm.cell, &np, (int)code_bits));
        else show_text(&d, &nm.cell, &np, (int)code_bits);
    }
    if (json) {
        if (rc) cJSON_Delete(root);
        else cli_json_print(root);
    }
    return rc;
}
