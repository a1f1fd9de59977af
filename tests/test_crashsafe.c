/* test_crashsafe.c — outputs survive a killed writer and a full disk.
 *
 * qmc writes every output to a temporary in the destination's directory
 * (O_TMPFILE, or a hidden named file where the file system lacks it), fsyncs
 * it and renames it into place (util/file.c).  These tests attack that from
 * outside the process:
 *  - SIGKILL in the middle of a large write (`qmc synth`, hundreds of MB):
 *    the previous file is byte-identical afterwards and nothing else appears
 *    under the output's name;
 *    and in `qmc quantize` (frozen by the fault library at a known byte of its
 *    output, then killed);
 *  - ENOSPC after N bytes, for many N, through an LD_PRELOAD write() wrapper
 *    (tests/fsfault.c; works everywhere) on `qmc convert` to GGUF and to a
 *    Hugging Face directory and on `qmc quantize`: one-line error, exit 1, previous file intact, no
 *    temporary left, and the write succeeds once N covers the whole file;
 *  - a real full disk: a tmpfs too small for the output, when the test may
 *    mount one (root with CAP_SYS_ADMIN; skipped otherwise).
 * Each runs with O_TMPFILE and with the named-temporary fallback. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

extern char **environ;

static const char *STORIES = "models/stories260K/stories260K.bin";

/* ---- helpers ---------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len) {
    char *buf = NULL;
    if (qmc_read_file(path, (size_t)1 << 30, &buf, len)) fail_msg("%s", qmc_errmsg());
    return buf;
}

static bool same_bytes(const char *path, const char *buf, size_t len) {
    size_t n;
    char *now = NULL;
    if (qmc_read_file(path, (size_t)1 << 30, &now, &n)) return false;
    bool same = n == len && memcmp(now, buf, len) == 0;
    qmc_free(now);
    return same;
}

static const char *make_dir(const char *name) {
    const char *d = tu_tmp(name);
    if (mkdir(d, 0755) != 0 && errno != EEXIST) fail_msg("mkdir %s: %s", d, strerror(errno));
    return d;
}

/* Entries of dir other than those listed (NULL-terminated); the first extra
 * name goes to extra (empty if none).  Returns the count of extras. */
