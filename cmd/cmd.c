/*
 * cmd.c: helpers shared by the subcommands (see cmd.h).
 * Not here: the dispatcher (mlc.c) or any subcommand's logic.
 */
#include "cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

int cmd_usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;
    fputs("mlc: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage);
    return MLC_EXIT_USAGE;
}

int cmd_help(const char *usage)
{
    fputs(usage, stdout);
    return MLC_EXIT_OK;
}

int cmd_fail(mlc_ctx *ctx, const mlc_error *err)
{
    mlc_log_error(mlc_ctx_log(ctx), "%s", err->msg[0] ? err->msg : mlc_err_name(err->code));
    return mlc_err_exit_code(err->code);
}

long long cmd_parse_count(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < 0)
        return -1;
    return v;
}
