/* cli.c — option parsing and helpers shared by the subcommands. */
#include <errno.h>
#include <string.h>

#include "cli/cli.h"

static const cli_opt k_common[] = {
    {"threads", 't', "N", "worker threads (default: all cores)"},
    {"max-alloc", 0, "BYTES", "cap on memory qmc allocates, e.g. 4G (also QMC_MAX_ALLOC)"},
    {"no-mmap", 0, NULL, "read model files into memory instead of mapping them"},
    {"help", 'h', NULL, "show this help"},
    {0},
};

static int n_opts(const cli_opt *o) {
    int n = 0;
    while (o && o[n].name) n++;
    return n;
}

static const cli_opt *opt_at(const cli_command_info *info, int i) {
    int n = n_opts(info->opts);
    return i < n ? &info->opts[i] : &k_common[i - n];
}

static int total_opts(const cli_command_info *info) { return n_opts(info->opts) + n_opts(k_common); }

void cli_usage(const cli_command_info *info, FILE *fp) {
    fprintf(fp, "usage: %s\n\n%s\n", info->synopsis, info->summary);
    if (info->details) fprintf(fp, "\n%s\n", info->details);
    fprintf(fp, "\noptions:\n");
    for (int i = 0; i < total_opts(info); i++) {
        const cli_opt *o = opt_at(info, i);
        char left[64];
        if (o->short_name) snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        else snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(fp, "  %-28s %s\n", left, o->help);
    }
}

int cli_error(const char *cmd, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "qmc %s: %s\n", cmd, msg);
    return 1;
}

int cli_fail(const char *cmd) { return cli_error(cmd, "%s", qmc_errmsg()); }

int cli_parse(const cli_command_info *info, int argc, char **argv, cli_args *a) {
    memset(a, 0, sizeof *a);
    a->info = info;
    const char *cmd = info->name;
    bool only_positional = false;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (only_positional || arg[0] != '-' || arg[1] == 0) {
            if (a->n_positional >= (int)QMC_ARRAY_LEN(a->positional)) {
                cli_error(cmd, "too many arguments");
                return 2;
            }
            a->positional[a->n_positional++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
        }
        int found = -1;
        const char *inline_val = NULL;
        if (arg[1] == '-') {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            size_t nl = eq ? (size_t)(eq - name) : strlen(name);
            for (int k = 0; k < total_opts(info); k++)
                if (strlen(opt_at(info, k)->name) == nl && strncmp(opt_at(info, k)->name, name, nl) == 0) found = k;
            if (eq) inline_val = eq + 1;
        } else if (arg[2] == 0) {
            for (int k = 0; k < total_opts(info); k++)
                if (opt_at(info, k)->short_name == arg[1]) found = k;
        }
        if (found < 0) {
            cli_error(cmd, "unknown option '%s' (see qmc %s --help)", arg, cmd);
            return 2;
        }
        const cli_opt *o = opt_at(info, found);
        const char *val = "1";
        if (o->arg) {
            if (inline_val) val = inline_val;
            else if (i + 1 < argc) val = argv[++i];
            else {
                cli_error(cmd, "option --%s needs a value (%s)", o->name, o->arg);
                return 2;
            }
        } else if (inline_val) {
            cli_error(cmd, "option --%s takes no value", o->name);
            return 2;
        }
        if (found >= (int)QMC_ARRAY_LEN(a->values)) {
            cli_error(cmd, "too many options defined");
            return 2;
        }
        a->values[found] = val;
        a->count[found]++;
    }
    if (cli_flag(a, "help")) {
        cli_usage(info, stdout);
        return 1;
    }
    int64_t threads;
    if (!cli_int(a, "threads", 1, 4096, 0, &threads)) return 2;
    if (threads > 0) qmc_set_threads((int)threads);
    const char *cap = cli_get(a, "max-alloc");
    if (cap) {
        uint64_t bytes;
        if (!qmc_parse_size(cap, &bytes)) {
            cli_error(cmd, "--max-alloc: '%s' is not a size", cap);
            return 2;
        }
        qmc_set_alloc_cap(bytes);
    }
    return 0;
}

