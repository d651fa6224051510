/*
 * vault.h: the encrypted credential store of a profile.
 *
 * A vault file holds one JSON object of named entries (e.g. "cloudsuite": the
 * .ionapi contents, "shipstation": API keys, "cloudsuite.token": the cached
 * OAuth token with its expiry), encrypted with AES-256-GCM under a 256-bit key
 * derived from the vault key (the passphrase).  File layout:
 *
 *     "MLCVAULT" | u8 format | u8 a | u8 b | u8 c | salt[16] | nonce[12]
 *     | ciphertext | tag[16]
 *
 *   format 2 (written now): a = key derivation (MLC_VAULT_KDF_*):
 *     1 scrypt: b = log2(N), c = r, p = 1 (N = 2^15, r = 8: a 32 MiB working set);
 *     2 HKDF-SHA256 (RFC 5869, salt = the vault's salt, info "mlc vault 2
 *       aes-256-gcm"): b = c = 0; no stretching, no memory cost.
 *   format 1 (read, never written): scrypt with a = log2(N), b = r, c = p.
 *
 * Which derivation a write uses: HKDF when the key came from a key file
 * (MLC_VAULT_KEY_FILE) of at least 32 bytes without blanks, i.e. random key
 * material that needs no stretching (`openssl rand -hex 32`); scrypt for
 * everything a person types (MLC_VAULT_KEY, the terminal prompt, a short key
 * file or one holding a sentence).  A scrypt vault opened with such a key file
 * moves to HKDF on its next write; a vault on HKDF stays on it; reading always
 * follows the header, so any key source opens any vault it is the key of.
 *
 * The 36-byte header is authenticated (GCM AAD), so any flipped byte anywhere is
 * detected and reported; a wrong passphrase gives the same clear error (GCM
 * cannot tell them apart).  Files are written atomically (temp file in the same
 * directory, fsync, rename, fsync of the directory), mode 0600, and a vault that
 * is group- or world-accessible, or owned by someone else, is refused (as ssh
 * refuses a loose key).  Concurrent mlc processes: mlc_vault_save() takes an
 * exclusive lock (flock on "<path>.lock"), re-reads the file and applies only the
 * entries this process changed, so two cron jobs never lose each other's updates;
 * mlc_vault_lock()/mlc_vault_reload() let a caller serialise a read-modify-write
 * (e.g. one login for several processes).
 *
 * The passphrase comes from MLC_VAULT_KEY, or a key file named by
 * MLC_VAULT_KEY_FILE (which must not be group/world readable; trailing newline
 * ignored), or a no-echo prompt on the controlling terminal
 * (mlc_vault_passphrase()).  Key material and plaintext are wiped with
 * OPENSSL_cleanse (lib/secret, which also reads the files).
 *
 * Not here: the meaning of entries (lib/ionapi, lib/sscreds), where the
 * file lives (mlc_vault_path() computes it from the config: profile key `vault`,
 * else <state_dir>/<profile>.vault).
 * Ownership: mlc_vault_open() -> mlc_vault_free().  mlc_vault_get() returns a
 * borrowed cJSON node valid until the next set/remove/reload/save/free;
 * mlc_vault_set() takes ownership of the value.  Strings returned by
 * mlc_vault_passphrase()/mlc_vault_path() are the caller's (free passphrases with
 * mlc_vault_passphrase_free, which wipes).
 */
#ifndef MLC_VAULT_H
#define MLC_VAULT_H

#include "config.h"
#include "error.h"
#include "log.h"
#include <cjson/cJSON.h>

typedef struct mlc_vault mlc_vault;

/* Where the profile's vault lives (profile key `vault`, else
 * <state_dir>/<profile>.vault). Caller frees; NULL on ENOMEM. */
char *mlc_vault_path(const mlc_config *cfg);

/* Opens the profile's vault (mlc_vault_path) with the key from MLC_VAULT_KEY /
 * MLC_VAULT_KEY_FILE / a terminal prompt (if flags has MLC_VAULT_PROMPT).
 * Missing file: MLC_ERR_NOTFOUND unless MLC_VAULT_CREATE (then an empty vault,
 * written on the first save).  No key: MLC_ERR_CONFIG (callers may then go on
 * without the vault). A vault that exists but is not private (group/world
 * permissions, another owner, not a regular file), or a key that was given
 * (MLC_VAULT_KEY, MLC_VAULT_KEY_FILE) but cannot be used (e.g. a key file at
 * 0644): MLC_ERR_CRYPTO with the same message `mlc creds` gives, so that no
 * caller quietly skips the vault. */
enum { MLC_VAULT_CREATE = 1, MLC_VAULT_PROMPT = 2 };
mlc_err mlc_vault_open_profile(const mlc_config *cfg, mlc_log *log, int flags, mlc_vault **out,
                               mlc_error *err);
/* Opens the profile's vault to add credentials: created if missing, the key from
 * MLC_VAULT_KEY / MLC_VAULT_KEY_FILE / a terminal prompt (asked twice when the vault
 * is new). */
