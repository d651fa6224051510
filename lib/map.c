/*
 * map.c: mapping rules: PO records to ShipStation payloads, order types to
 * receipt routes (see map.h).
 * Not here: any I/O.
 */
#include "map.h"

#include <limits.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dates.h"

/* A warehouse's or supplier's mapping, resolved once by mlc_map_new() (the same
 * config reads the per-PO code made before): the addresses as ready-made V2/V1
 * objects (or the first missing required field), the supplier's carrier and
 * service (own, else mapping.defaults). Payloads get copies. */
typedef struct map_entry {
    const char *key; /* borrowed from the config */
    size_t order;    /* position in the config: the first of duplicate keys wins */
    cJSON *addr_v2, *addr_v1;
    const char *missing_v2, *missing_v1;
    const char *v1_warehouse_id;                          /* warehouses */
    const char *carrier_id, *carrier_code, *service_code; /* suppliers */
    int has_from_name;                                    /* suppliers: ship_from.name set (V1) */
} map_entry;

typedef struct map_table {
    map_entry *e;
    size_t n;
} map_table;

struct mlc_map {
    const mlc_config *cfg;
    mlc_route default_route;
    map_table warehouses, suppliers;
    int weight_ok; /* mapping.items.weight_unit is one ShipStation knows */
    const char *weight_unit, *weight_small;
    double weight_factor;
    long long store_id; /* shipstation.store_id (V1) */
};

static int parse_route(const char *s, mlc_route *r)
{
    if (s && strcmp(s, "po_receipt") == 0)
        *r = MLC_ROUTE_PO_RECEIPT;
    else if (s && strcmp(s, "goods_receipt") == 0)
        *r = MLC_ROUTE_GOODS_RECEIPT;
    else
        return -1;
    return 0;
}

const char *mlc_map_route_name(mlc_route r) { return r == MLC_ROUTE_GOODS_RECEIPT ? "goods_receipt" : "po_receipt"; }

static const char *address(const mlc_config *cfg, const char *base, int v1, cJSON *out);
static const char *supplier_or_default(const mlc_config *cfg, const char *sup_base, const char *field);
static const char *cfg_at(const mlc_config *cfg, const char *base, const char *field);
static int weight_units(const char *u, const char **name, const char **small, double *factor);

static int entry_cmp(const void *a, const void *b)
{
    const map_entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

static void table_free(map_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        cJSON_Delete(t->e[i].addr_v2);
        cJSON_Delete(t->e[i].addr_v1);
    }
    free(t->e);
    t->e = NULL;
    t->n = 0;
}

/* Resolves every mapping.warehouses (sup = 0) or mapping.suppliers (sup = 1)
 * entry. A key with a '.' cannot be addressed by a dotted path, so it was never
 * found per PO either: left out. -1 when out of memory. */
static int table_build(const mlc_config *cfg, int sup, map_table *t)
{
    const char *section = sup ? "mapping.suppliers" : "mapping.warehouses";
    const mlc_config_node *sec = mlc_config_node_at(cfg, section);
    size_t n = mlc_config_node_count(sec), k = 0;
    t->e = calloc(n ? n : 1, sizeof *t->e);
    if (!t->e)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *key = mlc_config_node_key(mlc_config_node_child(sec, i));
        char base[160], addr[200];
        if (!key || strchr(key, '.') || !*key)
            continue;
        map_entry *e = &t->e[k++];
        e->key = key;
        e->order = i;
        snprintf(base, sizeof base, "%s.%s", section, key);
        snprintf(addr, sizeof addr, "%s.%s", base, sup ? "ship_from" : "ship_to");
        e->addr_v2 = cJSON_CreateObject();
        e->addr_v1 = cJSON_CreateObject();
        if (!e->addr_v2 || !e->addr_v1) {
            t->n = k;
            return -1;
        }
        e->missing_v2 = address(cfg, addr, 0, e->addr_v2);
        e->missing_v1 = address(cfg, addr, 1, e->addr_v1);
        if (sup) {
            char name[220];
            snprintf(name, sizeof name, "%s.name", addr);
            e->has_from_name = mlc_config_str(cfg, name) != NULL;
            e->carrier_id = supplier_or_default(cfg, base, "carrier_id");
            e->carrier_code = supplier_or_default(cfg, base, "carrier_code");
            e->service_code = supplier_or_default(cfg, base, "service_code");
        } else {
            e->v1_warehouse_id = cfg_at(cfg, base, "v1_warehouse_id");
        }
    }
    t->n = k;
    qsort(t->e, t->n, sizeof *t->e, entry_cmp);
    return 0;
}