static int extra_entries(const char *dir, const char *const *allowed, char *extra, size_t cap) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    extra[0] = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        bool ok = false;
        for (int i = 0; allowed[i]; i++) ok |= strcmp(e->d_name, allowed[i]) == 0;
        if (!ok && n++ == 0) snprintf(extra, cap, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

/* The fault-injection library next to the qmc binary's build ($(BUILD)/tests/fsfault.so). */
static const char *fsfault(void) {
    static char p[4096];
    snprintf(p, sizeof p, "%s", tu_qmc());
    char *slash = strrchr(p, '/');
    snprintf(slash ? slash + 1 : p, sizeof p - (size_t)(slash ? slash + 1 - p : 0), "tests/fsfault.so");
    if (access(p, R_OK) != 0) fail_msg("%s is missing (built by make test)", p);
    return p;
}

/* Environment prefix for a qmc run with injected faults. */
static const char *fault_env(long long enospc_after, bool no_tmpfile) {
    static char env[4400];
    snprintf(env, sizeof env, "ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=%s QMC_ENOSPC_AFTER=%lld QMC_NO_TMPFILE=%d",
             fsfault(), enospc_after, no_tmpfile ? 1 : 0);
    return env;
}

/* out must be exactly one line holding every needle. */
static void expect_one_line(const char *out, const char *n1, const char *n2) {
    size_t len = strlen(out);
    if (len == 0 || strchr(out, '\n') != out + len - 1 || !strstr(out, n1) || (n2 && !strstr(out, n2)))
        fail_msg("expected one line with '%s'%s%s, got: %s", n1, n2 ? " and " : "", n2 ? n2 : "", out);
}

/* ---- ENOSPC through the write() wrapper -------------------------------------------- */

/* `qmc CMD ARGS` writing out (in dir, holding only out) with the disk full
 * after n bytes, for a spread of n: exit 1 with one line naming out and
 * ENOSPC, the previous file byte-identical, no temporary left; with room for
 * exactly the whole file it succeeds with the bytes of ref (the same command
 * run unconstrained). */
static void enospc_cases(const char *cmd, const char *args, const char *dir, const char *out, const char *ref,
                         bool no_tmpfile) {
    size_t prev_len, new_len;
    char *prev = slurp(out, &prev_len), *want = slurp(ref, &new_len);
    assert_true(new_len > 70000 && new_len != prev_len);
    const long long cuts[] = {0, 1, 4095, 65536, 65537, (long long)new_len / 2, (long long)new_len - 1};
    const char *const allowed[] = {strrchr(out, '/') + 1, NULL};
    char extra[256], *msg, prefix[64];
    snprintf(prefix, sizeof prefix, "qmc %s: ", cmd);
    for (size_t i = 0; i < QMC_ARRAY_LEN(cuts); i++) {
        int rc = tu_run(&msg, "%s %s %s %s", fault_env(cuts[i], no_tmpfile), tu_qmc(), cmd, args);
        if (rc != 1) fail_msg("%s, ENOSPC after %lld bytes: exit %d: %s", cmd, cuts[i], rc, msg);
        expect_one_line(msg, prefix, "No space left on device");
        assert_non_null(strstr(msg, out));
        free(msg);
        if (!same_bytes(out, prev, prev_len)) fail_msg("%s, ENOSPC after %lld bytes changed the previous file", cmd, cuts[i]);
        if (extra_entries(dir, allowed, extra, sizeof extra))
            fail_msg("%s, ENOSPC after %lld bytes left '%s' in the output directory", cmd, cuts[i], extra);
    }
    assert_int_equal(tu_run(NULL, "%s %s %s %s", fault_env((long long)new_len, no_tmpfile), tu_qmc(), cmd, args), 0);
    assert_true(same_bytes(out, want, new_len));
    assert_int_equal(extra_entries(dir, allowed, extra, sizeof extra), 0);
    qmc_free(prev);
    qmc_free(want);
}

/* One ENOSPC scenario: `qmc CMD PREV` writes the previous file NAME in a
 * fresh directory, `qmc CMD NEXT` (PREV/NEXT: "%s" for the model, then "%s"
 * for the output) the reference of the new one, then enospc_cases. */
typedef struct {
    const char *cmd, *name, *prev, *next;
} enospc_scenario;

static void enospc_run(const enospc_scenario *sc, bool no_tmpfile) {
    char dname[64], out[4200], ref[4200], args[8600];
    snprintf(dname, sizeof dname, "enospc-%s%s", sc->cmd, no_tmpfile ? "-named" : "");
    const char *dir = make_dir(dname);
    snprintf(out, sizeof out, "%s/%s", dir, sc->name);
    snprintf(ref, sizeof ref, "%s.ref", dir);
    snprintf(args, sizeof args, sc->prev, STORIES, out);
    assert_int_equal(tu_run(NULL, "%s %s %s", tu_qmc(), sc->cmd, args), 0);
    snprintf(args, sizeof args, sc->next, STORIES, ref);
    assert_int_equal(tu_run(NULL, "%s %s %s", tu_qmc(), sc->cmd, args), 0);
    snprintf(args, sizeof args, sc->next, STORIES, out);
    enospc_cases(sc->cmd, args, dir, out, ref, no_tmpfile);
}

/* qmc convert to GGUF (F16) over a previous F32 output; qmc quantize (QMC
 * 3/5-bit planes) over a previous RTN output. */
static const enospc_scenario k_convert = {"convert", "model.gguf", "%s -o %s --outtype f32", "%s -o %s --outtype f16"};
static const enospc_scenario k_quantize = {"quantize", "model.qmc.gguf", "-q -t 1 -m %s -o %s --method rtn",
                                           "-q -t 1 -m %s -o %s --grid 10"};
static void enospc_gguf(bool no_tmpfile) { enospc_run(&k_convert, no_tmpfile); }
static void enospc_quantize(bool no_tmpfile) { enospc_run(&k_quantize, no_tmpfile); }

static void test_enospc_gguf(void **state) { enospc_gguf(false); }
static void test_enospc_gguf_named_tmp(void **state) { enospc_gguf(true); }
static void test_enospc_quantize(void **state) { enospc_quantize(false); }
static void test_enospc_quantize_named_tmp(void **state) { enospc_quantize(true); }

/* A Hugging Face directory is several files: they are written into a hidden
 * staging directory and moved into place only when all are complete, so a
 * full disk at any point leaves every previous file as it was. */
static void test_enospc_hf_dir(void **state) {
    const char *dir = make_dir("hf-out");
    const char *ref = tu_tmp("hf-ref");
    static const char *const files[] = {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
                                        "tokenizer_config.json", NULL};
    assert_int_equal(tu_run(NULL, "%s convert %s -o %s --format hf --outtype f32", tu_qmc(), STORIES, dir), 0);
    assert_int_equal(tu_run(NULL, "%s convert %s -o %s --format hf --outtype f16", tu_qmc(), STORIES, ref), 0);
    char *prev[5], *next[5];
    size_t prev_len[5], next_len[5], total = 0;
    char path[4200];
    for (int i = 0; files[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        prev[i] = slurp(path, &prev_len[i]);
        snprintf(path, sizeof path, "%s/%s", ref, files[i]);
        next[i] = slurp(path, &next_len[i]);
        total += next_len[i];
    }
    /* cuts inside the weights (written first), inside the tokenizer files after
     * them, and one byte short of everything */
    const long long cuts[] = {0, 4096, (long long)next_len[2] / 2, (long long)next_len[2] + 100, (long long)total - 1};
    char extra[256], *msg;
    for (size_t c = 0; c < QMC_ARRAY_LEN(cuts); c++) {
        int rc = tu_run(&msg, "%s %s convert %s -o %s --format hf --outtype f16", fault_env(cuts[c], false), tu_qmc(), STORIES, dir);
        if (rc != 1) fail_msg("ENOSPC after %lld bytes: exit %d: %s", cuts[c], rc, msg);
        expect_one_line(msg, "qmc convert: ", "No space left on device");
        if (strstr(msg, ".qmc-new")) fail_msg("the error names the staging directory: %s", msg);
        free(msg);
        for (int i = 0; files[i]; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, files[i]);
            if (!same_bytes(path, prev[i], prev_len[i])) fail_msg("ENOSPC after %lld bytes changed %s", cuts[c], files[i]);
        }
        if (extra_entries(dir, files, extra, sizeof extra)) fail_msg("ENOSPC left '%s' in %s", extra, dir);
    }
    /* with room for everything, every file is replaced */
    assert_int_equal(tu_run(NULL, "%s %s convert %s -o %s --format hf --outtype f16", fault_env((long long)total, false), tu_qmc(),
                            STORIES, dir),
                     0);
    for (int i = 0; files[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        assert_true(same_bytes(path, next[i], next_len[i]));
        qmc_free(prev[i]);
        qmc_free(next[i]);
    }
    assert_int_equal(extra_entries(dir, files, extra, sizeof extra), 0);
}

/* ---- SIGKILL mid-write ------------------------------------------------------------- */

static long long proc_wchar(pid_t pid) {
    char p[64], line[128];
    snprintf(p, sizeof p, "/proc/%d/io", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f) return -1;
    long long v = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "wchar: %lld", &v) == 1) break;
    fclose(f);
    return v;
}

