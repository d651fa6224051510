/*
 * jsonl.c: JSON-lines reader and writer.  See jsonl.h.
 * Not here: record validation beyond "a JSON object" (subcommands check fields).
 */
#include "jsonl.h"

#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

struct mlc_jsonl_reader {
    FILE *in;
    char name[128];
    size_t max;
    char *chunk;          /* read-ahead buffer */
    size_t chunk_len, chunk_pos;
    char *line;           /* current line, at most max bytes + NUL */
    size_t line_len;
    unsigned long lineno;
    int eof;
};

struct mlc_jsonl_writer {
    FILE *out;
    int flush_each;
    char *buf;
    size_t cap;
    unsigned long count;
};

mlc_jsonl_reader *mlc_jsonl_reader_new(FILE *in, const char *name, size_t max_line)
{
    mlc_jsonl_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->in = in;
    r->max = max_line ? max_line : MLC_JSONL_DEFAULT_MAX;
    snprintf(r->name, sizeof r->name, "%s", name ? name : "stdin");
    r->chunk = malloc(CHUNK);
    r->line = malloc(r->max + 1);
    if (!r->chunk || !r->line) {
        mlc_jsonl_reader_free(r);
        return NULL;
    }
    r->line[0] = '\0';
    return r;
}

void mlc_jsonl_reader_free(mlc_jsonl_reader *r)
{
    if (!r)
        return;
    free(r->chunk);
    free(r->line);
    free(r);
}

unsigned long mlc_jsonl_reader_lineno(const mlc_jsonl_reader *r) { return r->lineno; }
const char *mlc_jsonl_reader_line(const mlc_jsonl_reader *r) { return r->line; }
size_t mlc_jsonl_reader_line_len(const mlc_jsonl_reader *r) { return r->line_len; }

/* Offset of a "\u0000" escape in a line cJSON accepted, or -1. In valid JSON a
 * backslash only occurs inside strings, and always starts a two-character
 * escape (or \uXXXX), so a left-to-right scan cannot be misled. */
static long nul_escape(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && i + 5 < n && !memcmp(s + i + 2, "0000", 4))
            return (long)i;
        i++; /* skip the escaped character */
    }
    return -1;
}

/* Reads the next physical line into r->line. Returns 1 if a line was read,
 * 0 at EOF, -1 on read error; *too_long is set if the line exceeded max. */
static int next_line(mlc_jsonl_reader *r, int *too_long, size_t *total)
{
    int got = 0;
    r->line_len = 0;
    *too_long = 0;
    *total = 0;
    for (;;) {
        if (r->chunk_pos == r->chunk_len) {
            if (r->eof)
                break;
            r->chunk_len = fread(r->chunk, 1, CHUNK, r->in);
            r->chunk_pos = 0;
            if (r->chunk_len == 0) {
                if (ferror(r->in))
                    return -1;
                r->eof = 1;
                break;
            }
        }
        got = 1;
        char *start = r->chunk + r->chunk_pos;
        size_t avail = r->chunk_len - r->chunk_pos;
        char *nl = memchr(start, '\n', avail);
        size_t seg = nl ? (size_t)(nl - start) : avail;
        *total += seg;
        if (r->line_len + seg > r->max) {
            size_t room = r->max - r->line_len;
            memcpy(r->line + r->line_len, start, room);
            r->line_len = r->max;
            *too_long = 1;
        } else {
            memcpy(r->line + r->line_len, start, seg);
            r->line_len += seg;
        }
        r->chunk_pos += seg + (nl ? 1 : 0);
        if (nl)
            break;
    }
    r->line[r->line_len] = '\0';
    if (got)
        r->lineno++;
    return got;
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

mlc_err mlc_jsonl_read(mlc_jsonl_reader *r, cJSON **out, mlc_error *err)
{
    *out = NULL;
    for (;;) {
        int too_long;
        size_t total;
        int rc = next_line(r, &too_long, &total);
        if (rc < 0)
            return mlc_error_set(err, MLC_ERR_IO, "%s:%lu: read error: %s", r->name, r->lineno + 1,
                                 strerror(errno));
        if (rc == 0)
            return MLC_ERR_EOF;
        if (too_long)
            return mlc_error_set(err, MLC_ERR_INPUT, "%s:%lu: line of %zu bytes exceeds the limit of %zu",
                                 r->name, r->lineno, total, r->max);
        if (r->line_len && r->line[r->line_len - 1] == '\r')
            r->line[--r->line_len] = '\0';
        if (blank(r->line, r->line_len))
            continue;
        const char *nul = memchr(r->line, '\0', r->line_len);
        if (nul)
            return mlc_error_set(err, MLC_ERR_INPUT, "%s:%lu:%ld: NUL byte in line", r->name, r->lineno,
                                 (long)(nul - r->line) + 1);
        if (!mlc_jsonl_utf8_valid(r->line, r->line_len))
            return mlc_error_set(err, MLC_ERR_INPUT, "%s:%lu: invalid UTF-8", r->name, r->lineno);
        const char *end = NULL;
        cJSON *j = cJSON_ParseWithLengthOpts(r->line, r->line_len, &end, 0);
        if (!j) {
            const char *at = cJSON_GetErrorPtr();
            long col = at && at >= r->line && at <= r->line + r->line_len ? (long)(at - r->line) + 1 : 0;
            return mlc_error_set(err, MLC_ERR_INPUT, "%s:%lu:%ld: invalid JSON", r->name, r->lineno, col);
        }
        if (end && !blank(end, r->line_len - (size_t)(end - r->line))) {
            cJSON_Delete(j);
            return mlc_error_set(err, MLC_ERR_INPUT, "%s:%lu:%ld: trailing data after the JSON value", r->name,
                                 r->lineno, (long)(end - r->line) + 1);
        }
        long at0 = nul_escape(r->line, r->line_len);
        if (at0 >= 0) {
            cJSON_Delete(j);
            return mlc_error_set(err, MLC_ERR_INPUT, "%s:%lu:%ld: \\u0000 (NUL) in a string is not accepted", r->name,
                                 r->lineno, at0 + 1);
        }
        if (!cJSON_IsObject(j)) {
            cJSON_Delete(j);
            return mlc_error_set(err, MLC_ERR_INPUT, "%s:%lu: a record must be a JSON object", r->name,
                                 r->lineno);
        }
        *out = j;
        return MLC_OK;
    }
}

int mlc_jsonl_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        /* ASCII runs (most of a record) eight bytes at a time */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & UINT64_C(0x8080808080808080))
                break;
            i += 8;
        }
        if (i >= n)
            break;
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

