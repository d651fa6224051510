/*
 * table.h: aligned text columns for the `--table` output of the operator
 * commands (mlc queue, mlc audit): rows are collected, then printed with each
 * column as wide as its widest cell; the last column is not padded. Control
 * characters in cells become spaces so a row stays one line.
 * Not here: JSON records (those are the default output) or what the columns mean.
 * Ownership: cmd_table_new() -> cmd_table_free(); cells are copied.
 */
#ifndef MLC_CMD_TABLE_H
#define MLC_CMD_TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef struct cmd_table cmd_table;

/* ncols headers; NULL on out of memory. */
cmd_table *cmd_table_new(size_t ncols, const char *const *headers);
void cmd_table_free(cmd_table *t);
/* Adds a row of ncols cells (NULL cells print as "-"). Returns 0, or -1 on out of memory. */
int cmd_table_add(cmd_table *t, const char *const *cells);
/* Prints header and rows; returns 0, or -1 if the output failed (e.g. EPIPE). */
int cmd_table_print(const cmd_table *t, FILE *out);

#endif
