/*
 * cmd.c: helpers shared by the subcommands (see cmd.h).
 * Not here: the dispatcher (mlc.c) or any subcommand's logic.
 */
#include "cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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

size_t cmd_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];
    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}
