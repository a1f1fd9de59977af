/* file.c — mapped input files and crash-safe output files. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static int map_or_read(const char *path, bool copy, qmc_mapped_file *f);

int qmc_map_file(const char *path, qmc_mapped_file *f) { return map_or_read(path, false, f); }
int qmc_read_whole_file(const char *path, qmc_mapped_file *f) { return map_or_read(path, true, f); }

static int map_or_read(const char *path, bool copy, qmc_mapped_file *f) {
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return qmc_fail(QMC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return qmc_fail(QMC_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return qmc_fail(QMC_ERR_IO, "%s: is a directory", path);
    }
    f->size = (size_t)st.st_size;
    if (f->size == 0) {
        close(fd);
        f->data = (const uint8_t *)"";
        return QMC_OK;
    }
    void *p = copy ? MAP_FAILED : mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        /* asked to copy, or not mappable (a pipe, some FUSE files): read it instead */
        uint8_t *buf = qmc_alloc(f->size, 1);
        if (!buf) {
            close(fd);
            return qmc_error_prefix(QMC_ERR_NOMEM, "%s", path);
        }
        size_t got = 0;
        while (got < f->size) {
            ssize_t r = read(fd, buf + got, f->size - got);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                int e = errno;
                qmc_free(buf);
                close(fd);
                return qmc_fail(QMC_ERR_IO, "%s: read failed: %s", path, r ? strerror(e) : "short file");
            }
            got += (size_t)r;
        }
        close(fd);
        f->data = buf;
        f->mapped = false;
        return QMC_OK;
    }
    close(fd);
    f->data = p;
    f->mapped = true;
    return QMC_OK;
}

void qmc_unmap_file(qmc_mapped_file *f) {
    if (!f->data || f->size == 0) {
        f->data = NULL;
        return;
    }
    if (f->mapped)
        munmap((void *)f->data, f->size);
    else
        qmc_free((void *)f->data);
    f->data = NULL;
    f->size = 0;
}

int qmc_read_file(const char *path, size_t max, char **out, size_t *len) {
    *out = NULL;
    if (len) *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return qmc_fail(QMC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(fp);
        return qmc_fail(QMC_ERR_IO, "%s: is a directory", path);
    }
    size_t cap = 1 << 16, n = 0;
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
        fclose(fp);
        return qmc_fail(QMC_ERR_RANGE, "%s: file is %lld bytes, more than the %zu allowed", path,
                        (long long)st.st_size, max);
    }
    if (S_ISREG(st.st_mode)) cap = (size_t)st.st_size + 1;
    char *buf = qmc_alloc(cap, 1);
    if (!buf) {
        fclose(fp);
        return qmc_error_prefix(QMC_ERR_NOMEM, "%s", path);
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > max) {
                qmc_free(buf);
                fclose(fp);
                return qmc_fail(QMC_ERR_RANGE, "%s: more than the %zu bytes allowed", path, max);
            }
            char *nb = qmc_realloc(buf, cap * 2, 1);
            if (!nb) {
                qmc_free(buf);
                fclose(fp);
                return qmc_error_prefix(QMC_ERR_NOMEM, "%s", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - 1 - n, fp);
        n += r;
        if (r == 0) break;
    }
    int err = ferror(fp);
    fclose(fp);
    if (err) {
        qmc_free(buf);
        return qmc_fail(QMC_ERR_IO, "%s: read error", path);
    }
    if (n > max) {
        qmc_free(buf);
        return qmc_fail(QMC_ERR_RANGE, "%s: more than the %zu bytes allowed", path, max);
    }
    buf[n] = 0;
    *out = buf;
    if (len) *len = n;
    return QMC_OK;
}

bool qmc_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool qmc_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- crash-safe output ------------------------------------------------------ */

struct qmc_out {
    int fd;
    int dirfd;
    bool anonymous;        /* O_TMPFILE: nothing on disk until commit */
    int err;               /* first errno seen, sticky */
    uint64_t pos;
    size_t fill;
    char path[4096];
    char tmp[4096 + 32];
    uint8_t buf[1 << 16];
};

static void dir_of(const char *path, char *dir, size_t cap) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    snprintf(dir, cap, "%s", dirname(tmp));
}