static const map_entry *table_find(const map_table *t, const char *key)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) { /* the first entry with this key: the one the config reads */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(t->e[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->n && strcmp(t->e[lo].key, key) == 0 ? &t->e[lo] : NULL;
}

mlc_err mlc_map_new(const mlc_config *cfg, mlc_map **out, mlc_error *err)
{
    mlc_map *m = calloc(1, sizeof *m);
    *out = NULL;
    if (!m)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    m->cfg = cfg;
    if (parse_route(mlc_config_str(cfg, "mapping.default_route"), &m->default_route)) {
        free(m);
        return mlc_error_set(err, MLC_ERR_CONFIG, "%s: mapping.default_route must be po_receipt or goods_receipt",
                             mlc_config_path(cfg));
    }
    const mlc_config_node *types = mlc_config_node_at(cfg, "mapping.order_types");
    for (size_t i = 0; i < mlc_config_node_count(types); i++) {
        const mlc_config_node *t = mlc_config_node_child(types, i);
        mlc_route r;
        if (parse_route(mlc_config_node_value(t), &r)) {
            free(m);
            return mlc_error_set(err, MLC_ERR_CONFIG,
                                 "%s:%d: mapping.order_types.%s must be po_receipt or goods_receipt",
                                 mlc_config_path(cfg), mlc_config_node_line(t), mlc_config_node_key(t));
        }
    }
    if (table_build(cfg, 0, &m->warehouses) || table_build(cfg, 1, &m->suppliers)) {
        mlc_map_free(m);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    m->weight_ok = weight_units(mlc_config_str(cfg, "mapping.items.weight_unit"), &m->weight_unit, &m->weight_small,
                                &m->weight_factor) == 0;
    m->store_id = mlc_config_int(cfg, "shipstation.store_id");
    *out = m;
    return MLC_OK;
}

void mlc_map_free(mlc_map *map)
{
    if (!map)
        return;
    table_free(&map->warehouses);
    table_free(&map->suppliers);
    free(map);
}

void mlc_map_order_key(long long cono, const char *po, int rev, char *buf, size_t cap)
{
    if (rev > 1)
        snprintf(buf, cap, "mlc-%lld-%s.r%d", cono, po, rev);
    else
        snprintf(buf, cap, "mlc-%lld-%s", cono, po);
}

int mlc_map_parse_order_key(const char *key, long long *cono, char po[32], int *rev)
{
    int n = 0, r = 1;
    if (!key || sscanf(key, "mlc-%lld-%31[^./ ]%n", cono, po, &n) != 2)
        return -1;
    if (key[n] == '.') {
        int m = 0;
        if (sscanf(key + n, ".r%d%n", &r, &m) != 1 || key[n + m] != '\0' || r < 2)
            return -1;
    } else if (key[n] != '\0') {
        return -1;
    }
    if (rev)
        *rev = r;
    return 0;
}

/* Decimal digits of v >= 0 at p; returns the end. */
static char *put_uint(char *p, unsigned v)
{
    char tmp[12];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n)
        *p++ = tmp[--n];
    return p;
}

void mlc_map_line_key(const char *po, int line, int subline, char *buf, size_t cap)
{
    size_t n = strlen(po);
    if (line < 0 || subline < 0 || n + 24 > cap) { /* the general case (and truncation) */
        snprintf(buf, cap, "%s/%d/%d", po, line, subline);
        return;
    }
    char *p = buf; /* one key per PO line: formatted without snprintf */
    memcpy(p, po, n);
    p += n;
    *p++ = '/';
    p = put_uint(p, (unsigned)line);
    *p++ = '/';
    p = put_uint(p, (unsigned)subline);
    *p = '\0';
}

int mlc_map_parse_line_key(const char *key, char po[32], int *line, int *subline)
{
    const char *a, *b;
    char *end;
    if (!key || !(a = strchr(key, '/')) || !(b = strchr(a + 1, '/')) || a == key || (size_t)(a - key) >= 32)
        return -1;
    long l = strtol(a + 1, &end, 10);
    if (end != b || a[1] < '0' || a[1] > '9' || l < 0 || l > 9999999)
        return -1;
    long sl = strtol(b + 1, &end, 10);
    if (*end != '\0' || b[1] < '0' || b[1] > '9' || sl < 0 || sl > 999999)
        return -1;
    memcpy(po, key, (size_t)(a - key));
    po[a - key] = '\0';
    *line = (int)l;
    *subline = (int)sl;
    return 0;
}

mlc_route mlc_map_route(const mlc_map *map, const char *order_type)
{
    char path[128];
    mlc_route r;
    if (order_type && *order_type) {
        snprintf(path, sizeof path, "mapping.order_types.%s", order_type);
        if (!strchr(order_type, '.') && !parse_route(mlc_config_str(map->cfg, path), &r))
            return r;
    }
    return map->default_route;
}

/* ---- record access ---- */

static const char *str_at(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static int num_at(const cJSON *o, const char *name, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v))
        return -1;
    *out = v->valuedouble;
    return 0;
}

mlc_err mlc_map_check_po(const cJSON *po, mlc_error *err)
{
    const char *kind = str_at(po, "kind");
    double d;
    if (!kind || strcmp(kind, "purchase_order") != 0)
        return mlc_error_set(err, MLC_ERR_INPUT, "not a purchase_order record");
    if (!str_at(po, "po"))
        return mlc_error_set(err, MLC_ERR_INPUT, "missing field 'po'");
    if (strlen(str_at(po, "po")) > 30 || strchr(str_at(po, "po"), '/'))
        return mlc_error_set(err, MLC_ERR_INPUT, "field 'po' is not a PO number");
    if (num_at(po, "cono", &d) || d < 0 || d > 999 || d != floor(d))
        return mlc_error_set(err, MLC_ERR_INPUT, "field 'cono' must be an integer 0-999");
    if (!str_at(po, "warehouse"))
        return mlc_error_set(err, MLC_ERR_INPUT, "missing field 'warehouse'");
    const cJSON *sup = cJSON_GetObjectItemCaseSensitive(po, "supplier");
    if (!cJSON_IsObject(sup) || !str_at(sup, "id"))
        return mlc_error_set(err, MLC_ERR_INPUT, "missing field 'supplier.id'");
    const cJSON *lines = cJSON_GetObjectItemCaseSensitive(po, "lines");
    if (!cJSON_IsArray(lines))
        return mlc_error_set(err, MLC_ERR_INPUT, "missing array 'lines'");
    int i = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, lines)
    {
        double line, sub, q;
        if (!cJSON_IsObject(l) || num_at(l, "line", &line) || line != floor(line) || line < 0 || line > INT_MAX)
            return mlc_error_set(err, MLC_ERR_INPUT, "lines[%d]: 'line' must be an integer", i);
        if (!num_at(l, "subline", &sub) && (sub != floor(sub) || sub < 0 || sub > INT_MAX))
            return mlc_error_set(err, MLC_ERR_INPUT, "lines[%d]: 'subline' must be an integer", i);
        if (!str_at(l, "item"))
            return mlc_error_set(err, MLC_ERR_INPUT, "lines[%d]: missing 'item'", i);
        if (num_at(l, "qty_ordered", &q) || q < 0)
            return mlc_error_set(err, MLC_ERR_INPUT, "lines[%d]: 'qty_ordered' must be a number >= 0", i);
        i++;
    }
    return MLC_OK;
}

