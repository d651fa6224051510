/*
 * sim_ims.c: the ION Messaging Service (IMS v3, sender side) as reached through
 * the ION API gateway, and an M3 BOD processor behind it.
 *
 *   GET  /{TENANT}/IONSERVICES/api/ion/messaging/service/ping
 *   GET  .../service/v3/{lid without lid://}/acceptedDocuments
 *   POST .../service/v3/multipartMessage  (multipart/form-data: ParameterRequest, MessagePayload)
 *
 * Statuses as documented (research: ion-bod.md): 200 ping ({"status":"OK","code":200}),
 * 503 ping when no connection point is active; 412 inactive or unknown connection
 * point; 400 invalid message (missing part or property, malformed XML, envelope or
 * required element missing); 202 queued. Inferred here: 412 also for a document
 * the connection point does not list (a configuration issue), 413 over 5 MB (the
 * real code is not public), and the acceptedDocuments body shape
 * [{"documentName":"Process.ReceiveDelivery"}].
 *
 * A connection point may name its "ION API Client Id" (client_id, set through
 * POST /admin/ims; mlc-sim --second-client makes a second app to tie it to): IMS
 * calls for it with another client's token get 403 (Infor: "principal not
 * authorized, or fromLogicalId does not match the principal's logical id"), and
 * ping gets 403 when no connection point accepts the token's client. Without a
 * client_id (the default) any client of the tenant may use it.
 *
 * The processor (ims_tick, run before every request) applies queued documents whose
 * virtual time has come: Process/Sync ReceiveDelivery -> the PPS001MI/Receipt logic
 * (RVQA grows, m3.receipts gets a row with route "BOD" and the messageId),
 * Sync/Process AdvanceShipNotice -> the PPS001MI/AdviseLine logic (TNQA = in
 * transit). Delivery is at least once: with duplicate_probability a document is
 * delivered a second time. M3's duplicate check is INFERRED: a document whose
 * noun + DocumentID was applied before is not applied again (state
 * ims.duplicates_ignored counts them) - the analogue of MHS850's "message number
 * must be unique". duplicate_check: false turns that check off, so a redelivered
 * document really counts twice (what mlc must notice if real M3 does not refuse
 * it); a redelivery is then not delivered a third time. reject_probability / reject_next reject a document with a
 * reason (as an Acknowledge Rejected would say), visible in ims.messages[].
 *
 * Not here: mlc's client code (lib/bod, lib/ims); the sim reads the XML itself.
 */
#include "sim_m3.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMS_PATH "/" SIM_TENANT "/IONSERVICES/api/ion/messaging/service/"
/* [INF] as mlc's MLC_IMS_MAX_MESSAGE (lib/ims.h): ION's "5 MB" on the message,
 * i.e. the BOD (the MessagePayload part, not the multipart body around it), read
 * as 5,000,000 bytes */
#define IMS_MAX_MESSAGE 5000000u
#define BOD_NS "http://schema.infor.com/InforOAGIS/2"

/* state.ims, created with defaults on first use */
static cJSON *ims(void)
{
    cJSON *s = cJSON_GetObjectItem(SIM->st, "ims");
    if (s)
        return s;
    s = jobj(SIM->st, "ims");
    cJSON *cps = jobj(s, "connection_points");
    cJSON *cp = jobj(cps, "lid://infor.ims.mlc");
    jset_bool(cp, "active", 1);
    cJSON *acc = jarr(cp, "accepted");
    cJSON_AddItemToArray(acc, cJSON_CreateString("Process.ReceiveDelivery"));
    cJSON_AddItemToArray(acc, cJSON_CreateString("Sync.AdvanceShipNotice"));
    jset_num(s, "delay_s", 5);
    jset_num(s, "duplicate_probability", 0);
    jset_bool(s, "duplicate_check", 1);
    jset_bool(s, "keep_payloads", 0);
    jset_num(s, "reject_probability", 0);
    jset_num(s, "reject_next", 0);
    jset_str(s, "reject_reason", "Acknowledge Rejected: M3 inbound mapping failed (simulated)");
    jset_num(s, "seed", 1);
    jarr(s, "messages");
    jobj(s, "applied");
    jset_num(s, "duplicates_ignored", 0);
    return s;
}

