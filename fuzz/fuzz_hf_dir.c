/* fuzz_hf_dir.c — a whole Hugging Face directory through qmc_model_load:
 * config.json against the safetensors tensors (names, shapes, dtypes,
 * alignment copies), tokenizer.json with tokenizer_config.json beside it.
 * The input holds the files back to back, each after a line
 * "--qmc-fuzz-file NAME--" (NAME one of the four); they are written to a
 * private directory (in /dev/shm when it exists) and the model is loaded from
 * there, then used like the other model targets. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "model/model.h"

#define MARK "--qmc-fuzz-file "

static const char *const k_names[] = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"};

static char g_dir[256];

static void remove_dir(void) {
    char path[512];
    for (int k = 0; k < 4; k++) {
        snprintf(path, sizeof path, "%s/%s", g_dir, k_names[k]);
        unlink(path);
    }
    rmdir(g_dir);
}

static const char *work_dir(void) {
    char *dir = g_dir;
    if (!dir[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(dir, sizeof g_dir, "%s/qmc-fuzz-hf-%d", base, (int)getpid());
        if (mkdir(dir, 0700) != 0 && access(dir, W_OK) != 0) fuzz_abort("cannot create %s", dir);
        atexit(remove_dir);
    }
    return dir;
}

static void write_part(const char *dir, int k, const uint8_t *p, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, k_names[k]);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) fuzz_abort("cannot write %s", path);
}

QMC_FUZZ_TARGET(hf_dir) {
    const char *dir = work_dir();
    char path[512];
    for (int k = 0; k < 4; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, k_names[k]);
        unlink(path);
    }
    /* split at the markers */
    const uint8_t *end = data + size, *p = data;
    while (p < end) {
        const uint8_t *m = memmem(p, (size_t)(end - p), MARK, strlen(MARK));
        if (!m) break;
        const uint8_t *name = m + strlen(MARK), *nl = memchr(name, '\n', (size_t)(end - name));
        if (!nl) break;
        const uint8_t *body = nl + 1, *next = memmem(body, (size_t)(end - body), MARK, strlen(MARK));
        if (!next) next = end;
        for (int k = 0; k < 4; k++) {
            size_t len = strlen(k_names[k]);
            if ((size_t)(nl - name) == len + 2 && memcmp(name, k_names[k], len) == 0 && memcmp(name + len, "--", 2) == 0)
                write_part(dir, k, body, (size_t)(next - body));
        }
        p = next;
    }
    qmc_model *m = NULL;
    int rc = qmc_model_load(dir, NULL, &m);
    fuzz_check_named(rc, "qmc_model_load", dir); /* errors name the directory or a file in it */
    if (rc) return;
    fuzz_exercise_model(m);
    qmc_model_free(m);
}