/* Does pid have a file of dir open (the temporary output)? */
static bool has_file_in(pid_t pid, const char *dir) {
    char fdpath[64], target[4300], real_dir[4096];
    if (!realpath(dir, real_dir)) return false;
    snprintf(fdpath, sizeof fdpath, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(fdpath);
    if (!d) return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        char link[4400];
        snprintf(link, sizeof link, "%s/%s", fdpath, e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0) continue;
        target[n] = 0;
        found = strncmp(target, real_dir, strlen(real_dir)) == 0 && target[strlen(real_dir)] == '/';
    }
    closedir(d);
    return found;
}

/* Run argv (a qmc command writing out, in dir) and SIGKILL it once it has
 * written at least kill_at bytes while its temporary is open in dir.  With
 * stall (QMC_STALL_AFTER through the fault library) the writer freezes at
 * exactly kill_at bytes of its output, so the kill lands mid-file however
 * fast the machine writes; without, the test polls /proc/PID/io.  Then: the
 * previous file (prev) is byte-identical and loads, and nothing but at most
 * one hidden named temporary is left. */
static void sigkill_writer(char *const argv[], const char *dir, const char *out, long long kill_at, bool stall,
                           bool no_tmpfile) {
    size_t prev_len;
    char *prev = slurp(out, &prev_len);
    /* the environment, plus the fault library where needed */
    int n_env = 0;
    while (environ[n_env]) n_env++;
    char **envp = calloc((size_t)n_env + 5, sizeof(char *));
    for (int i = 0; i < n_env; i++) envp[i] = environ[i];
    char preload[4200], stall_at[64];
    if (no_tmpfile || stall) {
        snprintf(preload, sizeof preload, "LD_PRELOAD=%s", fsfault());
        envp[n_env++] = preload;
        envp[n_env++] = "ASAN_OPTIONS=verify_asan_link_order=0";
    }
    if (no_tmpfile) envp[n_env++] = "QMC_NO_TMPFILE=1";
    if (stall) {
        snprintf(stall_at, sizeof stall_at, "QMC_STALL_AFTER=%lld", kill_at);
        envp[n_env++] = stall_at;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, argv, envp), 0);
    posix_spawn_file_actions_destroy(&fa);
    free(envp);

    bool killed = false, saw_temp = false;
    long long written = 0;
    for (int i = 0; i < 120000 && !killed; i++) { /* up to 120 s (sanitizer builds) */
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) fail_msg("qmc %s exited (status %d) before it could be killed", argv[1], st);
        written = proc_wchar(pid);
        if (written >= kill_at) {
            saw_temp = has_file_in(pid, dir);
            kill(pid, SIGKILL);
            killed = true;
        } else usleep(1000);
    }
    if (!killed) {
        kill(pid, SIGKILL);
        fail_msg("qmc %s wrote only %lld bytes in 120 s", argv[1], written);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    assert_true(saw_temp); /* it was killed with a partial output open in the directory */

    if (!same_bytes(out, prev, prev_len)) fail_msg("the killed writer changed %s", out);
    const char *base = strrchr(out, '/') + 1;
    const char *const allowed[] = {base, NULL};
    char extra[256], hidden[300];
    snprintf(hidden, sizeof hidden, ".%s.tmp.", base);
    int n_extra = extra_entries(dir, allowed, extra, sizeof extra);
    if (!no_tmpfile && n_extra) fail_msg("the killed writer left '%s' (O_TMPFILE leaves nothing)", extra);
    /* named temporaries cannot be removed by a killed process: at most one
     * hidden ".NAME.tmp.*" remains, never anything under the output's name */
    if (no_tmpfile && (n_extra > 1 || (n_extra == 1 && strncmp(extra, hidden, strlen(hidden)) != 0)))
        fail_msg("the killed writer left '%s'", extra);
    /* and the file is still a loadable model */
    qmc_model *m = NULL;
    assert_int_equal(qmc_model_load(out, NULL, &m), 0);
    qmc_model_free(m);
    qmc_free(prev);
}

