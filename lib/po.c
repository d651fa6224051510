/*
 * po.c: M3 purchase orders -> purchase_order records (see po.h).
 * Not here: deciding what to emit (cmd/pull_pos.c with lib/store).
 */
#include "po.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dates.h"
#include "map.h"

void mlc_po_changes_free(mlc_po_change *c) { free(c); }

static int valid_po_number(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 10)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              s[i] == '-' || s[i] == '_'))
            return 0;
    return 1;
}

static void trim(char *s)
{
    char *p = s;
    while (*p == ' ')
        p++;
    memmove(s, p, strlen(p) + 1);
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = '\0';
}

/* Adds (po, day) to the list, keeping the latest day per PO. */
static int add_change(mlc_po_change **arr, size_t *n, size_t *cap, const char *po, const char *day)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*arr)[i].po, po) == 0) {
            if (strcmp(day, (*arr)[i].day) > 0)
                snprintf((*arr)[i].day, sizeof (*arr)[i].day, "%s", day);
            return 0;
        }
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        mlc_po_change *na = realloc(*arr, nc * sizeof *na);
        if (!na)
            return -1;
        *arr = na;
        *cap = nc;
    }
    snprintf((*arr)[*n].po, sizeof (*arr)[*n].po, "%s", po);
    snprintf((*arr)[*n].day, sizeof (*arr)[*n].day, "%s", day);
    (*n)++;
    return 0;
}

static int cmp_change(const void *a, const void *b)
{
    return strcmp(((const mlc_po_change *)a)->po, ((const mlc_po_change *)b)->po);
}

/* M3's today (yyyyMMdd) from GENERAL/GetServerTime; the local clock if M3 does not
 * say (the transaction is standard, a tenant may still not grant it). */
static void m3_today(mlc_m3 *m3, char out[9])
{
    mlc_m3_result *r = NULL;
    mlc_error e = {0};
    time_t t;
    const char *d = NULL;
    if (mlc_m3_execute(m3, "GENERAL/GetServerTime", NULL, 0, 1, &r, &e) == MLC_OK)
        d = mlc_m3_result_get(r, 0, "DATE");
    if (d && mlc_dates_parse_m3(d, &t) == 0)
        snprintf(out, 9, "%s", d);
    else
        mlc_dates_format_m3(time(NULL), out);
    mlc_m3_result_free(r);
}

mlc_err mlc_po_initial_day(mlc_m3 *m3, const mlc_config *cfg, char out[9], mlc_error *err)
{
    char today[9];
    time_t t;
    long long days = mlc_config_int(cfg, "cloudsuite.initial_lookback_days");
    if (days < 1)
        return mlc_error_set(err, MLC_ERR_CONFIG, "cloudsuite.initial_lookback_days must be a positive integer");
    m3_today(m3, today);
    if (mlc_dates_parse_m3(today, &t))
        return mlc_error_set(err, MLC_ERR_REMOTE, "M3's date '%s' is not yyyyMMdd", today);
    mlc_dates_format_m3(t - (time_t)days * 86400, out);
    return MLC_OK;
}

typedef struct change_list {
    mlc_po_change *arr;
    size_t n, cap;
} change_list;

static void day_add(const char *day, int days, char out[9])
{
    time_t t;
    if (mlc_dates_parse_m3(day, &t) == 0)
        mlc_dates_format_m3(t + (time_t)days * 86400, out);
    else
        snprintf(out, 9, "%s", day);
}

/* Days from a to b (yyyyMMdd), 0 if either does not parse. */
static long days_between(const char *a, const char *b)
{
    time_t ta, tb;
    if (mlc_dates_parse_m3(a, &ta) || mlc_dates_parse_m3(b, &tb))
        return 0;
    return (long)((tb - ta) / 86400);
}

