/* calib_text.c — calibration statistics from a text file: the text is read
 * (carriage returns removed), tokenised with the model's tokenizer and run
 * through qmc_calib_collect.  Shared by `qmc quantize` and `qmc study`. */
#include <string.h>

#include "quant/calib.h"
#include "sim/sim.h"
#include "util/util.h"

int qmc_calib_default_text(char *out, size_t cap) {
    sim_datapath dp;
    int rc = sim_datapath_init(&dp, NULL);
    if (rc) return rc;
    for (int i = 0; i < dp.n_dirs; i++) {
        qmc_path_join(out, cap, dp.dirs[i], QMC_CALIB_DEFAULT_TEXT);
        if (qmc_file_exists(out)) return QMC_OK;
    }
    return qmc_fail(QMC_ERR_IO, "%s: default calibration text not found under the data directories (set QMC_DATA)",
                    QMC_CALIB_DEFAULT_TEXT);
}

int qmc_calib_collect_text(const qmc_model *m, const char *path, int64_t *n_tokens, int *ctx,
                           void (*progress)(void *user, double done), void *user, qmc_calib_stats **out) {
    *out = NULL;
    const qmc_tokenizer *tok = qmc_model_tokenizer(m);
    if (!tok) return qmc_fail(QMC_ERR_ARG, "%s: the model has no tokenizer to read the calibration text", m->path);
    char *text = NULL;
    size_t len = 0;
    int rc = qmc_read_file(path, (size_t)1 << 32, &text, &len);
    if (rc) return rc;
    len = qmc_strip_cr(text, len);
    bool blank = true;
    for (size_t i = 0; i < len && blank; i++) blank = text[i] == ' ' || text[i] == '\n' || text[i] == '\t';
    if (blank) {
        qmc_free(text);
        return qmc_fail(QMC_ERR_FORMAT, "%s: calibration text is empty", path);
    }
    int32_t *toks = NULL;
    int64_t n = 0;
    rc = qmc_tokenize(tok, text, len, false, &toks, &n);
    qmc_free(text);
    if (rc) return qmc_error_prefix(rc, "%s", path);
    if (n < *n_tokens) *n_tokens = n; /* fewer tokens than asked: all of them */
    if (*ctx == 0) *ctx = QMC_MIN(m->cfg.seq_len, 2048);
    if (*ctx < 2 || *ctx > m->cfg.seq_len) {
        qmc_free_tokens(toks);
        return qmc_fail(QMC_ERR_ARG, "calibration window of %d tokens outside 2..%d (the model's context)", *ctx,
                        m->cfg.seq_len);
    }
    rc = qmc_calib_collect(m, toks, *n_tokens, *ctx, progress, user, out);
    qmc_free_tokens(toks);
    return rc ? qmc_error_prefix(rc, "calibration on %s", path) : QMC_OK;
}