int qmc_out_open(const char *path, qmc_out **out) {
    *out = NULL;
    if (strlen(path) >= 4000) return qmc_fail(QMC_ERR_ARG, "%s: path too long", path);
    if (qmc_is_dir(path)) return qmc_fail(QMC_ERR_IO, "%s: is a directory", path);
    qmc_out *o = qmc_alloc(1, sizeof *o);
    if (!o) return qmc_error_prefix(QMC_ERR_NOMEM, "%s", path);
    snprintf(o->path, sizeof o->path, "%s", path);
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    o->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (o->dirfd < 0) {
        int e = errno;
        qmc_free(o);
        return qmc_fail(QMC_ERR_IO, "%s: cannot open directory %s: %s", path, dir, strerror(e));
    }
#ifdef O_TMPFILE
    o->fd = openat(o->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
    if (o->fd >= 0) o->anonymous = true;
#else
    o->fd = -1;
#endif
    if (o->fd < 0) {
        const char *base = qmc_basename(path);
        snprintf(o->tmp, sizeof o->tmp, "%s/.%s.tmp.XXXXXX", dir, base);
        o->fd = mkostemp(o->tmp, O_CLOEXEC);
        if (o->fd < 0) {
            int e = errno;
            close(o->dirfd);
            qmc_free(o);
            return qmc_fail(QMC_ERR_IO, "%s: cannot create temporary file: %s", path, strerror(e));
        }
        fchmod(o->fd, 0644);
    }
    *out = o;
    return QMC_OK;
}

static void flush_buf(qmc_out *o) {
    size_t off = 0;
    while (off < o->fill && !o->err) {
        ssize_t w = write(o->fd, o->buf + off, o->fill - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            o->err = errno;
            break;
        }
        if (w == 0) {
            o->err = ENOSPC;
            break;
        }
        off += (size_t)w;
    }
    o->fill = 0;
}

int qmc_out_write(qmc_out *o, const void *buf, size_t n) {
    const uint8_t *p = buf;
    while (n && !o->err) {
        size_t room = sizeof o->buf - o->fill;
        if (n >= sizeof o->buf && o->fill == 0) {
            /* large write: skip the buffer */
            ssize_t w = write(o->fd, p, n > (1u << 30) ? (1u << 30) : n);
            if (w < 0) {
                if (errno == EINTR) continue;
                o->err = errno;
                break;
            }
            if (w == 0) {
                o->err = ENOSPC;
                break;
            }
            p += w;
            n -= (size_t)w;
            o->pos += (uint64_t)w;
            continue;
        }
        size_t k = QMC_MIN(room, n);
        memcpy(o->buf + o->fill, p, k);
        o->fill += k;
        o->pos += k;
        p += k;
        n -= k;
        if (o->fill == sizeof o->buf) flush_buf(o);
    }
    if (o->err) return qmc_fail(QMC_ERR_IO, "%s: write failed: %s", o->path, strerror(o->err));
    return QMC_OK;
}

int qmc_out_printf(qmc_out *o, const char *fmt, ...) {
    char small[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return qmc_fail(QMC_ERR_ARG, "%s: bad format", o->path);
    if ((size_t)n < sizeof small) return qmc_out_write(o, small, (size_t)n);
    char *big = qmc_alloc((size_t)n + 1, 1);
    if (!big) return QMC_ERR_NOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = qmc_out_write(o, big, (size_t)n);
    qmc_free(big);
    return rc;
}

int qmc_out_pad(qmc_out *o, size_t align) {
    static const uint8_t zeros[256];
    if (align == 0) return QMC_OK;
    size_t pad = (size_t)((align - o->pos % align) % align);
    while (pad) {
        size_t k = QMC_MIN(pad, sizeof zeros);
        int rc = qmc_out_write(o, zeros, k);
        if (rc) return rc;
        pad -= k;
    }
    return QMC_OK;
}

uint64_t qmc_out_tell(const qmc_out *o) { return o->pos; }

static void out_release(qmc_out *o) {
    if (o->fd >= 0) close(o->fd);
    if (o->dirfd >= 0) close(o->dirfd);
    qmc_free(o);
}

void qmc_out_abort(qmc_out *o) {
    if (!o) return;
    if (!o->anonymous && o->tmp[0]) unlink(o->tmp);
    out_release(o);
}

int qmc_out_commit(qmc_out *o) {
    flush_buf(o);
    if (!o->err && fsync(o->fd) != 0) o->err = errno;
    if (o->err) {
        int e = o->err;
        char path[4096];
        snprintf(path, sizeof path, "%s", o->path);
        qmc_out_abort(o);
        return qmc_fail(QMC_ERR_IO, "%s: write failed: %s (previous file left unchanged)", path,
                        strerror(e));
    }
    if (o->anonymous) {
        /* give the anonymous file a hidden name, then rename over the target */
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", o->fd);
        for (int attempt = 0; attempt < 100; attempt++) {
            snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%d.%d", o->path, (int)getpid(), attempt);
            if (linkat(AT_FDCWD, proc, AT_FDCWD, o->tmp, AT_SYMLINK_FOLLOW) == 0) break;
            if (errno != EEXIST) {
                int e = errno;
                o->tmp[0] = 0;
                char path[4096];
                snprintf(path, sizeof path, "%s", o->path);
                out_release(o);
                return qmc_fail(QMC_ERR_IO, "%s: cannot link output file: %s", path, strerror(e));
            }
        }
        o->anonymous = false;
    }
    if (rename(o->tmp, o->path) != 0) {
        int e = errno;
        char path[4096];
        snprintf(path, sizeof path, "%s", o->path);
        qmc_out_abort(o);
        return qmc_fail(QMC_ERR_IO, "%s: cannot rename output into place: %s", path, strerror(e));
    }
    fsync(o->dirfd);
    out_release(o);
    return QMC_OK;
}

int qmc_write_file_atomic(const char *path, const void *buf, size_t n) {
    qmc_out *o;
    int rc = qmc_out_open(path, &o);
    if (rc) return rc;
    rc = qmc_out_write(o, buf, n);
    if (rc) {
        qmc_out_abort(o);
        return rc;
    }
    return qmc_out_commit(o);
}
