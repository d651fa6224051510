/*
 * sscreds.c: ShipStation keys from the vault entry or key files, and the entry's
 * writer (see sscreds.h).
 * Not here: using the keys (lib/shipstation), reading files (lib/secret).
 */
#include "sscreds.h"
#include "dates.h"
#include "secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void mlc_sscreds_clear(mlc_sscreds *c)
{
    if (!c)
        return;
    mlc_secret_free_str(c->v2_key);
    mlc_secret_free_str(c->v1_key);
    mlc_secret_free_str(c->v1_secret);
    free(c->v2_source);
    free(c->v1_source);
    memset(c, 0, sizeof *c);
}

static int set(char **dst, const char *s, size_t n)
{
    mlc_secret_free_str(*dst);
    *dst = strndup(s, n);
    return *dst != NULL;
}

mlc_err mlc_sscreds_parse_key(char *text, size_t len, const char *name, int v1, mlc_sscreds *c, mlc_error *err)
{
    if (strlen(text) != len)
        return mlc_error_set(err, MLC_ERR_CONFIG, "%s: binary data, not a key", name);
    char *t = mlc_secret_trim(text);
    if (!*t)
        return mlc_error_set(err, MLC_ERR_CONFIG, "%s: empty", name);
    if (!mlc_secret_single_line(t))
        return mlc_error_set(err, MLC_ERR_CONFIG, "%s: expected a single line", name);
    if (!v1)
        return set(&c->v2_key, t, strlen(t)) ? MLC_OK : mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    char *colon = strchr(t, ':');
    if (!colon || colon == t || !colon[1])
        return mlc_error_set(err, MLC_ERR_CONFIG, "%s: expected \"key:secret\" (ShipStation V1)", name);
    if (!set(&c->v1_key, t, (size_t)(colon - t)) || !set(&c->v1_secret, colon + 1, strlen(colon + 1)))
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    return MLC_OK;
}

mlc_err mlc_sscreds_read_key(const char *path, int v1, int flags, mlc_sscreds *c, mlc_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int from_stdin = (flags & MLC_SECRET_STDIN) && !strcmp(path, "-");
    mlc_err rc = mlc_secret_read(path, MLC_SSCREDS_MAX_FILE, from_stdin ? NULL : "key file", flags, &text, &len, err);
    if (rc == MLC_ERR_NOTFOUND)
        return mlc_error_set(err, MLC_ERR_CONFIG, "key file %s: no such file", path);
    if (rc)
        return rc;
    char name[600];
    snprintf(name, sizeof name, from_stdin ? "(stdin)" : "key file %s", path);
    rc = mlc_sscreds_parse_key(text, len, name, v1, c, err);
    mlc_secret_free(text, len + 1);
    return rc;
}

static const char *vstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

mlc_err mlc_sscreds_resolve(const mlc_config *cfg, const mlc_vault *vault, mlc_sscreds *c, mlc_error *err)
{
    const cJSON *e = vault ? mlc_vault_get(vault, MLC_SSCREDS_VAULT_ENTRY) : NULL;
    mlc_err rc = MLC_OK;
    if (vstr(e, "v2_key")) {
        if (!set(&c->v2_key, vstr(e, "v2_key"), strlen(vstr(e, "v2_key"))) || !(c->v2_source = strdup("vault")))
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    } else if ((c->v2_source = mlc_config_file(cfg, "shipstation.api_key_file"))) {
        rc = mlc_sscreds_read_key(c->v2_source, 0, MLC_SECRET_PRIVATE, c, err);
    }
    if (rc)
        return rc;
    if (vstr(e, "v1_key") && vstr(e, "v1_secret")) {
        if (!set(&c->v1_key, vstr(e, "v1_key"), strlen(vstr(e, "v1_key"))) ||
            !set(&c->v1_secret, vstr(e, "v1_secret"), strlen(vstr(e, "v1_secret"))) ||
            !(c->v1_source = strdup("vault")))
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    } else if ((c->v1_source = mlc_config_file(cfg, "shipstation.v1_key_file"))) {
        rc = mlc_sscreds_read_key(c->v1_source, 1, MLC_SECRET_PRIVATE, c, err);
    }
    return rc;
}