/* ---- payload building: every key below is a string literal, kept by cJSON as a
 * constant (no copy per PO; copies of the resolved addresses keep them too) ---- */

static void add_str(cJSON *o, const char *k, const char *v) { cJSON_AddItemToObjectCS(o, k, cJSON_CreateString(v)); }
static void add_num(cJSON *o, const char *k, double v) { cJSON_AddItemToObjectCS(o, k, cJSON_CreateNumber(v)); }
static void add_bool(cJSON *o, const char *k, int v) { cJSON_AddItemToObjectCS(o, k, cJSON_CreateBool(v)); }
static cJSON *add_obj(cJSON *o, const char *k)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToObjectCS(o, k, c);
    return c;
}
static cJSON *add_arr(cJSON *o, const char *k)
{
    cJSON *c = cJSON_CreateArray();
    cJSON_AddItemToObjectCS(o, k, c);
    return c;
}

/* ---- addresses ---- */

static const char *cfg_at(const mlc_config *cfg, const char *base, const char *field)
{
    char path[256];
    snprintf(path, sizeof path, "%s.%s", base, field);
    return mlc_config_str(cfg, path);
}

/* Copies a configured address into V2 (v1 = 0) or V1 (v1 = 1) field names.
 * Returns the name of the first missing required field, or NULL. */
