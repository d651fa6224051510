/*
 * item_plan.c: the pure half of lib/item (see item.h): the synced fields, their
 * canonical form (numbers with 2 decimals, trimmed text) from an M3 record's
 * numbers or a V1/V2 product, the comparison with its tolerances, the per-field
 * ownership plan and the remembered-values codec.  No I/O, no mlc_item state.
 * Not here: M3 item calls and the mapping (item.c), products (lib/product), stock
 * (lib/stock), the sync and its memory (lib/itemsync).
 */
#include "item.h"

#include "dates.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOLERANCE 0.02

static const char *const FIELD_NAMES[MLC_ITEM__NFIELDS] = {"name",  "weight", "length",
                                                           "width", "height", "customs_description"};

int mlc_item_field_is_text(mlc_item_field f) { return f == MLC_ITEM_NAME || f == MLC_ITEM_CUSTOMS_DESC; }

const char *mlc_item_field_name(mlc_item_field f)
{
    return (unsigned)f < MLC_ITEM__NFIELDS ? FIELD_NAMES[f] : NULL;
}

int mlc_item_same(mlc_item_field f, const char *a, const char *b)
{
    if (!a)
        a = "";
    if (!b)
        b = "";
    if (mlc_item_field_is_text(f)) {
        if (strcmp(a, b) == 0)
            return 1;
        /* M3 keeps 30 (ITDS) / 60 (FUDS) characters of a longer product text */
        size_t cut = f == MLC_ITEM_NAME ? MLC_ITEM_M3_NAME_MAX : MLC_ITEM_M3_DESC_MAX, la = strlen(a), lb = strlen(b);
        if (la == cut && lb > cut)
            return strncmp(a, b, cut) == 0;
        if (lb == cut && la > cut)
            return strncmp(a, b, cut) == 0;
        return 0;
    }
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    if (ea == a)
        x = 0;
    if (eb == b)
        y = 0;
    return fabs(x - y) <= TOLERANCE + 1e-9;
}

/* ---- plan ---- */

void mlc_item_plan(const mlc_item_owner owners[MLC_ITEM__NFIELDS], const mlc_item_values *m3,
                   const mlc_item_values *m3_prev, const mlc_item_values *ss, const mlc_item_values *ss_prev,
                   mlc_item_plan_out *out)
{
    memset(out, 0, sizeof *out);
    for (int f = 0; f < MLC_ITEM__NFIELDS; f++) {
        if (mlc_item_same((mlc_item_field)f, m3->v[f], ss->v[f]))
            continue;
        mlc_item_act a;
        if (owners[f] == MLC_OWNER_CLOUDSUITE) {
            a = MLC_ACT_TO_SS;
        } else if (owners[f] == MLC_OWNER_SHIPSTATION) {
            a = MLC_ACT_TO_M3;
        } else {
            int m3chg = !m3_prev || !mlc_item_same((mlc_item_field)f, m3->v[f], m3_prev->v[f]);
            int sschg = !ss_prev || !mlc_item_same((mlc_item_field)f, ss->v[f], ss_prev->v[f]);
            if (m3chg && !sschg)
                a = MLC_ACT_TO_SS;
            else if (sschg && !m3chg)
                a = MLC_ACT_TO_M3;
            else /* M3 change dates are days: SS wins only from the next day on */
                a = ss->changed_at >= m3->changed_at + 86400 ? MLC_ACT_TO_M3 : MLC_ACT_TO_SS;
        }
        out->act[f] = a;
        if (a == MLC_ACT_TO_SS)
            out->to_ss |= 1u << f;
        else
            out->to_m3 |= 1u << f;
    }
}

/* ---- remembered values ---- */

char *mlc_item_values_encode(const mlc_item_values *v)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    cJSON_AddStringToObject(j, "sku", v->sku);
    for (int f = 0; f < MLC_ITEM__NFIELDS; f++)
        cJSON_AddStringToObject(j, FIELD_NAMES[f], v->v[f]);
    cJSON_AddNumberToObject(j, "changed_at", (double)v->changed_at);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