/* EXPORTMI/Select of the rows "PUNO;LMDT" of a table changed on days from..to (to
 * "" = no upper bound). The query names no company: EXPORTMI refuses company
 * filters and reads the API session's company, which lib/m3 sets to the profile's
 * (;cono=). maxrecs is cloudsuite.export_max_rows: an answer that full may have
 * been cut (a tenant's own cap is not documented, and a cut answer says nothing),
 * so the window is halved by change day and each half asked again; a single day
 * that still fills the answer is an error (nothing is taken, the cursor stays),
 * never a silently shorter list. */
static mlc_err export_window(mlc_m3 *m3, const mlc_config *cfg, const char *pgm, const char *table,
                             const char *prefix, const char *from, const char *to, change_list *cl, int depth,
                             mlc_error *err)
{
    char q[256];
    long long maxrows = mlc_config_int(cfg, "cloudsuite.export_max_rows");
    if (maxrows < 1 || maxrows > 2147483647LL)
        maxrows = 10000;
    if (*to)
        snprintf(q, sizeof q, "%sPUNO, %sLMDT from %s where %sLMDT >= %s and %sLMDT <= %s", prefix, prefix, table,
                 prefix, from, prefix, to);
    else
        snprintf(q, sizeof q, "%sPUNO, %sLMDT from %s where %sLMDT >= %s", prefix, prefix, table, prefix, from);
    mlc_m3_field in[] = {{"QERY", q}, {"SEPC", ";"}, {"HDRS", "0"}};
    mlc_m3_result *r = NULL;
    mlc_err rc = mlc_m3_execute(m3, pgm, in, 3, (int)maxrows, &r, err);
    if (rc) {
        mlc_m3_result_free(r);
        return mlc_error_prefix(err, "listing changed POs (%s on %s)", pgm, table);
    }
    size_t cnt = mlc_m3_result_count(r);
    if (cnt >= (size_t)maxrows) {
        /* possibly cut: ask again in two halves */
        char end[9], mid[9], next[9];
        mlc_m3_result_free(r);
        if (*to)
            snprintf(end, sizeof end, "%s", to);
        else
            m3_today(m3, end);
        if (strcmp(end, from) < 0)
            snprintf(end, sizeof end, "%s", from);
        long span = days_between(from, end);
        if (span < 1 || depth > 40)
            return mlc_error_set(err, MLC_ERR_REMOTE,
                                 "%s on %s: %zu or more rows changed on %s alone (cloudsuite.export_max_rows is "
                                 "%lld): raise it to the tenant's limit, or configure a list transaction as "
                                 "cloudsuite.programs.po_changed",
                                 pgm, table, cnt, from, maxrows);
        day_add(from, (int)(span / 2), mid);
        day_add(mid, 1, next);
        rc = export_window(m3, cfg, pgm, table, prefix, from, mid, cl, depth + 1, err);
        if (!rc)
            rc = export_window(m3, cfg, pgm, table, prefix, next, *to ? to : "", cl, depth + 1, err);
        return rc;
    }
    for (size_t i = 0; i < cnt; i++) {
        const char *repl = mlc_m3_result_get(r, i, "REPL");
        char row[128], *sep;
        if (!repl)
            continue;
        snprintf(row, sizeof row, "%s", repl);
        if (!(sep = strchr(row, ';')))
            continue;
        *sep = '\0';
        char *day = sep + 1;
        trim(row);
        trim(day);
        time_t t;
        if (!valid_po_number(row) || mlc_dates_parse_m3(day, &t)) {
            mlc_m3_result_free(r);
            return mlc_error_set(err, MLC_ERR_REMOTE, "%s on %s: unexpected row %zu '%.60s'", pgm, table, i, repl);
        }
        if (add_change(&cl->arr, &cl->n, &cl->cap, row, day)) {
            mlc_m3_result_free(r);
            return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        }
    }
    mlc_m3_result_free(r);
    return MLC_OK;
}

