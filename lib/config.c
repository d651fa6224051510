/*
 * config.c: loads mlc.yaml with libyaml into a small tree, checks it against the
 * schema below, and answers dotted-path queries relative to the chosen profile.
 *
 * The schema table is the single list of settings: a dotted pattern ('*' matches
 * one key, e.g. a warehouse code), a type and a default. A key that matches no
 * pattern is an error (file:line:column and the full key), never ignored.
 * Documented in man/mlc.yaml.5: keep the two in step.
 *
 * Not here: what a setting means to a module (each module reads its own), secrets.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#define CONFIG_MAX_BYTES (4 * 1024 * 1024)
/* Aliases (*name) are expanded into the tree: nested ones grow it exponentially
 * (an "alias bomb" of a few hundred bytes makes billions of nodes). The tree is
 * capped at this many nodes, aliases expanded; a real mlc.yaml has hundreds. */
#define CONFIG_MAX_NODES 100000

typedef enum { T_STR, T_INT, T_BOOL, T_DOUBLE, T_MAP } setting_type;

typedef struct setting {
    const char *pattern;   /* relative to profiles.<name> */
    setting_type type;
    const char *def;       /* default as text, or NULL */
} setting;

#define ADDRESS(prefix) \
    {prefix ".name", T_STR, NULL}, {prefix ".company", T_STR, NULL}, \
    {prefix ".street1", T_STR, NULL}, {prefix ".street2", T_STR, NULL}, \
    {prefix ".street3", T_STR, NULL}, {prefix ".city", T_STR, NULL}, \
    {prefix ".state", T_STR, NULL}, {prefix ".postal_code", T_STR, NULL}, \
    {prefix ".country", T_STR, NULL}, {prefix ".phone", T_STR, NULL}, \
    {prefix ".email", T_STR, NULL}, {prefix ".residential", T_BOOL, "false"}

