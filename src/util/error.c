/* error.c — thread-local one-line error messages. */
#include <stdio.h>
#include <string.h>

#include "util.h"

static _Thread_local char g_msg[1024];

const char *qmc_errmsg(void) { return g_msg[0] ? g_msg : "no error"; }

const char *qmc_status_name(int status) {
    switch (status) {
    case QMC_OK: return "ok";
    case QMC_ERR_IO: return "i/o error";
    case QMC_ERR_FORMAT: return "format error";
    case QMC_ERR_NOMEM: return "out of memory";
    case QMC_ERR_ARG: return "invalid argument";
    case QMC_ERR_UNSUPPORTED: return "unsupported";
    case QMC_ERR_RANGE: return "out of range";
    case QMC_ERR_STATE: return "internal error";
    default: return "unknown error";
    }
}

/* Messages stay on one line: newlines and control characters from hostile
 * inputs (names inside files) are replaced. */
static void sanitize(char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20) *s = ' ';
}

int qmc_fail(int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_msg, sizeof g_msg, fmt, ap);
    va_end(ap);
    sanitize(g_msg);
    return status;
}

int qmc_error_prefix(int status, const char *fmt, ...) {
    char prefix[512], old[sizeof g_msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, g_msg, sizeof old);
    snprintf(g_msg, sizeof g_msg, "%.500s: %.500s", prefix, old);
    sanitize(g_msg);
    return status;
}