/* `qmc synth` writing a ~60 MB model, killed once it has written 4 MB. */
static void sigkill_synth(bool no_tmpfile) {
    const char *dir = make_dir(no_tmpfile ? "kill-named" : "kill");
    char out[4200];
    snprintf(out, sizeof out, "%s/model.gguf", dir);
    assert_int_equal(tu_run(NULL, "%s convert %s -o %s", tu_qmc(), STORIES, out), 0);
    char *argv[] = {(char *)tu_qmc(), "synth", "--shape", "stories15m", "-o", out, NULL};
    sigkill_writer(argv, dir, out, 4 << 20, false, no_tmpfile);
}

/* `qmc quantize` (QMC 3/5-bit, ~230 KB) over a previous RTN output, frozen
 * and killed after 100000 bytes of its output. */
static void sigkill_quantize(bool no_tmpfile) {
    const char *dir = make_dir(no_tmpfile ? "kill-quant-named" : "kill-quant");
    char out[4200];
    snprintf(out, sizeof out, "%s/model.qmc.gguf", dir);
    assert_int_equal(tu_run(NULL, "%s quantize -q -t 1 -m %s -o %s --method rtn", tu_qmc(), STORIES, out), 0);
    char *argv[] = {(char *)tu_qmc(), "quantize", "-q", "-t", "1", "-m", (char *)STORIES, "-o", out, "--grid", "10", NULL};
    sigkill_writer(argv, dir, out, 100000, true, no_tmpfile);
}

