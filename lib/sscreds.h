/*
 * sscreds.h: ShipStation credentials: the one reader and writer of the vault entry
 * "shipstation" ({"v2_key", "v1_key", "v1_secret", "added_at"}) and of the key
 * files (shipstation.api_key_file: the V2 API key; shipstation.v1_key_file: the
 * V1 "key:secret"; one line, white space around it ignored).
 *
 * Where mlc_ss_new() takes its keys from (mlc_sscreds_resolve): per API version,
 * the vault entry when it has that version's key, else the configured key file,
 * which must be private (a regular file of ours, no group/world permissions).
 * `mlc creds add shipstation` parses a file or stdin the same way
 * (mlc_sscreds_read_key) and merges into the entry (mlc_sscreds_store); `mlc creds
 * list` shows fingerprints only (mlc_sscreds_describe).
 *
 * Not here: the HTTP client (lib/shipstation), the vault format (lib/vault),
 * .ionapi credentials (lib/ionapi).
 * Ownership: an mlc_sscreds owns its strings; mlc_sscreds_clear() wipes and frees
 * them (safe on a zeroed struct). mlc_sscreds_describe() returns a cJSON object the
 * caller deletes.
 */
#ifndef MLC_SSCREDS_H
#define MLC_SSCREDS_H

#include "config.h"
#include "error.h"
#include "vault.h"
#include <cjson/cJSON.h>

#define MLC_SSCREDS_VAULT_ENTRY "shipstation"
/* largest key file read (a key is under a hundred bytes) */
#define MLC_SSCREDS_MAX_FILE (64 * 1024)

typedef struct mlc_sscreds {
    char *v2_key;                /* NULL = no V2 key */
    char *v1_key, *v1_secret;    /* both or neither */
    char *v2_source, *v1_source; /* "vault" or the key file's path; NULL with no key */
} mlc_sscreds;

void mlc_sscreds_clear(mlc_sscreds *c);

/* Parses key text (a V2 key, or with v1 a V1 "key:secret") into c; name is what
 * messages call it ("key file PATH", "(stdin)"). text is trimmed in place. */
mlc_err mlc_sscreds_parse_key(char *text, size_t len, const char *name, int v1, mlc_sscreds *c, mlc_error *err);
/* Reads and parses a key file; flags: MLC_SECRET_PRIVATE (config key files),
 * MLC_SECRET_STDIN ("-" is stdin). A missing file is MLC_ERR_CONFIG. */
mlc_err mlc_sscreds_read_key(const char *path, int v1, int flags, mlc_sscreds *c, mlc_error *err);

/* The profile's keys as described above; no keys at all is not an error here
 * (c stays empty). vault may be NULL. */
mlc_err mlc_sscreds_resolve(const mlc_config *cfg, const mlc_vault *vault, mlc_sscreds *c, mlc_error *err);

/* Merges c's keys into the vault entry (others kept), stamps added_at and saves,
 * under the vault lock. */
mlc_err mlc_sscreds_store(mlc_vault *v, const mlc_sscreds *c, mlc_error *err);
/* Removes the vault entry and saves; MLC_ERR_NOTFOUND if there was none. */
mlc_err mlc_sscreds_remove(mlc_vault *v, mlc_error *err);

/* {"kind":"credential","name":"shipstation","source":..., "v2_key": fingerprint,
 * "v1_key": fingerprint} from the vault, else the configured key files' paths
 * ("v2_key_file", "v1_key_file"); NULL when the profile has neither. */
cJSON *mlc_sscreds_describe(const mlc_config *cfg, const mlc_vault *vault);

#endif