/* A configured list transaction: from-date in, PO numbers out. */
static mlc_err custom_list(mlc_m3 *m3, const mlc_config *cfg, const char *pgm, const char *from,
                           mlc_po_change **arr, size_t *n, size_t *cap, mlc_error *err)
{
    const char *from_field = mlc_config_str(cfg, "cloudsuite.po_changed_from_field");
    const char *po_field = mlc_config_str(cfg, "cloudsuite.po_changed_po_field");
    mlc_m3_field in[] = {{from_field, from}};
    mlc_m3_result *r = NULL;
    mlc_err rc = mlc_m3_execute(m3, pgm, in, 1, 0, &r, err);
    if (rc) {
        mlc_m3_result_free(r);
        return mlc_error_prefix(err, "listing changed POs (%s)", pgm);
    }
    for (size_t i = 0; i < mlc_m3_result_count(r); i++) {
        const char *po = mlc_m3_result_get(r, i, po_field);
        const char *day = mlc_m3_result_get(r, i, "LMDT");
        if (!po || !valid_po_number(po))
            continue;
        if (add_change(arr, n, cap, po, day ? day : "")) {
            mlc_m3_result_free(r);
            return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        }
    }
    mlc_m3_result_free(r);
    return MLC_OK;
}

mlc_err mlc_po_changed(mlc_m3 *m3, const mlc_config *cfg, const char *from_day, mlc_po_change **out, size_t *n,
                       char max_day[9], mlc_error *err)
{
    const char *pgm = mlc_config_str(cfg, "cloudsuite.programs.po_changed");
    mlc_po_change *arr = NULL;
    size_t cap = 0;
    mlc_err rc;
    time_t t;
    *out = NULL;
    *n = 0;
    max_day[0] = '\0';
    if (mlc_dates_parse_m3(from_day, &t))
        return mlc_error_set(err, MLC_ERR_USAGE, "'%s' is not a yyyyMMdd day", from_day);
    if (strncmp(pgm, "EXPORTMI/", 9) == 0) {
        change_list cl = {0};
        rc = export_window(m3, cfg, pgm, "MPHEAD", "IA", from_day, "", &cl, 0, err);
        if (!rc)
            rc = export_window(m3, cfg, pgm, "MPLINE", "IB", from_day, "", &cl, 0, err);
        arr = cl.arr;
        *n = cl.n;
        cap = cl.cap;
    } else {
        rc = custom_list(m3, cfg, pgm, from_day, &arr, n, &cap, err);
    }
    if (rc) {
        free(arr);
        *n = 0;
        return rc;
    }
    for (size_t i = 0; i < *n; i++)
        if (strcmp(arr[i].day, max_day) > 0)
            snprintf(max_day, 9, "%s", arr[i].day);
    if (*n)
        qsort(arr, *n, sizeof *arr, cmp_change);
    *out = arr;
    return MLC_OK;
}

/* ---- one PO ---- */

static void add_num(cJSON *o, const char *name, const char *v)
{
    cJSON_AddNumberToObject(o, name, v && *v ? strtod(v, NULL) : 0);
}

static void add_str_or_null(cJSON *o, const char *name, const char *v)
{
    if (v && *v)
        cJSON_AddStringToObject(o, name, v);
    else
        cJSON_AddNullToObject(o, name);
}

static void add_day(cJSON *o, const char *name, const char *m3day)
{
    time_t t;
    char buf[32];
    if (m3day && !mlc_dates_parse_m3(m3day, &t)) {
        mlc_dates_format_rfc3339(t, buf);
        cJSON_AddStringToObject(o, name, buf);
    } else {
        cJSON_AddNullToObject(o, name);
    }
}

