/*
 * config.h: the YAML configuration (libyaml) with named profiles.
 *
 * One file (MLC_CONFIG, --config, or $XDG_CONFIG_HOME/mlc/mlc.yaml) holds
 * `default_profile:` and `profiles: {NAME: {...}}`, one profile per customer.
 * The file is parsed into a tree, checked against the schema in config.c (unknown
 * keys, wrong types and tabs are errors naming file:line:column and the key), and
 * read back through dotted paths relative to the chosen profile:
 *
 *     mlc_config_str(cfg, "cloudsuite.programs.po_receipt")  -> "PPS001MI/Receipt"
 *
 * Every schema key has its default in config.c, so a getter never needs a fallback
 * for a schema key. Environment overrides: MLC_PROFILE picks the profile,
 * MLC_STATE_DIR the state directory.  The schema is documented in man/mlc.yaml.5.
 *
 * Not here: secrets (lib/vault), the mapping semantics (lib/map reads its subtree
 * through mlc_config_node()).
 * Ownership: mlc_config_load() returns a config the caller frees with
 * mlc_config_free(); strings returned by getters live as long as the config.
 */
#ifndef MLC_CONFIG_H
#define MLC_CONFIG_H

#include "error.h"
#include <stddef.h>

typedef struct mlc_config mlc_config;

/* A read-only node of the parsed tree (scalar, map or list). */
typedef struct mlc_config_node mlc_config_node;
typedef enum { MLC_CFG_SCALAR, MLC_CFG_MAP, MLC_CFG_LIST } mlc_config_kind;

/* path: file to load, or NULL for the default (MLC_CONFIG, then XDG).
 * profile: name, or NULL for MLC_PROFILE, then default_profile, then the only one.
 * A missing default file is not an error: an empty config with profile "default". */
mlc_err mlc_config_load(const char *path, const char *profile, mlc_config **out, mlc_error *err);
/* Same, from a string (tests, fuzzing); name is used in error messages. */
mlc_err mlc_config_load_string(const char *text, size_t len, const char *name,
                               const char *profile, mlc_config **out, mlc_error *err);
void mlc_config_free(mlc_config *cfg);

const char *mlc_config_path(const mlc_config *cfg);     /* file loaded, or "(none)" */
const char *mlc_config_profile(const mlc_config *cfg);  /* chosen profile name */
/* Directory of the config file: relative paths in it are resolved against it. */
const char *mlc_config_dir(const mlc_config *cfg);

/* Getters: path is relative to the profile; value or schema default; NULL if neither. */
const char *mlc_config_str(const mlc_config *cfg, const char *path);
long long mlc_config_int(const mlc_config *cfg, const char *path);
double mlc_config_double(const mlc_config *cfg, const char *path);
int mlc_config_bool(const mlc_config *cfg, const char *path);
/* A path-valued setting resolved against the config file's directory; caller frees. */
char *mlc_config_file(const mlc_config *cfg, const char *path);

/* Raw tree access (mapping tables). NULL if absent. */
const mlc_config_node *mlc_config_node_at(const mlc_config *cfg, const char *path);
mlc_config_kind mlc_config_node_kind(const mlc_config_node *n);
const char *mlc_config_node_value(const mlc_config_node *n);   /* scalars */
const char *mlc_config_node_key(const mlc_config_node *n);     /* map entries */
size_t mlc_config_node_count(const mlc_config_node *n);        /* maps and lists */
const mlc_config_node *mlc_config_node_child(const mlc_config_node *n, size_t i);
const mlc_config_node *mlc_config_node_get(const mlc_config_node *n, const char *key);
int mlc_config_node_line(const mlc_config_node *n);
int mlc_config_node_col(const mlc_config_node *n);

/* State directory: MLC_STATE_DIR, else state_dir in the profile, else
 * $XDG_STATE_HOME/mlc, else ~/.local/state/mlc. Caller frees. */
char *mlc_config_state_dir(const mlc_config *cfg);

#endif
