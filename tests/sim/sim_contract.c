/*
 * sim_contract.c: mlc-sim holds ShipStation V2 to its published contract, the OpenAPI
 * file tests/contracts/shipstation-v2-openapi.yaml (ShipStation's own, MIT licence),
 * read with libyaml at start-up (--contract FILE; default: the repository's copy).
 *
 *  - every V2 request is checked before its handler runs: the operation exists, path
 *    and query parameters are declared, required ones present, values of the declared
 *    type/enum/format; the JSON body against the operation's schema (unknown
 *    properties, missing required ones, types, enums, formats, lengths, bounds). What
 *    the schema refuses is answered 400 in ShipStation's error shape
 *    (error_response_body) with a message naming the field;
 *  - every V2 response the sim sends is checked against the same file; a violation is
 *    a bug of the sim: it is printed ("mlc-sim: contract: ...") and counted
 *    (GET /admin/stats "contract_violations").
 *
 * The file is read the way ShipStation's service behaves (mlc-sim(1), CONTRACT): allOf
 * merges its members (additionalProperties: false applies to the merged object),
 * x-nullable allows null; recorded real behaviour wins over the schema for `pages: 0`
 * on empty lists, `batch_id: ""` on labels bought outside a batch, and the optional
 * pickup_id of GET /v2/shipments; documented behaviour for the V2 webhook events
 * (track_event_v2...). `pattern` is not checked (ECMA-262 regexes).
 * tests/contracts/check.js checks the recorded traffic again with a real validator.
 *
 * Not here: what an endpoint does (sim_v2*.c), business checks such as unique
 * external ids (the handlers), V1 (its own docs have no machine-readable contract).
 */
#include "sim.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "sim_v2.h"

static cJSON *SPEC;     /* the OpenAPI file as JSON */
static long violations; /* responses of the sim that broke the contract */

long contract_violations(void) { return violations; }

/* ---------------------------------------------------------------- loading */

static cJSON *scalar(const yaml_node_t *n)
{
    const char *s = (const char *)n->data.scalar.value;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return cJSON_CreateString(s);
    if (!strcmp(s, "true"))
        return cJSON_CreateTrue();
    if (!strcmp(s, "false"))
        return cJSON_CreateFalse();
    if (!strcmp(s, "null") || !strcmp(s, "~") || !*s)
        return cJSON_CreateNull();
    char *end;
    double d = strtod(s, &end);
    if (*end == '\0' && end != s && strspn(s, "0123456789+-.eE") == strlen(s))
        return cJSON_CreateNumber(d);
    return cJSON_CreateString(s);
}

static cJSON *to_json(yaml_document_t *doc, yaml_node_t *n, int depth)
{
    if (!n || depth > 200)
        return NULL;
    if (n->type == YAML_SCALAR_NODE)
        return scalar(n);
    if (n->type == YAML_SEQUENCE_NODE) {
        cJSON *a = cJSON_CreateArray();
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
            cJSON *k = to_json(doc, yaml_document_get_node(doc, *it), depth + 1);
            if (!k) {
                cJSON_Delete(a);
                return NULL;
            }
            cJSON_AddItemToArray(a, k);
        }
        return a;
    }
    if (n->type == YAML_MAPPING_NODE) {
        cJSON *o = cJSON_CreateObject();
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(doc, p->key);
            cJSON *v = to_json(doc, yaml_document_get_node(doc, p->value), depth + 1);
            if (!k || k->type != YAML_SCALAR_NODE || !v) {
                cJSON_Delete(v);
                cJSON_Delete(o);
                return NULL;
            }
            cJSON_AddItemToObject(o, (const char *)k->data.scalar.value, v);
        }
        return o;
    }
    return NULL;
}

/* deviation (documented): ShipStation's V2 webhook events (shipstation.md 2.7, its
 * docs and integrations) beside the file's ShipEngine-style webhook_event enum */
static const char *const V2_EVENTS[] = {"batch_processed_v2",     "track_event_v2",         "shipment_created_v2",
                                        "label_created_v2",       "fulfillment_shipped_v2", "fulfillment_rejected_v2",
                                        "fulfillment_created_v2", "fulfillment_updated_v2", "fulfillment_canceled_v2"};