static uint64_t *ims_rng(void)
{
    static uint64_t rng;
    if (!rng)
        rng = (uint64_t)jnum(ims(), "seed", 1) * 0x9E3779B97F4A7C15ull + 1;
    return &rng;
}

static cJSON *cp_find(const char *lid)
{
    cJSON *cps = cJSON_GetObjectItem(ims(), "connection_points");
    return lid ? cJSON_GetObjectItem(cps, lid) : NULL;
}

/* whether the token's client may use this connection point */
static int cp_client_ok(const cJSON *cp, const char *client)
{
    const char *want = jstr(cp, "client_id");
    return !want || !want[0] || (client && !strcmp(want, client));
}

static void ims_error(sim_resp *rs, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void ims_error(sim_resp *rs, int status, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *j = cJSON_CreateObject();
    jset_num(j, "code", status);
    jset_str(j, "message", msg);
    resp_json(rs, status, j);
}

/* ---- GET ping, acceptedDocuments ---- */

static int h_ping(sim_req *rq, sim_resp *rs)
{
    if (!ion_bearer_ok(rq, rs))
        return 0;
    int any = 0, mine = 0;
    cJSON *cp;
    const char *client = ion_bearer_client(rq);
    cJSON_ArrayForEach(cp, cJSON_GetObjectItem(ims(), "connection_points"))
    {
        any |= jbool(cp, "active", 0);
        mine |= cp_client_ok(cp, client);
    }
    if (!mine) {
        ims_error(rs, 403, "principal not authorized: client %s is the ION API Client Id of no connection point",
                  client ? client : "?");
        return 0;
    }
    if (!any) {
        ims_error(rs, 503, "no active document flow uses this connection point");
        return 0;
    }
    cJSON *j = cJSON_CreateObject();
    jset_str(j, "status", "OK");
    jset_num(j, "code", 200);
    resp_json(rs, 200, j);
    return 0;
}

static int h_accepted(sim_req *rq, sim_resp *rs)
{
    if (!ion_bearer_ok(rq, rs))
        return 0;
    const char *p = rq->path + strlen(IMS_PATH "v3/");
    char lid[300];
    snprintf(lid, sizeof lid, "lid://%.*s", (int)strcspn(p, "/"), p);
    cJSON *cp = cp_find(lid);
    if (cp && !cp_client_ok(cp, ion_bearer_client(rq))) {
        ims_error(rs, 403, "principal not authorized: the token's client is not the ION API Client Id of connection "
                           "point %s",
                  lid);
        return 0;
    }
    if (!cp || !jbool(cp, "active", 0)) {
        ims_error(rs, 412, "connection point %s is %s", lid, cp ? "inactive" : "unknown");
        return 0;
    }
    cJSON *out = cJSON_CreateArray(), *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItem(cp, "accepted"))
    {
        cJSON *o = cJSON_CreateObject();
        jset_str(o, "documentName", cJSON_IsString(d) ? d->valuestring : "");
        cJSON_AddItemToArray(out, o);
    }
    resp_json(rs, 200, out);
    return 0;
}

/* ---- multipart (libmicrohttpd's post processor) ---- */

typedef struct parts {
    sbuf param, payload;
    int nparam, npayload;
} parts;

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                               const char *ctype, const char *enc, const char *data, uint64_t off, size_t size)
{
    (void)kind, (void)filename, (void)ctype, (void)enc;
    parts *p = cls;
    if (!key)
        return MHD_YES;
    if (!strcmp(key, "ParameterRequest")) {
        if (off == 0)
            p->nparam++;
        sb_addn(&p->param, data, size);
    } else if (!strcmp(key, "MessagePayload")) {
        if (off == 0)
            p->npayload++;
        sb_addn(&p->payload, data, size);
    }
    return MHD_YES;
}

