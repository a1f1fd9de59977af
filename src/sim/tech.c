/* tech.c — technology, link and platform descriptions: loading from JSON,
 * validation of every value, command-line overrides. */
#include <cJSON.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "sim/sim.h"

/* How a numeric field is checked. */
enum { REQ_ALWAYS = 0, REQ_VOLATILE = 1, REQ_OPTIONAL = 2 };

typedef struct {
    sim_field_info info;
    size_t off;        /* offset of the double in its struct */
    double lo, hi;     /* valid range */
    bool lo_open;      /* lo itself is invalid (must be > lo) */
    int req;
} field_desc;

#define MEM(f) offsetof(sim_memory_tech, f)
static const field_desc k_memory_fields[] = {
    {{"read_latency_ns", "ns"}, MEM(read_latency_ns), 0, 1e9, false, REQ_ALWAYS},
    {{"read_bw_gib_s", "GiB/s per bw_unit"}, MEM(read_bw_gib_s), 0, 1e6, true, REQ_ALWAYS},
    {{"read_energy_pj_per_bit", "pJ/bit"}, MEM(read_energy_pj_per_bit), 0, 1e6, false, REQ_ALWAYS},
    {{"write_energy_pj_per_bit", "pJ/bit"}, MEM(write_energy_pj_per_bit), 0, 1e6, false, REQ_VOLATILE},
    {{"density_mbit_per_mm2", "Mbit/mm^2 (Mbit = 2^20 bits)"}, MEM(density_mbit_per_mm2), 0, 1e9, true, REQ_ALWAYS},
    {{"bits_per_cell", "bits"}, MEM(bits_per_cell), 1, 8, false, REQ_ALWAYS},
    {{"array_rows", "cells"}, MEM(array_rows), 0, 1 << 24, false, REQ_OPTIONAL},
    {{"array_cols", "cells"}, MEM(array_cols), 0, 1 << 24, false, REQ_OPTIONAL},
    {{"background_mw_per_gib", "mW/GiB"}, MEM(background_mw_per_gib), 0, 1e6, false, REQ_VOLATILE},
};
#undef MEM
#define LNK(f) offsetof(sim_link_tech, f)
static const field_desc k_link_fields[] = {
    {{"gt_s_per_io", "GT/s"}, LNK(gt_s_per_io), 0, 1e4, true, REQ_ALWAYS},
    {{"ios", "data lines"}, LNK(ios), 0, 1 << 20, true, REQ_ALWAYS},
    {{"energy_pj_per_bit", "pJ/bit"}, LNK(energy_pj_per_bit), 0, 1e6, false, REQ_ALWAYS},
    {{"latency_ns", "ns"}, LNK(latency_ns), 0, 1e9, false, REQ_ALWAYS},
};
#undef LNK
#define PLT(f) offsetof(sim_platform, f)
static const field_desc k_platform_fields[] = {
    {{"dram_bw_gb_s", "GB/s (1e9 B/s)"}, PLT(dram_bw_gb_s), 0, 1e6, true, REQ_ALWAYS},
    {{"dram_capacity_gib", "GiB"}, PLT(dram_capacity_gib), 0, 1e6, true, REQ_ALWAYS},
    {{"flash_capacity_gb", "GB"}, PLT(flash_capacity_gb), 0, 1e9, true, REQ_ALWAYS},
    {{"peak_tflops_fp16", "TFLOPS"}, PLT(peak_tflops_fp16), 0, 1e6, true, REQ_ALWAYS},
};
#undef PLT

/* One table per kind, with the offset of the struct's sources array. */
typedef struct {
    const char *kind;
    const field_desc *fields;
    int n;
    size_t sources_off;
    size_t origin_off;
} kind_desc;

static const kind_desc k_kinds[] = {
    {"memory", k_memory_fields, (int)QMC_ARRAY_LEN(k_memory_fields), offsetof(sim_memory_tech, sources),
     offsetof(sim_memory_tech, origin)},
    {"link", k_link_fields, (int)QMC_ARRAY_LEN(k_link_fields), offsetof(sim_link_tech, sources),
     offsetof(sim_link_tech, origin)},
    {"platform", k_platform_fields, (int)QMC_ARRAY_LEN(k_platform_fields), offsetof(sim_platform, sources),
     offsetof(sim_platform, origin)},
};