int mlc_item_values_decode(const char *text, mlc_item_values *out)
{
    memset(out, 0, sizeof *out);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return -1;
    }
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "sku");
    if (cJSON_IsString(s))
        snprintf(out->sku, sizeof out->sku, "%s", s->valuestring);
    for (int f = 0; f < MLC_ITEM__NFIELDS; f++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, FIELD_NAMES[f]);
        if (cJSON_IsString(x))
            snprintf(out->v[f], MLC_ITEM_VALUE_MAX, "%s", x->valuestring);
    }
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "changed_at");
    if (cJSON_IsNumber(c))
        out->changed_at = (time_t)c->valuedouble;
    cJSON_Delete(j);
    return 0;
}

/* ---- canonical values ---- */

void mlc_item_set_number(char *dst, double x)
{
    if (!isfinite(x))
        x = 0;
    snprintf(dst, MLC_ITEM_VALUE_MAX, "%.2f", x);
    if (strcmp(dst, "-0.00") == 0)
        snprintf(dst, MLC_ITEM_VALUE_MAX, "0.00");
}

void mlc_item_set_text(char *dst, const char *s)
{
    if (!s)
        s = "";
    while (*s == ' ')
        s++;
    snprintf(dst, MLC_ITEM_VALUE_MAX, "%s", s);
    size_t n = strlen(dst);
    while (n && dst[n - 1] == ' ')
        dst[--n] = '\0';
}

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNumber(x))
        return x->valuedouble;
    if (cJSON_IsString(x))
        return strtod(x->valuestring, NULL);
    return 0;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static double v2_weight_oz(const cJSON *w)
{
    double v = jnum(w, "value");
    const char *u = jstr(w, "unit");
    if (!u || strcmp(u, "ounce") == 0)
        return v;
    if (strcmp(u, "pound") == 0)
        return v * 16;
    if (strcmp(u, "gram") == 0)
        return v * 0.03527396194958;
    if (strcmp(u, "kilogram") == 0)
        return v * 35.27396194958;
    return v;
}

void mlc_item_from_product(const cJSON *p, mlc_item_values *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->sku, sizeof out->sku, "%s", jstr(p, "sku") ? jstr(p, "sku") : "");
    mlc_item_set_text(out->v[MLC_ITEM_NAME], jstr(p, "name"));
    time_t t = 0;
    if (cJSON_GetObjectItemCaseSensitive(p, "productId")) { /* V1 */
        mlc_item_set_number(out->v[MLC_ITEM_WEIGHT], jnum(p, "weightOz"));
        mlc_item_set_number(out->v[MLC_ITEM_LENGTH], jnum(p, "length"));
        mlc_item_set_number(out->v[MLC_ITEM_WIDTH], jnum(p, "width"));
        mlc_item_set_number(out->v[MLC_ITEM_HEIGHT], jnum(p, "height"));
        mlc_item_set_text(out->v[MLC_ITEM_CUSTOMS_DESC], jstr(p, "customsDescription"));
        const char *md = jstr(p, "modifyDate");
        if (md && mlc_dates_parse_pacific(md, &t) == 0)
            out->changed_at = t;
    } else { /* V2 */
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(p, "dimensions");
        const char *u = jstr(d, "unit");
        double f = u && strcmp(u, "centimeter") == 0 ? 1 / 2.54 : 1;
        mlc_item_set_number(out->v[MLC_ITEM_WEIGHT], v2_weight_oz(cJSON_GetObjectItemCaseSensitive(p, "weight")));
        mlc_item_set_number(out->v[MLC_ITEM_LENGTH], jnum(d, "length") * f);
        mlc_item_set_number(out->v[MLC_ITEM_WIDTH], jnum(d, "width") * f);
        mlc_item_set_number(out->v[MLC_ITEM_HEIGHT], jnum(d, "height") * f);
        mlc_item_set_text(out->v[MLC_ITEM_CUSTOMS_DESC], jstr(p, "customs_description"));
        const char *md = jstr(p, "modify_date");
        if (md && mlc_dates_parse_rfc3339(md, &t) == 0)
            out->changed_at = t;
    }
}
