/* pqueue.c — see pqueue.h. */
#include "util/pqueue.h"
#include "util/util.h"

static int better(const qmc_pq_item *a, const qmc_pq_item *b) {
    return a->pri > b->pri || (a->pri == b->pri && a->pos < b->pos);
}

int qmc_pq_push(qmc_pqueue *q, qmc_pq_item it) {
    int rc = qmc_grow((void **)&q->v, &q->cap, q->n + 1, sizeof(qmc_pq_item));
    if (rc) return rc;
    int64_t i = q->n++;
    q->v[i] = it;
    while (i > 0 && better(&q->v[i], &q->v[(i - 1) / 2])) {
        qmc_pq_item t = q->v[i];
        q->v[i] = q->v[(i - 1) / 2];
        q->v[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
    return QMC_OK;
}

qmc_pq_item qmc_pq_pop(qmc_pqueue *q) {
    qmc_pq_item top = q->v[0];
    q->v[0] = q->v[--q->n];
    for (int64_t i = 0;;) {
        int64_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->n && better(&q->v[l], &q->v[m])) m = l;
        if (r < q->n && better(&q->v[r], &q->v[m])) m = r;
        if (m == i) break;
        qmc_pq_item t = q->v[i];
        q->v[i] = q->v[m];
        q->v[m] = t;
        i = m;
    }
    return top;
}

void qmc_pq_free(qmc_pqueue *q) {
    qmc_free(q->v);
    q->v = NULL;
    q->n = q->cap = 0;
}
