/*
 * record.c: company, key and quantity checks shared by every record consumer
 * (see record.h).
 * Not here: the per-kind shape checks (lib/map, lib/receipt).
 */
#include "record.h"
#include "map.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *jstr(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static mlc_err check_company(long long got, const char *where, long long cono, mlc_error *err)
{
    if (cono <= 0)
        return mlc_error_set(err, MLC_ERR_INPUT,
                             "%s names company %lld, but the profile sets no cloudsuite.cono: set it to the "
                             "profile's company",
                             where, got);
    if (got != cono)
        return mlc_error_set(err, MLC_ERR_INPUT, "%s is company %lld, not this profile's company %lld", where, got,
                             cono);
    return MLC_OK;
}

mlc_err mlc_record_check_qty(double q, const char *field, mlc_error *err)
{
    if (!isfinite(q) || q < 0)
        return mlc_error_set(err, MLC_ERR_INPUT, "'%s' must be a number >= 0", field);
    if (q >= MLC_RECORD_QTY_MAX)
        return mlc_error_set(err, MLC_ERR_INPUT, "'%s' %.17g is beyond the M3 quantity field (below %.0f)", field, q,
                             MLC_RECORD_QTY_MAX);
    /* at most 6 decimals: q rounded to 6 decimals must be q, up to binary
     * rounding (a few units in the last place: 0.1 + 0.2 is 0.3) */
    double rounded = nearbyint(q * 1e6) / 1e6;
    if (fabs(rounded - q) > 4 * DBL_EPSILON * q || (q > 0 && rounded == 0))
        return mlc_error_set(err, MLC_ERR_INPUT, "'%s' %.17g has more than %d decimals (the M3 quantity field)", field,
                             q, MLC_RECORD_QTY_DECIMALS);
    return MLC_OK;
}

int mlc_record_qty_format(double q, char *buf, size_t cap)
{
    if (!isfinite(q) || fabs(q) >= MLC_RECORD_QTY_MAX) {
        snprintf(buf, cap, "%s", "");
        return -1;
    }
    snprintf(buf, cap, "%.*f", MLC_RECORD_QTY_DECIMALS, q);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *end = buf + strlen(buf) - 1;
        while (end > dot && *end == '0')
            *end-- = '\0';
        if (end == dot)
            *end = '\0';
    }
    if (strcmp(buf, "-0") == 0)
        snprintf(buf, cap, "0");
    return 0;
}

mlc_err mlc_record_check(const cJSON *rec, long long cono, mlc_error *err)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, "cono");
    const char *po = jstr(rec, "po");
    mlc_err rc;
    if (c && !cJSON_IsNull(c)) {
        if (!cJSON_IsNumber(c) || c->valuedouble != floor(c->valuedouble) || c->valuedouble < 0 || c->valuedouble > 999)
            return mlc_error_set(err, MLC_ERR_INPUT, "field 'cono' must be an integer 0-999");
        if ((rc = check_company((long long)c->valuedouble, "field 'cono'", cono, err)))
            return rc;
    }
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(rec, "order_key");
    char kpo[32];
    if (k && !cJSON_IsNull(k)) {
        long long kc;
        if (!cJSON_IsString(k) || mlc_map_parse_order_key(k->valuestring, &kc, kpo, NULL) != 0)
            return mlc_error_set(err, MLC_ERR_INPUT, "field 'order_key' is not an mlc key (mlc-CONO-PO)");
        if ((rc = check_company(kc, "field 'order_key'", cono, err)))
            return rc;
        if (po && strcmp(po, kpo) != 0)
            return mlc_error_set(err, MLC_ERR_INPUT, "field 'order_key' is for PO %s, but 'po' is %s", kpo, po);
        if (!po)
            po = kpo;
    }
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(rec, "items"), *it;
    size_t i = 0;
    if (cJSON_IsArray(items)) {
        cJSON_ArrayForEach(it, items)
        {
            const cJSON *pl = cJSON_GetObjectItemCaseSensitive(it, "po_line");
            const cJSON *q = cJSON_GetObjectItemCaseSensitive(it, "qty");
            char lpo[32], field[48];
            int line, sub;
            if (cJSON_IsString(pl) && mlc_map_parse_line_key(pl->valuestring, lpo, &line, &sub) == 0 && po &&
                strcmp(lpo, po) != 0)
                return mlc_error_set(err, MLC_ERR_INPUT, "items[%zu]: 'po_line' %s is on PO %s, but 'po' is %s", i,
                                     pl->valuestring, lpo, po);
            snprintf(field, sizeof field, "items[%zu].qty", i);
            if (cJSON_IsNumber(q) && (rc = mlc_record_check_qty(q->valuedouble, field, err)))
                return rc;
            i++;
        }
    }
    return MLC_OK;
}