/* ---- the BOD ---- */

static char *xp(xmlXPathContextPtr c, const char *path)
{
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST path, c);
    char *r = NULL;
    if (o && o->nodesetval && o->nodesetval->nodeNr > 0) {
        xmlChar *v = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
        r = xstrdup(v ? (const char *)v : "");
        xmlFree(v);
    }
    xmlXPathFreeObject(o);
    return r;
}

typedef struct bod_facts {
    char *verb, *noun, *bodid, *logical_id, *tenant, *ae, *loc, *action, *docid;
    char *puno, *pnli, *pnls, *item, *qty, *whlo, *sudo;
} bod_facts;

static void facts_free(bod_facts *f)
{
    char **all[] = {&f->verb,  &f->noun, &f->bodid, &f->logical_id, &f->tenant, &f->ae,  &f->loc,  &f->action,
                    &f->docid, &f->puno, &f->pnli,  &f->pnls,       &f->item,   &f->qty, &f->whlo, &f->sudo};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
}

/* Parses and checks the envelope and the noun's required elements; 0 or an error in why. */
static int bod_check(const char *xml, size_t len, const char *doc_name, const char *from, bod_facts *f, char *why,
                     size_t wn)
{
    memset(f, 0, sizeof *f);
    xmlDocPtr d =
        xmlReadMemory(xml, (int)len, "MessagePayload", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!d) {
        const xmlError *e = xmlGetLastError();
        snprintf(why, wn, "MessagePayload is not well-formed XML (line %d: %s)", e ? e->line : 0,
                 e && e->message ? e->message : "?");
        return -1;
    }
    int rc = -1;
    xmlNodePtr root = xmlDocGetRootElement(d);
    const char *dot = strchr(doc_name, '.');
    char want[160];
    snprintf(want, sizeof want, "%.*s%s", dot ? (int)(dot - doc_name) : 0, doc_name, dot ? dot + 1 : "");
    if (d->intSubset) {
        snprintf(why, wn, "a DTD is not allowed in a BOD");
        goto out;
    }
    if (!dot || !root || !root->ns || strcmp((const char *)root->ns->href, BOD_NS) ||
        strcmp((const char *)root->name, want)) {
        snprintf(why, wn, "the root element must be <%s xmlns=\"%s\"> for documentName %s", want, BOD_NS, doc_name);
        goto out;
    }
    f->verb = strndup(doc_name, (size_t)(dot - doc_name));
    f->noun = xstrdup(dot + 1);
    xmlXPathContextPtr c = xmlXPathNewContext(d);
    xmlXPathRegisterNs(c, BAD_CAST "b", BAD_CAST BOD_NS);
    char q[300];
    f->logical_id = xp(c, "/*/b:ApplicationArea/b:Sender/b:LogicalID");
    f->bodid = xp(c, "/*/b:ApplicationArea/b:BODID");
    char *created = xp(c, "/*/b:ApplicationArea/b:CreationDateTime");
    snprintf(q, sizeof q, "/*/b:DataArea/b:%s/b:TenantID", f->verb);
    f->tenant = xp(c, q);
    snprintf(q, sizeof q, "/*/b:DataArea/b:%s/b:AccountingEntityID", f->verb);
    f->ae = xp(c, q);
    snprintf(q, sizeof q, "/*/b:DataArea/b:%s/b:LocationID", f->verb);
    f->loc = xp(c, q);
    snprintf(q, sizeof q, "/*/b:DataArea/b:%s/b:ActionCriteria/b:ActionExpression/@actionCode", f->verb);
    f->action = xp(c, q);
    const char *item_el = !strcmp(f->noun, "AdvanceShipNotice") ? "AdvanceShipNoticeItem" : "ReceiveDeliveryItem";
    const char *hdr_el = !strcmp(f->noun, "AdvanceShipNotice") ? "AdvanceShipNoticeHeader" : "ReceiveDeliveryHeader";
    const char *qty_el = !strcmp(f->noun, "AdvanceShipNotice") ? "ShippedQuantity" : "ReceivedQuantity";
    snprintf(q, sizeof q, "/*/b:DataArea/b:%s/b:%s/b:DocumentID/b:ID", f->noun, hdr_el);
    f->docid = xp(c, q);
    snprintf(q, sizeof q, "//b:%s/b:PurchaseOrderReference/b:DocumentID/b:ID", item_el);
    f->puno = xp(c, q);
    snprintf(q, sizeof q, "//b:%s/b:PurchaseOrderReference/b:LineNumber", item_el);
    f->pnli = xp(c, q);
    snprintf(q, sizeof q, "//b:%s/b:PurchaseOrderReference/b:SubLineNumber", item_el);
    f->pnls = xp(c, q);
    snprintf(q, sizeof q, "//b:%s/b:ItemID/b:ID", item_el);
    f->item = xp(c, q);
    snprintf(q, sizeof q, "//b:%s/b:%s", item_el, qty_el);
    f->qty = xp(c, q);
    f->whlo = xp(c, "//b:WarehouseLocation/b:ID | //b:ShipToParty/b:Location/b:ID");
    f->sudo = xp(c, "//b:PackingSlip | //b:DocumentReference[@type='Shipment']/b:DocumentID/b:ID");
    xmlXPathFreeContext(c);
    struct {
        const char *name, *v;
    } req[] = {
        {"ApplicationArea/Sender/LogicalID", f->logical_id},
        {"ApplicationArea/BODID", f->bodid},
        {"ApplicationArea/CreationDateTime", created},
        {"DataArea/Verb/TenantID", f->tenant},
        {"DataArea/Verb/AccountingEntityID", f->ae},
        {"DataArea/Verb/LocationID", f->loc},
        {"DataArea/Verb/ActionCriteria/ActionExpression/@actionCode", f->action},
        {"Header/DocumentID/ID", f->docid},
        {"PurchaseOrderReference/DocumentID/ID", f->puno},
        {"PurchaseOrderReference/LineNumber", f->pnli},
        {"ItemID/ID", f->item},
        {"Quantity", f->qty},
    };
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if (!req[i].v || !req[i].v[0]) {
            snprintf(why, wn, "required element %s is missing", req[i].name);
            free(created);
            goto out;
        }
    free(created);
    if (strcmp(f->logical_id, from)) {
        snprintf(why, wn, "Sender/LogicalID %s is not the fromLogicalId %s", f->logical_id, from);
        goto out;
    }
    if (strncmp(f->bodid, "infor-nid:", 10)) {
        snprintf(why, wn, "BODID must be in the infor-nid: form");
        goto out;
    }
    if (strcmp(f->tenant, SIM_TENANT)) {
        snprintf(why, wn, "TenantID %s is not this tenant", f->tenant);
        goto out;
    }
    rc = 0;
out:
    xmlFreeDoc(d);
    if (rc)
        facts_free(f);
    return rc;
}