static void documented_behaviour(void)
{
    cJSON *en = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(SPEC, "components"), "schemas"), "webhook_event"),
        "enum");
    for (size_t i = 0; cJSON_IsArray(en) && i < sizeof V2_EVENTS / sizeof V2_EVENTS[0]; i++)
        cJSON_AddItemToArray(en, cJSON_CreateString(V2_EVENTS[i]));
}

int contract_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    yaml_parser_t p;
    yaml_document_t doc;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, f);
    int ok = yaml_parser_load(&p, &doc);
    if (!ok) {
        snprintf(err, errlen, "%s:%zu: %s", path, p.problem_mark.line + 1, p.problem ? p.problem : "YAML error");
    } else {
        SPEC = to_json(&doc, yaml_document_get_root_node(&doc), 0);
        yaml_document_delete(&doc);
        if (!SPEC || !cJSON_GetObjectItem(SPEC, "paths")) {
            snprintf(err, errlen, "%s: not an OpenAPI file", path);
            cJSON_Delete(SPEC);
            SPEC = NULL;
            ok = 0;
        } else {
            documented_behaviour();
        }
    }
    yaml_parser_delete(&p);
    fclose(f);
    return ok ? 0 : -1;
}

void contract_free(void)
{
    cJSON_Delete(SPEC);
    SPEC = NULL;
}

int contract_loaded(void) { return SPEC != NULL; }

/* ---------------------------------------------------------------- schemas */

static const cJSON *resolve(const cJSON *s)
{
    for (int hops = 0; hops < 32 && s; hops++) {
        const char *ref = jstr(s, "$ref");
        if (!ref || strncmp(ref, "#/", 2) != 0)
            return s;
        const cJSON *at = SPEC;
        char part[160];
        for (const char *p = ref + 2; at && *p;) {
            size_t n = strcspn(p, "/"), o = 0;
            for (size_t i = 0; i < n && o + 1 < sizeof part; i++) { /* JSON Pointer escapes */
                if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
                    part[o++] = p[i + 1] == '1' ? '/' : '~';
                    i++;
                } else {
                    part[o++] = p[i];
                }
            }
            part[o] = 0;
            at = cJSON_GetObjectItemCaseSensitive(at, part);
            p += n + (p[n] == '/');
        }
        s = at;
    }
    return s;
}

typedef struct vctx {
    char path[256]; /* the field being checked, e.g. shipments[0].ship_to.name */
    char msg[400];
    int response; /* readOnly fields may appear */
} vctx;

static int fail(vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(vctx *c, const char *fmt, ...)
{
    char m[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    snprintf(c->msg, sizeof c->msg, "%s%s%s", c->path[0] ? c->path : "body", m[0] == ':' ? "" : " ", m);
    return -1;
}

/* whether the schema (or an allOf member, recursively) closes the object */
static int closed(const cJSON *s, int depth)
{
    s = resolve(s);
    if (!s || depth > 16)
        return 0;
    const cJSON *ap = cJSON_GetObjectItem(s, "additionalProperties"), *m;
    if (cJSON_IsFalse(ap))
        return 1;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(s, "allOf")) if (closed(m, depth + 1)) return 1;
    return 0;
}

/* whether name is a property of s or of its allOf members (recursively), or of any
 * anyOf/oneOf member (the merge of OpenAPI's allOf) */
static int declares(const cJSON *s, const char *name, int depth)
{
    s = resolve(s);
    if (!s || depth > 16)
        return 0;
    if (cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(s, "properties"), name))
        return 1;
    const cJSON *ap = cJSON_GetObjectItem(s, "additionalProperties");
    if (cJSON_IsObject(ap) || cJSON_IsTrue(ap))
        return 1;
    static const char *const KIDS[] = {"allOf", "anyOf", "oneOf"};
    for (size_t k = 0; k < 3; k++) {
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItem(s, KIDS[k])) if (declares(m, name, depth + 1)) return 1;
    }
    return 0;
}

static int type_is(const cJSON *v, const char *t)
{
    if (!strcmp(t, "string"))
        return cJSON_IsString(v);
    if (!strcmp(t, "boolean"))
        return cJSON_IsBool(v);
    if (!strcmp(t, "object"))
        return cJSON_IsObject(v);
    if (!strcmp(t, "array"))
        return cJSON_IsArray(v);
    if (!strcmp(t, "null"))
        return cJSON_IsNull(v);
    if (!strcmp(t, "number"))
        return cJSON_IsNumber(v);
    if (!strcmp(t, "integer"))
        return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9.1e18;
    return 1;
}