static mlc_err lookup_day(mlc_m3 *m3, const mlc_config *cfg, const char *po, char day[9], mlc_error *err)
{
    const char *pgm = mlc_config_str(cfg, "cloudsuite.programs.po_changed");
    char q[160];
    day[0] = '\0';
    if (strncmp(pgm, "EXPORTMI/", 9) != 0)
        return MLC_OK; /* a custom list cannot be asked for one PO: changed_at stays null */
    snprintf(q, sizeof q, "IAPUNO, IALMDT from MPHEAD where IAPUNO = '%s'", po);
    mlc_m3_field in[] = {{"QERY", q}, {"SEPC", ";"}, {"HDRS", "0"}};
    mlc_m3_result *r = NULL;
    mlc_err rc = mlc_m3_execute(m3, pgm, in, 3, 1, &r, err);
    if (!rc && mlc_m3_result_count(r) > 0) {
        const char *repl = mlc_m3_result_get(r, 0, "REPL");
        const char *sep = repl ? strchr(repl, ';') : NULL;
        if (sep) {
            snprintf(day, 9, "%s", sep + 1);
            trim(day);
        }
    }
    mlc_m3_result_free(r);
    return rc;
}

/* The columns build_record, one_of_many and add_weights read: M3 is asked for
 * these only (lib/m3 mlc_m3_columns); a field read here must be listed here. */
#define PO_HEAD_COLS "PUNO,CONO,DIVI,ORTY,SUNO,WHLO"
#define PO_LINE_COLS "PUNO,PNLI,PNLS,ITNO,ITDS,ORQA,RVQA,PUUN,DWDT,PUSL,PUST"
#define PO_ITEM_COLS "ITNO,GRWE"

/* The record from transaction htx of head (its record 0) and ltx of lines. */
static cJSON *build_record(const mlc_m3_result *head, size_t htx, const mlc_m3_result *lines, size_t ltx,
                           const char *po, const char *day, long long cono, const char *divi)
{
#define H(field) mlc_m3_result_tx_get(head, htx, 0, field)
#define L(i, field) mlc_m3_result_tx_get(lines, ltx, i, field)
    const char *hcono = H("CONO");
    const char *hdivi = H("DIVI");
    cJSON *rec = cJSON_CreateObject();
    if (!rec)
        return NULL;
    cJSON_AddStringToObject(rec, "kind", "purchase_order");
    cJSON_AddNumberToObject(rec, "cono", hcono && *hcono ? strtod(hcono, NULL) : (double)cono);
    add_str_or_null(rec, "divi", hdivi && *hdivi ? hdivi : divi);
    cJSON_AddStringToObject(rec, "po", po);
    add_str_or_null(rec, "order_type", H("ORTY"));
    cJSON *sup = cJSON_AddObjectToObject(rec, "supplier");
    add_str_or_null(sup, "id", H("SUNO"));
    cJSON_AddNullToObject(sup, "name"); /* GetHead has no supplier name; CRS620MI is not called */
    add_str_or_null(rec, "warehouse", H("WHLO"));
    cJSON_AddNullToObject(rec, "status");
    cJSON_AddNullToObject(rec, "status_high");
    add_day(rec, "changed_at", day);
    cJSON *arr = cJSON_AddArrayToObject(rec, "lines");
    char lo[3] = "", hi[3] = "";
    for (size_t i = 0; i < mlc_m3_result_tx_record_count(lines, ltx); i++) {
        cJSON *l = cJSON_CreateObject();
        const char *pusl = L(i, "PUSL"), *pust = L(i, "PUST");
        add_num(l, "line", L(i, "PNLI"));
        add_num(l, "subline", L(i, "PNLS"));
        add_str_or_null(l, "item", L(i, "ITNO"));
        add_str_or_null(l, "description", L(i, "ITDS"));
        add_num(l, "qty_ordered", L(i, "ORQA"));
        add_num(l, "qty_received", L(i, "RVQA"));
        add_str_or_null(l, "unit", L(i, "PUUN"));
        add_day(l, "due_date", L(i, "DWDT"));
        add_str_or_null(l, "status", pusl);
        cJSON_AddItemToArray(arr, l);
        if (pusl && *pusl && (!*lo || strcmp(pusl, lo) < 0))
            snprintf(lo, sizeof lo, "%s", pusl);
        if (pust && *pust && strcmp(pust, hi) > 0)
            snprintf(hi, sizeof hi, "%s", pust);
    }
    if (*lo)
        cJSON_ReplaceItemInObjectCaseSensitive(rec, "status", cJSON_CreateString(lo));
    if (*hi)
        cJSON_ReplaceItemInObjectCaseSensitive(rec, "status_high", cJSON_CreateString(hi));
    return rec;
#undef H
#undef L
}

