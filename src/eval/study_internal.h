/* study_internal.h — the parts of `qmc study` shared between its files. */
#ifndef QMC_EVAL_STUDY_INTERNAL_H
#define QMC_EVAL_STUDY_INTERNAL_H

#include "eval/study.h"
#include "model/model.h"

/* Simulator numbers (res->sys, res->sweep_*) for the model's shape and the
 * config's preset shapes (study_sim.c). */
int qmc_study_simulate(const qmc_study_config *c, qmc_model *m, qmc_study_results *res);
/* results.csv, results.json and report.md in c->out, each crash-safe (study_records.c). */
int qmc_study_write_outputs(const qmc_study_config *c, const qmc_study_results *res);

#endif