static void put(cJSON *o, const char *k, const char *v)
{
    cJSON *old = cJSON_DetachItemFromObjectCaseSensitive(o, k);
    mlc_secret_json_free(old);
    cJSON_AddStringToObject(o, k, v);
}

mlc_err mlc_sscreds_store(mlc_vault *v, const mlc_sscreds *c, mlc_error *err)
{
    mlc_err rc = mlc_vault_lock(v, 30, err);
    if (rc)
        return rc;
    rc = mlc_vault_reload(v, err);
    const cJSON *old = rc ? NULL : mlc_vault_get(v, MLC_SSCREDS_VAULT_ENTRY);
    cJSON *e = old ? cJSON_Duplicate(old, 1) : cJSON_CreateObject();
    if (!rc && !e)
        rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    if (!rc) {
        char when[32];
        mlc_dates_format_rfc3339(time(NULL), when);
        if (c->v2_key)
            put(e, "v2_key", c->v2_key);
        if (c->v1_key && c->v1_secret) {
            put(e, "v1_key", c->v1_key);
            put(e, "v1_secret", c->v1_secret);
        }
        put(e, "added_at", when);
        rc = mlc_vault_set(v, MLC_SSCREDS_VAULT_ENTRY, e, err);
        if (!rc)
            rc = mlc_vault_save(v, err);
    } else {
        mlc_secret_json_free(e);
    }
    mlc_vault_unlock(v);
    return rc;
}

mlc_err mlc_sscreds_remove(mlc_vault *v, mlc_error *err)
{
    mlc_err rc = mlc_vault_lock(v, 30, err);
    if (rc)
        return rc;
    rc = mlc_vault_reload(v, err);
    if (!rc)
        rc = mlc_vault_remove(v, MLC_SSCREDS_VAULT_ENTRY, err);
    if (!rc)
        rc = mlc_vault_save(v, err);
    mlc_vault_unlock(v);
    return rc;
}

cJSON *mlc_sscreds_describe(const mlc_config *cfg, const mlc_vault *vault)
{
    const cJSON *e = vault ? mlc_vault_get(vault, MLC_SSCREDS_VAULT_ENTRY) : NULL;
    const char *k2 = vstr(e, "v2_key"), *k1 = vstr(e, "v1_key"), *s1 = vstr(e, "v1_secret");
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "kind", "credential");
    cJSON_AddStringToObject(o, "name", "shipstation");
    if (k2 || k1) {
        char fp[9];
        cJSON_AddStringToObject(o, "source", "vault");
        if (k2) {
            mlc_secret_fingerprint(k2, fp);
            cJSON_AddStringToObject(o, "v2_key", fp);
        }
        size_t n = k1 && s1 ? strlen(k1) + strlen(s1) + 2 : 0;
        char *up = n ? malloc(n) : NULL;
        if (up) {
            snprintf(up, n, "%s:%s", k1, s1);
            mlc_secret_fingerprint(up, fp);
            mlc_secret_free(up, n);
            cJSON_AddStringToObject(o, "v1_key", fp);
        }
        return o;
    }
    char *p2 = mlc_config_file(cfg, "shipstation.api_key_file");
    char *p1 = mlc_config_file(cfg, "shipstation.v1_key_file");
    if (p2 || p1) {
        cJSON_AddStringToObject(o, "source", p2 ? p2 : p1);
        if (p2)
            cJSON_AddStringToObject(o, "v2_key_file", p2);
        if (p1)
            cJSON_AddStringToObject(o, "v1_key_file", p1);
    } else {
        cJSON_Delete(o);
        o = NULL;
    }
    free(p2);
    free(p1);
    return o;
}