cJSON *mlc_po_record(const mlc_m3_result *head, const mlc_m3_result *lines, const char *po, const char *day,
                     long long cono, const char *divi)
{
    return build_record(head, 0, lines, 0, po, day, cono, divi);
}

/* One bulk read of the n POs of changes with pgm ("PGM/TRN"), one transaction each. */
static mlc_err bulk_read(mlc_m3 *m3, const char *pgm, const mlc_po_change *changes, size_t n, mlc_m3_result **out,
                         mlc_error *err)
{
    mlc_m3_field *fields = calloc(n, sizeof *fields);
    mlc_m3_record *recs = calloc(n, sizeof *recs);
    mlc_err rc;
    if (!fields || !recs) {
        rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    } else {
        for (size_t i = 0; i < n; i++) {
            fields[i] = (mlc_m3_field){"PUNO", changes[i].po};
            recs[i] = (mlc_m3_record){&fields[i], 1};
        }
        rc = mlc_m3_bulk(m3, pgm, recs, n, 1, out, err);
        if (rc == MLC_ERR_REMOTE && *out && mlc_m3_result_tx_count(*out) == n)
            rc = MLC_OK; /* per transaction: the caller looks at each */
        else if (rc == MLC_OK && mlc_m3_result_tx_count(*out) != n)
            /* a missing answer must not read as "PO not found" (skipped for good) */
            rc = mlc_error_set(err, MLC_ERR_REMOTE, "M3 %s: %zu answers for %zu POs", pgm,
                               mlc_m3_result_tx_count(*out), n);
    }
    free(fields);
    free(recs);
    return rc;
}

/* The outcome of PO i from its head and lines transactions. */
static cJSON *one_of_many(mlc_m3 *m3, const mlc_m3_result *head, const mlc_m3_result *lines, size_t i,
                          const mlc_po_change *c, mlc_error *e)
{
    if (mlc_m3_result_tx_not_processed(head, i) || mlc_m3_result_tx_not_processed(lines, i)) {
        mlc_error_set(e, MLC_ERR_TRANSIENT, "PO %s: M3 did not process the read (bulk stopped early)", c->po);
        return NULL;
    }
    if (!mlc_m3_result_tx_ok(head, i) || mlc_m3_result_tx_record_count(head, i) == 0) {
        const char *msg = mlc_m3_result_tx_message(head, i);
        mlc_error_set(e, MLC_ERR_NOTFOUND, "PO %s: %s", c->po, *msg ? msg : "no head returned");
        return NULL;
    }
    if (!mlc_m3_result_tx_ok(lines, i)) {
        mlc_error_set(e, MLC_ERR_REMOTE, "PO %s lines: %s", c->po, mlc_m3_result_tx_message(lines, i));
        return NULL;
    }
    /* an answer about another PO is never taken for this one */
    const char *puno = mlc_m3_result_tx_get(head, i, 0, "PUNO");
    for (size_t k = 0; (!puno || strcmp(puno, c->po) == 0) && k < mlc_m3_result_tx_record_count(lines, i); k++)
        puno = mlc_m3_result_tx_get(lines, i, k, "PUNO");
    if (puno && strcmp(puno, c->po) != 0) {
        mlc_error_set(e, MLC_ERR_REMOTE, "PO %s: M3 answered about PO %s", c->po, puno);
        return NULL;
    }
    cJSON *rec = build_record(head, i, lines, i, c->po, c->day, mlc_m3_cono(m3), mlc_m3_divi(m3));
    if (!rec)
        mlc_error_set(e, MLC_ERR_NOMEM, "PO %s: out of memory", c->po);
    return rec;
}

