/*
 * status.c: a profile's health from local state (see status.h): run records,
 * cursors, the receipt ledger, the ION token cache's expiry (the vault's, or the
 * shared state's on a state shared between hosts), ShipStation's shared
 * rate budget; and the Prometheus textfile form of it.
 * Not here: SQL (lib/store), the text form and options (cmd/status.c).
 */
#include "status.h"
#include "dates.h"
#include "ionapi.h"
#include "sharing.h"
#include "shipstation.h"
#include "store.h"
#include "vault.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const status_names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

long long mlc_status_parse_duration(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno || v <= 0)
        return -1;
    long long mul = 1;
    if (*end == 's')
        end++;
    else if (*end == 'm')
        mul = 60, end++;
    else if (*end == 'h')
        mul = 3600, end++;
    else if (*end == 'd')
        mul = 86400, end++;
    if (*end || v > LLONG_MAX / mul)
        return -1;
    return v * mul;
}

static void iso(long long t, char out[32]) { mlc_dates_format_rfc3339((time_t)t, out); }

static void add_time(cJSON *o, const char *key, long long t)
{
    char b[32];
    if (t <= 0) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    iso(t, b);
    cJSON_AddStringToObject(o, key, b);
}

/* A cursor's position in time: RFC 3339, Pacific naive or an M3 day; -1 if none. */
static long long cursor_time(const char *v)
{
    time_t t;
    if (!mlc_dates_parse_rfc3339(v, &t) || !mlc_dates_parse_pacific(v, &t) || !mlc_dates_parse_m3(v, &t))
        return (long long)t;
    return -1;
}

static void problem(cJSON *probs, int *worst, int level, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void problem(cJSON *probs, int *worst, int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "level", status_names[level]);
    cJSON_AddStringToObject(p, "message", msg);
    cJSON_AddItemToArray(probs, p);
    if (level > *worst)
        *worst = level;
}

static long long age_limit(const mlc_status_max_age *ma, size_t nma, const char *command)
{
    long long lim = -1;
    for (size_t i = 0; i < nma; i++)
        if (!strcmp(ma[i].command, command))
            return ma[i].seconds;
    for (size_t i = 0; i < nma; i++)
        if (!ma[i].command[0])
            lim = ma[i].seconds;
    return lim;
}

/* ---- collecting -------------------------------------------------------- */

static mlc_err collect_runs(mlc_store *st, long long now, const mlc_status_max_age *ma, size_t nma, cJSON *doc,
                            cJSON *probs, int *worst, mlc_error *err)
{
    mlc_store_run_summary *rs = NULL;
    size_t n = 0;
    mlc_err rc = mlc_store_run_summary_list(st, &rs, &n, err);
    if (rc)
        return rc;
    cJSON *arr = cJSON_AddArrayToObject(doc, "commands");
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "command", rs[i].command);
        add_time(o, "last_success", rs[i].last_ok.id ? rs[i].last_ok.ended_at : 0);
        if (rs[i].last_ok.id)
            cJSON_AddNumberToObject(o, "last_success_age_s", (double)(now - rs[i].last_ok.ended_at));
        else
            cJSON_AddNullToObject(o, "last_success_age_s");
        const mlc_store_run *l = &rs[i].last;
        add_time(o, "last_run_started", l->started_at);
        int running = l->ended_at == 0;
        cJSON_AddBoolToObject(o, "running", running);
        if (running)
            cJSON_AddNullToObject(o, "last_exit_code");
        else
            cJSON_AddNumberToObject(o, "last_exit_code", l->exit_code);
        if (!running)
            cJSON_AddNumberToObject(o, "last_duration_s", (double)(l->ended_at - l->started_at));
        cJSON *counts = l->counts ? cJSON_Parse(l->counts) : NULL;
        if (counts)
            cJSON_AddItemToObject(o, "last_counts", counts);
        cJSON_AddNumberToObject(o, "runs", (double)rs[i].runs);
        cJSON_AddNumberToObject(o, "failures", (double)rs[i].failures);

        long long lim = age_limit(ma, nma, rs[i].command);
        long long ok_age = rs[i].last_ok.id ? now - rs[i].last_ok.ended_at : -1;
        if (lim > 0 && (ok_age < 0 || ok_age > lim))
            problem(probs, worst, MLC_STATUS_CRITICAL, "%s has not succeeded within %llds (last success: %s)",
                    rs[i].command, lim, ok_age < 0 ? "never" : "too long ago");
        else if (!running && l->exit_code != 0)
            problem(probs, worst, MLC_STATUS_WARNING, "the last %s run failed (exit %d)", rs[i].command, l->exit_code);
    }
    /* a command named in --max-age that never ran */
    for (size_t j = 0; j < nma; j++) {
        int found = !ma[j].command[0];
        for (size_t i = 0; i < n && !found; i++)
            found = !strcmp(rs[i].command, ma[j].command);
        if (!found)
            problem(probs, worst, MLC_STATUS_CRITICAL, "%s has never run", ma[j].command);
    }
    mlc_store_run_summary_free(rs, n);
    return MLC_OK;
}