static const setting schema[] = {
    {"state_dir", T_STR, NULL},
    /* the state backend: sqlite (the default: <state_dir>/<profile>.db) or a
     * postgresql:// URL (state_url: the same, for those who prefer the name);
     * the PostgreSQL password from state_password_file (0600) or the vault */
    {"state", T_STR, NULL},
    {"state_url", T_STR, NULL},
    {"state_password_file", T_STR, NULL},
    {"vault", T_STR, NULL},
    /* CloudSuite / M3 */
    {"cloudsuite.ionapi", T_STR, NULL},
    {"cloudsuite.cono", T_INT, NULL},
    {"cloudsuite.divi", T_STR, NULL},
    {"cloudsuite.responsible", T_STR, "MLC"},
    {"cloudsuite.token_margin", T_INT, "300"},
    {"cloudsuite.timeout", T_INT, "65"},
    /* The ION API gateway answers 504 when M3 has not answered within its configured
     * timeout, 60 s (Infor ION API Gateway Administration Guide, "Common error
     * statuses"; research: infor.md section 5). M3 may go on executing the call after
     * that: an in-doubt receipt is settled only after its deadline + this + a margin. */
    {"cloudsuite.gateway_timeout", T_INT, "60"},
    /* First run of a poller on a fresh state (no cursor): how far back it reads
     * (pull-pos: from M3's date; pull-shipments: from now). */
    {"cloudsuite.initial_lookback_days", T_INT, "90"},
    /* Where a receipt leaves its trace in M3 (EXPORTMI/Select): the PO line transaction
     * table and its column prefix. [UNVERIFIED] no public page lists MPLIND's columns;
     * names follow M3's conventions (see mlc.yaml(5)); "" = no trace, RVQA only. */
    {"cloudsuite.receipt_trace_table", T_STR, "MPLIND"},
    {"cloudsuite.receipt_trace_prefix", T_STR, "IC"},
    {"cloudsuite.po_statuses", T_STR, "15-50"},
    {"cloudsuite.poll_overlap_days", T_INT, "1"},
    {"cloudsuite.redeliver_hours", T_INT, "24"}, /* POs written again until push-shipments links them; 0 = off */
    /* Rows asked of one EXPORTMI/Select (its maxrecs); a full answer is split by
     * change day. [UNVERIFIED] a tenant's own cap: none is documented. */
    {"cloudsuite.export_max_rows", T_INT, "10000"},
    /* 150 transactions per bulk call is what inforion, a public M3 loader, sends
     * (research: infor.md, "MaxChunk=150"); a tenant's real limit is not documented. */
    {"cloudsuite.bulk_size", T_INT, "150"},
    {"cloudsuite.bulk_read_size", T_INT, "1000"}, /* transactions per bulk read (GetHead, LstLine, GetLine) */
    {"cloudsuite.select_columns", T_BOOL, "true"}, /* ask M3 only for the columns mlc reads (lib/m3) */
    /* Where a bulk call names the session's company: public clients put cono/divi in
     * the body, on the URL, or both [UNVERIFIED] which a tenant honours (lib/m3.c). */
    {"cloudsuite.bulk_company", T_STR, "both"},
    /* MHS850MI/AddPOReceipt header values. [UNVERIFIED] which values a tenant's
     * WMS interface expects: the research names the fields, not their values. */
    {"cloudsuite.whs_partner", T_STR, "MLC"},            /* E0PA */
    {"cloudsuite.whs_message_type", T_STR, "WMS"},       /* E065 */
    {"cloudsuite.whs_supplier_type", T_STR, "0"},        /* SUTY */
    {"cloudsuite.po_changed_from_field", T_STR, "FLMD"}, /* for a non-EXPORTMI po_changed list */
    {"cloudsuite.po_changed_po_field", T_STR, "PUNO"},
    /* Program/transaction names: defaults follow a standard M3 (mlc-internals(7), CALL TABLES). */
    {"cloudsuite.programs.po_changed", T_STR, "EXPORTMI/Select"},
    {"cloudsuite.programs.po_head", T_STR, "PPS200MI/GetHead"},
    {"cloudsuite.programs.po_lines", T_STR, "PPS200MI/LstLine"},
    {"cloudsuite.programs.po_line", T_STR, "PPS200MI/GetLine"},
    {"cloudsuite.programs.po_receipt", T_STR, "PPS001MI/Receipt"},
    {"cloudsuite.programs.whs_receipt", T_STR, "MHS850MI/AddPOReceipt"},
    {"cloudsuite.programs.advise", T_STR, "PPS001MI/AdviseLine"},
    {"cloudsuite.programs.items_changed", T_STR, "MMS200MI/LstItmByChgDate"},
    {"cloudsuite.programs.item_get", T_STR, "MMS200MI/GetItmBasic"},
    {"cloudsuite.programs.item_add", T_STR, "MMS200MI/AddItmBasic"},
    {"cloudsuite.programs.item_update", T_STR, "MMS200MI/UpdItmBasic"},
    {"cloudsuite.programs.item_balance", T_STR, "MMS200MI/GetItmWhsBal"},
    {"cloudsuite.programs.ping", T_STR, "GENERAL/GetUserInfo"},
    /* ShipStation */
    {"shipstation.api", T_STR, "v2"},
    {"shipstation.v2_url", T_STR, "https://api.shipstation.com"},
    {"shipstation.v1_url", T_STR, "https://ssapi.shipstation.com"},
    {"shipstation.api_key_file", T_STR, NULL},
    {"shipstation.v1_key_file", T_STR, NULL},
    {"shipstation.timeout", T_INT, "30"},
    {"shipstation.rate_limit_v2", T_INT, "200"},
    {"shipstation.rate_limit_v1", T_INT, "40"},
    {"shipstation.rate_window", T_DOUBLE, "60"},
    {"shipstation.store_id", T_INT, NULL},
    {"shipstation.webhook_secret_file", T_STR, NULL},
    {"shipstation.webhook_public_key_file", T_STR, NULL},
    {"shipstation.webhook_max_attempts", T_INT, "3"}, /* follow-ups of a notification before quarantine */
    {"shipstation.redeliver_hours", T_INT, "24"}, /* records written again until the ledger has them; 0 = off */
    /* Retries */
    {"retry.base_ms", T_INT, "500"},
    {"retry.cap_ms", T_INT, "30000"},
    {"retry.max_attempts", T_INT, "5"},
    /* seconds added to a write's deadline (+ the gateway timeout for M3) before its
     * in-doubt outcome is looked up: a guess at how long a server may go on executing a
     * call whose client is gone (no vendor documents it) */
    {"retry.in_doubt_margin", T_INT, "30"},
    /* Receipts */
    {"receipts.post_at", T_STR, "ship"}, /* ship | deliver */
    {"receipts.advise_at_ship", T_BOOL, "false"},
    {"receipts.over_shipment", T_STR, "reject"},      /* reject | cap */
    {"receipts.void_after_receipt", T_STR, "review"}, /* review | ignore */
    {"receipts.max_attempts", T_INT, "8"},
    {"receipts.base_ms", T_INT, "60000"},
    {"receipts.cap_ms", T_INT, "3600000"},
    {"receipts.transport", T_STR, "rest"},          /* rest | bod (lib/bod, lib/ims) */
    /* BODs through the ION Messaging Service (research: ion-bod.md) */
    {"bod.logical_id", T_STR, NULL},                /* the IMS connection point's lid:// */
    {"bod.to_logical_id", T_STR, "lid://default"},  /* Sync/Process: implicit routing [DOC] */
    {"bod.ionapi", T_STR, NULL},                    /* a second .ionapi (client id of the connection point) */
    {"bod.tenant_id", T_STR, NULL},                 /* TenantID; default: the .ionapi's ti */
    /* [INF] Process.ReceiveDelivery is not confirmed in M3's public inbound table */
    {"bod.receipt_document", T_STR, "Process.ReceiveDelivery"},
    {"bod.receipt_template", T_STR, NULL},          /* XML template file overriding the built-in one */
    {"bod.advance_ship_notice", T_BOOL, "false"},   /* send Sync.AdvanceShipNotice at ship time */
    {"bod.asn_document", T_STR, "Sync.AdvanceShipNotice"},
    {"bod.asn_template", T_STR, NULL},
    {"bod.visible_within", T_INT, "3600"},          /* s: sent but not in M3 -> needs_review */
    {"bod.resend_grace", T_INT, "900"},             /* s: after a send timeout, before re-sending */
    {"bod.warehouses.*.accounting_entity", T_STR, NULL}, /* default: <cono>_<divi> */
    {"bod.warehouses.*.location", T_STR, NULL},          /* default: the M3 warehouse */
    /* Mapping */
    {"mapping.default_route", T_STR, "po_receipt"},
    {"mapping.closed_po", T_STR, "cancel"}, /* cancel | ignore */
    {"mapping.order_types.*", T_STR, NULL},
    {"mapping.warehouses.*.warehouse_id", T_STR, NULL},
    {"mapping.warehouses.*.v1_warehouse_id", T_INT, NULL},
    {"mapping.warehouses.*.inventory_warehouse_id", T_STR, NULL},
    {"mapping.warehouses.*.inventory_location_id", T_STR, NULL},
    ADDRESS("mapping.warehouses.*.ship_to"),
    ADDRESS("mapping.suppliers.*.ship_from"),
    {"mapping.suppliers.*.carrier_id", T_STR, NULL},
    {"mapping.suppliers.*.carrier_code", T_STR, NULL},
    {"mapping.suppliers.*.service_code", T_STR, NULL},
    {"mapping.defaults.carrier_id", T_STR, NULL},
    {"mapping.defaults.carrier_code", T_STR, NULL},
    {"mapping.defaults.service_code", T_STR, NULL},
    {"mapping.items.sku_field", T_STR, "ITNO"},
    {"mapping.items.owners.*", T_STR, NULL}, /* cloudsuite | shipstation | newest */
    {"mapping.items.create_in_m3", T_BOOL, "false"},
    {"mapping.items.new_item.*", T_STR, NULL},
    {"mapping.items.weight_unit", T_STR, "kg"}, /* M3 GRWE unit: kg | g | lb | oz */
    {"mapping.items.length_unit", T_STR, "cm"}, /* M3 ILEN/IWID/IHEI unit: cm | mm | m | in */
};

