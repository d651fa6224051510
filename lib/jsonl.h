/*
 * jsonl.h: streaming JSON-lines reader and writer, the record plumbing of every
 * subcommand.
 *
 * Reader: one JSON object per line; lines up to a limit (default 1 MiB; longer
 * lines are skipped in constant memory and reported); CRLF accepted; blank lines
 * skipped; invalid UTF-8 or JSON, a NUL byte, and a "\u0000" escape in a string
 * (which cJSON would silently cut the string at) reported with the line number
 * and column. After an error
 * the reader goes on with the next line, so a caller can reject one record and
 * continue. The raw text of the last line (possibly cut at the limit) stays
 * available for the store's rejected table.
 *
 * Writer: one compact object per line. When the output is a pipe or a terminal
 * every record is flushed, so `| head` and live pipes work; a regular file is
 * buffered. A closed pipe (EPIPE) is reported as MLC_ERR_PIPE, which the tool
 * treats as a quiet, successful end (the caller must ignore SIGPIPE).
 *
 * Not here: what a record means (each subcommand and lib/record-like helpers).
 * Ownership: readers/writers do not own their FILE; objects returned by
 * mlc_jsonl_read() belong to the caller (cJSON_Delete).
 */
#ifndef MLC_JSONL_H
#define MLC_JSONL_H

#include "error.h"
#include <cjson/cJSON.h>
#include <stdio.h>

#define MLC_JSONL_DEFAULT_MAX (1024 * 1024)

typedef struct mlc_jsonl_reader mlc_jsonl_reader;
typedef struct mlc_jsonl_writer mlc_jsonl_writer;

/* name is used in messages ("stdin", a file name). max_line 0 = default. */
mlc_jsonl_reader *mlc_jsonl_reader_new(FILE *in, const char *name, size_t max_line);
void mlc_jsonl_reader_free(mlc_jsonl_reader *r);
/* MLC_OK and *out set; MLC_ERR_EOF at the end; MLC_ERR_INPUT for a bad line
 * (err names "name:LINE: reason"; the next call reads the next line);
 * MLC_ERR_IO on a read error. */
mlc_err mlc_jsonl_read(mlc_jsonl_reader *r, cJSON **out, mlc_error *err);
unsigned long mlc_jsonl_reader_lineno(const mlc_jsonl_reader *r);
/* Raw text of the last line read (without newline, cut at the limit); it may
 * hold NUL bytes: its length is mlc_jsonl_reader_line_len(). */
const char *mlc_jsonl_reader_line(const mlc_jsonl_reader *r);
size_t mlc_jsonl_reader_line_len(const mlc_jsonl_reader *r);

/* 1 if the n bytes are valid UTF-8 (no overlongs, no surrogates). */
int mlc_jsonl_utf8_valid(const char *s, size_t n);
/* The record's "kind", or NULL. */
const char *mlc_jsonl_kind(const cJSON *record);

mlc_jsonl_writer *mlc_jsonl_writer_new(FILE *out);
void mlc_jsonl_writer_free(mlc_jsonl_writer *w);
/* Forces per-record flushing on or off (default: on for pipes and terminals). */
void mlc_jsonl_writer_set_flush(mlc_jsonl_writer *w, int flush_each);
mlc_err mlc_jsonl_write(mlc_jsonl_writer *w, const cJSON *record, mlc_error *err);
/* Flushes; MLC_ERR_PIPE if the reader went away. */
mlc_err mlc_jsonl_writer_flush(mlc_jsonl_writer *w, mlc_error *err);
unsigned long mlc_jsonl_writer_count(const mlc_jsonl_writer *w);

#endif
