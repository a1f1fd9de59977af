/* fsfault.c — an LD_PRELOAD library that injects file-system faults into a
 * qmc process (tests/test_crashsafe.c; built as $(BUILD)/tests/fsfault.so):
 *  - QMC_ENOSPC_AFTER=N: a full disk.  Writes to regular files succeed until N
 *    bytes have been written in total, then write()/pwrite() write what still
 *    fits and fail with ENOSPC, as a file system that runs out of blocks does.
 *    Writes to stdin/stdout/stderr (even redirected to files), terminals,
 *    pipes and sockets are not touched.
 *  - QMC_STALL_AFTER=N: a writer frozen mid-file.  The same accounting, but
 *    the write that would pass N bytes writes what fits and the process then
 *    sleeps forever inside write() (for tests that SIGKILL it at a known point
 *    of its output, whatever the speed of the machine).
 *  - QMC_NO_TMPFILE=1: a file system without O_TMPFILE (openat fails with
 *    EOPNOTSUPP), so that the named-temporary path of qmc_out_open runs. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static _Atomic long long g_written;

static long long env_bytes(const char *name) {
    const char *e = getenv(name);
    return e ? atoll(e) : -1;
}

/* How many of n bytes may go to fd (n when unlimited); -1 with errno = ENOSPC when none. */
static ssize_t allowed(int fd, size_t n) {
    const long long stall = env_bytes("QMC_STALL_AFTER");
    const long long lim = stall >= 0 ? stall : env_bytes("QMC_ENOSPC_AFTER");
    struct stat st;
    if (lim < 0 || n == 0 || fd <= 2 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return (ssize_t)n;
    long long before = atomic_fetch_add(&g_written, (long long)n);
    long long room = lim - before;
    if (room <= 0) {
        atomic_fetch_sub(&g_written, (long long)n);
        if (stall >= 0)
            for (;;) pause();
        errno = ENOSPC;
        return -1;
    }
    if ((long long)n > room) {
        atomic_fetch_sub(&g_written, (long long)n - room);
        return (ssize_t)room;
    }
    return (ssize_t)n;
}

ssize_t write(int fd, const void *buf, size_t n) {
    static ssize_t (*real)(int, const void *, size_t);
    if (!real) real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    ssize_t k = allowed(fd, n);
    if (k < 0) return -1;
    return real(fd, buf, (size_t)k);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (!real) real = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    ssize_t k = allowed(fd, n);
    if (k < 0) return -1;
    return real(fd, buf, (size_t)k, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) { return pwrite(fd, buf, n, off); }

static int no_tmpfile(int flags) {
    const char *e = getenv("QMC_NO_TMPFILE");
    return e && *e == '1' && (flags & O_TMPFILE) == O_TMPFILE;
}

int openat(int dirfd, const char *path, int flags, ...) {
    static int (*real)(int, const char *, int, ...);
    if (!real) real = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
    mode_t mode = 0;
    if (flags & (O_CREAT | __O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    if (no_tmpfile(flags)) {
        errno = EOPNOTSUPP;
        return -1;
    }
    return real(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...) __attribute__((alias("openat")));