/* Integer settings with a range: anything outside is a configuration error
 * (file:line:column), e.g. a bulk_size of 0 or -5. Keep in step with mlc.yaml(5). */
static const struct {
    const char *pattern;
    long long min, max;
} ranges[] = {
    {"cloudsuite.cono", 1, 999},
    {"cloudsuite.token_margin", 0, 86400},
    {"cloudsuite.timeout", 1, 3600},
    {"cloudsuite.poll_overlap_days", 0, 3650},
    {"cloudsuite.redeliver_hours", 0, 8760},
    {"cloudsuite.initial_lookback_days", 1, 36500},
    {"cloudsuite.export_max_rows", 1, 100000000},
    {"cloudsuite.bulk_size", 1, 10000},
    {"cloudsuite.bulk_read_size", 1, 10000},
    {"shipstation.timeout", 1, 3600},
    {"shipstation.rate_limit_v2", 1, 100000},
    {"shipstation.rate_limit_v1", 1, 100000},
    {"shipstation.webhook_max_attempts", 1, 1000},
    {"shipstation.redeliver_hours", 0, 8760},
    {"retry.base_ms", 0, 86400000},
    {"retry.cap_ms", 0, 86400000},
    {"retry.max_attempts", 1, 100},
    {"receipts.max_attempts", 1, 1000},
    {"receipts.base_ms", 0, 86400000},
    {"receipts.cap_ms", 0, 864000000},
    {"bod.visible_within", 1, 8640000},
    {"bod.resend_grace", 0, 8640000},
};

