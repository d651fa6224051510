/*
 * error.h: the one error enum of libmlc and the message buffer that goes with it.
 *
 * Every fallible libmlc function returns an mlc_err and, when given a non-NULL
 * mlc_error *, fills its message with what went wrong and where (file:line,
 * record line number, HTTP status...). Messages never contain secrets: callers
 * must not format credentials into them.
 *
 * The exit code of a run comes from one place: the mapping table
 * mlc_err_exit_code() for one error, and mlc_outcome_exit_code() for a whole run
 * (records failed, left for later, an error that stopped it), both as in mlc(1).
 *
 * Not here: printing (that is lib/log and the tool).
 */
#ifndef MLC_ERROR_H
#define MLC_ERROR_H

#include <stddef.h>

typedef enum mlc_err {
    MLC_OK = 0,
    MLC_ERR_USAGE,      /* bad command-line use                              -> 64 */
    MLC_ERR_INPUT,      /* bad input data (JSON line, payload, file content) -> 65 */
    MLC_ERR_CONFIG,     /* configuration or credentials missing/invalid      -> 78 */
    MLC_ERR_IO,         /* local file or stream failure                      -> 74 */
    MLC_ERR_NOMEM,      /* allocation failed                                 -> 71 */
    MLC_ERR_STORE,      /* SQLite state failure                              -> 74 */
    MLC_ERR_BUSY,       /* store locked beyond busy timeout                  -> 75 */
    MLC_ERR_CRYPTO,     /* vault: wrong key, tampered bytes, OpenSSL failure -> 78 */
    MLC_ERR_AUTH,       /* remote refused our credentials                    -> 78 */
    MLC_ERR_UNAVAILABLE,/* remote unreachable / DNS / TLS / refused          -> 69 */
    MLC_ERR_TRANSIENT,  /* 429, 5xx, timeout, reset: retry later             -> 75 */
    MLC_ERR_REMOTE,     /* remote answered with a permanent error (4xx, NOK) -> 1  */
    MLC_ERR_NOTFOUND,   /* the thing asked for does not exist                -> 1  */
    MLC_ERR_EOF,        /* end of a stream (not an error for readers)        -> 0  */
    MLC_ERR_PIPE,       /* stdout closed by the reader (EPIPE)               -> 0  */
    MLC_ERR__COUNT
} mlc_err;

#define MLC_ERROR_MSG_MAX 512

typedef struct mlc_error {
    mlc_err code;
    char msg[MLC_ERROR_MSG_MAX];
    /* The remote's answer behind the error, when there was one: its HTTP status (0
     * when no answer came: a timeout, a reset, a refused connection) and the wait it
     * asked for with Retry-After, in ms (0 when none). Set by the clients after
     * mlc_error_set(), which resets both. A caller tells "not executed" (a 429: the
     * server refused before doing anything) from "outcome unknown" (no answer) by
     * them. */
    long http_status;
    long retry_after_ms;
} mlc_error;

/* Sets e (if non-NULL) and returns code, so `return mlc_error_set(e, ...)` works.
 * Resets http_status and retry_after_ms. */
mlc_err mlc_error_set(mlc_error *e, mlc_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes an existing message: "ctx: old message". Returns e->code. */
mlc_err mlc_error_prefix(mlc_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void mlc_error_clear(mlc_error *e);

const char *mlc_err_name(mlc_err code);   /* "input", "config", ... */
int mlc_err_exit_code(mlc_err code);      /* sysexits-style, table in mlc(1) */

/* Exit codes, documented in man/mlc.1. */
enum {
    MLC_EXIT_OK = 0,
    MLC_EXIT_FAILED = 1,      /* some records failed or were rejected */
    MLC_EXIT_USAGE = 64,
    MLC_EXIT_DATAERR = 65,
    MLC_EXIT_UNAVAILABLE = 69,
    MLC_EXIT_SOFTWARE = 70,
    MLC_EXIT_OSERR = 71,
    MLC_EXIT_IOERR = 74,
    MLC_EXIT_TEMPFAIL = 75,
    MLC_EXIT_CONFIG = 78
};

/* What a run of a command came to, for its exit code (mlc(1), EXIT STATUS).
 * Filled with mlc_outcome_note() per record and mlc_outcome_stop() for an error
 * that ended the run; plain counters, no allocation. */
typedef struct mlc_outcome {
    mlc_err stopped; /* the first error that is not one record's (or a record error
                        that says the run itself is in trouble: store, memory,
                        credentials, a remote system down); MLC_OK if none */
    long failed;     /* records that failed or were rejected: a person must look */
    long later;      /* records left for a later run: queued, in doubt, pending */
} mlc_outcome;

/* Counts one record's error: INPUT, REMOTE and NOTFOUND (exit code 1 or 65) are
 * that record's failure; TRANSIENT and BUSY (75) leave it for later; PIPE, EOF
 * and OK count nothing; every other code is the run's trouble (as stop). */
void mlc_outcome_note(mlc_outcome *o, mlc_err code);
/* Records the error that ended the run (the first one wins; PIPE, the reader
 * going away, is not an error and is not recorded). */
void mlc_outcome_stop(mlc_outcome *o, mlc_err code);
/* The one rule, in this order:
 *   an error that stopped the run (or the run's trouble) -> its code (table above);
 *   some records failed or were rejected                 -> 1;
 *   some records left for a later run                    -> 75;
 *   otherwise                                            -> 0.
 * The reader of standard output going away (EPIPE) changes nothing: a run cut
 * short by `| head` exits as the records it handled say, 0 when they all went
 * through. A failure outranks "later": running again does not fix it. */
int mlc_outcome_exit_code(const mlc_outcome *o);

#endif
