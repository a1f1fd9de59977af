/* safetensors.c — placeholder until the Hugging Face loader lands (being written). */
#include "model/model.h"

int qmc_load_safetensors(const char *path, const qmc_load_opts *opts, qmc_model *m) {
    return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: Hugging Face directories are not supported yet", path);
}
int qmc_model_save_hf(const qmc_model *m, const char *dir, qmc_write_type type) {
    return qmc_fail(QMC_ERR_UNSUPPORTED, "%s: writing Hugging Face directories is not supported yet", dir);
}
