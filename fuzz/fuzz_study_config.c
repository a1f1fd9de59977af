/* fuzz_study_config.c — `qmc study` config files (qmc_study_config_parse):
 * JSON with typed fields, grids expanded into cells, every method / device
 * profile / task / shape name checked against the build. */
#include "eval/study.h"
#include "fuzz.h"

QMC_FUZZ_TARGET(study_config) {
    qmc_study_config c;
    int rc = qmc_study_config_parse((const char *)data, size, FUZZ_LABEL, &c);
    fuzz_check_status(rc, "qmc_study_config_parse");
    if (rc) return;
    FUZZ_CHECK(c.n_cells > 0);
    for (int i = 0; i < c.n_cells; i++) FUZZ_CHECK(c.cells[i].trials >= 1 && c.cells[i].key[0]);
    qmc_study_config_free(&c);
}