/* Gross weight per basic unit (GRWE of cloudsuite.programs.item_get, by default
 * MMS200MI/GetItmBasic) of every distinct item on the records' lines, as
 * lines[].weight (null when M3 has none), in bulk calls of bulk_read_size
 * transactions. ORQA/RVQA are in the basic unit, so qty x weight is the line's
 * weight (lib/map.c sums it into the V2 package). */
static mlc_err add_weights(mlc_m3 *m3, const mlc_config *cfg, cJSON **recs, size_t n, mlc_error *err)
{
    size_t cap = 0, k = 0;
    const char **items = NULL;
    double *w = NULL;
    mlc_err rc = MLC_OK;
    for (size_t i = 0; i < n; i++) {
        const cJSON *l, *ls = recs[i] ? cJSON_GetObjectItemCaseSensitive(recs[i], "lines") : NULL;
        cJSON_ArrayForEach(l, ls)
        {
            const cJSON *it = cJSON_GetObjectItemCaseSensitive(l, "item");
            size_t j;
            if (!cJSON_IsString(it) || !it->valuestring[0])
                continue;
            for (j = 0; j < k && strcmp(items[j], it->valuestring) != 0; j++)
                ;
            if (j < k)
                continue;
            if (k == cap) {
                size_t nc = cap ? cap * 2 : 64;
                const char **ni = realloc(items, nc * sizeof *ni);
                if (!ni) {
                    free(items);
                    return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
                }
                items = ni;
                cap = nc;
            }
            items[k++] = it->valuestring;
        }
    }
    if (k == 0) {
        free(items);
        return MLC_OK;
    }
    w = calloc(k, sizeof *w);
    long long chunk = mlc_config_int(cfg, "cloudsuite.bulk_read_size");
    if (chunk <= 0)
        chunk = 1000;
    const char *pgm = mlc_config_str(cfg, "cloudsuite.programs.item_get");
    for (size_t base = 0; w && !rc && base < k; base += (size_t)chunk) {
        size_t m = k - base < (size_t)chunk ? k - base : (size_t)chunk;
        mlc_m3_field *fields = calloc(m, sizeof *fields);
        mlc_m3_record *rs = calloc(m, sizeof *rs);
        mlc_m3_result *res = NULL;
        if (!fields || !rs) {
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        } else {
            for (size_t j = 0; j < m; j++) {
                fields[j] = (mlc_m3_field){"ITNO", items[base + j]};
                rs[j] = (mlc_m3_record){&fields[j], 1};
            }
            rc = mlc_m3_bulk(m3, pgm, rs, m, 1, &res, err);
            if (rc == MLC_ERR_REMOTE && res && mlc_m3_result_tx_count(res) == m)
                rc = MLC_OK; /* an unknown item only leaves its weight unknown */
            for (size_t j = 0; !rc && j < m && j < mlc_m3_result_tx_count(res); j++) {
                const char *itno = mlc_m3_result_tx_get(res, j, 0, "ITNO"), *g;
                if (!mlc_m3_result_tx_ok(res, j) || mlc_m3_result_tx_record_count(res, j) == 0 ||
                    (itno && strcmp(itno, items[base + j]) != 0))
                    continue; /* never another item's weight */
                if ((g = mlc_m3_result_tx_get(res, j, 0, "GRWE")) && *g)
                    w[base + j] = strtod(g, NULL);
            }
        }
        mlc_m3_result_free(res);
        free(fields);
        free(rs);
    }
    if (!w)
        rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < n; i++) {
        cJSON *l, *ls = recs[i] ? cJSON_GetObjectItemCaseSensitive(recs[i], "lines") : NULL;
        cJSON_ArrayForEach(l, ls)
        {
            const cJSON *it = cJSON_GetObjectItemCaseSensitive(l, "item");
            double v = 0;
            for (size_t j = 0; cJSON_IsString(it) && j < k; j++)
                if (strcmp(items[j], it->valuestring) == 0) {
                    v = w[j];
                    break;
                }
            cJSON_AddItemToObject(l, "weight", v > 0 ? cJSON_CreateNumber(v) : cJSON_CreateNull());
        }
    }
    free(items);
    free(w);
    return rc ? mlc_error_prefix(err, "item weights (%s)", pgm) : MLC_OK;
}

