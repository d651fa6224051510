/*
 * log.h: stderr logging for people (text) and machines (JSON), with a registry of
 * secrets that are masked in every message before it is written.
 *
 * Any module that learns a secret (client secret, token, API key, passphrase)
 * registers it with mlc_log_secret(); from then on every message, and every
 * string passed through mlc_log_redact(), shows "***" in its place.
 *
 * Progress (mlc_log_progress*): one updating line on stderr, only when the log
 * writes to a terminal (isatty, TERM not "dumb") and progress was not turned off
 * (--no-progress); never in a pipe, cron or log file. Library code does not call
 * these directly from deep inside: commands call them per record, and modules
 * that wait (lib/ratelimit) report through callbacks the command wires to them.
 * Any other message first clears the progress line.
 *
 * The log also remembers, for the run record (`mlc status`), how many errors and
 * warnings were logged (whatever the level shown), the last error and the last
 * info message, all redacted.
 *
 * Not here: stdout (records are lib/jsonl's), audit (lib/store).
 * Ownership: mlc_log_new() returns a log the caller frees with mlc_log_free();
 * registered secrets are copied and wiped on free.
 */
#ifndef MLC_LOG_H
#define MLC_LOG_H

#include <stdio.h>
#include <stddef.h>

typedef struct mlc_log mlc_log;

typedef enum { MLC_LOG_ERROR = 0, MLC_LOG_WARN, MLC_LOG_INFO, MLC_LOG_DEBUG } mlc_log_level;
typedef enum { MLC_LOG_TEXT = 0, MLC_LOG_JSON } mlc_log_format;

/* out: where messages go (NULL = stderr). The log does not own out. */
mlc_log *mlc_log_new(FILE *out, mlc_log_format fmt, mlc_log_level level);
void mlc_log_free(mlc_log *log);
void mlc_log_set_level(mlc_log *log, mlc_log_level level);
void mlc_log_set_format(mlc_log *log, mlc_log_format fmt);
void mlc_log_set_program(mlc_log *log, const char *name); /* prefix, e.g. "mlc pull-pos" */
mlc_log_level mlc_log_get_level(const mlc_log *log);
/* Parses "text"/"json"; returns 0 on success. */
int mlc_log_parse_format(const char *s, mlc_log_format *out);

/* Registers a secret to be masked (strings shorter than 4 bytes are ignored). */
void mlc_log_secret(mlc_log *log, const char *secret);
/* Masks registered secrets in buf in place (buf stays NUL-terminated, may shrink). */
void mlc_log_redact(const mlc_log *log, char *buf);

void mlc_log_msg(mlc_log *log, mlc_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* ---- run summary (for the run record) ---- */
long mlc_log_count(const mlc_log *log, mlc_log_level level); /* errors or warnings logged */
const char *mlc_log_last_error(const mlc_log *log);  /* "" if none; owned by the log */
const char *mlc_log_last_info(const mlc_log *log);   /* "" if none (logged even if not shown) */

/* ---- progress on a terminal ---- */
/* enabled = 0 turns progress off (--no-progress); 1 = on when out is a terminal
 * and TERM is not "dumb" (the default). */
void mlc_log_set_progress(mlc_log *log, int enabled);
int mlc_log_progress_active(const mlc_log *log);
/* "<what>: <done>[/<total>] <rate>/s[ ETA <t>]" on one line; total < 0 = unknown.
 * Redrawn at most 10 times a second. */
void mlc_log_progress(mlc_log *log, const char *what, long done, long total);
/* "waiting <s> s for <what>" (e.g. "ShipStation's rate window"). */
void mlc_log_progress_wait(mlc_log *log, long wait_ms, const char *what);
/* Clears the line (end of the run, or before other output). */
void mlc_log_progress_done(mlc_log *log);

#define mlc_log_error(l, ...) mlc_log_msg((l), MLC_LOG_ERROR, __VA_ARGS__)
#define mlc_log_warn(l, ...) mlc_log_msg((l), MLC_LOG_WARN, __VA_ARGS__)
#define mlc_log_info(l, ...) mlc_log_msg((l), MLC_LOG_INFO, __VA_ARGS__)
#define mlc_log_debug(l, ...) mlc_log_msg((l), MLC_LOG_DEBUG, __VA_ARGS__)

#endif
