/* data.c — where the simulator's data files come from (see sim.h). */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/sim.h"

#define DATA_FILE_MAX (1 << 20)

static void add_dir(sim_datapath *dp, const char *dir) {
    if (dp->n_dirs < (int)QMC_ARRAY_LEN(dp->dirs) && dir[0])
        snprintf(dp->dirs[dp->n_dirs++], sizeof dp->dirs[0], "%s", dir);
}

int sim_datapath_init(sim_datapath *dp, const char *data_dir) {
    memset(dp, 0, sizeof *dp);
    if (data_dir) {
        if (!qmc_is_dir(data_dir)) return qmc_fail(QMC_ERR_IO, "%s: data directory does not exist", data_dir);
        add_dir(dp, data_dir);
    }
    const char *env = getenv("QMC_DATA");
    if (env && *env) {
        if (!qmc_is_dir(env)) return qmc_fail(QMC_ERR_IO, "%s: QMC_DATA is not a directory", env);
        add_dir(dp, env);
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            char d[4096];
            snprintf(d, sizeof d, "%.4000s/../data", exe);
            if (qmc_is_dir(d)) add_dir(dp, d);
            snprintf(d, sizeof d, "%.4000s/../share/qmc/data", exe);
            if (qmc_is_dir(d)) add_dir(dp, d);
        }
    }
    return QMC_OK;
}

int sim_data_read(const sim_datapath *dp, const char *rel, char **text, char *origin, size_t origin_cap) {
    *text = NULL;
    for (int i = 0; i < dp->n_dirs; i++) {
        char path[8300];
        qmc_path_join(path, sizeof path, dp->dirs[i], rel);
        if (!qmc_file_exists(path)) continue;
        if (origin) snprintf(origin, origin_cap, "%s", path);
        return qmc_read_file(path, DATA_FILE_MAX, text, NULL);
    }
    for (int i = 0; i < sim_embedded_count; i++)
        if (strcmp(sim_embedded_files[i].path, rel) == 0) {
            *text = qmc_strdup(sim_embedded_files[i].text);
            if (!*text) return QMC_ERR_NOMEM;
            if (origin) snprintf(origin, origin_cap, "embedded:%s", rel);
            return QMC_OK;
        }
    return qmc_fail(QMC_ERR_IO, "%s: no such data file", rel);
}

bool sim_data_has(const sim_datapath *dp, const char *rel) {
    for (int i = 0; i < dp->n_dirs; i++) {
        char path[8300];
        qmc_path_join(path, sizeof path, dp->dirs[i], rel);
        if (qmc_file_exists(path)) return true;
    }
    for (int i = 0; i < sim_embedded_count; i++)
        if (strcmp(sim_embedded_files[i].path, rel) == 0) return true;
    return false;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static void add_name(char names[][64], int *n, int cap, const char *file) {
    if (!qmc_ends_with(file, ".json") || *n >= cap) return;
    size_t len = strlen(file) - 5;
    if (len == 0 || len >= 64) return;
    char stem[64];
    memcpy(stem, file, len);
    stem[len] = 0;
    for (int i = 0; i < *n; i++)
        if (strcmp(names[i], stem) == 0) return;
    memcpy(names[(*n)++], stem, len + 1);
}

void sim_data_names(const sim_datapath *dp, const char *subdir, char *out, size_t cap) {
    char names[128][64];
    int n = 0;
    size_t sl = strlen(subdir);
    for (int i = 0; i < sim_embedded_count; i++) {
        const char *p = sim_embedded_files[i].path;
        if (strncmp(p, subdir, sl) == 0 && p[sl] == '/') add_name(names, &n, 128, p + sl + 1);
    }
    for (int i = 0; i < dp->n_dirs; i++) {
        char path[4200];
        qmc_path_join(path, sizeof path, dp->dirs[i], subdir);
        DIR *d = opendir(path);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d))) add_name(names, &n, 128, e->d_name);
        closedir(d);
    }
    const char *ptr[128];
    for (int i = 0; i < n; i++) ptr[i] = names[i];
    qsort(ptr, (size_t)n, sizeof ptr[0], cmp_str);
    out[0] = 0;
    size_t len = 0;
    for (int i = 0; i < n && len + 1 < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : "", ptr[i]);
}
