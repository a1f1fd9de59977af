/* pqueue.h — a binary heap of (priority, position, payload) entries that
 * pops the highest priority first and, among equal priorities, the lowest
 * position: the best and leftmost candidate merge of the BPE tokenizers. */
#ifndef QMC_PQUEUE_H
#define QMC_PQUEUE_H

#include <stdint.h>

typedef struct {
    double pri;     /* larger pops first */
    int64_t pos;    /* tie-break: smaller pops first */
    uint64_t aux;   /* the caller's payload */
} qmc_pq_item;

typedef struct {
    qmc_pq_item *v; /* [cap], heap-ordered in v[0..n) */
    int64_t n, cap;
} qmc_pqueue;       /* zero-initialised = empty */

int  qmc_pq_push(qmc_pqueue *q, qmc_pq_item it);  /* QMC_OK or QMC_ERR_NOMEM */
qmc_pq_item qmc_pq_pop(qmc_pqueue *q);             /* requires q->n > 0 */
void qmc_pq_free(qmc_pqueue *q);

#endif