static int check_format(const char *fmt, const char *s)
{
    double t;
    if (!strcmp(fmt, "date-time"))
        return parse_rfc3339(s, &t) == 0;
    if (!strcmp(fmt, "email"))
        return strchr(s, '@') != NULL;
    if (!strcmp(fmt, "url") || !strcmp(fmt, "uri"))
        return str_has_prefix(s, "http://") || str_has_prefix(s, "https://");
    return 1; /* int32/int64/double/uuid/binary: the type check covers what matters here */
}

static int validate(const cJSON *s, const cJSON *v, vctx *c, int open, int depth);

static size_t push(vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t push(vctx *c, const char *fmt, ...)
{
    size_t was = strlen(c->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->path + was, sizeof c->path - was, fmt, ap);
    va_end(ap);
    return was;
}

static int validate_object(const cJSON *s, const cJSON *v, vctx *c, int open, int depth)
{
    const cJSON *req = cJSON_GetObjectItem(s, "required"), *r, *f;
    cJSON_ArrayForEach(r, req) if (cJSON_IsString(r) && !cJSON_GetObjectItemCaseSensitive(v, r->valuestring))
    {
        size_t was = push(c, "%s%s", c->path[0] ? "." : "", r->valuestring);
        fail(c, "is required");
        c->path[was] = 0;
        return -1;
    }
    const cJSON *props = cJSON_GetObjectItem(s, "properties");
    const cJSON *ap = cJSON_GetObjectItem(s, "additionalProperties");
    int shut = !open && closed(s, 0);
    cJSON_ArrayForEach(f, v)
    {
        const cJSON *ps = cJSON_GetObjectItemCaseSensitive(props, f->string);
        size_t was = push(c, "%s%s", c->path[0] ? "." : "", f->string);
        int rc = 0;
        if (ps)
            rc = validate(ps, f, c, 0, depth + 1);
        else if (shut && !declares(s, f->string, 0))
            rc = fail(c, "is not a declared field");
        else if (cJSON_IsObject(ap) && !cJSON_GetObjectItem(s, "allOf"))
            rc = validate(ap, f, c, 0, depth + 1);
        c->path[was] = 0;
        if (rc)
            return rc;
    }
    return 0;
}

static int validate(const cJSON *s, const cJSON *v, vctx *c, int open, int depth)
{
    s = resolve(s);
    if (!s || depth > 64)
        return 0;
    if (cJSON_IsNull(v) && cJSON_IsTrue(cJSON_GetObjectItem(s, "x-nullable")))
        return 0;
    const cJSON *m;
    /* allOf: every member, read open; the composite closes the merged object */
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(s, "allOf")) if (validate(m, v, c, 1, depth + 1)) return -1;
    const cJSON *any = cJSON_GetObjectItem(s, "anyOf");
    if (!any)
        any = cJSON_GetObjectItem(s, "oneOf");
    if (cJSON_IsArray(any) && cJSON_GetArraySize(any) > 0) {
        vctx first = *c;
        int ok = 0, k = 0;
        cJSON_ArrayForEach(m, any)
        {
            vctx t = *c;
            if (validate(m, v, &t, open, depth + 1) == 0) {
                ok = 1;
                break;
            }
            if (k++ == 0)
                first = t;
        }
        if (!ok) {
            *c = first;
            return -1;
        }
    }
    const cJSON *type = cJSON_GetObjectItem(s, "type");
    if (cJSON_IsString(type) && !type_is(v, type->valuestring))
        return fail(c, "must be %s %s", strchr("aeiou", type->valuestring[0]) ? "an" : "a", type->valuestring);
    if (cJSON_IsArray(type)) {
        int ok = 0;
        const cJSON *t;
        cJSON_ArrayForEach(t, type) ok |= cJSON_IsString(t) && type_is(v, t->valuestring);
        if (!ok)
            return fail(c, "has the wrong type");
    }
    const cJSON *en = cJSON_GetObjectItem(s, "enum");
    if (cJSON_IsArray(en)) {
        int ok = 0;
        cJSON_ArrayForEach(m, en) ok |= cJSON_Compare(m, v, 1);
        if (!ok)
            return fail(c, "'%s' is not one of the allowed values", cJSON_IsString(v) ? v->valuestring : "(value)");
    }
    if (cJSON_IsString(v)) {
        size_t len = strlen(v->valuestring);
        const cJSON *fmt = cJSON_GetObjectItem(s, "format");
        if (len < (size_t)jnum(s, "minLength", 0))
            return fail(c, "must have at least %.0f characters", jnum(s, "minLength", 0));
        if (cJSON_GetObjectItem(s, "maxLength") && len > (size_t)jnum(s, "maxLength", 0))
            return fail(c, "must have at most %.0f characters", jnum(s, "maxLength", 0));
        if (cJSON_IsString(fmt) && !check_format(fmt->valuestring, v->valuestring))
            return fail(c, "must be a %s", fmt->valuestring);
    }
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        const cJSON *mn = cJSON_GetObjectItem(s, "minimum"), *mx = cJSON_GetObjectItem(s, "maximum");
        const cJSON *xmn = cJSON_GetObjectItem(s, "exclusiveMinimum"),
                    *xmx = cJSON_GetObjectItem(s, "exclusiveMaximum");
        if (cJSON_IsNumber(mn) && d < mn->valuedouble)
            return fail(c, "must be >= %g", mn->valuedouble);
        if (cJSON_IsNumber(mx) && d > mx->valuedouble)
            return fail(c, "must be <= %g", mx->valuedouble);
        if (cJSON_IsNumber(xmn) && d <= xmn->valuedouble)
            return fail(c, "must be > %g", xmn->valuedouble);
        if (cJSON_IsNumber(xmx) && d >= xmx->valuedouble)
            return fail(c, "must be < %g", xmx->valuedouble);
    }
    if (cJSON_IsArray(v)) {
        int n = cJSON_GetArraySize(v), i = 0;
        if (n < (int)jnum(s, "minItems", 0))
            return fail(c, "must have at least %.0f items", jnum(s, "minItems", 0));
        if (cJSON_GetObjectItem(s, "maxItems") && n > (int)jnum(s, "maxItems", 0))
            return fail(c, "must have at most %.0f items", jnum(s, "maxItems", 0));
        const cJSON *items = cJSON_GetObjectItem(s, "items");
        cJSON_ArrayForEach(m, v)
        {
            size_t was = push(c, "[%d]", i++);
            int rc = items ? validate(items, m, c, 0, depth + 1) : 0;
            c->path[was] = 0;
            if (rc)
                return rc;
        }
    }
    if (cJSON_IsObject(v))
        return validate_object(s, v, c, open, depth);
    return 0;
}

