/*
 * cmd.h: the few helpers every subcommand shares: usage errors, reporting a
 * library error with the right exit code, and the common --help handling.
 *
 * Options are parsed with getopt_long in every subcommand, the same way:
 * a static usage text, a `struct option` table that includes {"help", 0, 0, 'h'},
 * and a switch. Not here: anything about records or remote systems.
 */
#ifndef MLC_CMD_H
#define MLC_CMD_H

#include "ctx.h"
#include "error.h"

#include <getopt.h>
#include <stdio.h>

/* Prints "mlc NAME: message" and the usage to stderr; returns MLC_EXIT_USAGE. */
int cmd_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints usage to stdout (for --help); returns 0. */
int cmd_help(const char *usage);
/* Logs err's message as an error and returns its exit code. */
int cmd_fail(mlc_ctx *ctx, const mlc_error *err);
/* Levenshtein distance of two short names (99 when either is 63 bytes or
 * more), for "did you mean" suggestions. */
size_t cmd_edit_distance(const char *a, const char *b);
/* Parses a non-negative integer option; returns -1 on junk. */
long long cmd_parse_count(const char *s);

#endif
