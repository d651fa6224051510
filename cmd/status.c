/*
 * status.c: `mlc status`: one look at a profile's health, for people (text),
 * programs (--json) and monitoring (--prometheus FILE, the node_exporter
 * textfile-collector format, written atomically), with Nagios-style exit codes
 * (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; see man/mlc-status.1).
 *
 * It reads the run records every command leaves in the store (lib/ctx), the
 * cursors, the receipt ledger, the ION token cache (its expiry only, never the
 * token) and ShipStation's shared rate budget (lib/ratelimit via lib/shipstation).
 * It never calls a remote system and never changes state.
 * Not here: SQL (lib/store), recording runs (cmd/mlc.c + lib/ctx).
 */
#include "builtin.h"
#include "cmd.h"
#include "dates.h"
#include "ionapi.h"
#include "shipstation.h"
#include "store.h"
#include "vault.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { ST_OK = 0, ST_WARNING = 1, ST_CRITICAL = 2, ST_UNKNOWN = 3 };
static const char *const status_names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

static const char usage[] =
    "usage: mlc status [--json | --prometheus FILE] [--max-age [COMMAND=]DURATION]...\n"
    "\n"
    "One look at the profile's health: per command its last successful run and that\n"
    "run's age, cursors and how far behind they are, receipts by state with the oldest\n"
    "of each, the ION token's expiry, ShipStation's rate budget used in the current\n"
    "window, and the last error. Reads local state only.\n"
    "\n"
    "  -j, --json              one JSON object instead of text\n"
    "  -p, --prometheus FILE   write the metrics to FILE (node_exporter textfile\n"
    "                          collector format, atomically: temp file + rename)\n"
    "  -m, --max-age [CMD=]DURATION\n"
    "                          CRITICAL when a command has not succeeded within DURATION\n"
    "                          (N s/m/h/d); without CMD= for every command that ever ran\n"
    "                          (repeatable; a named command that never ran is CRITICAL)\n"
    "  -h, --help              this help\n"
    "\n"
    "Exit status (Nagios): 0 OK; 1 WARNING (the last run of a command failed, or\n"
    "receipts are queued for retry); 2 CRITICAL (receipts exhausted or needing review,\n"
    "or a command not successful within --max-age); 3 UNKNOWN (state unreadable).\n";

#define MAX_AGES 32
typedef struct max_age {
    char command[64]; /* "" = every command */
    long long seconds;
} max_age;

static long long parse_duration(const char *s)
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

static void iso(long long t, char out[32])
{
    mlc_dates_format_rfc3339((time_t)t, out);
}

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

static long long age_limit(const max_age *ma, size_t nma, const char *command)
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

static mlc_err collect_runs(mlc_store *st, long long now, const max_age *ma, size_t nma, cJSON *doc, cJSON *probs,
                            int *worst, mlc_error *err)
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
            problem(probs, worst, ST_CRITICAL, "%s has not succeeded within %llds (last success: %s)",
                    rs[i].command, lim, ok_age < 0 ? "never" : "too long ago");
        else if (!running && l->exit_code != 0)
            problem(probs, worst, ST_WARNING, "the last %s run failed (exit %d)", rs[i].command, l->exit_code);
    }
    /* a command named in --max-age that never ran */
    for (size_t j = 0; j < nma; j++) {
        int found = !ma[j].command[0];
        for (size_t i = 0; i < n && !found; i++)
            found = !strcmp(rs[i].command, ma[j].command);
        if (!found)
            problem(probs, worst, ST_CRITICAL, "%s has never run", ma[j].command);
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
        problem(probs, worst, ST_CRITICAL, "%ld receipts exhausted their retries (mlc replay)",
                counts[MLC_RECEIPT_EXHAUSTED]);
    if (counts[MLC_RECEIPT_NEEDS_REVIEW])
        problem(probs, worst, ST_CRITICAL, "%ld receipts wait for review (mlc queue --state needs_review)",
                counts[MLC_RECEIPT_NEEDS_REVIEW]);
    if (counts[MLC_RECEIPT_QUEUED])
        problem(probs, worst, ST_WARNING, "%ld receipts queued for retry", counts[MLC_RECEIPT_QUEUED]);
    if (counts[MLC_RECEIPT_IN_DOUBT])
        problem(probs, worst, ST_WARNING,
                "%ld receipts in doubt (settled by post-receipts once their calls cannot still be executing)",
                counts[MLC_RECEIPT_IN_DOUBT]);
    return MLC_OK;
}