static const kind_desc *kind_of(const char *kind) {
    for (size_t i = 0; i < QMC_ARRAY_LEN(k_kinds); i++)
        if (strcmp(k_kinds[i].kind, kind) == 0) return &k_kinds[i];
    return NULL;
}

int sim_tech_fields(const char *kind, const sim_field_info **fields) {
    static sim_field_info infos[3][SIM_MAX_FIELDS];
    const kind_desc *k = kind_of(kind);
    if (!k) return 0;
    int ki = (int)(k - k_kinds);
    for (int i = 0; i < k->n; i++) infos[ki][i] = k->fields[i].info;
    *fields = infos[ki];
    return k->n;
}

static double *dfield(void *base, const field_desc *f) { return (double *)((char *)base + f->off); }
static const double *cdfield(const void *base, const field_desc *f) {
    return (const double *)((const char *)base + f->off);
}
double sim_memory_field(const sim_memory_tech *t, int i) { return *cdfield(t, &k_memory_fields[i]); }
double sim_link_field(const sim_link_tech *t, int i) { return *cdfield(t, &k_link_fields[i]); }
double sim_platform_field(const sim_platform *t, int i) { return *cdfield(t, &k_platform_fields[i]); }

static bool in_range(const field_desc *f, double v) {
    if (!isfinite(v)) return false;
    if (f->lo_open ? v <= f->lo : v < f->lo) return false;
    return v <= f->hi;
}

static int range_error(const char *label, const field_desc *f, double v) {
    return qmc_fail(QMC_ERR_RANGE, "%s: %s = %g is out of range (must be %s %g and <= %g %s)", label, f->info.key, v,
                    f->lo_open ? ">" : ">=", f->lo, f->hi, f->info.unit);
}

/* Keys a data file may carry besides its numeric fields. */
static bool known_extra_key(const char *kind, const char *key) {
    static const char *common[] = {"kind", "title", "sources"};
    static const char *memory[] = {"node", "bw_unit", "volatile"};
    static const char *platform[] = {"dram", "flash", "calibration"};
    if (key[0] == '_') return true; /* comments */
    for (size_t i = 0; i < QMC_ARRAY_LEN(common); i++)
        if (strcmp(key, common[i]) == 0) return true;
    if (strcmp(kind, "memory") == 0)
        for (size_t i = 0; i < QMC_ARRAY_LEN(memory); i++)
            if (strcmp(key, memory[i]) == 0) return true;
    if (strcmp(kind, "platform") == 0)
        for (size_t i = 0; i < QMC_ARRAY_LEN(platform); i++)
            if (strcmp(key, platform[i]) == 0) return true;
    return false;
}

static int get_string(const cJSON *o, const char *key, const char *label, bool required, char *out, size_t cap) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!it) {
        if (required) return qmc_fail(QMC_ERR_FORMAT, "%s: missing \"%s\"", label, key);
        out[0] = 0;
        return QMC_OK;
    }
    if (!cJSON_IsString(it) || !it->valuestring[0])
        return qmc_fail(QMC_ERR_FORMAT, "%s: \"%s\" must be a non-empty string", label, key);
    if (strlen(it->valuestring) >= cap)
        return qmc_fail(QMC_ERR_FORMAT, "%s: \"%s\" is longer than %zu characters", label, key, cap - 1);
    snprintf(out, cap, "%s", it->valuestring);
    return QMC_OK;
}

/* Parse the numeric fields of kind k from o into base; `is_volatile` decides
 * REQ_VOLATILE fields.  Every field present needs a non-empty source. */