static void test_sigkill_synth(void **state) { sigkill_synth(false); }
static void test_sigkill_synth_named_tmp(void **state) { sigkill_synth(true); }
static void test_sigkill_quantize(void **state) { sigkill_quantize(false); }
static void test_sigkill_quantize_named_tmp(void **state) { sigkill_quantize(true); }

/* ---- a real full disk ---------------------------------------------------------------- */

static char g_mnt[4096];

static int unmount_tmpfs(void **state) {
    if (g_mnt[0]) {
        umount2(g_mnt, MNT_DETACH);
        g_mnt[0] = 0;
    }
    return 0;
}

/* A 1.5 MB tmpfs holding the 1.06 MB F32 model: a second copy cannot fit. */
static void test_tmpfs_full(void **state) {
    const char *dir = make_dir("tmpfs");
    if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1536k") != 0) {
        print_message("skip: cannot mount a tmpfs here (%s); the write() wrapper tests cover ENOSPC\n", strerror(errno));
        skip();
    }
    snprintf(g_mnt, sizeof g_mnt, "%s", dir);
    char out[4200];
    snprintf(out, sizeof out, "%s/model.gguf", dir);
    assert_int_equal(tu_run(NULL, "%s convert %s -o %s --outtype f32", tu_qmc(), STORIES, out), 0);
    size_t prev_len;
    char *prev = slurp(out, &prev_len);
    struct statvfs before, after;
    assert_int_equal(statvfs(dir, &before), 0);
    for (int named = 0; named < 2; named++) {
        char *msg;
        int rc = named ? tu_run(&msg, "%s %s convert %s -o %s --outtype f32", fault_env(-1, true), tu_qmc(), STORIES, out)
                       : tu_run(&msg, "%s convert %s -o %s --outtype f32", tu_qmc(), STORIES, out);
        if (rc != 1) fail_msg("full tmpfs: exit %d: %s", rc, msg);
        expect_one_line(msg, out, "No space left on device");
        free(msg);
        assert_true(same_bytes(out, prev, prev_len));
        const char *const allowed[] = {"model.gguf", NULL};
        char extra[256];
        if (extra_entries(dir, allowed, extra, sizeof extra)) fail_msg("full tmpfs: '%s' left behind", extra);
        assert_int_equal(statvfs(dir, &after), 0);
        assert_int_equal(after.f_bfree, before.f_bfree); /* the partial temporary's blocks are freed */
    }
    qmc_free(prev);
}

int main(void) {
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enospc_gguf),
        cmocka_unit_test(test_enospc_gguf_named_tmp),
        cmocka_unit_test(test_enospc_quantize),
        cmocka_unit_test(test_enospc_quantize_named_tmp),
        cmocka_unit_test(test_enospc_hf_dir),
        cmocka_unit_test(test_sigkill_synth),
        cmocka_unit_test(test_sigkill_synth_named_tmp),
        cmocka_unit_test(test_sigkill_quantize),
        cmocka_unit_test(test_sigkill_quantize_named_tmp),
        cmocka_unit_test_teardown(test_tmpfs_full, unmount_tmpfs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