const char *mlc_jsonl_kind(const cJSON *record)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(record, "kind");
    return cJSON_IsString(k) ? k->valuestring : NULL;
}

mlc_jsonl_writer *mlc_jsonl_writer_new(FILE *out)
{
    mlc_jsonl_writer *w = calloc(1, sizeof *w);
    struct stat st;
    if (!w)
        return NULL;
    w->out = out;
    int fd = fileno(out);
    w->flush_each = isatty(fd) || (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)));
    w->cap = 4096;
    w->buf = malloc(w->cap);
    if (!w->buf) {
        free(w);
        return NULL;
    }
    return w;
}

void mlc_jsonl_writer_free(mlc_jsonl_writer *w)
{
    if (!w)
        return;
    free(w->buf);
    free(w);
}

void mlc_jsonl_writer_set_flush(mlc_jsonl_writer *w, int flush_each) { w->flush_each = flush_each; }
unsigned long mlc_jsonl_writer_count(const mlc_jsonl_writer *w) { return w->count; }

static mlc_err io_error(mlc_error *err)
{
    if (errno == EPIPE)
        return mlc_error_set(err, MLC_ERR_PIPE, "output closed");
    return mlc_error_set(err, MLC_ERR_IO, "write error: %s", strerror(errno));
}

mlc_err mlc_jsonl_write(mlc_jsonl_writer *w, const cJSON *record, mlc_error *err)
{
    /* cJSON_PrintPreallocated needs a few spare bytes; grow until it fits. */
    while (!cJSON_PrintPreallocated((cJSON *)record, w->buf, (int)w->cap - 5, 0)) {
        if (w->cap > (size_t)1 << 30)
            return mlc_error_set(err, MLC_ERR_NOMEM, "record too large to print");
        char *nb = realloc(w->buf, w->cap * 2);
        if (!nb)
            return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        w->buf = nb;
        w->cap *= 2;
    }
    size_t n = strlen(w->buf);
    w->buf[n++] = '\n';
    errno = 0;
    if (fwrite(w->buf, 1, n, w->out) != n)
        return io_error(err);
    w->count++;
    if (w->flush_each && fflush(w->out) != 0)
        return io_error(err);
    return MLC_OK;
}

mlc_err mlc_jsonl_writer_flush(mlc_jsonl_writer *w, mlc_error *err)
{
    errno = 0;
    if (fflush(w->out) != 0)
        return io_error(err);
    return MLC_OK;
}