static int parse_fields(const cJSON *o, const kind_desc *k, void *base, bool is_volatile, const char *label) {
    const cJSON *sources = cJSON_GetObjectItemCaseSensitive(o, "sources");
    if (!cJSON_IsObject(sources)) return qmc_fail(QMC_ERR_FORMAT, "%s: missing \"sources\" object", label);
    char(*src)[SIM_SRC_LEN] = (char(*)[SIM_SRC_LEN])((char *)base + k->sources_off);
    for (const cJSON *it = o->child; it; it = it->next) {
        bool numeric = false;
        for (int i = 0; i < k->n; i++) numeric |= strcmp(it->string, k->fields[i].info.key) == 0;
        if (!numeric && !known_extra_key(k->kind, it->string))
            return qmc_fail(QMC_ERR_FORMAT, "%s: unknown key \"%s\"", label, it->string);
    }
    for (int i = 0; i < k->n; i++) {
        const field_desc *f = &k->fields[i];
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, f->info.key);
        double *dst = dfield(base, f);
        *dst = 0;
        src[i][0] = 0;
        bool required = f->req == REQ_ALWAYS || (f->req == REQ_VOLATILE && is_volatile);
        if (!it) {
            if (required) return qmc_fail(QMC_ERR_FORMAT, "%s: missing \"%s\" (%s)", label, f->info.key, f->info.unit);
            continue;
        }
        if (!cJSON_IsNumber(it)) return qmc_fail(QMC_ERR_FORMAT, "%s: \"%s\" must be a number", label, f->info.key);
        if (!in_range(f, it->valuedouble)) return range_error(label, f, it->valuedouble);
        *dst = it->valuedouble;
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(sources, f->info.key);
        if (!cJSON_IsString(s) || !s->valuestring[0])
            return qmc_fail(QMC_ERR_FORMAT, "%s: \"%s\" has no entry in \"sources\" (cite it or write \"assumed: ...\")",
                            label, f->info.key);
        snprintf(src[i], SIM_SRC_LEN, "%s", s->valuestring);
    }
    for (const cJSON *s = sources->child; s; s = s->next) {
        bool known = false;
        for (int i = 0; i < k->n; i++) known |= strcmp(s->string, k->fields[i].info.key) == 0;
        if (!known) return qmc_fail(QMC_ERR_FORMAT, "%s: \"sources\" names unknown field \"%s\"", label, s->string);
    }
    return QMC_OK;
}

/* Parse the text of one data file (len bytes) of the given kind. */
static int parse_file(const char *text, size_t len, const char *label, const char *kind, cJSON **out) {
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!o) return qmc_fail(QMC_ERR_FORMAT, "%s: not valid JSON (near byte %ld)", label, (long)(end && end >= text ? end - text : 0));
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return qmc_fail(QMC_ERR_FORMAT, "%s: top level must be an object", label);
    }
    char k[32];
    int rc = get_string(o, "kind", label, true, k, sizeof k);
    if (rc == QMC_OK && strcmp(k, kind) != 0)
        rc = qmc_fail(QMC_ERR_FORMAT, "%s: kind is \"%s\", expected \"%s\"", label, k, kind);
    if (rc) {
        cJSON_Delete(o);
        return rc;
    }
    *out = o;
    return QMC_OK;
}

static bool safe_name(const char *s) {
    if (!*s || strlen(s) > 40) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.')) return false;
    return true;
}

static int read_named(const sim_datapath *dp, const char *subdir, const char *what, const char *name, char **text,
                      char *origin, size_t origin_cap) {
    if (!safe_name(name)) return qmc_fail(QMC_ERR_ARG, "bad %s name '%s'", what, name);
    char rel[128];
    snprintf(rel, sizeof rel, "%s/%s.json", subdir, name);
    if (!sim_data_has(dp, rel)) {
        char names[2048];
        sim_data_names(dp, subdir, names, sizeof names);
        return qmc_fail(QMC_ERR_ARG, "unknown %s '%s' (known: %s)", what, name, names);
    }
    return sim_data_read(dp, rel, text, origin, origin_cap);
}