mlc_err mlc_vault_open_for_update(const mlc_config *cfg, mlc_log *log, mlc_vault **out, mlc_error *err);
/* Key derivations recorded in a vault's header (format 2). */
enum { MLC_VAULT_KDF_SCRYPT = 1, MLC_VAULT_KDF_HKDF = 2 };

/* 1 if a vault key is available without prompting (MLC_VAULT_KEY or _FILE set). */
int mlc_vault_key_available(void);

/* Passphrase from env var env_key (e.g. "MLC_VAULT_KEY"), else the file named by
 * env_file ("MLC_VAULT_KEY_FILE"), else a prompt on /dev/tty if allow_prompt and
 * there is one (confirm: ask twice, for new keys).  MLC_ERR_CONFIG if none. */
mlc_err mlc_vault_passphrase(const char *env_key, const char *env_file, int allow_prompt,
                             int confirm, char **out, mlc_error *err);
/* The same, and *kdf (may be NULL) says which derivation writes with this key use:
 * MLC_VAULT_KDF_HKDF for a key file of >= 32 bytes without blanks, else scrypt. */
mlc_err mlc_vault_key(const char *env_key, const char *env_file, int allow_prompt, int confirm,
                      char **out, int *kdf, mlc_error *err);
void mlc_vault_passphrase_free(char *pass);

/* Opens path with passphrase (copied).  A missing file is MLC_ERR_NOTFOUND unless
 * create is set, in which case an empty vault is returned (written by save).
 * log (borrowed, may be NULL) gets every secret string found in the vault
 * registered with mlc_log_secret(). */
mlc_err mlc_vault_open(const char *path, const char *passphrase, int create, mlc_log *log,
                       mlc_vault **out, mlc_error *err);
/* mlc_vault_open for a key whose writes use kdf (MLC_VAULT_KDF_*, from mlc_vault_key);
 * mlc_vault_open is this with MLC_VAULT_KDF_SCRYPT. */
mlc_err mlc_vault_open_kdf(const char *path, const char *passphrase, int kdf, int create,
                           mlc_log *log, mlc_vault **out, mlc_error *err);
void mlc_vault_free(mlc_vault *v);

const char *mlc_vault_file(const mlc_vault *v);
/* The derivation (MLC_VAULT_KDF_*) of the file as last read or written. */
int mlc_vault_kdf(const mlc_vault *v);
const cJSON *mlc_vault_get(const mlc_vault *v, const char *name);
mlc_err mlc_vault_set(mlc_vault *v, const char *name, cJSON *value, mlc_error *err);
/* Returns MLC_ERR_NOTFOUND if there was no such entry. */
mlc_err mlc_vault_remove(mlc_vault *v, const char *name, mlc_error *err);
/* The whole (decrypted) object, borrowed: iterate entries with cJSON_ArrayForEach. */
const cJSON *mlc_vault_entries(const mlc_vault *v);

/* Writes the vault (under the lock, merging with concurrent writers). */
mlc_err mlc_vault_save(mlc_vault *v, mlc_error *err);
/* Exclusive inter-process lock (nests within a process); waits up to timeout_s. */
mlc_err mlc_vault_lock(mlc_vault *v, int timeout_s, mlc_error *err);
void mlc_vault_unlock(mlc_vault *v);
/* Re-reads the file, discarding unsaved changes. Missing file -> empty vault. */
mlc_err mlc_vault_reload(mlc_vault *v, mlc_error *err);
/* Re-encrypts everything under a new passphrase (new salt, derivation kdf) and saves. */
mlc_err mlc_vault_rekey(mlc_vault *v, const char *new_passphrase, int kdf, mlc_error *err);
/* mlc_vault_rekey with the new key from MLC_VAULT_NEW_KEY, the file named by
 * MLC_VAULT_NEW_KEY_FILE, or a prompt asked twice (`mlc creds rotate-key`). */
mlc_err mlc_vault_rotate(mlc_vault *v, mlc_error *err);

/* Encrypt/decrypt a vault image in memory (exposed for tests and fuzzing).
 * kdf: MLC_VAULT_KDF_*; scrypt_log2n: 0 = default (15).  Caller frees *out
 * (decrypt: wipe with OPENSSL_cleanse before free). */
mlc_err mlc_vault_seal(const char *plain, size_t len, const char *passphrase, int kdf,
                       int scrypt_log2n, unsigned char **out, size_t *outlen, mlc_error *err);
mlc_err mlc_vault_unseal(const unsigned char *buf, size_t len, const char *passphrase,
                         const char *name, char **out, size_t *outlen, mlc_error *err);

/* Checks that path is a regular file owned by us and not group/world accessible;
 * what names the file in the error ("vault", "key file"). The same check as
 * mlc_secret_check_private (lib/secret), which it calls. */
mlc_err mlc_vault_check_private(const char *path, const char *what, mlc_error *err);

#endif