/* ---------------------------------------------------------------- operations */

typedef struct op_match {
    const char *tpl;
    const cJSON *item, *op;
    char names[8][64], values[8][96];
    int nparams;
} op_match;

static int match_op(const char *path, const char *method, op_match *m)
{
    char seg[8][96], ps[8][96], lm[16];
    int n = path_split(path, seg, 8), best = 99;
    snprintf(lm, sizeof lm, "%s", method);
    for (char *p = lm; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(SPEC, "paths"))
    {
        const cJSON *op = cJSON_GetObjectItem(it, lm);
        if (!op || path_split(it->string, ps, 8) != n)
            continue;
        int np = 0, ok = 1;
        for (int i = 0; i < n && ok; i++)
            if (ps[i][0] == '{')
                np++;
            else
                ok = strcmp(ps[i], seg[i]) == 0;
        if (!ok || np >= best)
            continue;
        best = np;
        m->tpl = it->string;
        m->item = it;
        m->op = op;
        m->nparams = 0;
        for (int i = 0; i < n && m->nparams < 8; i++)
            if (ps[i][0] == '{') {
                snprintf(m->names[m->nparams], sizeof m->names[0], "%.*s", (int)strlen(ps[i]) - 2, ps[i] + 1);
                snprintf(m->values[m->nparams++], sizeof m->values[0], "%s", seg[i]);
            }
    }
    return best < 99;
}