int sim_memory_parse(const char *text, size_t len, const char *origin, const char *name, sim_memory_tech *t) {
    memset(t, 0, sizeof *t);
    snprintf(t->origin, sizeof t->origin, "%s", origin);
    snprintf(t->name, sizeof t->name, "%s", name);
    cJSON *o = NULL;
    int rc = parse_file(text, len, t->origin, "memory", &o);
    if (rc) return rc;
    const cJSON *vol = cJSON_GetObjectItemCaseSensitive(o, "volatile");
    if (!cJSON_IsBool(vol)) rc = qmc_fail(QMC_ERR_FORMAT, "%s: \"volatile\" must be true or false", t->origin);
    else {
        t->is_volatile = cJSON_IsTrue(vol);
        if (!(rc = get_string(o, "title", t->origin, true, t->title, sizeof t->title)) &&
            !(rc = get_string(o, "node", t->origin, false, t->node, sizeof t->node)) &&
            !(rc = get_string(o, "bw_unit", t->origin, true, t->bw_unit, sizeof t->bw_unit)))
            rc = parse_fields(o, &k_kinds[0], t, t->is_volatile, t->origin);
    }
    if (rc == QMC_OK && (t->array_rows > 0) != (t->array_cols > 0))
        rc = qmc_fail(QMC_ERR_FORMAT, "%s: give both array_rows and array_cols, or neither", t->origin);
    cJSON_Delete(o);
    return rc;
}

int sim_link_parse(const char *text, size_t len, const char *origin, const char *name, sim_link_tech *t) {
    memset(t, 0, sizeof *t);
    snprintf(t->origin, sizeof t->origin, "%s", origin);
    snprintf(t->name, sizeof t->name, "%s", name);
    cJSON *o = NULL;
    int rc = parse_file(text, len, t->origin, "link", &o);
    if (rc) return rc;
    if (!(rc = get_string(o, "title", t->origin, true, t->title, sizeof t->title)))
        rc = parse_fields(o, &k_kinds[1], t, false, t->origin);
    cJSON_Delete(o);
    return rc;
}

/* Read tech/<name>.json and parse it as a memory (mem) or a link (link). */
static int load_tech(const sim_datapath *dp, const char *name, sim_memory_tech *mem, sim_link_tech *link) {
    char *text = NULL, origin[4096];
    int rc = read_named(dp, "tech", mem ? "memory technology" : "link technology", name, &text, origin, sizeof origin);
    if (rc) return rc;
    rc = mem ? sim_memory_parse(text, strlen(text), origin, name, mem) : sim_link_parse(text, strlen(text), origin, name, link);
    qmc_free(text);
    return rc;
}

static int parse_calibration(const cJSON *arr, sim_platform *p) {
    if (!arr) return QMC_OK;
    if (!cJSON_IsArray(arr)) return qmc_fail(QMC_ERR_FORMAT, "%s: \"calibration\" must be an array", p->origin);
    for (const cJSON *c = arr->child; c; c = c->next) {
        if (p->n_calib >= (int)QMC_ARRAY_LEN(p->calib))
            return qmc_fail(QMC_ERR_FORMAT, "%s: too many calibration points", p->origin);
        sim_calibration *k = &p->calib[p->n_calib++];
        int rc;
        if ((rc = get_string(c, "config", p->origin, true, k->config, sizeof k->config)) ||
            (rc = get_string(c, "arch", p->origin, true, k->arch, sizeof k->arch)) ||
            (rc = get_string(c, "int4_format", p->origin, false, k->int4_format, sizeof k->int4_format)) ||
            (rc = get_string(c, "source", p->origin, true, k->source, sizeof k->source)))
            return rc;
        const char *nums[] = {"prompt", "gen", "measured_decode_tok_s"};
        double *dst[] = {&k->prompt, &k->gen, &k->measured_decode_tok_s};
        for (int i = 0; i < 3; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, nums[i]);
            if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || v->valuedouble > 1e9)
                return qmc_fail(QMC_ERR_FORMAT, "%s: calibration \"%s\" must be a positive number", p->origin, nums[i]);
            *dst[i] = v->valuedouble;
        }
        if (sim_arch_from_name(k->arch) < 0)
            return qmc_fail(QMC_ERR_FORMAT, "%s: calibration names unknown architecture '%s'", p->origin, k->arch);
    }
    return QMC_OK;
}

