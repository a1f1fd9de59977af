/* task_layouts.h — the parsers of the three task file layouts (internal to
 * src/eval; tasks.h is the interface).  Each appends the examples of one
 * file's bytes to t, sets t->kind, and reports bad lines through
 * qmc_task_problem() ("file:line: problem"). */
#ifndef QMC_TASK_LAYOUTS_H
#define QMC_TASK_LAYOUTS_H

#include <stddef.h>

#include "eval/tasks.h"

int qmc_parse_foundry(qmc_task_set *t, const char *data, size_t size, qmc_task_prompt prompt, bool strict);
int qmc_parse_hellaswag(qmc_task_set *t, const char *data, size_t size, bool strict);
int qmc_parse_arc(qmc_task_set *t, const char *data, size_t size, bool strict);

#endif
