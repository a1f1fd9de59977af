/* lookup.c — finding device profiles by name or path (search order in profile.h). */
#include <ctype.h>
#include <math.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/profile.h"
#include "util/util.h"

#define MAX_DIRS 4

/* Directories searched for NAME.json, in order. */
static int search_dirs(const char *dir, char out[MAX_DIRS][4096]) {
    int n = 0;
    if (dir && dir[0]) snprintf(out[n++], 4096, "%s", dir);
    const char *env = getenv("QMC_DATA");
    if (env && env[0]) qmc_path_join(out[n++], 4096, env, "devices");
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(out[n++], 4096, "%.4000s/../data/devices", exe);
            snprintf(out[n++], 4096, "%.4000s/../share/qmc/devices", exe);
        }
    }
    return n;
}

static bool valid_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n >= 64) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.') return false;
    return true;
}

/* 1 = found and loaded, 0 = no profile of that name, < 0 = it exists but is bad. */
static int find_name(const char *name, const char *dir, qmc_device_profile *p) {
    char dirs[MAX_DIRS][4096];
    int nd = search_dirs(dir, dirs);
    char file[80];
    snprintf(file, sizeof file, "%s.json", name);
    for (int i = 0; i < nd; i++) {
        char path[4200];
        qmc_path_join(path, sizeof path, dirs[i], file);
        if (qmc_file_exists(path) && !qmc_is_dir(path)) {
            int rc = qmc_device_read_file(path, p);
            return rc ? rc : 1;
        }
    }
    for (int i = 0; qmc_builtin_profiles[i].name; i++)
        if (strcmp(qmc_builtin_profiles[i].name, name) == 0) {
            char origin[96];
            snprintf(origin, sizeof origin, "builtin:%s", name);
            int rc = qmc_device_parse(qmc_builtin_profiles[i].json, strlen(qmc_builtin_profiles[i].json), origin, p);
            return rc ? rc : 1;
        }
    return 0;
}

/* Peel "-Nb" off name (in place); returns N or 0. */
static int peel_bits(char *name) {
    size_t n = strlen(name);
    if (n < 4 || name[n - 1] != 'b' || !isdigit((unsigned char)name[n - 2]) || name[n - 3] != '-') return 0;
    int bits = name[n - 2] - '0';
    if (bits < 1 || bits > QMC_CELL_MAX_BITS) return 0;
    name[n - 3] = 0;
    return bits;
}

bool qmc_device_parse_time(const char *s, bool unit_required, double *seconds) {
    size_t n = strlen(s);
    if (n == 0 || n >= 32 || !isdigit((unsigned char)s[0])) return false;
    char num[32];
    memcpy(num, s, n + 1);
    double mul = 1;
    char unit = num[n - 1];
    if (unit == 's' || unit == 'm' || unit == 'h' || unit == 'd') {
        mul = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400;
        num[n - 1] = 0;
    } else if (unit_required) {
        return false;
    }
    double v;
    if (!qmc_parse_double(num, &v) || !(v > 0)) return false;
    *seconds = v * mul;
    return isfinite(*seconds);   /* "1e308d" overflows to inf */
}

/* Peel "-TIME" (with a unit) off name (in place); returns seconds or 0. */
static double peel_time(char *name) {
    char *dash = strrchr(name, '-');
    double t;
    if (!dash || dash == name || !qmc_device_parse_time(dash + 1, true, &t)) return 0;
    *dash = 0;
    return t;
}

int qmc_device_load(const char *spec, const char *dir, qmc_device_profile *p, qmc_device_name_sel *sel) {
    memset(sel, 0, sizeof *sel);
    if (!spec || !spec[0]) return qmc_fail(QMC_ERR_ARG, "no device profile given");
    if (strchr(spec, '/') || qmc_ends_with(spec, ".json")) return qmc_device_read_file(spec, p);
    int rc = QMC_ERR_ARG;
    if (valid_name(spec)) {
        char name[64];
        snprintf(name, sizeof name, "%s", spec);
        if ((rc = find_name(name, dir, p)) != 0) return rc < 0 ? rc : QMC_OK;
        int bits = peel_bits(name);
        if (bits && (rc = find_name(name, dir, p)) != 0) {
            sel->cell_bits = bits;
            return rc < 0 ? rc : QMC_OK;
        }
        double t = peel_time(name);
        if (t > 0 && (rc = find_name(name, dir, p)) != 0) {
            sel->cell_bits = bits;
            sel->retention_s = t;
            return rc < 0 ? rc : QMC_OK;
        }
    }
    char known[1024];
    qmc_device_list(dir, known, sizeof known);
    for (char *c = known; *c; c++)
        if (*c == '\n') *c = c[1] ? ' ' : 0;
    return qmc_fail(QMC_ERR_ARG,
                    "unknown device profile '%s' (known: %s; names take -Nb and -TIME suffixes, e.g. wan2022-1s-2b; "
                    "or give the path of a profile .json file)",
                    spec, known);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

int qmc_device_list(const char *dir, char *buf, size_t cap) {
    enum { MAX_NAMES = 256 };
    char store[MAX_NAMES][64];
    const char *names[MAX_NAMES];
    int n = 0;
    char dirs[MAX_DIRS][4096];
    int nd = search_dirs(dir, dirs);
    for (int i = 0; i < nd && n < MAX_NAMES; i++) {
        DIR *d = opendir(dirs[i]);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d)) && n < MAX_NAMES) {
            size_t len = strlen(e->d_name);
            if (len <= 5 || len - 5 >= 64 || !qmc_ends_with(e->d_name, ".json")) continue;
            memcpy(store[n], e->d_name, len - 5);
            store[n][len - 5] = 0;
            if (valid_name(store[n])) names[n] = store[n], n++;
        }
        closedir(d);
    }
    for (int i = 0; qmc_builtin_profiles[i].name && n < MAX_NAMES; i++) names[n++] = qmc_builtin_profiles[i].name;
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    size_t w = 0;
    if (cap) buf[0] = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && strcmp(names[i], names[i - 1]) == 0) continue;
        int k = snprintf(buf + w, cap - w, "%s\n", names[i]);
        if (k < 0 || (size_t)k >= cap - w) break;
        w += (size_t)k;
    }
    return n;
}