int sim_platform_parse(const char *text, size_t len, const char *origin, const char *name, sim_platform *p) {
    memset(p, 0, sizeof *p);
    snprintf(p->origin, sizeof p->origin, "%s", origin);
    snprintf(p->name, sizeof p->name, "%s", name);
    cJSON *o = NULL;
    int rc = parse_file(text, len, p->origin, "platform", &o);
    if (rc) return rc;
    if (!(rc = get_string(o, "title", p->origin, true, p->title, sizeof p->title)) &&
        !(rc = get_string(o, "dram", p->origin, true, p->dram, sizeof p->dram)) &&
        !(rc = get_string(o, "flash", p->origin, true, p->flash, sizeof p->flash)) &&
        !(rc = parse_fields(o, &k_kinds[2], p, false, p->origin)))
        rc = parse_calibration(cJSON_GetObjectItemCaseSensitive(o, "calibration"), p);
    cJSON_Delete(o);
    return rc;
}

static int load_platform(const sim_datapath *dp, const char *spec, sim_platform *p) {
    memset(p, 0, sizeof *p);
    char *text = NULL, origin[4096], name[48];
    int rc;
    if (strchr(spec, '/') || qmc_ends_with(spec, ".json")) {
        snprintf(origin, sizeof origin, "%s", spec);
        rc = qmc_read_file(spec, 1 << 20, &text, NULL);
        const char *b = qmc_basename(spec);
        size_t n = strlen(b);
        if (qmc_ends_with(b, ".json")) n -= 5;
        snprintf(name, sizeof name, "%.*s", (int)QMC_MIN(n, sizeof name - 1), b);
    } else {
        rc = read_named(dp, "platforms", "platform", spec, &text, origin, sizeof origin);
        snprintf(name, sizeof name, "%s", spec);
    }
    if (rc) return rc;
    rc = sim_platform_parse(text, strlen(text), origin, name, p);
    qmc_free(text);
    return rc;
}

int sim_hw_load(const sim_datapath *dp, const char *platform, sim_hw *hw) {
    memset(hw, 0, sizeof *hw);
    int rc;
    if ((rc = load_platform(dp, platform, &hw->platform))) return rc;
    if ((rc = load_tech(dp, hw->platform.dram, &hw->dram, NULL)) || (rc = load_tech(dp, "mram", &hw->mram, NULL)) ||
        (rc = load_tech(dp, "reram-mlc3", &hw->reram3, NULL)) || (rc = load_tech(dp, "reram-mlc2", &hw->reram2, NULL)) ||
        (rc = load_tech(dp, hw->platform.flash, &hw->flash, NULL)) || (rc = load_tech(dp, "sram", &hw->sram, NULL)) ||
        (rc = load_tech(dp, "ucie3", NULL, &hw->ucie)) || (rc = load_tech(dp, "nvm-bus", NULL, &hw->nvm_bus)))
        return rc;
    return sim_hw_validate(hw);
}

static int validate_struct(const void *base, const kind_desc *k, const char *label, bool is_volatile) {
    for (int i = 0; i < k->n; i++) {
        const field_desc *f = &k->fields[i];
        double v = *cdfield(base, f);
        if (v == 0 && (f->req == REQ_OPTIONAL || (f->req == REQ_VOLATILE && !is_volatile))) continue;
        if (!in_range(f, v)) return range_error(label, f, v);
    }
    return QMC_OK;
}

int sim_hw_validate(const sim_hw *hw) {
    const sim_memory_tech *m[] = {&hw->dram, &hw->mram, &hw->reram3, &hw->reram2, &hw->flash, &hw->sram};
    int rc;
    if ((rc = validate_struct(&hw->platform, &k_kinds[2], hw->platform.origin, false))) return rc;
    for (size_t i = 0; i < QMC_ARRAY_LEN(m); i++) {
        if ((rc = validate_struct(m[i], &k_kinds[0], m[i]->origin, m[i]->is_volatile))) return rc;
        if ((m[i]->array_rows > 0) != (m[i]->array_cols > 0))
            return qmc_fail(QMC_ERR_RANGE, "%s: give both array_rows and array_cols, or neither", m[i]->origin);
    }
    if ((rc = validate_struct(&hw->ucie, &k_kinds[1], hw->ucie.origin, false)) ||
        (rc = validate_struct(&hw->nvm_bus, &k_kinds[1], hw->nvm_bus.origin, false)))
        return rc;
    if (!hw->dram.is_volatile) return qmc_fail(QMC_ERR_FORMAT, "%s: the platform DRAM must be volatile", hw->dram.origin);
    if (hw->reram3.array_rows <= 0 || hw->reram2.array_rows <= 0)
        return qmc_fail(QMC_ERR_FORMAT, "%s: ReRAM needs array_rows/array_cols", hw->reram3.origin);
    return QMC_OK;
}