static mlc_err collect_cursors(mlc_store *st, long long now, cJSON *doc, mlc_error *err)
{
    mlc_store_cursor *c = NULL;
    size_t n = 0;
    mlc_err rc = mlc_store_cursor_list(st, &c, &n, err);
    if (rc)
        return rc;
    cJSON *arr = cJSON_AddArrayToObject(doc, "cursors");
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "stream", c[i].stream);
        cJSON_AddStringToObject(o, "value", c[i].value);
        cJSON_AddStringToObject(o, "updated_at", c[i].updated_at);
        long long t = cursor_time(c[i].value);
        if (t >= 0)
            cJSON_AddNumberToObject(o, "behind_s", (double)(now > t ? now - t : 0));
        else
            cJSON_AddNullToObject(o, "behind_s");
    }
    mlc_store_cursor_list_free(c, n);
    return MLC_OK;
}

static mlc_err collect_receipts(mlc_store *st, long long now, cJSON *doc, cJSON *probs, int *worst, mlc_error *err)
{
    long counts[MLC_RECEIPT__COUNT];
    char *oldest[MLC_RECEIPT__COUNT];
    mlc_err rc = mlc_store_receipt_counts(st, counts, err);
    if (!rc)
        rc = mlc_store_receipt_oldest(st, oldest, err);
    if (rc)
        return rc;
    cJSON *o = cJSON_AddObjectToObject(doc, "receipts");
    for (int s = 0; s < MLC_RECEIPT__COUNT; s++) {
        cJSON *e = cJSON_AddObjectToObject(o, mlc_receipt_state_name((mlc_receipt_state)s));
        cJSON_AddNumberToObject(e, "count", (double)counts[s]);
        time_t t;
        if (oldest[s] && !mlc_dates_parse_rfc3339(oldest[s], &t)) {
            cJSON_AddStringToObject(e, "oldest", oldest[s]);
            cJSON_AddNumberToObject(e, "oldest_age_s", (double)(now - (long long)t));
        } else {
            cJSON_AddNullToObject(e, "oldest");
            cJSON_AddNullToObject(e, "oldest_age_s");
        }
        free(oldest[s]);
    }
    if (counts[MLC_RECEIPT_EXHAUSTED])
        problem(probs, worst, MLC_STATUS_CRITICAL, "%ld receipts exhausted their retries (mlc replay)",
                counts[MLC_RECEIPT_EXHAUSTED]);
    if (counts[MLC_RECEIPT_NEEDS_REVIEW])
        problem(probs, worst, MLC_STATUS_CRITICAL, "%ld receipts wait for review (mlc queue --state needs_review)",
                counts[MLC_RECEIPT_NEEDS_REVIEW]);
    if (counts[MLC_RECEIPT_QUEUED])
        problem(probs, worst, MLC_STATUS_WARNING, "%ld receipts queued for retry", counts[MLC_RECEIPT_QUEUED]);
    if (counts[MLC_RECEIPT_IN_DOUBT])
        problem(probs, worst, MLC_STATUS_WARNING,
                "%ld receipts in doubt (settled by post-receipts once their calls cannot still be executing)",
                counts[MLC_RECEIPT_IN_DOUBT]);
    return MLC_OK;
}

static void token_expiry(cJSON *o, long long exp, long long now)
{
    if (exp <= 0) {
        cJSON_AddStringToObject(o, "state", "none");
        return;
    }
    cJSON_AddStringToObject(o, "state", exp > now ? "valid" : "expired");
    add_time(o, "expires_at", exp);
    cJSON_AddNumberToObject(o, "expires_in_s", (double)(exp - now));
}

static void token_unknown(cJSON *o, const char *reason)
{
    cJSON_AddStringToObject(o, "state", "unknown");
    cJSON_AddStringToObject(o, "reason", reason);
}