/* Settings whose value is one of a fixed set ("|"-separated), checked at load
 * time so a typo is an error naming file:line:column, not a surprise later. A
 * pattern may hold '*' as the schema does. nocase: any case is accepted (documented
 * in mlc.yaml(5): shipstation.api only, which has always been read that way); the
 * module that reads a setting still maps it to its own enum. */
static const struct {
    const char *pattern;
    const char *choices;
    int nocase;
} choices[] = {
    {"shipstation.api", "v2|v1", 1},
    {"cloudsuite.bulk_company", "both|body|query", 0},
    {"receipts.transport", "rest|bod", 0},
    {"receipts.post_at", "ship|deliver", 0},
    {"receipts.over_shipment", "reject|cap", 0},
    {"receipts.void_after_receipt", "review|ignore", 0},
    {"mapping.default_route", "po_receipt|goods_receipt", 0},
    {"mapping.order_types.*", "po_receipt|goods_receipt", 0},
    {"mapping.closed_po", "cancel|ignore", 0},
    {"mapping.items.owners.*", "cloudsuite|shipstation|newest", 0},
    {"mapping.items.weight_unit", "kg|g|lb|oz", 0},
    {"mapping.items.length_unit", "cm|mm|m|in", 0},
};

static int pattern_match(const char *pattern, const char *path);

static int choice_ok(const char *path, const char *v, const char **allowed)
{
    for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++) {
        if (pattern_match(choices[i].pattern, path) != 2)
            continue;
        *allowed = choices[i].choices;
        size_t n = strlen(v);
        for (const char *c = choices[i].choices; *c;) {
            const char *bar = strchr(c, '|');
            size_t len = bar ? (size_t)(bar - c) : strlen(c);
            if (len == n && (choices[i].nocase ? !strncasecmp(c, v, n) : !strncmp(c, v, n)))
                return 1;
            c += len + (bar ? 1 : 0);
        }
        return 0;
    }
    return 1;
}

struct mlc_config_node {
    mlc_config_kind kind;
    char *key;
    char *value;
    int line, col;
    mlc_config_node **kids;
    size_t nkids;
};

struct mlc_config {
    char *path;
    char *dir;
    char *profile;
    mlc_config_node *root;
    const mlc_config_node *prof;   /* profiles.<profile>, may be NULL */
};

/* ---------- tree ---------- */

static void node_free(mlc_config_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        node_free(n->kids[i]);
    free(n->kids);
    free(n->key);
    free(n->value);
    free(n);
}

static int node_add(mlc_config_node *parent, mlc_config_node *kid)
{
    mlc_config_node **k = realloc(parent->kids, (parent->nkids + 1) * sizeof *k);
    if (!k)
        return -1;
    parent->kids = k;
    parent->kids[parent->nkids++] = kid;
    return 0;
}