static const char *address(const mlc_config *cfg, const char *base, int v1, cJSON *out)
{
    static const struct {
        const char *cfg, *v2, *v1;
        int required;
    } fields[] = {
        {"name", "name", "name", 1},
        {"company", "company_name", "company", 0},
        {"street1", "address_line1", "street1", 1},
        {"street2", "address_line2", "street2", 0},
        {"street3", "address_line3", "street3", 0},
        {"city", "city_locality", "city", 1},
        {"state", "state_province", "state", 1},
        {"postal_code", "postal_code", "postalCode", 1},
        {"country", "country_code", "country", 1},
        {"phone", "phone", "phone", 1},
        {"email", "email", NULL, 0},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *v = cfg_at(cfg, base, fields[i].cfg);
        if (!v || !*v) {
            if (fields[i].required && !(v1 && strcmp(fields[i].cfg, "phone") == 0))
                return fields[i].cfg;
            continue;
        }
        if (v1 && !fields[i].v1)
            continue;
        add_str(out, v1 ? fields[i].v1 : fields[i].v2, v);
    }
    const char *res = cfg_at(cfg, base, "residential");
    int is_res = res && (!strcmp(res, "true") || !strcmp(res, "yes"));
    if (v1)
        add_bool(out, "residential", is_res);
    else
        add_str(out, "address_residential_indicator", is_res ? "yes" : "no");
    return NULL;
}

static const char *supplier_or_default(const mlc_config *cfg, const char *sup_base, const char *field)
{
    char path[256];
    const char *v = cfg_at(cfg, sup_base, field);
    if (v)
        return v;
    snprintf(path, sizeof path, "mapping.defaults.%s", field);
    return mlc_config_str(cfg, path);
}

/* Adds the open lines of the PO as items. Returns the number added, -1 on error. */
static int add_items(const cJSON *po, const char *puno, int v1, cJSON *items, mlc_error *err)
{
    const cJSON *l;
    int n = 0;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(po, "lines"))
    {
        double line = 0, sub = 0, ordered = 0, received = 0;
        num_at(l, "line", &line);
        num_at(l, "subline", &sub);
        num_at(l, "qty_ordered", &ordered);
        num_at(l, "qty_received", &received);
        double open = ordered - received;
        if (open <= 0)
            continue;
        if (open != floor(open)) {
            mlc_error_set(err, MLC_ERR_INPUT,
                          "line %d: open quantity %g is fractional; ShipStation takes whole quantities", (int)line,
                          open);
            return -1;
        }
        char key[80];
        mlc_map_line_key(puno, (int)line, (int)sub, key, sizeof key);
        const char *item = str_at(l, "item"), *desc = str_at(l, "description");
        cJSON *it = cJSON_CreateObject();
        if (v1) {
            add_str(it, "lineItemKey", key);
            add_str(it, "sku", item);
            add_str(it, "name", desc ? desc : item);
            add_num(it, "quantity", open);
        } else {
            add_str(it, "name", desc ? desc : item);
            add_str(it, "sku", item);
            add_num(it, "quantity", open);
            add_str(it, "external_order_id", puno);
            add_str(it, "external_order_item_id", key);
        }
        cJSON_AddItemToArray(items, it);
        n++;
    }
    return n;
}

typedef struct po_parts {
    const char *puno, *whlo, *suno, *supplier_name;
    long long cono;
    char key[64];
    const map_entry *wh, *sup;
} po_parts;

static mlc_err po_parts_get(const mlc_map *map, const cJSON *po, po_parts *p, mlc_error *err)
{
    mlc_err rc = mlc_map_check_po(po, err);
    if (rc)
        return rc;
    const cJSON *sup = cJSON_GetObjectItemCaseSensitive(po, "supplier");
    double cono = 0;
    num_at(po, "cono", &cono);
    p->cono = (long long)cono;
    p->puno = str_at(po, "po");
    p->whlo = str_at(po, "warehouse");
    p->suno = str_at(sup, "id");
    p->supplier_name = str_at(sup, "name");
    mlc_map_order_key(p->cono, p->puno, 1, p->key, sizeof p->key);
    if (!(p->wh = table_find(&map->warehouses, p->whlo)))
        return mlc_error_set(err, MLC_ERR_INPUT, "PO %s: warehouse '%s' is not in mapping.warehouses", p->puno,
                             p->whlo);
    if (!(p->sup = table_find(&map->suppliers, p->suno)))
        return mlc_error_set(err, MLC_ERR_INPUT, "PO %s: supplier '%s' has no address in mapping.suppliers",
                             p->puno, p->suno);
    return MLC_OK;
}

