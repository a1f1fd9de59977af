/* cli_device.h — the device options shared by qmc device, qmc noise and
 * qmc quantize: --device, --mlc, --encoding, --retention, --device-dir and
 * the knob overrides. */
#ifndef QMC_CLI_DEVICE_H
#define QMC_CLI_DEVICE_H

#include <stdio.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "device/cellmap.h"
#include "device/inject.h"

/* Insert into a command's cli_opt table. */
#define CLI_DEVICE_OPTS                                                                                          \
    {"device", 0, "PROFILE", "device profile: a name (qmc device lists them; suffixes -Nb and -TIME, e.g. "      \
                             "wan2022-1s-2b) or the path of a profile .json file"},                             \
    {"mlc", 0, "BITS", "bits per ReRAM cell: 3 (one cell per 3-bit code) or 2 (codes bit-packed, 1.5 cells "      \
                       "each); default: the name's -Nb suffix, else 3"},                                         \
    {"encoding", 0, "ENC", "level encoding of a cell's bits: binary (default) or gray"},                          \
    {"retention", 0, "TIME", "time since programming, e.g. 1s, 1d (profiles with retention data only)"},         \
    {"device-dir", 0, "DIR", "look for PROFILE.json in DIR first (then $QMC_DATA/devices, data/devices next "   \
                             "to the binary, built-in copies)"},                                                 \
    {"stuck-at-0", 0, "P", "override the profile: probability that a cell is stuck at its lowest level"},        \
    {"stuck-at-1", 0, "P", "override the profile: probability that a cell is stuck at its highest level"},       \
    {"mram-ber", 0, "P", "override the profile: bit-error rate of the MRAM plane (outlier codes, scales)"}

typedef struct {
    qmc_device_profile profile;
    qmc_device_name_sel from_name;  /* what the name's suffixes selected */
    int cell_bits;                  /* --mlc, else the name's suffix, else 0 */
    double retention_s;             /* --retention, else the name's suffix, else 0 (profile default) */
    qmc_level_encoding encoding;
} cli_device;

/* Load spec (NULL: --device) and apply the other options.  Returns 0, or prints a
 * one-line error and returns the exit status (1: bad profile, 2: bad option).
 * When --device is absent *present is false and nothing else is checked. */
int cli_device_load(const char *cmd, const cli_args *a, const char *spec, cli_device *d, bool *present);
/* The noise model for d at width bits (0: d->cell_bits, else 3). */
int cli_device_noise_model(const char *cmd, const cli_device *d, int bits, qmc_noise_model *nm);
/* The noise model (as above, bits 0) and the p_minus/p_plus pair of code_bits-bit
 * codes stored in its cells (qmc_noise_p_derive, codes equally likely). */
int cli_device_noise_p(const char *cmd, const cli_device *d, int code_bits, qmc_noise_model *nm, qmc_noise_p *np);

/* qmc quantize's device options.  With --device PROFILE, the cell mode (--mlc,
 * else the name's -Nb suffix, else 3; must be 2 or 3) and the p pair derived for
 * code_bits-bit inlier codes in those cells; without it, --mlc (default 3) is
 * only recorded and the pair is 0.  Explicit --p-minus / --p-plus override the
 * derived value of each independently (precedence: option > profile > 0). */
typedef struct {
    bool present;                /* --device given */
    cli_device dev;              /* the profile (valid when present) */
    int cell_bits;               /* ReRAM cell mode, 2 or 3 */
    qmc_noise_p derived;         /* from the profile (zeros when !present) */
    double p_minus, p_plus;      /* what the quantizer uses */
    const char *p_source;        /* "none", "device", "explicit", or "device+explicit" */
} cli_quant_device;

/* 0, or an exit status after printing a one-line error. */
int cli_quant_device_load(const char *cmd, const cli_args *a, int code_bits, cli_quant_device *q);
/* The "device" object of qmc noise / qmc eval --json (profile, cells, encoding,
 * knobs, misread rates), added to j and returned. */
cJSON *cli_device_json(cJSON *j, const cli_device *d, const qmc_noise_model *nm, const qmc_noise_p *np);
/* Report q: a "noise_aware" object added to a JSON object, or one text line. */
void cli_quant_device_json(cJSON *j, const cli_quant_device *q);
void cli_quant_device_print(FILE *f, const cli_quant_device *q);

#endif