static int index_of(const cli_args *a, const char *name) {
    for (int k = 0; k < total_opts(a->info); k++)
        if (strcmp(opt_at(a->info, k)->name, name) == 0) return k;
    return -1;
}

const char *cli_get(const cli_args *a, const char *name) {
    int k = index_of(a, name);
    return k >= 0 ? a->values[k] : NULL;
}

bool cli_flag(const cli_args *a, const char *name) { return cli_get(a, name) != NULL; }

bool cli_int(const cli_args *a, const char *name, int64_t lo, int64_t hi, int64_t def, int64_t *out) {
    const char *v = cli_get(a, name);
    if (!v) {
        *out = def;
        return true;
    }
    if (!qmc_parse_int(v, lo, hi, out)) {
        cli_error(a->info->name, "--%s: '%s' is not an integer in [%lld, %lld]", name, v, (long long)lo, (long long)hi);
        return false;
    }
    return true;
}

bool cli_double(const cli_args *a, const char *name, double lo, double hi, double def, double *out) {
    const char *v = cli_get(a, name);
    if (!v) {
        *out = def;
        return true;
    }
    if (!qmc_parse_double(v, out) || *out < lo || *out > hi) {
        cli_error(a->info->name, "--%s: '%s' is not a number in [%g, %g]", name, v, lo, hi);
        return false;
    }
    return true;
}

qmc_model *cli_load_model(const char *cmd, const char *path, const cli_args *a) {
    if (!path) {
        cli_error(cmd, "no model given (-m MODEL)");
        return NULL;
    }
    qmc_load_opts opts = {0};
    opts.tokenizer_path = cli_get(a, "tokenizer");
    opts.no_mmap = cli_flag(a, "no-mmap");
    qmc_model *m = NULL;
    if (qmc_model_load(path, &opts, &m)) {
        cli_fail(cmd);
        return NULL;
    }
    return m;
}

char *cli_read_text(const char *cmd, const char *path, size_t *len) {
    char *buf = NULL;
    if (qmc_read_file(path, (size_t)1 << 32, &buf, len)) {
        cli_fail(cmd);
        return NULL;
    }
    return buf;
}

bool cli_ppl_opts(const cli_args *a, qmc_ppl_opts *o) {
    const char *proto = cli_get(a, "protocol");
    if (!proto || strcmp(proto, "llamacpp") == 0) o->protocol = QMC_PPL_LLAMACPP;
    else if (strcmp(proto, "full") == 0) o->protocol = QMC_PPL_FULL;
    else {
        cli_error(a->info->name, "--protocol must be llamacpp or full, not '%s'", proto);
        return false;
    }
    int64_t ctx, chunks, batch;
    if (!cli_int(a, "ctx", 2, 1 << 20, 0, &ctx) || !cli_int(a, "chunks", 0, INT64_MAX, 0, &chunks) ||
        !cli_int(a, "batch", 1, 4096, 64, &batch))
        return false;
    o->n_ctx = (int)ctx;
    o->max_chunks = chunks;
    o->batch = (int)batch;
    return true;
}

void cli_ppl_default_ctx(qmc_ppl_opts *o, const qmc_model *m) {
    if (o->n_ctx == 0)
        o->n_ctx = o->protocol == QMC_PPL_LLAMACPP ? QMC_MIN(512, m->cfg.seq_len) : QMC_MIN(m->cfg.seq_len, 2048);
}

char *cli_read_eval_text(const char *cmd, const cli_args *a, size_t *len) {
    const char *file = cli_get(a, "file");
    if (!file) {
        cli_error(cmd, "no text given (-f TEXT)");
        return NULL;
    }
    char *text = cli_read_text(cmd, file, len);
    if (text && cli_flag(a, "strip-cr")) *len = qmc_strip_cr(text, *len);
    return text;
}
