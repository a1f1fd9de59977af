/* packfile.h — how packed tensors live inside a GGUF file.
 *
 * A packed weight named N (e.g. "blk.0.attn_q.weight") is stored as up to
 * seven ordinary GGUF tensors, so any GGUF reader can load the file:
 *   N.qin      I8  [in_codes_bytes]      inlier codes (ReRAM plane)
 *   N.qin_s    F16 [groups, rows] (I8 for E8M0 scales)
 *   N.qin_m    F16 [groups, rows]        asymmetric offsets
 *   N.qmask    I8  [mask_bytes]          outlier bitmap (MRAM plane)
 *   N.qout     I8  [out_codes_bytes]     outlier codes (MRAM plane)
 *   N.qout_s   F16 [rows]
 *   N.qout_m   F16 [rows]
 * plus one metadata string "qmc.tensor.N" describing the formats:
 *   "rows=R cols=C method=qmc in=3:int:sym:0 out=5:int:sym nout=K rho=0.3 tau=0.0123"
 * (in/out = bits:elem:sym|asym[:group]).  Global keys qmc.* describe the run
 * (see qmc_packed_write_meta). */
#ifndef QMC_PACKFILE_H
#define QMC_PACKFILE_H

#include "formats/gguf.h"
#include "model/tensor.h"
#include "quant/qtensor.h"

/* Read packed tensor `name`: 1 = found (t filled, planes point into the
 * file), 0 = the file has no planes by that name, < 0 = error. */
int qmc_packed_read(const gguf_ctx *g, const char *label, const char *name, qmc_tensor *t);
/* Add the planes and descriptor of packed tensor t to the writer (the planes
 * must stay alive until gguf_write). */
int qmc_packed_write(gguf_writer *w, const qmc_tensor *t);
/* Descriptor string of a packed tensor. */
void qmc_packed_describe(const qmc_qtensor *q, char *buf, size_t cap);
int  qmc_packed_parse_desc(const char *desc, const char *label, const char *name, qmc_qtensor *q);

#endif