/* PO, supplier, order type and warehouse travel in the custom fields as
 * space-separated KEY:VALUE tokens, so shipments can be traced (and routed)
 * without asking M3 (mlc_map_parse_tags reads them back). */
static void add_tags(cJSON *o, const po_parts *p, const cJSON *po, const char *k1, const char *k2, const char *k3)
{
    char buf[160];
    const char *orty = str_at(po, "order_type");
    snprintf(buf, sizeof buf, "PO:%s", p->puno);
    add_str(o, k1, buf);
    snprintf(buf, sizeof buf, "SUNO:%s%s%s", p->suno, orty ? " ORTY:" : "", orty ? orty : "");
    add_str(o, k2, buf);
    snprintf(buf, sizeof buf, "WHLO:%s", p->whlo);
    add_str(o, k3, buf);
}

int mlc_map_parse_tags(const char *const fields[], size_t n, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i < n; i++) {
        const char *f = fields[i];
        while (f && *f) {
            while (*f == ' ')
                f++;
            size_t len = strcspn(f, " ");
            if (len > klen && strncmp(f, key, klen) == 0 && f[klen] == ':') {
                size_t vlen = len - klen - 1;
                if (vlen == 0 || vlen >= cap)
                    return -1;
                memcpy(out, f + klen + 1, vlen);
                out[vlen] = '\0';
                return 0;
            }
            f += len;
        }
    }
    return -1;
}

/* ShipStation's weight units for mapping.items.weight_unit (the unit of M3's
 * GRWE), and the smaller unit used when the total is at most 1: the contract's
 * weight.value has exclusiveMinimum 1 (OpenAPI 3.1: value > 1). */
static int weight_units(const char *u, const char **name, const char **small, double *factor)
{
    static const struct {
        const char *m3, *ss, *small;
        double factor;
    } T[] = {{"kg", "kilogram", "gram", 1000}, {"g", "gram", NULL, 0}, {"lb", "pound", "ounce", 16},
             {"oz", "ounce", NULL, 0}};
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
        if (u && strcmp(u, T[i].m3) == 0) {
            *name = T[i].ss;
            *small = T[i].small;
            *factor = T[i].factor;
            return 0;
        }
    return -1;
}

/* One package with the summed gross weight of the open quantities, when every
 * open line has a weight (lines[].weight, per unit, from M3's item GRWE: see
 * lib/po.c). Otherwise no package: ShipStation then asks for the weight when a
 * label is bought. */
static void add_package(const mlc_map *map, const cJSON *po, cJSON *s)
{
    const char *unit = map->weight_unit, *small = map->weight_small;
    double factor = map->weight_factor, total = 0;
    int n = 0;
    if (!map->weight_ok)
        return;
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(po, "lines"))
    {
        double ordered = 0, received = 0, w = 0;
        num_at(l, "qty_ordered", &ordered);
        num_at(l, "qty_received", &received);
        if (ordered - received <= 0)
            continue;
        if (num_at(l, "weight", &w) || !(w > 0))
            return; /* a weight is unknown: no package rather than a wrong one */
        total += (ordered - received) * w;
        n++;
    }
    if (n == 0)
        return;
    if (total <= 1 && small) {
        total *= factor;
        unit = small;
    }
    if (!(total > 1) || !isfinite(total))
        return; /* under the smallest unit the contract allows, or not a number */
    total = round(total * 1000) / 1000;
    cJSON *pk = cJSON_CreateObject(), *w = add_obj(pk, "weight");
    add_num(w, "value", total);
    add_str(w, "unit", unit);
    cJSON_AddItemToArray(add_arr(s, "packages"), pk);
}

/* An entry's address under name in o: a cJSON reference to the members the map
 * resolved (map.h: payloads are deleted before the map); NULL when out of memory. */
static cJSON *add_address(cJSON *o, const char *name, const cJSON *addr)
{
    cJSON *a = cJSON_CreateObjectReference(addr->child);
    if (a && !cJSON_AddItemToObjectCS(o, name, a)) {
        cJSON_Delete(a);
        a = NULL;
    }
    return a;
}