static void collect_token(mlc_ctx *ctx, const mlc_config *cfg, long long now, cJSON *doc)
{
    cJSON *o = cJSON_AddObjectToObject(doc, "ion_token");
    mlc_vault *v = NULL;
    mlc_error e = {0};
    if (!mlc_vault_key_available()) {
        cJSON_AddStringToObject(o, "state", "unknown");
        cJSON_AddStringToObject(o, "reason", "no vault key (MLC_VAULT_KEY or MLC_VAULT_KEY_FILE)");
        return;
    }
    mlc_err rc = mlc_vault_open_profile(cfg, mlc_ctx_log(ctx), 0, &v, &e);
    if (rc) {
        cJSON_AddStringToObject(o, "state", rc == MLC_ERR_NOTFOUND ? "none" : "unknown");
        if (rc != MLC_ERR_NOTFOUND)
            cJSON_AddStringToObject(o, "reason", e.msg);
        return;
    }
    long long exp = mlc_ionapi_cached_expiry(v);
    mlc_vault_free(v);
    if (exp <= 0) {
        cJSON_AddStringToObject(o, "state", "none");
        return;
    }
    cJSON_AddStringToObject(o, "state", exp > now ? "valid" : "expired");
    add_time(o, "expires_at", exp);
    cJSON_AddNumberToObject(o, "expires_in_s", (double)(exp - now));
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
        long long limit = mlc_config_int(cfg, v == MLC_SS_V2 ? "shipstation.rate_limit_v2" : "shipstation.rate_limit_v1");
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

/* ---- output ------------------------------------------------------------ */

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

static void fmt_age(double s, char *out, size_t n)
{
    long long t = (long long)(s < 0 ? -s : s);
    if (t >= 86400)
        snprintf(out, n, "%lldd%lldh", t / 86400, (t % 86400) / 3600);
    else if (t >= 3600)
        snprintf(out, n, "%lldh%02lldm", t / 3600, (t % 3600) / 60);
    else if (t >= 60)
        snprintf(out, n, "%lldm%02llds", t / 60, t % 60);
    else
        snprintf(out, n, "%llds", t);
}

static void print_text(const cJSON *doc, FILE *out)
{
    const cJSON *x;
    char a[32];
    fprintf(out, "profile %s: %s\n", jstr(doc, "profile"), jstr(doc, "status"));
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(doc, "problems"))
        fprintf(out, "  %s: %s\n", jstr(x, "level"), jstr(x, "message"));
    fputs("\ncommands:\n", out);
    const cJSON *cmds = cJSON_GetObjectItemCaseSensitive(doc, "commands");
    if (!cJSON_GetArraySize(cmds))
        fputs("  (no run recorded yet)\n", out);
    cJSON_ArrayForEach(x, cmds)
    {
        const char *ok = jstr(x, "last_success");
        fmt_age(jnum(x, "last_success_age_s", 0), a, sizeof a);
        fprintf(out, "  %-18s last success %s%s%s%s", jstr(x, "command"), ok ? ok : "never", ok ? " (" : "",
                ok ? a : "", ok ? " ago)" : "");
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "running")))
            fprintf(out, "; running since %s\n", jstr(x, "last_run_started"));
        else if (jnum(x, "last_exit_code", 0) != 0)
            fprintf(out, "; last run %s failed (exit %.0f)\n", jstr(x, "last_run_started"),
                    jnum(x, "last_exit_code", 0));
        else
            fputs("\n", out);
    }
    fputs("\ncursors:\n", out);
    const cJSON *curs = cJSON_GetObjectItemCaseSensitive(doc, "cursors");
    if (!cJSON_GetArraySize(curs))
        fputs("  (none)\n", out);
    cJSON_ArrayForEach(x, curs)
    {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(x, "behind_s");
        fmt_age(cJSON_IsNumber(b) ? b->valuedouble : 0, a, sizeof a);
        fprintf(out, "  %-18s %s (%s%s, updated %s)\n", jstr(x, "stream"), jstr(x, "value"),
                cJSON_IsNumber(b) ? a : "position not a time", cJSON_IsNumber(b) ? " behind" : "",
                jstr(x, "updated_at"));
    }
    fputs("\nreceipts:\n", out);
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(doc, "receipts"))
    {
        const char *old = jstr(x, "oldest");
        fmt_age(jnum(x, "oldest_age_s", 0), a, sizeof a);
        fprintf(out, "  %-18s %6.0f", x->string, jnum(x, "count", 0));
        if (old)
            fprintf(out, "  oldest %s (%s ago)", old, a);
        fputs("\n", out);
    }
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(doc, "ion_token");
    const char *ts = jstr(tok, "state");
    fputs("\nION token: ", out);
    if (ts && (!strcmp(ts, "valid") || !strcmp(ts, "expired"))) {
        double in = jnum(tok, "expires_in_s", 0);
        fmt_age(in, a, sizeof a);
        fprintf(out, "%s %s (%s%s%s)\n", !strcmp(ts, "valid") ? "expires" : "expired", jstr(tok, "expires_at"),
                in >= 0 ? "in " : "", a, in >= 0 ? "" : " ago");
    } else {
        fprintf(out, "%s%s%s%s\n", !strcmp(ts ? ts : "", "none") ? "none cached" : ts ? ts : "unknown",
                jstr(tok, "reason") ? " (" : "", jstr(tok, "reason") ? jstr(tok, "reason") : "",
                jstr(tok, "reason") ? ")" : "");
    }
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(doc, "shipstation_rate"))
    {
        if (jstr(x, "state"))
            fprintf(out, "ShipStation %s rate budget: unknown%s%s%s\n", jstr(x, "api"), jstr(x, "reason") ? " (" : "",
                    jstr(x, "reason") ? jstr(x, "reason") : "", jstr(x, "reason") ? ")" : "");
        else
            fprintf(out, "ShipStation %s rate budget: %.0f of %.0f used in the current window\n", jstr(x, "api"),
                    jnum(x, "used", 0), jnum(x, "limit", 0));
    }
    const cJSON *le = cJSON_GetObjectItemCaseSensitive(doc, "last_error");
    if (cJSON_IsObject(le))
        fprintf(out, "last error: %s %s (exit %.0f): %s\n", jstr(le, "at"), jstr(le, "command"),
                jnum(le, "exit_code", 0), jstr(le, "message"));
    else
        fputs("last error: none recorded\n", out);
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
    head(f, "mlc_last_run_exit_code", "gauge", "Exit code of the command's most recent finished run (-1 while running).");
    cJSON_ArrayForEach(x, cmds)
        sample(f, "mlc_last_run_exit_code", p, "command", jstr(x, "command"), jnum(x, "last_exit_code", -1));
    head(f, "mlc_last_run_duration_seconds", "gauge", "Duration of the command's most recent finished run.");
    cJSON_ArrayForEach(x, cmds) if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(x, "last_duration_s")))
        sample(f, "mlc_last_run_duration_seconds", p, "command", jstr(x, "command"), jnum(x, "last_duration_s", 0));
    head(f, "mlc_runs", "gauge", "Runs of the command kept in the store (90 days).");
    cJSON_ArrayForEach(x, cmds)
        sample(f, "mlc_runs", p, "command", jstr(x, "command"), jnum(x, "runs", 0));
    head(f, "mlc_run_failures", "gauge", "Failed runs of the command kept in the store (90 days).");
    cJSON_ArrayForEach(x, cmds)
        sample(f, "mlc_run_failures", p, "command", jstr(x, "command"), jnum(x, "failures", 0));

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
    head(f, "mlc_receipts_oldest_timestamp_seconds", "gauge", "Creation time of the oldest receipt in the state (Unix time).");
    cJSON_ArrayForEach(x, rec) if (ts_of(x, "oldest", &t))
        sample(f, "mlc_receipts_oldest_timestamp_seconds", p, "state", x->string, t);

    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(doc, "ion_token");
    head(f, "mlc_ion_token_expiry_timestamp_seconds", "gauge", "Expiry of the cached ION token (Unix time; absent if none or unknown).");
    if (ts_of(tok, "expires_at", &t))
        sample(f, "mlc_ion_token_expiry_timestamp_seconds", p, NULL, NULL, t);

    const cJSON *rate = cJSON_GetObjectItemCaseSensitive(doc, "shipstation_rate");
    head(f, "mlc_shipstation_rate_used", "gauge", "ShipStation requests used in the current rate window (all mlc processes).");
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
static int write_prometheus(const cJSON *doc, const char *path, mlc_log *log)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
        mlc_log_error(log, "--prometheus %s: path too long", path);
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        mlc_log_error(log, "--prometheus %s: cannot create a temporary file beside it: %s", path, strerror(errno));
        return -1;
    }
    fchmod(fd, 0644);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        mlc_log_error(log, "--prometheus %s: %s", path, strerror(errno));
        return -1;
    }
    write_metrics(doc, f);
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        mlc_log_error(log, "--prometheus %s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int cmd_status(int argc, char **argv, mlc_ctx *ctx)
{
    static const struct option opts[] = {{"json", no_argument, 0, 'j'},
                                         {"prometheus", required_argument, 0, 'p'},
                                         {"max-age", required_argument, 0, 'm'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int json = 0, c;
    const char *prom = NULL;
    max_age ma[MAX_AGES];
    size_t nma = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+jp:m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = 1;
            break;
        case 'p':
            prom = optarg;
            break;
        case 'm': {
            if (nma == MAX_AGES)
                return cmd_usage_error(usage, "status: at most %d --max-age options", MAX_AGES);
            const char *eq = strchr(optarg, '=');
            const char *d = eq ? eq + 1 : optarg;
            if (eq && (eq == optarg || (size_t)(eq - optarg) >= sizeof ma[nma].command))
                return cmd_usage_error(usage, "status: --max-age '%s': bad command name", optarg);
            snprintf(ma[nma].command, sizeof ma[nma].command, "%.*s", eq ? (int)(eq - optarg) : 0, optarg);
            if ((ma[nma].seconds = parse_duration(d)) < 0)
                return cmd_usage_error(usage, "status: --max-age '%s': want a duration such as 90s, 15m, 2h, 1d",
                                       optarg);
            nma++;
            break;
        }
        case 'h':
            return cmd_help(usage);
        default:
            return cmd_usage_error(usage, "status: unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cmd_usage_error(usage, "status: unexpected argument '%s'", argv[optind]);
    if (json && prom)
        return cmd_usage_error(usage, "status: --json and --prometheus exclude each other");

    mlc_log *log = mlc_ctx_log(ctx);
    const mlc_config *cfg;
    mlc_store *st;
    mlc_error e = {0};
    if (mlc_ctx_config(ctx, &cfg, &e) || mlc_ctx_store(ctx, &st, &e)) {
        mlc_log_error(log, "%s", e.msg);
        return ST_UNKNOWN;
    }
    long long now = (long long)time(NULL);
    int worst = ST_OK;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "profile", mlc_config_profile(cfg));
    add_time(doc, "now", now);
    cJSON *probs = cJSON_CreateArray();
    mlc_err rc = collect_runs(st, now, ma, nma, doc, probs, &worst, &e);
    if (!rc)
        rc = collect_cursors(st, now, doc, &e);
    if (!rc)
        rc = collect_receipts(st, now, doc, probs, &worst, &e);
    if (!rc)
        rc = collect_last_error(st, doc, &e);
    if (rc) {
        mlc_log_error(log, "%s", e.msg);
        cJSON_Delete(probs);
        cJSON_Delete(doc);
        return ST_UNKNOWN;
    }
    collect_token(ctx, cfg, now, doc);
    collect_rate(ctx, cfg, doc);
    cJSON_AddStringToObject(doc, "status", status_names[worst]);
    cJSON_AddNumberToObject(doc, "exit_code", worst);
    cJSON_AddItemToObject(doc, "problems", probs);

    int out_rc = worst;
    if (prom) {
        if (write_prometheus(doc, prom, log))
            out_rc = ST_UNKNOWN;
    } else if (json) {
        char *s = cJSON_PrintUnformatted(doc);
        if (s)
            printf("%s\n", s);
        free(s);
    } else {
        print_text(doc, stdout);
    }
    cJSON_Delete(doc);
    if (fflush(stdout) != 0)
        return ST_UNKNOWN;
    return out_rc;
}
