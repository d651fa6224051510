/*
 * secret.h: small secret files and secret memory: the one reader of a small
 * private file (an API key, a webhook token, an .ionapi file, a vault, a vault key
 * file) and the one way secret bytes are wiped: OPENSSL_cleanse, which the
 * compiler may not drop as it may drop a memset before free.
 *
 * mlc_secret_read() with MLC_SECRET_PRIVATE refuses a file that is not a regular
 * file owned by us or that is group/world accessible (as ssh refuses a loose key,
 * mlc_secret_check_private()); with MLC_SECRET_STDIN, "-" reads standard input.
 * Errors name the file (and what it is, e.g. "key file PATH: ..."), never its
 * contents: MLC_ERR_NOTFOUND (no such file), MLC_ERR_CONFIG (unreadable, not
 * private, larger than max), MLC_ERR_IO (read error), MLC_ERR_NOMEM.  Every buffer
 * the reader grows through is wiped before it is freed.
 *
 * Not here: what the files mean (lib/sscreds, lib/ionapi, lib/vault, lib/webhook
 * users), encryption (lib/vault).
 * Ownership: *out of mlc_secret_read() is the caller's, NUL-terminated; free it
 * with mlc_secret_free(buf, len + 1) or mlc_secret_free_str().
 */
#ifndef MLC_SECRET_H
#define MLC_SECRET_H

#include "error.h"
#include <cjson/cJSON.h>
#include <stddef.h>

enum { MLC_SECRET_PRIVATE = 1, MLC_SECRET_STDIN = 2 };

/* Reads the whole file path (at most max bytes); what (may be NULL) names it in
 * messages: "what path: ...". flags: MLC_SECRET_*. */
mlc_err mlc_secret_read(const char *path, size_t max, const char *what, int flags, char **out, size_t *outlen,
                        mlc_error *err);
/* A regular file owned by the effective user, no group/world permission bits.
 * MLC_ERR_NOTFOUND if it does not exist, MLC_ERR_IO if stat fails otherwise,
 * MLC_ERR_CONFIG (with the chmod to run) if it is not private. */
mlc_err mlc_secret_check_private(const char *path, const char *what, mlc_error *err);

/* Wipes n bytes (NULL-safe). */
void mlc_secret_wipe(void *p, size_t n);
/* Wipes n bytes and frees (NULL-safe). */
void mlc_secret_free(void *p, size_t n);
/* Wipes a string up to its NUL and frees (NULL-safe). */
void mlc_secret_free_str(char *s);
/* Wipes every string in the tree (values, at any depth) and deletes it (NULL-safe). */
void mlc_secret_json_free(cJSON *j);

/* Trims white space at both ends, in place (the tail is overwritten with NULs);
 * returns the first non-blank character of s. */
char *mlc_secret_trim(char *s);
/* 1 if s has no control character (a one-line key), else 0. */
int mlc_secret_single_line(const char *s);
/* First 8 hex digits of SHA-256 of s: names a secret without revealing it. */
void mlc_secret_fingerprint(const char *s, char out[9]);

#endif