/* A state shared between hosts holds the token (lib/sharing), sealed under the
 * credentials, in a value named after their fingerprint: the credentials are
 * read for that name only; the expiry comes from the value's clear header. */
static void collect_shared_token(mlc_ctx *ctx, const mlc_config *cfg, mlc_store *st, long long now, cJSON *o)
{
    mlc_vault *v = NULL;
    mlc_ionapi *ion = NULL;
    char *src = NULL;
    mlc_error e = {0};
    int key = mlc_vault_key_available();
    if (key) {
        mlc_err rc = mlc_vault_open_profile(cfg, mlc_ctx_log(ctx), 0, &v, &e);
        if (rc && rc != MLC_ERR_NOTFOUND) {
            token_unknown(o, e.msg);
            return;
        }
    }
    mlc_err rc = mlc_ionapi_resolve(cfg, v, &ion, &src, &e);
    mlc_vault_free(v);
    free(src);
    if (rc) {
        char reason[600];
        snprintf(reason, sizeof reason, "%s%s", key ? "" : "no vault key (MLC_VAULT_KEY or MLC_VAULT_KEY_FILE): ",
                 e.msg);
        token_unknown(o, reason);
        return;
    }
    mlc_sharing_ionapi_cache(ion, st);
    long long exp = mlc_ionapi_shared_expiry(ion, &e);
    mlc_ionapi_free(ion);
    if (exp < 0)
        token_unknown(o, e.msg);
    else
        token_expiry(o, exp, now);
}

static void collect_token(mlc_ctx *ctx, const mlc_config *cfg, mlc_store *st, long long now, cJSON *doc)
{
    cJSON *o = cJSON_AddObjectToObject(doc, "ion_token");
    if (mlc_store_is_shared(st)) {
        cJSON_AddStringToObject(o, "cache", "state");
        collect_shared_token(ctx, cfg, st, now, o);
        return;
    }
    cJSON_AddStringToObject(o, "cache", "vault");
    mlc_vault *v = NULL;
    mlc_error e = {0};
    if (!mlc_vault_key_available()) {
        token_unknown(o, "no vault key (MLC_VAULT_KEY or MLC_VAULT_KEY_FILE)");
        return;
    }
    mlc_err rc = mlc_vault_open_profile(cfg, mlc_ctx_log(ctx), 0, &v, &e);
    if (rc) {
        if (rc == MLC_ERR_NOTFOUND)
            cJSON_AddStringToObject(o, "state", "none");
        else
            token_unknown(o, e.msg);
        return;
    }
    long long exp = mlc_ionapi_cached_expiry(v);
    mlc_vault_free(v);
    token_expiry(o, exp, now);
}

static void collect_rate(mlc_ctx *ctx, const mlc_config *cfg, cJSON *doc)
{
    cJSON *arr = cJSON_AddArrayToObject(doc, "shipstation_rate");
    mlc_ss *ss = NULL;
    mlc_error e = {0};
    /* building the client reads the keys (for the budget's fingerprint) but sends nothing */
    mlc_log *log = mlc_ctx_log(ctx);
    mlc_log_level lvl = mlc_log_get_level(log);
    mlc_log_set_level(log, MLC_LOG_ERROR);
    mlc_err rc = mlc_ss_new(ctx, NULL, &ss, &e);
    mlc_log_set_level(log, lvl);
    if (rc) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "api", "shipstation");
        cJSON_AddStringToObject(o, "state", "unknown");
        cJSON_AddStringToObject(o, "reason", e.msg);
        cJSON_AddItemToArray(arr, o);
        return;
    }
    for (int v = MLC_SS_V2; v >= MLC_SS_V1; v--) {
        if (!mlc_ss_has(ss, (mlc_ss_version)v))
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "api", v == MLC_SS_V2 ? "v2" : "v1");
        long long limit =
            mlc_config_int(cfg, v == MLC_SS_V2 ? "shipstation.rate_limit_v2" : "shipstation.rate_limit_v1");
        int left = mlc_ss_remaining(ss, (mlc_ss_version)v);
        cJSON_AddNumberToObject(o, "limit", (double)limit);
        if (left < 0) {
            cJSON_AddStringToObject(o, "state", "unknown");
            continue;
        }
        cJSON_AddNumberToObject(o, "remaining", left);
        cJSON_AddNumberToObject(o, "used", (double)(limit > left ? limit - left : 0));
    }
    mlc_ss_free(ss);
}

