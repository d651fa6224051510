/*
 * log.h: stderr logging for people (text) and machines (JSON), with a registry of
 * secrets that are masked in every message before it is written.
 *
 * Any module that learns a secret (client secret, token, API key, passphrase)
 * registers it with mlc_log_secret(); from then on every message, and every
 * string passed through mlc_log_redact(), shows "***" in its place.
 *
 * Not here: stdout (records are lib/jsonl's), audit (lib/store), progress bars.
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
#define mlc_log_error(l, ...) mlc_log_msg((l), MLC_LOG_ERROR, __VA_ARGS__)
#define mlc_log_warn(l, ...) mlc_log_msg((l), MLC_LOG_WARN, __VA_ARGS__)
#define mlc_log_info(l, ...) mlc_log_msg((l), MLC_LOG_INFO, __VA_ARGS__)
#define mlc_log_debug(l, ...) mlc_log_msg((l), MLC_LOG_DEBUG, __VA_ARGS__)

#endif