static mlc_config_node *node_build(yaml_document_t *doc, yaml_node_t *yn, const char *name, int depth, size_t *budget,
                                   mlc_error *err)
{
    if (!yn) {
        mlc_error_set(err, MLC_ERR_CONFIG, "%s: broken YAML document", name);
        return NULL;
    }
    if (*budget == 0) {
        mlc_error_set(err, MLC_ERR_CONFIG,
                      "%s:%d:%d: more than %d nodes with aliases expanded (nested aliases?): refused", name,
                      (int)yn->start_mark.line + 1, (int)yn->start_mark.column + 1, CONFIG_MAX_NODES);
        return NULL;
    }
    (*budget)--;
    mlc_config_node *n = calloc(1, sizeof *n);
    if (!n) {
        mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    n->line = (int)yn->start_mark.line + 1;
    n->col = (int)yn->start_mark.column + 1;
    if (depth > 32) {
        mlc_error_set(err, MLC_ERR_CONFIG, "%s:%d:%d: nesting too deep", name, n->line, n->col);
        goto fail;
    }
    switch (yn->type) {
    case YAML_SCALAR_NODE:
        n->kind = MLC_CFG_SCALAR;
        n->value = strndup((const char *)yn->data.scalar.value, yn->data.scalar.length);
        if (!n->value)
            goto nomem;
        if (strlen(n->value) != yn->data.scalar.length) {
            mlc_error_set(err, MLC_ERR_CONFIG, "%s:%d:%d: NUL byte in value", name, n->line, n->col);
            goto fail;
        }
        break;
    case YAML_SEQUENCE_NODE:
        n->kind = MLC_CFG_LIST;
        for (yaml_node_item_t *it = yn->data.sequence.items.start; it < yn->data.sequence.items.top; it++) {
            mlc_config_node *kid = node_build(doc, yaml_document_get_node(doc, *it), name, depth + 1, budget, err);
            if (!kid)
                goto fail;
            if (node_add(n, kid)) {
                node_free(kid);
                goto nomem;
            }
        }
        break;
    case YAML_MAPPING_NODE:
        n->kind = MLC_CFG_MAP;
        for (yaml_node_pair_t *p = yn->data.mapping.pairs.start; p < yn->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(doc, p->key);
            if (!k || k->type != YAML_SCALAR_NODE) {
                mlc_error_set(err, MLC_ERR_CONFIG, "%s:%d:%d: keys must be plain strings", name,
                              k ? (int)k->start_mark.line + 1 : n->line, k ? (int)k->start_mark.column + 1 : n->col);
                goto fail;
            }
            const char *key = (const char *)k->data.scalar.value;
            for (size_t i = 0; i < n->nkids; i++)
                if (strcmp(n->kids[i]->key, key) == 0) {
                    mlc_error_set(err, MLC_ERR_CONFIG, "%s:%d:%d: duplicate key '%s'", name,
                                  (int)k->start_mark.line + 1, (int)k->start_mark.column + 1, key);
                    goto fail;
                }
            if (strchr(key, '.')) {
                mlc_error_set(err, MLC_ERR_CONFIG, "%s:%d:%d: key '%s' must not contain '.'", name,
                              (int)k->start_mark.line + 1, (int)k->start_mark.column + 1, key);
                goto fail;
            }
            mlc_config_node *kid = node_build(doc, yaml_document_get_node(doc, p->value), name, depth + 1, budget, err);
            if (!kid)
                goto fail;
            kid->key = strdup(key);
            kid->line = (int)k->start_mark.line + 1;
            kid->col = (int)k->start_mark.column + 1;
            if (!kid->key || node_add(n, kid)) {
                node_free(kid);
                goto nomem;
            }
        }
        break;
    default:
        mlc_error_set(err, MLC_ERR_CONFIG, "%s:%d:%d: empty or unsupported node", name, n->line, n->col);
        goto fail;
    }
    return n;
nomem:
    mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
fail:
    node_free(n);
    return NULL;
}

const mlc_config_node *mlc_config_node_get(const mlc_config_node *n, const char *key)
{
    if (!n || n->kind != MLC_CFG_MAP)
        return NULL;
    for (size_t i = 0; i < n->nkids; i++)
        if (strcmp(n->kids[i]->key, key) == 0)
            return n->kids[i];
    return NULL;
}

mlc_config_kind mlc_config_node_kind(const mlc_config_node *n) { return n->kind; }
const char *mlc_config_node_value(const mlc_config_node *n) { return n && n->kind == MLC_CFG_SCALAR ? n->value : NULL; }
const char *mlc_config_node_key(const mlc_config_node *n) { return n ? n->key : NULL; }
size_t mlc_config_node_count(const mlc_config_node *n) { return n ? n->nkids : 0; }
int mlc_config_node_line(const mlc_config_node *n) { return n ? n->line : 0; }
int mlc_config_node_col(const mlc_config_node *n) { return n ? n->col : 0; }

const mlc_config_node *mlc_config_node_child(const mlc_config_node *n, size_t i)
{
    return n && i < n->nkids ? n->kids[i] : NULL;
}

/* ---------- schema ---------- */

/* Does the dotted path match pattern, fully (return 2) or as a prefix (1)? */
static int pattern_match(const char *pattern, const char *path)
{
    const char *p = pattern, *s = path;
    for (;;) {
        size_t plen = strcspn(p, "."), slen = strcspn(s, ".");
        if (!(plen == 1 && *p == '*') && (plen != slen || strncmp(p, s, plen) != 0))
            return 0;
        p += plen;
        s += slen;
        if (*s == '\0')
            return *p == '\0' ? 2 : 1;
        if (*p == '\0')
            return 0;
        p++;
        s++;
    }
}

static const setting *schema_find(const char *path, int *prefix_only)
{
    *prefix_only = 0;
    for (size_t i = 0; i < sizeof schema / sizeof schema[0]; i++) {
        int m = pattern_match(schema[i].pattern, path);
        if (m == 2)
            return &schema[i];
        if (m == 1)
            *prefix_only = 1;
    }
    return NULL;
}

static int type_ok(setting_type t, const char *v)
{
    char *end;
    switch (t) {
    case T_INT:
        errno = 0;
        (void)strtoll(v, &end, 10);
        return *v && *end == '\0' && errno == 0;

    case T_DOUBLE:
        errno = 0;
        (void)strtod(v, &end);
        return *v && *end == '\0' && errno == 0;
    case T_BOOL:
        return !strcmp(v, "true") || !strcmp(v, "false") || !strcmp(v, "yes") || !strcmp(v, "no");
    default:
        return 1;
    }
}

static const char *type_name(setting_type t)
{
    static const char *names[] = {"a string", "an integer", "true or false", "a number", "a map"};
    return names[t];
}

/* 1 (and the range) if an integer setting's value is outside its range. */
static int out_of_range(const char *pattern, const char *v, long long *lo, long long *hi)
{
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        if (strcmp(ranges[i].pattern, pattern) != 0)
            continue;
        long long x = strtoll(v, NULL, 10);
        *lo = ranges[i].min;
        *hi = ranges[i].max;
        return x < *lo || x > *hi;
    }
    return 0;
}