static mlc_err collect_last_error(mlc_store *st, cJSON *doc, mlc_error *err)
{
    mlc_store_run *r = NULL;
    mlc_err rc = mlc_store_run_last_error(st, &r, err);
    if (rc)
        return rc;
    if (!r) {
        cJSON_AddNullToObject(doc, "last_error");
        return MLC_OK;
    }
    cJSON *o = cJSON_AddObjectToObject(doc, "last_error");
    add_time(o, "at", r->ended_at);
    cJSON_AddStringToObject(o, "command", r->command);
    cJSON_AddNumberToObject(o, "exit_code", r->exit_code);
    cJSON_AddStringToObject(o, "message", r->error);
    mlc_store_run_free(r);
    return MLC_OK;
}

mlc_err mlc_status_collect(mlc_ctx *ctx, const mlc_status_max_age *ma, size_t nma, cJSON **out, mlc_error *err)
{
    const mlc_config *cfg;
    mlc_store *st;
    mlc_err rc = mlc_ctx_config(ctx, &cfg, err);
    if (!rc)
        rc = mlc_ctx_store(ctx, &st, err);
    if (rc)
        return rc;
    long long now = (long long)time(NULL);
    int worst = MLC_STATUS_OK;
    cJSON *doc = cJSON_CreateObject();
    cJSON *probs = cJSON_CreateArray();
    if (!doc || !probs) {
        cJSON_Delete(doc);
        cJSON_Delete(probs);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    cJSON_AddStringToObject(doc, "profile", mlc_config_profile(cfg));
    add_time(doc, "now", now);
    rc = collect_runs(st, now, ma, nma, doc, probs, &worst, err);
    if (!rc)
        rc = collect_cursors(st, now, doc, err);
    if (!rc)
        rc = collect_receipts(st, now, doc, probs, &worst, err);
    if (!rc)
        rc = collect_last_error(st, doc, err);
    if (rc) {
        cJSON_Delete(probs);
        cJSON_Delete(doc);
        return rc;
    }
    collect_token(ctx, cfg, st, now, doc);
    collect_rate(ctx, cfg, doc);
    cJSON_AddStringToObject(doc, "status", status_names[worst]);
    cJSON_AddNumberToObject(doc, "exit_code", worst);
    cJSON_AddItemToObject(doc, "problems", probs);
    *out = doc;
    return MLC_OK;
}

/* ---- Prometheus --------------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* Prometheus label value: \, " and newline escaped. */
static void label(FILE *f, const char *v)
{
    fputc('"', f);
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            fprintf(f, "\\%c", *v);
        else if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
    fputc('"', f);
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(FILE *f, const char *name, const char *profile, const char *k2, const char *v2, double value)
{
    fprintf(f, "%s{profile=", name);
    label(f, profile);
    if (k2) {
        fprintf(f, ",%s=", k2);
        label(f, v2);
    }
    fprintf(f, "} %.17g\n", value);
}

static int ts_of(const cJSON *o, const char *k, double *out)
{
    const char *s = jstr(o, k);
    time_t t;
    if (!s || mlc_dates_parse_rfc3339(s, &t))
        return 0;
    *out = (double)t;
    return 1;
}

static void write_metrics(const cJSON *doc, FILE *f)
{
    const char *p = jstr(doc, "profile");
    const cJSON *x, *cmds = cJSON_GetObjectItemCaseSensitive(doc, "commands");
    double t;
    head(f, "mlc_up", "gauge", "1: mlc status could read the profile's state.");
    sample(f, "mlc_up", p, NULL, NULL, 1);
    head(f, "mlc_status", "gauge", "Health as mlc status's exit code: 0 OK, 1 WARNING, 2 CRITICAL.");
    sample(f, "mlc_status", p, NULL, NULL, jnum(doc, "exit_code", 3));
    head(f, "mlc_last_success_timestamp_seconds", "gauge", "End of the command's last successful run (Unix time).");
    cJSON_ArrayForEach(x, cmds) if (ts_of(x, "last_success", &t))
        sample(f, "mlc_last_success_timestamp_seconds", p, "command", jstr(x, "command"), t);
    head(f, "mlc_last_run_timestamp_seconds", "gauge", "Start of the command's most recent run (Unix time).");
    cJSON_ArrayForEach(x, cmds) if (ts_of(x, "last_run_started", &t))
        sample(f, "mlc_last_run_timestamp_seconds", p, "command", jstr(x, "command"), t);
    head(f, "mlc_last_run_exit_code", "gauge",
         "Exit code of the command's most recent finished run (-1 while running).");
    cJSON_ArrayForEach(x, cmds)
        sample(f, "mlc_last_run_exit_code", p, "command", jstr(x, "command"), jnum(x, "last_exit_code", -1));
    head(f, "mlc_last_run_duration_seconds", "gauge", "Duration of the command's most recent finished run.");
    cJSON_ArrayForEach(x, cmds) if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(x, "last_duration_s")))
        sample(f, "mlc_last_run_duration_seconds", p, "command", jstr(x, "command"), jnum(x, "last_duration_s", 0));
    head(f, "mlc_runs", "gauge", "Runs of the command kept in the store (90 days).");
    cJSON_ArrayForEach(x, cmds) sample(f, "mlc_runs", p, "command", jstr(x, "command"), jnum(x, "runs", 0));
    head(f, "mlc_run_failures", "gauge", "Failed runs of the command kept in the store (90 days).");
    cJSON_ArrayForEach(x, cmds) sample(f, "mlc_run_failures", p, "command", jstr(x, "command"), jnum(x, "failures", 0));

    const cJSON *curs = cJSON_GetObjectItemCaseSensitive(doc, "cursors");
    head(f, "mlc_cursor_updated_timestamp_seconds", "gauge", "When the cursor last moved (Unix time).");
    cJSON_ArrayForEach(x, curs) if (ts_of(x, "updated_at", &t))
        sample(f, "mlc_cursor_updated_timestamp_seconds", p, "stream", jstr(x, "stream"), t);
    head(f, "mlc_cursor_lag_seconds", "gauge", "How far the cursor's position is behind now.");
    cJSON_ArrayForEach(x, curs) if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(x, "behind_s")))
        sample(f, "mlc_cursor_lag_seconds", p, "stream", jstr(x, "stream"), jnum(x, "behind_s", 0));

    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(doc, "receipts");
    head(f, "mlc_receipts", "gauge", "Receipts in the ledger by state.");
    cJSON_ArrayForEach(x, rec) sample(f, "mlc_receipts", p, "state", x->string, jnum(x, "count", 0));
    head(f, "mlc_receipts_oldest_timestamp_seconds", "gauge",
         "Creation time of the oldest receipt in the state (Unix time).");
    cJSON_ArrayForEach(x, rec) if (ts_of(x, "oldest", &t))
        sample(f, "mlc_receipts_oldest_timestamp_seconds", p, "state", x->string, t);

    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(doc, "ion_token");
    head(f, "mlc_ion_token_expiry_timestamp_seconds", "gauge",
         "Expiry of the cached ION token (Unix time; absent if none or unknown).");
    if (ts_of(tok, "expires_at", &t))
        sample(f, "mlc_ion_token_expiry_timestamp_seconds", p, NULL, NULL, t);

    const cJSON *rate = cJSON_GetObjectItemCaseSensitive(doc, "shipstation_rate");
    head(f, "mlc_shipstation_rate_used", "gauge",
         "ShipStation requests used in the current rate window (all mlc processes).");
    cJSON_ArrayForEach(x, rate) if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(x, "used")))
        sample(f, "mlc_shipstation_rate_used", p, "api", jstr(x, "api"), jnum(x, "used", 0));
    head(f, "mlc_shipstation_rate_limit", "gauge", "ShipStation requests allowed per rate window (configured).");
    cJSON_ArrayForEach(x, rate) if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(x, "limit")))
        sample(f, "mlc_shipstation_rate_limit", p, "api", jstr(x, "api"), jnum(x, "limit", 0));

    head(f, "mlc_last_error_timestamp_seconds", "gauge", "When the last run that logged an error ended (Unix time).");
    if (ts_of(cJSON_GetObjectItemCaseSensitive(doc, "last_error"), "at", &t))
        sample(f, "mlc_last_error_timestamp_seconds", p, NULL, NULL, t);
}

/* Temp file in the same directory, fsync, rename: the collector never reads half a file. */
mlc_err mlc_status_write_prometheus(const cJSON *doc, const char *path, mlc_error *err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
        return mlc_error_set(err, MLC_ERR_IO, "--prometheus %s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return mlc_error_set(err, MLC_ERR_IO, "--prometheus %s: cannot create a temporary file beside it: %s", path,
                             strerror(errno));
    fchmod(fd, 0644);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return mlc_error_set(err, MLC_ERR_IO, "--prometheus %s: %s", path, strerror(e));
    }
    write_metrics(doc, f);
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        mlc_error_set(err, MLC_ERR_IO, "--prometheus %s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        return MLC_ERR_IO;
    }
    return MLC_OK;
}
