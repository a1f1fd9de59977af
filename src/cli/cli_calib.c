/* cli_calib.c — calibration options and statistics for qmc quantize. */
#include <string.h>
#include <unistd.h>

#include "cli/cli_calib.h"

bool cli_calib_opts(const char *cmd, const cli_args *a, cli_calib *c) {
    memset(c, 0, sizeof *c);
    qmc_calib_opts_default(&c->opts);
    int64_t tokens, ctx;
    double damp;
    if (!cli_int(a, "calib-tokens", 1, 1 << 24, QMC_CALIB_DEFAULT_TOKENS, &tokens) ||
        !cli_int(a, "calib-ctx", 0, 1 << 16, 0, &ctx) || !cli_double(a, "damp", 0, 10, c->opts.damp, &damp))
        return false;
    if (cli_get(a, "calib-ctx") && ctx < 2) {
        cli_error(cmd, "--calib-ctx %lld is too short (at least 2)", (long long)ctx);
        return false;
    }
    c->tokens = tokens;
    c->ctx = (int)ctx;
    c->opts.damp = damp;
    c->opts.act_order = cli_flag(a, "act-order");
    const char *t = cli_get(a, "calib");
    if (t) snprintf(c->text, sizeof c->text, "%s", t);   /* else: the default, found by cli_calib_collect */
    return true;
}

typedef struct {
    bool quiet, tty;
    int last;
} calib_progress;

static void progress(void *user, double done) {
    calib_progress *p = user;
    if (p->quiet) return;
    int pct = (int)(done * 100);
    if (pct == p->last || (!p->tty && pct / 10 == p->last / 10 && pct < 100)) return;
    p->last = pct;
    fprintf(stderr, p->tty ? "\rcalibrating: %3d%%" : "calibrating: %3d%%\n", pct);
    if (p->tty && pct >= 100) fprintf(stderr, "\n");
}

bool cli_calib_collect(const char *cmd, const qmc_model *m, bool quiet, cli_calib *c) {
    if (!c->text[0] && qmc_calib_default_text(c->text, sizeof c->text)) {
        cli_fail(cmd);
        return false;
    }
    const int64_t asked = c->tokens;
    calib_progress pr = {quiet, isatty(2) != 0, -1};
    if (!quiet) fprintf(stderr, "calibrating on %s\n", c->text);
    if (qmc_calib_collect_text(m, c->text, &c->tokens, &c->ctx, progress, &pr, &c->stats)) {
        cli_fail(cmd);
        return false;
    }
    if (!quiet)
        fprintf(stderr, "calibrated on %lld tokens%s (windows of %d incl. BOS)\n", (long long)c->tokens,
                c->tokens < asked ? ", the whole text (fewer than --calib-tokens)" : "", c->ctx);
    return true;
}
