/*
 * table.c: aligned text columns for --table output (see table.h).
 * Not here: what any column means.
 */
#include "table.h"

#include <stdlib.h>
#include <string.h>

struct cmd_table {
    size_t ncols, nrows, cap;
    char **cells;   /* (nrows + 1) * ncols, row 0 = headers */
    size_t *width;  /* display width per column */
};

/* Copy of s with control characters as spaces; "-" for NULL. */
static char *clean_dup(const char *s)
{
    if (!s)
        s = "-";
    char *d = strdup(s);
    if (d)
        for (char *p = d; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = ' ';
    return d;
}

/* Columns a UTF-8 string takes (one per code point; good enough for ids and messages). */
static size_t display_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

static int add_row(cmd_table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        char **n = realloc(t->cells, nc * t->ncols * sizeof *n);
        if (!n)
            return -1;
        t->cells = n;
        t->cap = nc;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        if (!(row[i] = clean_dup(cells[i]))) {
            while (i > 0)
                free(row[--i]);
            return -1;
        }
    }
    for (size_t i = 0; i < t->ncols; i++) {
        size_t w = display_width(row[i]);
        if (w > t->width[i])
            t->width[i] = w;
    }
    t->nrows++;
    return 0;
}

cmd_table *cmd_table_new(size_t ncols, const char *const *headers)
{
    cmd_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ncols = ncols;
    if (!(t->width = calloc(ncols, sizeof *t->width)) || add_row(t, headers)) {
        cmd_table_free(t);
        return NULL;
    }
    return t;
}

void cmd_table_free(cmd_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t->width);
    free(t);
}

int cmd_table_add(cmd_table *t, const char *const *cells) { return add_row(t, cells); }

int cmd_table_print(const cmd_table *t, FILE *out)
{
    for (size_t r = 0; r < t->nrows; r++) {
        char **row = t->cells + r * t->ncols;
        for (size_t c = 0; c < t->ncols; c++) {
            if (c + 1 == t->ncols) {
                fprintf(out, "%s\n", row[c]);
            } else {
                size_t pad = t->width[c] - display_width(row[c]) + 2;
                fprintf(out, "%s%*s", row[c], (int)pad, "");
            }
        }
        if (ferror(out))
            return -1;
    }
    return fflush(out) ? -1 : 0;
}