mlc_err mlc_map_po_to_v2(const mlc_map *map, const cJSON *po, cJSON **out, mlc_error *err)
{
    po_parts p;
    *out = NULL;
    mlc_err rc = po_parts_get(map, po, &p, err);
    if (rc)
        return rc;
    if (p.wh->missing_v2)
        return mlc_error_set(err, MLC_ERR_INPUT, "PO %s: warehouse '%s' ship_to lacks '%s'", p.puno, p.whlo,
                             p.wh->missing_v2);
    if (p.sup->missing_v2)
        return mlc_error_set(err, MLC_ERR_INPUT, "PO %s: supplier '%s' ship_from lacks '%s'", p.puno, p.suno,
                             p.sup->missing_v2);
    cJSON *s = cJSON_CreateObject();
    add_str(s, "external_shipment_id", p.key);
    if (p.sup->carrier_id)
        add_str(s, "carrier_id", p.sup->carrier_id);
    add_str(s, "shipment_status", "pending");
    if (!add_address(s, "ship_to", p.wh->addr_v2) || !add_address(s, "ship_from", p.sup->addr_v2)) {
        cJSON_Delete(s);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    cJSON *items = add_arr(s, "items");
    if (add_items(po, p.puno, 0, items, err) < 0) {
        cJSON_Delete(s);
        return mlc_error_prefix(err, "PO %s", p.puno);
    }
    /* No advanced_options/custom fields and no service_code: the V2 contract's
     * create_shipment_request (additionalProperties: false) declares neither. The
     * PO travels in external_shipment_id and items[].external_order_id /
     * external_order_item_id; order type, warehouse and supplier stay in mlc's
     * link table (lib/push), or M3 is asked at receipt time. */
    add_package(map, po, s);
    *out = s;
    return MLC_OK;
}

mlc_err mlc_map_po_to_v1(const mlc_map *map, const cJSON *po, cJSON **out, mlc_error *err)
{
    po_parts p;
    char date[32];
    *out = NULL;
    mlc_err rc = po_parts_get(map, po, &p, err);
    if (rc)
        return rc;
    if (p.wh->missing_v1)
        return mlc_error_set(err, MLC_ERR_INPUT, "PO %s: warehouse '%s' ship_to lacks '%s'", p.puno, p.whlo,
                             p.wh->missing_v1);
    if (!p.sup->has_from_name)
        return mlc_error_set(err, MLC_ERR_INPUT, "PO %s: supplier '%s' ship_from lacks 'name'", p.puno, p.suno);
    cJSON *o = cJSON_CreateObject();
    add_str(o, "orderNumber", p.puno);
    add_str(o, "orderKey", p.key);
    time_t when;
    const char *changed = str_at(po, "changed_at");
    if (!changed || mlc_dates_parse_rfc3339(changed, &when))
        when = 0;
    mlc_dates_format_pacific(when, date);
    add_str(o, "orderDate", date);
    add_str(o, "orderStatus", "awaiting_shipment");
    cJSON *bill = add_obj(o, "billTo");
    add_str(bill, "name", p.supplier_name ? p.supplier_name : p.suno);
    if (!add_address(o, "shipTo", p.wh->addr_v1)) {
        cJSON_Delete(o);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    cJSON *items = add_arr(o, "items");
    if (add_items(po, p.puno, 1, items, err) < 0) {
        cJSON_Delete(o);
        return mlc_error_prefix(err, "PO %s", p.puno);
    }
    if (p.sup->carrier_code)
        add_str(o, "carrierCode", p.sup->carrier_code);
    if (p.sup->service_code)
        add_str(o, "serviceCode", p.sup->service_code);
    cJSON *adv = add_obj(o, "advancedOptions");
    if (p.wh->v1_warehouse_id)
        add_num(adv, "warehouseId", strtod(p.wh->v1_warehouse_id, NULL));
    if (map->store_id)
        add_num(adv, "storeId", (double)map->store_id);
    add_tags(adv, &p, po, "customField1", "customField2", "customField3");
    *out = o;
    return MLC_OK;
}

void mlc_map_hash(const cJSON *j, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    char *s = cJSON_PrintUnformatted(j);
    EVP_Digest(s ? s : "", s ? strlen(s) : 0, md, &n, EVP_sha256(), NULL);
    free(s);
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}