static int h_send(sim_req *rq, sim_resp *rs)
{
    if (!ion_bearer_ok(rq, rs))
        return 0;
    const char *ct = req_header(rq, "Content-Type");
    if (!ct || strncasecmp(ct, "multipart/form-data", 19)) {
        ims_error(rs, 400, "Content-Type must be multipart/form-data");
        return 0;
    }
    parts p = {{0}, {0}, 0, 0};
    struct MHD_PostProcessor *pp = MHD_create_post_processor(rq->conn, 64 * 1024, on_part, &p);
    if (!pp || MHD_post_process(pp, rq->body ? rq->body : "", rq->body_len) != MHD_YES) {
        if (pp)
            MHD_destroy_post_processor(pp);
        free(p.param.s);
        free(p.payload.s);
        ims_error(rs, 400, "the multipart body cannot be read");
        return 0;
    }
    MHD_destroy_post_processor(pp);
    if (p.payload.n > IMS_MAX_MESSAGE) {
        ims_error(rs, 413, "the message (MessagePayload) is %zu bytes, over the 5 MB (5000000-byte) limit", p.payload.n);
        free(p.param.s);
        free(p.payload.s);
        return 0;
    }
    cJSON *prm = p.nparam == 1 && p.param.s ? cJSON_Parse(p.param.s) : NULL;
    char why[400] = "";
    bod_facts f = {0};
    const char *docname = jstr(prm, "documentName"), *msgid = jstr(prm, "messageId"),
               *from = jstr(prm, "fromLogicalId"), *to = jstr(prm, "toLogicalId");
    int status = 400;
    cJSON *cp = NULL;
    if (p.nparam != 1 || p.npayload != 1)
        snprintf(why, sizeof why, "exactly one ParameterRequest and one MessagePayload part are required");
    else if (!cJSON_IsObject(prm))
        snprintf(why, sizeof why, "ParameterRequest is not a JSON object");
    else if (!docname || !msgid || !from || !msgid[0])
        snprintf(why, sizeof why, "ParameterRequest needs documentName, messageId and fromLogicalId");
    else if (strlen(msgid) > 128 + 200)
        snprintf(why, sizeof why, "messageId too long");
    else if ((cp = cp_find(from)) && !cp_client_ok(cp, ion_bearer_client(rq))) {
        status = 403;
        snprintf(why, sizeof why,
                 "principal not authorized: fromLogicalId %s does not match the principal's logical id (the token's "
                 "client is not the connection point's ION API Client Id)",
                 from);
    } else if (!cp || !jbool(cp, "active", 0)) {
        status = 412;
        snprintf(why, sizeof why, "connection point %s is %s", from, cp ? "inactive" : "unknown");
    } else {
        int ok = 0;
        cJSON *d;
        cJSON_ArrayForEach(d, cJSON_GetObjectItem(cp, "accepted")) ok |=
            cJSON_IsString(d) && !strcmp(d->valuestring, docname);
        if (!ok) {
            status = 412;
            snprintf(why, sizeof why, "document %s is not on the Documents tab of connection point %s", docname, from);
        } else if (to && strcmp(to, "lid://default") && !cp_find(to)) {
            snprintf(why, sizeof why, "toLogicalId %s is unknown (Sync/Process use lid://default)", to);
        } else if (bod_check(p.payload.s ? p.payload.s : "", p.payload.n, docname, from, &f, why, sizeof why) == 0) {
            status = 202;
        }
    }
    if (status != 202) {
        ims_error(rs, status, "%s", why);
    } else {
        cJSON *m = cJSON_CreateObject();
        char now[40];
        fmt_rfc3339(sim_now(), now);
        jset_num(m, "seq", (double)next_id("ims_msg"));
        jset_str(m, "messageId", msgid);
        jset_str(m, "documentName", docname);
        jset_str(m, "documentId", f.docid);
        jset_str(m, "bodid", f.bodid);
        jset_str(m, "status", "queued");
        jset_str(m, "received", now);
        jset_num(m, "_due", sim_now() + jnum(ims(), "delay_s", 5));
        jset_str(m, "PUNO", f.puno);
        jset_num(m, "PNLI", atol(f.pnli));
        jset_num(m, "PNLS", f.pnls ? atol(f.pnls) : 0);
        jset_str(m, "ITNO", f.item);
        jset_num(m, "qty", atof(f.qty));
        jset_str(m, "WHLO", f.whlo ? f.whlo : "");
        jset_str(m, "SUDO", f.sudo ? f.sudo : "");
        jset_str(m, "noun", f.noun);
        jset_str(m, "accountingEntity", f.ae);
        jset_str(m, "location", f.loc);
        if (jbool(ims(), "keep_payloads", 0)) {
            cJSON_AddItemToObject(m, "payload", cJSON_CreateString(p.payload.s ? p.payload.s : ""));
            jset_str(m, "parameters", p.param.s);
        }
        jset_str(m, "client_id", ion_bearer_client(rq));
        cJSON_AddItemToArray(jarr(ims(), "messages"), m);
        cJSON *j = cJSON_CreateObject();
        jset_str(j, "status", "Accepted");
        jset_str(j, "messageId", msgid);
        resp_json(rs, 202, j);
    }
    facts_free(&f);
    cJSON_Delete(prm);
    free(p.param.s);
    free(p.payload.s);
    return 0;
}