/* deviation: GET /v2/shipments does not need pickup_id (research/README.md) */
static int param_required(const op_match *m, const cJSON *p)
{
    if (!strcmp(m->tpl, "/v2/shipments") && !strcmp(jstrs(p, "name"), "pickup_id"))
        return 0;
    return cJSON_IsTrue(cJSON_GetObjectItem(p, "required"));
}

/* a query or path value (text) as the JSON its schema asks for */
static cJSON *typed(const cJSON *schema, const char *text)
{
    const cJSON *s = resolve(schema);
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(s, "allOf")) if (jstr(resolve(m), "type")) s = resolve(m);
    const char *t = jstr(s, "type");
    char *end;
    if (t && (!strcmp(t, "integer") || !strcmp(t, "number"))) {
        double d = strtod(text, &end);
        return *text && !*end ? cJSON_CreateNumber(d) : cJSON_CreateString(text);
    }
    if (t && !strcmp(t, "boolean") && (!strcmp(text, "true") || !strcmp(text, "false")))
        return cJSON_CreateBool(!strcmp(text, "true"));
    if (t && !strcmp(t, "array")) {
        cJSON *a = cJSON_CreateArray();
        char *dup = xstrdup(text), *save = NULL;
        for (char *p = strtok_r(dup, ",", &save); p; p = strtok_r(NULL, ",", &save))
            cJSON_AddItemToArray(a, typed(cJSON_GetObjectItem(s, "items"), p));
        free(dup);
        return a;
    }
    return cJSON_CreateString(text);
}

typedef struct qarg {
    char name[64];
    char value[256];
} qarg;

typedef struct qargs {
    qarg a[32];
    int n;
} qargs;

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    qargs *q = cls;
    if (q->n < 32) {
        snprintf(q->a[q->n].name, sizeof q->a[0].name, "%s", key);
        snprintf(q->a[q->n].value, sizeof q->a[0].value, "%s", value ? value : "");
        q->n++;
    }
    return MHD_YES;
}

static const cJSON *find_param(const op_match *m, const char *in, const char *name)
{
    static const char *const WHERE[] = {"item", "op"};
    for (int w = 0; w < 2; w++) {
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItem(w ? m->op : m->item, "parameters"))
        {
            const cJSON *r = resolve(p);
            if (!strcmp(jstrs(r, "in"), in) && (!name || !strcmp(jstrs(r, "name"), name)))
                return r;
        }
        (void)WHERE;
    }
    return NULL;
}

static int check_value(const cJSON *param, const char *where, const char *text, vctx *c)
{
    cJSON *v = typed(cJSON_GetObjectItem(param, "schema"), text);
    snprintf(c->path, sizeof c->path, "%s parameter %s", where, jstrs(param, "name"));
    int rc = validate(cJSON_GetObjectItem(param, "schema"), v, c, 0, 0);
    cJSON_Delete(v);
    return rc;
}

static int check_params(sim_req *rq, const op_match *m, vctx *c)
{
    for (int i = 0; i < m->nparams; i++) {
        const cJSON *p = find_param(m, "path", m->names[i]);
        if (p && check_value(p, "path", m->values[i], c))
            return -1;
    }
    qargs q = {0};
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, collect, &q);
    for (int i = 0; i < q.n; i++) {
        const cJSON *p = find_param(m, "query", q.a[i].name);
        if (!p) {
            snprintf(c->path, sizeof c->path, "query parameter %s", q.a[i].name);
            return fail(c, "is not declared for %s %s", rq->method, m->tpl);
        }
        if (check_value(p, "query", q.a[i].value, c))
            return -1;
    }
    static const char *const WHERE[] = {"item", "op"};
    for (int w = 0; w < 2; w++) {
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItem(w ? m->op : m->item, "parameters"))
        {
            const cJSON *r = resolve(p);
            if (strcmp(jstrs(r, "in"), "query") || !param_required(m, r))
                continue;
            int have = 0;
            for (int i = 0; i < q.n; i++)
                have |= !strcmp(q.a[i].name, jstrs(r, "name"));
            if (!have) {
                snprintf(c->path, sizeof c->path, "query parameter %s", jstrs(r, "name"));
                return fail(c, "is required");
            }
        }
        (void)WHERE;
    }
    return 0;
}

static const cJSON *json_schema_of(const cJSON *holder)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(resolve(holder), "content"), "application/json"),
                               "schema");
}