mlc_err mlc_po_fetch_many(mlc_m3 *m3, const mlc_config *cfg, const mlc_po_change *changes, size_t n, cJSON **recs,
                          mlc_error *errs, mlc_error *err)
{
    mlc_m3_result *head = NULL, *lines = NULL;
    for (size_t i = 0; i < n; i++)
        recs[i] = NULL;
    if (n == 0)
        return MLC_OK;
    mlc_m3_columns(m3, mlc_config_str(cfg, "cloudsuite.programs.po_head"), PO_HEAD_COLS);
    mlc_m3_columns(m3, mlc_config_str(cfg, "cloudsuite.programs.po_lines"), PO_LINE_COLS);
    mlc_m3_columns(m3, mlc_config_str(cfg, "cloudsuite.programs.item_get"), PO_ITEM_COLS);
    mlc_err rc = bulk_read(m3, mlc_config_str(cfg, "cloudsuite.programs.po_head"), changes, n, &head, err);
    if (!rc)
        rc = bulk_read(m3, mlc_config_str(cfg, "cloudsuite.programs.po_lines"), changes, n, &lines, err);
    if (rc) {
        mlc_error_prefix(err, "%zu POs from %s", n, changes[0].po);
    } else {
        for (size_t i = 0; i < n; i++) {
            mlc_error_clear(&errs[i]);
            recs[i] = one_of_many(m3, head, lines, i, &changes[i], &errs[i]);
        }
        if ((rc = add_weights(m3, cfg, recs, n, err)) != MLC_OK)
            for (size_t i = 0; i < n; i++) {
                cJSON_Delete(recs[i]); /* no record without its weights: its hash would change later */
                recs[i] = NULL;
            }
    }
    mlc_m3_result_free(head);
    mlc_m3_result_free(lines);
    return rc;
}

mlc_err mlc_po_fetch(mlc_m3 *m3, const mlc_config *cfg, const char *po, const char *day, cJSON **out,
                     mlc_error *err)
{
    mlc_po_change c = {0};
    mlc_error one;
    *out = NULL;
    if (!valid_po_number(po))
        return mlc_error_set(err, MLC_ERR_INPUT, "'%s' is not a PO number", po);
    snprintf(c.po, sizeof c.po, "%s", po);
    if (day && *day)
        snprintf(c.day, sizeof c.day, "%s", day);
    else if (lookup_day(m3, cfg, po, c.day, err) != MLC_OK)
        return mlc_error_prefix(err, "PO %s change date", po);
    mlc_err rc = mlc_po_fetch_many(m3, cfg, &c, 1, out, &one, err);
    if (!rc && !*out && err)
        *err = one;
    return rc ? rc : *out ? MLC_OK : one.code;
}

void mlc_po_hash(const cJSON *record, char out[65])
{
    cJSON *copy = cJSON_Duplicate(record, 1);
    if (copy)
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "changed_at");
    mlc_map_hash(copy ? copy : record, out);
    cJSON_Delete(copy);
}

int mlc_po_parse_statuses(const char *s, int *lo, int *hi)
{
    int a, b, n = 0;
    if (!s)
        return -1;
    if (sscanf(s, "%d-%d%n", &a, &b, &n) == 2 && s[n] == '\0' && a >= 0 && b <= 99 && a <= b) {
        *lo = a;
        *hi = b;
        return 0;
    }
    if (sscanf(s, "%d%n", &a, &n) == 1 && s[n] == '\0' && a >= 0 && a <= 99) {
        *lo = *hi = a;
        return 0;
    }
    return -1;
}

int mlc_po_status(const cJSON *record)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(record, "status");
    return cJSON_IsString(s) ? atoi(s->valuestring) : -1;
}