/* ---- the M3 BOD processor ---- */

static void apply(cJSON *m)
{
    cJSON *s = ims();
    char key[400];
    snprintf(key, sizeof key, "%s:%s", jstrs(m, "noun"), jstrs(m, "documentId"));
    cJSON *applied = jobj(s, "applied");
    if (jbool(s, "duplicate_check", 1) && cJSON_GetObjectItem(applied, key)) {
        /* [INF] M3 does not apply the same document twice */
        jset_str(m, "status", "duplicate_ignored");
        jset_num(s, "duplicates_ignored", jnum(s, "duplicates_ignored", 0) + 1);
        return;
    }
    int rn = (int)jnum(s, "reject_next", 0);
    if (rn > 0 || rng_unit(ims_rng()) < jnum(s, "reject_probability", 0)) {
        if (rn > 0)
            jset_num(s, "reject_next", rn - 1);
        jset_str(m, "status", "rejected");
        jset_str(m, "reason", jstrs(s, "reject_reason"));
        return;
    }
    int asn = !strcmp(jstrs(m, "noun"), "AdvanceShipNotice");
    /* [INF] the company is the number before "_" in the AccountingEntityID (CONO_DIVI) */
    long cono = strtol(jstrs(m, "accountingEntity"), NULL, 10);
    m3_ctx c = {.pgm = "PPS001MI",
                .trn = asn ? "AdviseLine" : "Receipt",
                .records = cJSON_CreateArray(),
                .cono = cono > 0 ? cono : (long)jnum(m3_state(), "cono", 100)};
    c.in = cJSON_CreateObject();
    char b[64], d[12];
    jset_str(c.in, "PUNO", jstrs(m, "PUNO"));
    snprintf(b, sizeof b, "%ld", (long)jnum(m, "PNLI", 0));
    jset_str(c.in, "PNLI", b);
    snprintf(b, sizeof b, "%ld", (long)jnum(m, "PNLS", 0));
    jset_str(c.in, "PNLS", b);
    snprintf(b, sizeof b, "%.6g", jnum(m, "qty", 0));
    jset_str(c.in, asn ? "ADQA" : "RVQA", b);
    jset_str(c.in, "SUDO", jstrs(m, "SUDO"));
    m3_today(d);
    jset_str(c.in, "TRDT", d);
    jset_str(c.in, "RESP", "ION");
    cJSON *log = jarr(m3_state(), asn ? "advices" : "receipts");
    int before = cJSON_GetArraySize(log);
    asn ? pps001_adviseline(&c) : pps001_receipt(&c);
    if (c.nok) {
        char why[320];
        snprintf(why, sizeof why, "Acknowledge Rejected: M3 %s %s: %s", c.code, c.field, c.msg);
        jset_str(m, "status", "rejected");
        jset_str(m, "reason", why);
    } else {
        jset_str(m, "status", "applied");
        jset_bool(applied, key, 1);
        if (cJSON_GetArraySize(log) > before) {
            cJSON *rec = cJSON_GetArrayItem(log, cJSON_GetArraySize(log) - 1);
            jset_str(rec, "route", "BOD");
            jset_str(rec, "messageId", jstrs(m, "messageId"));
        }
    }
    char now[40];
    fmt_rfc3339(sim_now(), now);
    jset_str(m, "processed", now);
    cJSON_Delete(c.in);
    cJSON_Delete(c.records);
}