int contract_check_request(sim_req *rq, sim_resp *rs)
{
    op_match m;
    vctx c = {{0}, {0}, 0};
    if (!SPEC || rq->system != '2' || !str_has_prefix(rq->path, "/v2/") || !match_op(rq->path, rq->method, &m))
        return 1; /* not a V2 operation: the router answers */
    if (check_params(rq, &m, &c)) {
        v2_error(rs, 400, "validation", "invalid_field_value", "%s", c.msg);
        return 0;
    }
    const cJSON *rb = resolve(cJSON_GetObjectItem(m.op, "requestBody"));
    const cJSON *schema = json_schema_of(rb);
    int has_body = rq->body && rq->body_len;
    if (!schema) {
        if (has_body) {
            v2_error(rs, 400, "validation", "invalid_field_value", "%s %s takes no request body", rq->method, m.tpl);
            return 0;
        }
        return 1;
    }
    if (!has_body) {
        if (cJSON_IsTrue(cJSON_GetObjectItem(rb, "required"))) {
            v2_error(rs, 400, "validation", "request_body_required", "A request body is required");
            return 0;
        }
        return 1;
    }
    cJSON *b = cJSON_Parse(rq->body);
    if (!b) {
        v2_error(rs, 400, "validation", "invalid_object", "The request body is not valid JSON");
        return 0;
    }
    int rc = validate(schema, b, &c, 0, 0);
    cJSON_Delete(b);
    if (rc) {
        v2_error(rs, 400, "validation", strstr(c.msg, "is required") ? "field_value_required" : "invalid_field_value",
                 "%s", c.msg);
        return 0;
    }
    return 1;
}

/* deviations of recorded real answers (mlc-sim(1) CONTRACT), taken as the schema's
 * equivalent before the check: pages 0 on an empty list, batch_id "" on a label
 * bought outside a batch */
static void real_behaviour(cJSON *b)
{
    const cJSON *pages = cJSON_GetObjectItem(b, "pages");
    if (cJSON_IsNumber(pages) && pages->valuedouble == 0 && jnum(b, "total", -1) == 0)
        jset_num(b, "pages", 1);
    cJSON *one = cJSON_CreateArray(), *l;
    cJSON_AddItemReferenceToArray(one, b);
    cJSON *lists[2] = {cJSON_GetObjectItem(b, "labels"), one};
    for (int i = 0; i < 2; i++)
        cJSON_ArrayForEach(l, lists[i]) if (jstr(l, "label_id") && cJSON_IsString(cJSON_GetObjectItem(l, "batch_id")) &&
                                            !*jstr(l, "batch_id")) jset_str(l, "batch_id", "se-0");
    cJSON_Delete(one);
}

void contract_check_response(sim_req *rq, const sim_resp *rs)
{
    op_match m;
    vctx c = {{0}, {0}, 1};
    if (!SPEC || rq->system != '2' || !str_has_prefix(rq->path, "/v2/") || !match_op(rq->path, rq->method, &m))
        return;
    char st[8];
    snprintf(st, sizeof st, "%d", rs->status);
    const cJSON *responses = cJSON_GetObjectItem(m.op, "responses");
    const cJSON *r = cJSON_GetObjectItem(responses, st);
    if (!r)
        r = cJSON_GetObjectItem(responses, "default");
    const cJSON *schema = r ? json_schema_of(r) : NULL;
    if (!r && rs->status >= 400)
        schema = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(SPEC, "components"), "schemas"),
                                     "error_response_body");
    int rc = 0;
    if (!r && rs->status < 400) {
        snprintf(c.msg, sizeof c.msg, "status %d is not declared", rs->status);
        rc = -1;
    } else if (schema) {
        cJSON *b = rs->body && *rs->body ? cJSON_Parse(rs->body) : cJSON_CreateString("");
        if (!b)
            b = cJSON_CreateString(rs->body);
        real_behaviour(b);
        rc = validate(schema, b, &c, 0, 0);
        cJSON_Delete(b);
    }
    if (rc) {
        violations++;
        fprintf(stderr, "mlc-sim: contract: the answer to %s %s (%d) breaks the V2 contract: %s\n", rq->method, m.tpl,
                rs->status, c.msg);
    }
}