double sim_link_bw(const sim_link_tech *l) { return l->gt_s_per_io * 1e9 * l->ios / 8.0; }

const sim_memory_tech *sim_hw_reram(const sim_hw *hw, int cell_bits) {
    return cell_bits == 2 ? &hw->reram2 : &hw->reram3;
}

/* Find the struct and kind behind a tech name used in --set. */
static void *set_target(sim_hw *hw, const char *tech, const kind_desc **k, char (**src)[SIM_SRC_LEN]) {
    if (strcmp(tech, "platform") == 0 || strcmp(tech, hw->platform.name) == 0) {
        *k = &k_kinds[2];
        *src = hw->platform.sources;
        return &hw->platform;
    }
    sim_memory_tech *m[] = {&hw->dram, &hw->mram, &hw->reram3, &hw->reram2, &hw->flash, &hw->sram};
    for (size_t i = 0; i < QMC_ARRAY_LEN(m); i++)
        if (strcmp(tech, m[i]->name) == 0) {
            *k = &k_kinds[0];
            *src = m[i]->sources;
            return m[i];
        }
    sim_link_tech *l[] = {&hw->ucie, &hw->nvm_bus};
    for (size_t i = 0; i < QMC_ARRAY_LEN(l); i++)
        if (strcmp(tech, l[i]->name) == 0) {
            *k = &k_kinds[1];
            *src = l[i]->sources;
            return l[i];
        }
    return NULL;
}

int sim_hw_set(sim_hw *hw, const char *assignments) {
    char buf[2048];
    if (strlen(assignments) >= sizeof buf) return qmc_fail(QMC_ERR_ARG, "--set: too long");
    snprintf(buf, sizeof buf, "%s", assignments);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *dot = strchr(tok, '.'), *eq = strchr(tok, '=');
        if (!dot || !eq || dot > eq)
            return qmc_fail(QMC_ERR_ARG, "--set: '%s' is not TECH.FIELD=VALUE (e.g. mram.read_bw_gib_s=40)", tok);
        *dot = 0;
        *eq = 0;
        const char *tech = tok, *field = dot + 1, *val = eq + 1;
        const kind_desc *k = NULL;
        char(*src)[SIM_SRC_LEN] = NULL;
        void *base = set_target(hw, tech, &k, &src);
        if (!base)
            return qmc_fail(QMC_ERR_ARG,
                            "--set: unknown technology '%s' (platform, %s, mram, reram-mlc3, reram-mlc2, %s, sram, ucie3, nvm-bus)",
                            tech, hw->dram.name, hw->flash.name);
        int fi = -1;
        for (int i = 0; i < k->n; i++)
            if (strcmp(k->fields[i].info.key, field) == 0) fi = i;
        if (fi < 0) {
            char names[512] = "";
            size_t len = 0;
            for (int i = 0; i < k->n && len < sizeof names; i++)
                len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "", k->fields[i].info.key);
            return qmc_fail(QMC_ERR_ARG, "--set: %s has no field '%s' (fields: %s)", tech, field, names);
        }
        double v;
        if (!qmc_parse_double(val, &v)) return qmc_fail(QMC_ERR_ARG, "--set: %s.%s: '%s' is not a number", tech, field, val);
        if (!in_range(&k->fields[fi], v)) {
            char label[96];
            snprintf(label, sizeof label, "--set %s", tech);
            return range_error(label, &k->fields[fi], v);
        }
        *dfield(base, &k->fields[fi]) = v;
        snprintf(src[fi], SIM_SRC_LEN, "set on the command line (--set %s.%s=%s)", tech, field, val);
    }
    return sim_hw_validate(hw);
}