void ims_tick(void)
{
    cJSON *s = cJSON_GetObjectItem(SIM->st, "ims");
    if (!s)
        return;
    double now = sim_now();
    cJSON *msgs = jarr(s, "messages"), *m;
    int n = cJSON_GetArraySize(msgs);
    for (int i = 0; i < n; i++) {
        m = cJSON_GetArrayItem(msgs, i);
        if (strcmp(jstrs(m, "status"), "queued") || jnum(m, "_due", 0) > now)
            continue;
        apply(m);
        /* at least once: sometimes delivered again (without M3's duplicate check,
         * a redelivery is not redelivered: each document counts at most twice) */
        if ((jbool(s, "duplicate_check", 1) || !jbool(m, "redelivery", 0)) &&
            rng_unit(ims_rng()) < jnum(s, "duplicate_probability", 0)) {
            cJSON *again = cJSON_Duplicate(m, 1);
            jset_str(again, "status", "queued");
            jset_bool(again, "redelivery", 1);
            cJSON_DeleteItemFromObject(again, "processed");
            cJSON_DeleteItemFromObject(again, "reason");
            jset_num(again, "_due", now + jnum(s, "delay_s", 5));
            jset_num(again, "seq", (double)next_id("ims_msg"));
            cJSON_AddItemToArray(msgs, again);
        }
    }
}