static mlc_err validate(const mlc_config_node *n, char *path, size_t cap, const char *file,
                        const char *shown_prefix, mlc_error *err)
{
    long long lo, hi;
    for (size_t i = 0; i < n->nkids; i++) {
        const mlc_config_node *k = n->kids[i];
        size_t len = strlen(path);
        if (len + strlen(k->key) + 2 >= cap)
            return mlc_error_set(err, MLC_ERR_CONFIG, "%s:%d:%d: key path too long", file, k->line, k->col);
        snprintf(path + len, cap - len, "%s%s", len ? "." : "", k->key);
        int prefix;
        const setting *s = schema_find(path, &prefix);
        if (k->kind == MLC_CFG_MAP && !s && prefix) {
            mlc_err rc = validate(k, path, cap, file, shown_prefix, err);
            if (rc)
                return rc;
        } else if (!s && !prefix) {
            return mlc_error_set(err, MLC_ERR_CONFIG, "%s:%d:%d: unknown key '%s%s'", file, k->line, k->col,
                                 shown_prefix, path);
        } else if (k->kind != MLC_CFG_SCALAR || !s) {
            return mlc_error_set(err, MLC_ERR_CONFIG, "%s:%d:%d: '%s%s' must be %s", file, k->line, k->col,
                                 shown_prefix, path, s ? type_name(s->type) : "a map");
        } else if (!type_ok(s->type, k->value)) {
            return mlc_error_set(err, MLC_ERR_CONFIG, "%s:%d:%d: '%s%s' must be %s, not '%s'", file, k->line,
                                 k->col, shown_prefix, path, type_name(s->type), k->value);
        } else if (s->type == T_INT && out_of_range(s->pattern, k->value, &lo, &hi)) {
            return mlc_error_set(err, MLC_ERR_CONFIG, "%s:%d:%d: '%s%s' must be an integer %lld-%lld, not '%s'", file,
                                 k->line, k->col, shown_prefix, path, lo, hi, k->value);
        } else {
            const char *allowed = NULL;
            if (!choice_ok(path, k->value, &allowed))
                return mlc_error_set(err, MLC_ERR_CONFIG, "%s:%d:%d: '%s%s' must be one of %s, not '%s'", file,
                                     k->line, k->col, shown_prefix, path, allowed, k->value);
        }
        path[len] = '\0';
    }
    return MLC_OK;
}

static mlc_err validate_root(const mlc_config *cfg, mlc_error *err)
{
    const mlc_config_node *root = cfg->root;
    if (root->kind != MLC_CFG_MAP)
        return mlc_error_set(err, MLC_ERR_CONFIG, "%s:%d:%d: the top level must be a map", cfg->path, root->line,
                             root->col);
    for (size_t i = 0; i < root->nkids; i++) {
        const mlc_config_node *k = root->kids[i];
        if (strcmp(k->key, "default_profile") == 0) {
            if (k->kind != MLC_CFG_SCALAR)
                return mlc_error_set(err, MLC_ERR_CONFIG, "%s:%d:%d: 'default_profile' must be a string",
                                     cfg->path, k->line, k->col);
        } else if (strcmp(k->key, "profiles") == 0) {
            if (k->kind != MLC_CFG_MAP)
                return mlc_error_set(err, MLC_ERR_CONFIG, "%s:%d:%d: 'profiles' must be a map of profiles",
                                     cfg->path, k->line, k->col);
            for (size_t j = 0; j < k->nkids; j++) {
                const mlc_config_node *p = k->kids[j];
                char shown[300], path[1024] = "";
                if (p->kind != MLC_CFG_MAP)
                    return mlc_error_set(err, MLC_ERR_CONFIG, "%s:%d:%d: profile '%s' must be a map", cfg->path,
                                         p->line, p->col, p->key);
                snprintf(shown, sizeof shown, "profiles.%s.", p->key);
                mlc_err rc = validate(p, path, sizeof path, cfg->path, shown, err);
                if (rc)
                    return rc;
            }
        } else {
            return mlc_error_set(err, MLC_ERR_CONFIG,
                                 "%s:%d:%d: unknown key '%s' (the top level has default_profile and profiles)",
                                 cfg->path, k->line, k->col, k->key);
        }
    }
    return MLC_OK;
}

