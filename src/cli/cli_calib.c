/* cli_calib.c — calibration options and statistics for qmc quantize. */
#include <string.h>
#include <unistd.h>

#include "cli/cli_calib.h"
#include "sim/sim.h"

/* The default calibration text, looked up in the data directories of the
 * simulator's data files ($QMC_DATA, <binary>/../data, <binary>/../share/qmc/data). */
static bool default_text(char *out, size_t cap) {
    sim_datapath dp;
    if (sim_datapath_init(&dp, NULL)) return false;
    for (int i = 0; i < dp.n_dirs; i++) {
        qmc_path_join(out, cap, dp.dirs[i], CLI_CALIB_DEFAULT_TEXT);
        if (qmc_file_exists(out)) return true;
    }
    return false;
}

bool cli_calib_opts(const char *cmd, const cli_args *a, cli_calib *c) {
    memset(c, 0, sizeof *c);
    qmc_calib_opts_default(&c->opts);
    int64_t tokens, ctx;
    double damp;
    if (!cli_int(a, "calib-tokens", 1, 1 << 24, CLI_CALIB_DEFAULT_TOKENS, &tokens) ||
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

bool cli_calib_collect(const char *cmd, const cli_args *a, const qmc_model *m, bool quiet, cli_calib *c) {
    const qmc_tokenizer *tok = qmc_model_tokenizer(m);
    if (!tok) {
        cli_error(cmd, "%s: the model has no tokenizer to read the calibration text (give --tokenizer)", m->path);
        return false;
    }
    if (!c->text[0] && !default_text(c->text, sizeof c->text)) {
        cli_error(cmd, "%s: default calibration text not found (give --calib FILE or set QMC_DATA)", CLI_CALIB_DEFAULT_TEXT);
        return false;
    }
    size_t len = 0;
    char *text = cli_read_text(cmd, c->text, &len);
    if (!text) return false;
    size_t w = 0; /* CRLF -> LF */
    for (size_t i = 0; i < len; i++)
        if (text[i] != '\r') text[w++] = text[i];
    len = w;
    bool blank = true;
    for (size_t i = 0; i < len && blank; i++) blank = text[i] == ' ' || text[i] == '\n' || text[i] == '\t';
    if (blank) {
        qmc_free(text);
        cli_error(cmd, "%s: calibration text is empty", c->text);
        return false;
    }
    int32_t *toks = NULL;
    int64_t n = 0;
    int rc = qmc_tokenize(tok, text, len, false, &toks, &n);
    qmc_free(text);
    if (rc) {
        qmc_error_prefix(rc, "%s", c->text);
        cli_fail(cmd);
        return false;
    }
    if (n < c->tokens) {
        if (!quiet) fprintf(stderr, "%s: %s has %lld tokens, fewer than --calib-tokens %lld; using them all\n", cmd, c->text,
                            (long long)n, (long long)c->tokens);
        c->tokens = n;
    }
    if (c->ctx == 0) c->ctx = QMC_MIN(m->cfg.seq_len, 2048);
    if (c->ctx > m->cfg.seq_len) {
        qmc_free_tokens(toks);
        cli_error(cmd, "--calib-ctx %d exceeds the model's context of %d tokens", c->ctx, m->cfg.seq_len);
        return false;
    }
    calib_progress pr = {quiet, isatty(2) != 0, -1};
    if (!quiet)
        fprintf(stderr, "calibrating on %lld tokens of %s (windows of %d incl. BOS)\n", (long long)c->tokens, c->text, c->ctx);
    rc = qmc_calib_collect(m, toks, c->tokens, c->ctx, progress, &pr, &c->stats);
    qmc_free_tokens(toks);
    if (rc) {
        qmc_error_prefix(rc, "calibration on %s", c->text);
        cli_fail(cmd);
        return false;
    }
    return true;
}