/* POST /admin/ims: merges delay_s, duplicate_probability, duplicate_check,
 * keep_payloads, reject_probability, reject_next, reject_reason, seed, connection_points into
 * state.ims. */
int ims_admin(cJSON *req, cJSON *out, char *err, size_t errlen)
{
    cJSON *s = ims();
    static const char *nums[] = {"delay_s", "duplicate_probability", "reject_probability", "reject_next", "seed"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        cJSON *v = cJSON_GetObjectItem(req, nums[i]);
        if (v && !cJSON_IsNumber(v)) {
            snprintf(err, errlen, "%s must be a number", nums[i]);
            return -1;
        }
        if (v)
            jset_num(s, nums[i], v->valuedouble);
    }
    if (cJSON_GetObjectItem(req, "seed")) {
        uint64_t *r = ims_rng();
        *r = (uint64_t)jnum(s, "seed", 1) * 0x9E3779B97F4A7C15ull + 1;
    }
    static const char *bools[] = {"duplicate_check", "keep_payloads"};
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        cJSON *v = cJSON_GetObjectItem(req, bools[i]);
        if (v && !cJSON_IsBool(v)) {
            snprintf(err, errlen, "%s must be true or false", bools[i]);
            return -1;
        }
        if (v)
            jset_bool(s, bools[i], cJSON_IsTrue(v));
    }
    if (jstr(req, "reject_reason"))
        jset_str(s, "reject_reason", jstr(req, "reject_reason"));
    cJSON *cps = cJSON_GetObjectItem(req, "connection_points"), *cp;
    cJSON_ArrayForEach(cp, cps)
    {
        if (!cJSON_IsObject(cp) || strncmp(cp->string, "lid://", 6)) {
            snprintf(err, errlen, "connection_points: keys are lid://..., values objects");
            return -1;
        }
        jset(jobj(s, "connection_points"), cp->string, cJSON_Duplicate(cp, 1));
    }
    jset(out, "ims", jclean_copy(s));
    return 0;
}

sim_handler route_ims(sim_req *rq)
{
    if (!str_has_prefix(rq->path, IMS_PATH))
        return NULL;
    const char *rest = rq->path + strlen(IMS_PATH);
    rq->system = 'I';
    if (!strcmp(rest, "ping") && !strcmp(rq->method, "GET")) {
        snprintf(rq->label, sizeof rq->label, "IMS ping");
        return h_ping;
    }
    if (!strcmp(rest, "v3/multipartMessage") && !strcmp(rq->method, "POST")) {
        snprintf(rq->label, sizeof rq->label, "IMS multipartMessage");
        return h_send;
    }
    size_t rl = strlen(rest);
    if (str_has_prefix(rest, "v3/") && rl > 22 && !strcmp(rest + rl - 18, "/acceptedDocuments") &&
        !strcmp(rq->method, "GET")) {
        snprintf(rq->label, sizeof rq->label, "IMS acceptedDocuments");
        return h_accepted;
    }
    return NULL;
}