/* ---------- loading ---------- */

static mlc_err parse_yaml(mlc_config *cfg, const char *text, size_t len, mlc_error *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    mlc_err rc = MLC_OK;
    if (!yaml_parser_initialize(&parser))
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "%s:%d:%d: %s%s%s", cfg->path, (int)parser.problem_mark.line + 1,
                           (int)parser.problem_mark.column + 1, parser.problem ? parser.problem : "syntax error",
                           parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return rc;
    }
    yaml_node_t *top = yaml_document_get_root_node(&doc);
    if (!top) {
        cfg->root = calloc(1, sizeof *cfg->root);   /* empty file: empty map */
        if (!cfg->root)
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        else
            cfg->root->kind = MLC_CFG_MAP;
    } else {
        size_t budget = CONFIG_MAX_NODES;
        cfg->root = node_build(&doc, top, cfg->path, 0, &budget, err);
        if (!cfg->root)
            rc = err ? err->code : MLC_ERR_CONFIG;
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

static mlc_err choose_profile(mlc_config *cfg, const char *want, mlc_error *err)
{
    const mlc_config_node *profiles = mlc_config_node_get(cfg->root, "profiles");
    const char *name = want;
    if (!name || !*name)
        name = getenv("MLC_PROFILE");
    if (!name || !*name)
        name = mlc_config_node_value(mlc_config_node_get(cfg->root, "default_profile"));
    if ((!name || !*name) && profiles && profiles->nkids == 1)
        name = profiles->kids[0]->key;
    if (!name || !*name) {
        if (profiles && profiles->nkids > 1)
            return mlc_error_set(err, MLC_ERR_CONFIG,
                                 "%s: several profiles and no default_profile: choose one with --profile",
                                 cfg->path);
        name = "default";
    }
    cfg->profile = strdup(name);
    if (!cfg->profile)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    cfg->prof = mlc_config_node_get(profiles, name);
    if (!cfg->prof && profiles && profiles->nkids > 0)
        return mlc_error_set(err, MLC_ERR_CONFIG, "%s: no profile named '%s'", cfg->path, name);
    return MLC_OK;
}

mlc_err mlc_config_load_string(const char *text, size_t len, const char *name, const char *profile,
                               mlc_config **out, mlc_error *err)
{
    mlc_config *cfg = calloc(1, sizeof *cfg);
    mlc_err rc;
    *out = NULL;
    if (!cfg)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    cfg->path = strdup(name ? name : "(string)");
    const char *slash = cfg->path ? strrchr(cfg->path, '/') : NULL;
    cfg->dir = slash ? strndup(cfg->path, (size_t)(slash - cfg->path) + (slash == cfg->path)) : strdup(".");
    if (!cfg->path || !cfg->dir) {
        mlc_config_free(cfg);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    if (memchr(text, '\0', len)) {
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "%s: not a text file (NUL byte)", cfg->path);
    } else if ((rc = parse_yaml(cfg, text, len, err)) == MLC_OK && (rc = validate_root(cfg, err)) == MLC_OK) {
        rc = choose_profile(cfg, profile, err);
    }
    if (rc) {
        mlc_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return MLC_OK;
}

static char *default_config_path(void)
{
    const char *env = getenv("MLC_CONFIG");
    char buf[PATH_MAX];
    if (env && *env)
        return strdup(env);
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(buf, sizeof buf, "%s/mlc/mlc.yaml", xdg);
    else if (home && *home)
        snprintf(buf, sizeof buf, "%s/.config/mlc/mlc.yaml", home);
    else
        return NULL;
    return strdup(buf);
}

mlc_err mlc_config_load(const char *path, const char *profile, mlc_config **out, mlc_error *err)
{
    int explicit = path != NULL || (getenv("MLC_CONFIG") && *getenv("MLC_CONFIG"));
    char *p = path ? strdup(path) : default_config_path();
    mlc_err rc;
    *out = NULL;
    FILE *f = p ? fopen(p, "rb") : NULL;
    if (!f) {
        if (explicit) {
            rc = mlc_error_set(err, MLC_ERR_CONFIG, "%s: %s", p ? p : "(config)", strerror(errno));
            free(p);
            return rc;
        }
        /* No config file at all: an empty configuration. */
        rc = mlc_config_load_string("", 0, p ? p : "(none)", profile, out, err);
        free(p);
        return rc;
    }
    /* a buffer of the file's size (+1 to see growth), not of the limit: a 4 MiB
     * malloc would raise glibc's mmap threshold and keep the heap large for the
     * rest of the run (cron runs stay under 16 MiB peak RSS) */
    struct stat st;
    size_t cap = fstat(fileno(f), &st) == 0 && st.st_size >= 0 && st.st_size < CONFIG_MAX_BYTES
                     ? (size_t)st.st_size + 1
                     : (size_t)CONFIG_MAX_BYTES + 1;
    char *buf = malloc(cap);
    size_t n = buf ? fread(buf, 1, cap, f) : 0;
    int grew = buf && n == cap && cap <= CONFIG_MAX_BYTES;
    int bad = ferror(f);
    fclose(f);
    if (!buf)
        rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    else if (bad)
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "%s: read error", p);
    else if (grew)
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "%s: changed while being read", p);
    else if (n > CONFIG_MAX_BYTES)
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "%s: larger than %d bytes", p, CONFIG_MAX_BYTES);
    else
        rc = mlc_config_load_string(buf, n, p, profile, out, err);
    free(buf);
    free(p);
    return rc;
}

