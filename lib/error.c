/*
 * error.c: mlc_error helpers, the mlc_err -> exit code table and the one rule
 * from a run's outcome to its exit code.
 * Not here: any I/O.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

mlc_err mlc_error_set(mlc_error *e, mlc_err code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        e->code = code;
        e->http_status = 0;
        e->retry_after_ms = 0;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

mlc_err mlc_error_prefix(mlc_error *e, const char *fmt, ...)
{
    char pre[MLC_ERROR_MSG_MAX], old[MLC_ERROR_MSG_MAX];
    va_list ap;
    if (!e)
        return MLC_OK;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    snprintf(e->msg, sizeof e->msg, "%s: %s", pre, old);
    return e->code;
}

void mlc_error_clear(mlc_error *e)
{
    if (e) {
        e->code = MLC_OK;
        e->msg[0] = '\0';
        e->http_status = 0;
        e->retry_after_ms = 0;
    }
}

static const struct {
    const char *name;
    int exit_code;
} err_table[MLC_ERR__COUNT] = {
    [MLC_OK] = {"ok", MLC_EXIT_OK},
    [MLC_ERR_USAGE] = {"usage", MLC_EXIT_USAGE},
    [MLC_ERR_INPUT] = {"input", MLC_EXIT_DATAERR},
    [MLC_ERR_CONFIG] = {"config", MLC_EXIT_CONFIG},
    [MLC_ERR_IO] = {"io", MLC_EXIT_IOERR},
    [MLC_ERR_NOMEM] = {"nomem", MLC_EXIT_OSERR},
    [MLC_ERR_STORE] = {"store", MLC_EXIT_IOERR},
    [MLC_ERR_BUSY] = {"busy", MLC_EXIT_TEMPFAIL},
    [MLC_ERR_CRYPTO] = {"crypto", MLC_EXIT_CONFIG},
    [MLC_ERR_AUTH] = {"auth", MLC_EXIT_CONFIG},
    [MLC_ERR_UNAVAILABLE] = {"unavailable", MLC_EXIT_UNAVAILABLE},
    [MLC_ERR_TRANSIENT] = {"transient", MLC_EXIT_TEMPFAIL},
    [MLC_ERR_REMOTE] = {"remote", MLC_EXIT_FAILED},
    [MLC_ERR_NOTFOUND] = {"notfound", MLC_EXIT_FAILED},
    [MLC_ERR_EOF] = {"eof", MLC_EXIT_OK},
    [MLC_ERR_PIPE] = {"pipe", MLC_EXIT_OK},
};

const char *mlc_err_name(mlc_err code)
{
    if ((int)code < 0 || code >= MLC_ERR__COUNT)
        return "unknown";
    return err_table[code].name;
}

int mlc_err_exit_code(mlc_err code)
{
    if ((int)code < 0 || code >= MLC_ERR__COUNT)
        return MLC_EXIT_SOFTWARE;
    return err_table[code].exit_code;
}

void mlc_outcome_stop(mlc_outcome *o, mlc_err code)
{
    if (o->stopped == MLC_OK && code != MLC_ERR_PIPE && code != MLC_ERR_EOF)
        o->stopped = code;
}

void mlc_outcome_note(mlc_outcome *o, mlc_err code)
{
    switch (mlc_err_exit_code(code)) {
    case MLC_EXIT_OK: break;
    case MLC_EXIT_FAILED:
    case MLC_EXIT_DATAERR: o->failed++; break;
    case MLC_EXIT_TEMPFAIL: o->later++; break;
    default: mlc_outcome_stop(o, code); break;
    }
}

int mlc_outcome_exit_code(const mlc_outcome *o)
{
    if (o->stopped != MLC_OK)
        return mlc_err_exit_code(o->stopped);
    if (o->failed > 0)
        return MLC_EXIT_FAILED;
    if (o->later > 0)
        return MLC_EXIT_TEMPFAIL;
    return MLC_EXIT_OK;
}