void mlc_config_free(mlc_config *cfg)
{
    if (!cfg)
        return;
    node_free(cfg->root);
    free(cfg->path);
    free(cfg->dir);
    free(cfg->profile);
    free(cfg);
}

const char *mlc_config_path(const mlc_config *cfg) { return cfg->path; }
const char *mlc_config_profile(const mlc_config *cfg) { return cfg->profile; }
const char *mlc_config_dir(const mlc_config *cfg) { return cfg->dir; }

/* ---------- getters ---------- */

const mlc_config_node *mlc_config_node_at(const mlc_config *cfg, const char *path)
{
    const mlc_config_node *n = cfg ? cfg->prof : NULL;
    char key[256];
    while (n && *path) {
        size_t len = strcspn(path, ".");
        if (len >= sizeof key)
            return NULL;
        memcpy(key, path, len);
        key[len] = '\0';
        n = mlc_config_node_get(n, key);
        path += len + (path[len] == '.');
    }
    return n;
}

const char *mlc_config_str(const mlc_config *cfg, const char *path)
{
    const char *v = mlc_config_node_value(mlc_config_node_at(cfg, path));
    if (v)
        return v;
    int prefix;
    const setting *s = schema_find(path, &prefix);
    return s ? s->def : NULL;
}

long long mlc_config_int(const mlc_config *cfg, const char *path)
{
    const char *v = mlc_config_str(cfg, path);
    return v ? strtoll(v, NULL, 10) : 0;
}

double mlc_config_double(const mlc_config *cfg, const char *path)
{
    const char *v = mlc_config_str(cfg, path);
    return v ? strtod(v, NULL) : 0.0;
}

int mlc_config_bool(const mlc_config *cfg, const char *path)
{
    const char *v = mlc_config_str(cfg, path);
    return v && (!strcmp(v, "true") || !strcmp(v, "yes"));
}

static char *resolve(const mlc_config *cfg, const char *v)
{
    char buf[PATH_MAX];
    if (!v)
        return NULL;
    if (v[0] == '/')
        return strdup(v);
    if (v[0] == '~' && v[1] == '/' && getenv("HOME")) {
        snprintf(buf, sizeof buf, "%s%s", getenv("HOME"), v + 1);
        return strdup(buf);
    }
    snprintf(buf, sizeof buf, "%s/%s", cfg->dir, v);
    return strdup(buf);
}

char *mlc_config_file(const mlc_config *cfg, const char *path)
{
    return resolve(cfg, mlc_config_str(cfg, path));
}

char *mlc_config_state_dir(const mlc_config *cfg)
{
    const char *env = getenv("MLC_STATE_DIR");
    char buf[PATH_MAX];
    if (env && *env)
        return strdup(env);
    if (cfg && mlc_config_node_value(mlc_config_node_at(cfg, "state_dir")))
        return mlc_config_file(cfg, "state_dir");
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(buf, sizeof buf, "%s/mlc", xdg);
    else
        snprintf(buf, sizeof buf, "%s/.local/state/mlc", home && *home ? home : ".");
    return strdup(buf);
}
