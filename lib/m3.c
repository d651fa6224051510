/*
 * m3.c: M3 MI REST v2 client (see m3.h): URL building with CONO/DIVI from the
 * transaction table, GET execute and bulk POST with bearer token and one replay on
 * 401, parsing of the v2, v1 and bare-error response shapes.
 * Not here: business meaning of programs, retry queues, token handling (ionapi).
 */
#include "m3.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- transaction table ---------------------------------------------------
 * Which transactions define the input fields CONO (1) and DIVI (2).  Generated
 * from shared/research/m3-transactions.json (field facts of the public M3H5Lib
 * wrappers) with:
 *   for each program p, transaction t: flags = 1*('CONO' in inputs) + 2*('DIVI' in inputs)
 * sorted by "PGM/TRN" (strcmp order) for bsearch.  Regenerate when the file grows. */
typedef struct m3_tx_def {
    const char *name;
    int flags;
} m3_tx_def;

static const m3_tx_def tx_table[] = {
    {"CRS610MI/Add", 3}, {"CRS610MI/AddAddress", 3}, {"CRS610MI/AddCheckAddress", 3},
    {"CRS610MI/AddText", 1}, {"CRS610MI/CheckPIN", 1}, {"CRS610MI/ChgAddress", 3},
    {"CRS610MI/ChgBasicData", 3}, {"CRS610MI/ChgFinancial", 3}, {"CRS610MI/ChgOrderInfo", 3},
    {"CRS610MI/ChgRentalData", 1}, {"CRS610MI/ChgServOrdInfo", 3}, {"CRS610MI/Copy", 3},
    {"CRS610MI/Delete", 1}, {"CRS610MI/DeleteAddress", 1}, {"CRS610MI/EXPORTSMS", 3},
    {"CRS610MI/GetAddress", 1}, {"CRS610MI/GetBasicData", 1}, {"CRS610MI/GetFinancial", 3},
    {"CRS610MI/GetOrderInfo", 3}, {"CRS610MI/GetRentalData", 1}, {"CRS610MI/GetServOrdInfo", 3},
    {"CRS610MI/IMPORTSMS", 3}, {"CRS610MI/LstAddresses", 1}, {"CRS610MI/LstByGroup", 1},
    {"CRS610MI/LstByInvoiceRec", 0}, {"CRS610MI/LstByMarketDim", 1}, {"CRS610MI/LstByName", 1},
    {"CRS610MI/LstByNumber", 1}, {"CRS610MI/LstBySearchKey", 1}, {"CRS610MI/LstCustCharges", 1},
    {"CRS610MI/LstTemplates", 1}, {"CRS610MI/LstUsrDefField1", 1},
    {"CRS610MI/LstUsrDefField3", 1}, {"CRS610MI/LstUsrDefField4", 1},
    {"CRS610MI/SearchCustCred", 0}, {"CRS610MI/SearchCustomer", 0}, {"CRS620MI/AddAddress", 0},
    {"CRS620MI/AddSupplier", 0}, {"CRS620MI/AddSupplierRef", 0}, {"CRS620MI/CopyTemplate", 0},
    {"CRS620MI/DelAddress", 0}, {"CRS620MI/DelSupplierRef", 0}, {"CRS620MI/GetAddress", 0},
    {"CRS620MI/GetBasicData", 1}, {"CRS620MI/GetSupplierRef", 0}, {"CRS620MI/LstAddresses", 0},
    {"CRS620MI/LstByName", 1}, {"CRS620MI/LstByNumber", 1}, {"CRS620MI/LstSupplierRef", 0},
    {"CRS620MI/LstSuppliers", 1}, {"CRS620MI/SearchSupplier", 0}, {"CRS620MI/UpdAddress", 0},
    {"CRS620MI/UpdSupplier", 0}, {"CRS620MI/UpdSupplierRef", 0}, {"EXPORTMI/LstFields", 0},
    {"EXPORTMI/Select", 0}, {"EXPORTMI/SelectPad", 0}, {"GENERAL/FpwVersion", 0},
    {"GENERAL/GetFieldHeading", 0}, {"GENERAL/GetMIBuild", 0}, {"GENERAL/GetServerTime", 0},
    {"GENERAL/GetUserInfo", 0}, {"GENERAL/SetDateFormat", 0}, {"GENERAL/SetLstMaxRec", 0},
    {"GENERAL/StartProfiler", 0}, {"GENERAL/StopProfiler", 0}, {"MHS850MI/AddCOPick", 1},
    {"MHS850MI/AddCOReturn", 1}, {"MHS850MI/AddCfmPickList", 1}, {"MHS850MI/AddDO", 1},
    {"MHS850MI/AddDOPackRec", 1}, {"MHS850MI/AddDOPick", 1}, {"MHS850MI/AddDORecViaPack", 1},
    {"MHS850MI/AddDOReceipt", 1}, {"MHS850MI/AddMOPick", 1}, {"MHS850MI/AddMOReceipt", 1},
    {"MHS850MI/AddPOClose", 1}, {"MHS850MI/AddPOInspect", 1}, {"MHS850MI/AddPOPackInsp", 1},
    {"MHS850MI/AddPOPutaway", 1}, {"MHS850MI/AddPOReceipt", 1}, {"MHS850MI/AddPickByCubAl", 0},
    {"MHS850MI/AddPickByIntPac", 0}, {"MHS850MI/AddPickByPacStk", 1},
    {"MHS850MI/AddPickSftPacLn", 0}, {"MHS850MI/AddPickViaPack", 1},
    {"MHS850MI/AddPickViaRepNo", 1}, {"MHS850MI/AddPickViaSblot", 1},
    {"MHS850MI/AddPutAwayConf", 1}, {"MHS850MI/AddPutAwayPack", 1}, {"MHS850MI/AddROPick", 1},
    {"MHS850MI/AddROReceipt", 1}, {"MHS850MI/AddReplPick", 1}, {"MHS850MI/AddSubLine", 1},
    {"MHS850MI/AddTransNotify", 1}, {"MHS850MI/AddWOPick", 1}, {"MHS850MI/AddWhsHead", 3},
    {"MHS850MI/AddWhsLine", 3}, {"MHS850MI/AddWhsPack", 3}, {"MHS850MI/ChgSubLine", 1},
    {"MHS850MI/ChgWhsHead", 3}, {"MHS850MI/ChgWhsLine", 3}, {"MHS850MI/ChgWhsPack", 3},
    {"MHS850MI/DeleteSubLine", 1}, {"MHS850MI/DeleteWhsTran", 1}, {"MHS850MI/GetMvxMsg", 1},
    {"MHS850MI/GetWhsHead", 1}, {"MHS850MI/GetWhsLine", 1}, {"MHS850MI/GetWhsPack", 1},
    {"MHS850MI/LstItemSubLine", 1}, {"MHS850MI/LstMvxMsg", 1}, {"MHS850MI/LstSubLine", 1},
    {"MHS850MI/LstWhsLine", 0}, {"MHS850MI/PrcWhsTran", 1}, {"MHS850MI/SndPOReceipt", 1},
    {"MHS850MI/SndWhsLine", 3}, {"MHS850MI/SndWhsPack", 3}, {"MMS005MI/GetFaclist", 3},
    {"MMS005MI/GetWarehouse", 0}, {"MMS005MI/LstFaclist", 3}, {"MMS005MI/LstWarehouses", 1},
    {"MMS005MI/SelTimezone", 1}, {"MMS005MI/Select", 1}, {"MMS025MI/AddAlias", 1},
    {"MMS025MI/DltAlias", 1}, {"MMS025MI/GetAlias", 1}, {"MMS025MI/GetItem", 1},
    {"MMS025MI/LstAlias", 1}, {"MMS025MI/LstAliasViaCat", 1}, {"MMS025MI/LstItem", 1},
    {"MMS060MI/Get", 1}, {"MMS060MI/List", 1}, {"MMS060MI/LstBalID", 0},
    {"MMS060MI/LstBalIDByOrd", 0}, {"MMS060MI/LstContainer", 0}, {"MMS060MI/LstLocation", 0},
    {"MMS060MI/LstLot", 0}, {"MMS060MI/LstNewItemBal", 0}, {"MMS060MI/LstSumQty", 0},
    {"MMS060MI/LstViaItem", 1}, {"MMS060MI/PrtPutAwayLbl", 0}, {"MMS060MI/RtvMovableNet", 0},
    {"MMS060MI/SearchItemLoc", 0}, {"MMS060MI/Select", 1}, {"MMS060MI/SetBalIdAloc", 1},
    {"MMS200MI/AddItmBasic", 1}, {"MMS200MI/AddItmFac", 1}, {"MMS200MI/AddItmTrpFrelnf", 0},
    {"MMS200MI/AddItmTrplnf", 0}, {"MMS200MI/AddItmViaItmTyp", 1}, {"MMS200MI/AddItmWhs", 3},
    {"MMS200MI/CpyItmBasic", 1}, {"MMS200MI/CpyItmFac", 1}, {"MMS200MI/CpyItmTrpInf", 0},
    {"MMS200MI/CpyItmViaItmTyp", 1}, {"MMS200MI/CpyItmWhs", 3}, {"MMS200MI/DltItm", 1},
    {"MMS200MI/DltItmFac", 1}, {"MMS200MI/DltItmTrplnf", 0}, {"MMS200MI/DltItmWhs", 1},
    {"MMS200MI/Get", 0}, {"MMS200MI/GetAggWhsGrp", 1}, {"MMS200MI/GetItmBasic", 1},
    {"MMS200MI/GetItmCost", 0}, {"MMS200MI/GetItmFac", 1}, {"MMS200MI/GetItmMeas", 1},
    {"MMS200MI/GetItmPrice", 1}, {"MMS200MI/GetItmTech", 1}, {"MMS200MI/GetItmTrpFrelnf", 0},
    {"MMS200MI/GetItmTrplnf", 0}, {"MMS200MI/GetItmWhsBal", 1}, {"MMS200MI/GetItmWhsBasic", 1},
    {"MMS200MI/GetSumWhsBal", 1}, {"MMS200MI/LstAUMTime", 0}, {"MMS200MI/LstAggWhsGrp", 1},
    {"MMS200MI/LstCustStatNo", 1}, {"MMS200MI/LstDistTechGrp", 1}, {"MMS200MI/LstFacByItem", 1},
    {"MMS200MI/LstGrpTechClass", 1}, {"MMS200MI/LstItmAltUnitMs", 1},
    {"MMS200MI/LstItmByChgDate", 1}, {"MMS200MI/LstItmByItm", 1}, {"MMS200MI/LstItmByItmARP", 0},
    {"MMS200MI/LstItmByItmGr", 1}, {"MMS200MI/LstItmByProdGr", 1}, {"MMS200MI/LstItmDescLang", 0},
    {"MMS200MI/LstItmFac", 1}, {"MMS200MI/LstItmFacTime", 0}, {"MMS200MI/LstItmFreeFld1", 1},
    {"MMS200MI/LstItmFreeFld3", 1}, {"MMS200MI/LstItmFreeFld4", 1}, {"MMS200MI/LstItmGroups", 1},
    {"MMS200MI/LstItmPrice", 1}, {"MMS200MI/LstItmWhsByItm", 1}, {"MMS200MI/LstItmWhsByRel", 1},
    {"MMS200MI/LstItmWhsByWhgr", 0}, {"MMS200MI/LstItmWhsByWhs", 1},
    {"MMS200MI/LstProdGroups", 1}, {"MMS200MI/LstStyle", 0}, {"MMS200MI/LstSumWhsBal", 1},
    {"MMS200MI/PrtItemLabel", 0}, {"MMS200MI/SearchItem", 0}, {"MMS200MI/SearchItemWhs", 0},
    {"MMS200MI/SelItem", 1}, {"MMS200MI/SelItemGroup", 1}, {"MMS200MI/SelItemType", 1},
    {"MMS200MI/SelItemWhs", 1}, {"MMS200MI/SelItmMercia", 1}, {"MMS200MI/SelItmWhsMercia", 1},
    {"MMS200MI/SelProdGroup", 1}, {"MMS200MI/SndInvDtaMercia", 1}, {"MMS200MI/SndItmDesc", 1},
    {"MMS200MI/UpdItmBasic", 1}, {"MMS200MI/UpdItmFac", 1}, {"MMS200MI/UpdItmMeas", 1},
    {"MMS200MI/UpdItmPrice", 1}, {"MMS200MI/UpdItmTech", 1}, {"MMS200MI/UpdItmTrpFrelnf", 0},
    {"MMS200MI/UpdItmTrplnf", 0}, {"MMS200MI/UpdItmWhs", 3}, {"PPS001MI/AdviseAll", 1},
    {"PPS001MI/AdviseLine", 1}, {"PPS001MI/CalculateLine", 1}, {"PPS001MI/ConfirmAll", 1},
    {"PPS001MI/ConfirmLine", 1}, {"PPS001MI/FinishMark", 1}, {"PPS001MI/GetBasicData", 1},
    {"PPS001MI/GetBasicData2", 1}, {"PPS001MI/GetHeadBasic", 1}, {"PPS001MI/GetLine", 1},
    {"PPS001MI/ListHeadBasic", 1}, {"PPS001MI/LstBasicData", 1}, {"PPS001MI/LstLine", 1},
    {"PPS001MI/NotifyAll", 1}, {"PPS001MI/NotifyDelNot", 1}, {"PPS001MI/NotifyLine", 1},
    {"PPS001MI/Receipt", 1}, {"PPS200MI/AddLine", 0}, {"PPS200MI/DltLine", 0},
    {"PPS200MI/GetAddresses", 1}, {"PPS200MI/GetDelAddress", 1}, {"PPS200MI/GetDelPrevPrtNo", 1},
    {"PPS200MI/GetHead", 1}, {"PPS200MI/GetLine", 1}, {"PPS200MI/GetLineTrans", 1},
    {"PPS200MI/LstDelSchLine", 1}, {"PPS200MI/LstDupOrders", 0}, {"PPS200MI/LstHeadTxt", 1},
    {"PPS200MI/LstLatestDel", 1}, {"PPS200MI/LstLine", 1}, {"PPS200MI/LstLine2", 1},
    {"PPS200MI/LstLineTrans", 1}, {"PPS200MI/LstLineTxt", 1}, {"PPS200MI/SearchHead", 0},
    {"PPS200MI/SearchLine", 0}, {"PPS200MI/UpdAddress", 0}, {"PPS200MI/UpdHead", 0},
    {"PPS200MI/UpdLine", 0}, {"PPS310MI/CloseQIDelNote", 0}, {"PPS310MI/GetQIDataPO", 0},
    {"PPS310MI/LstBalIDQI", 0}, {"PPS310MI/LstBalIDQI2", 0}, {"PPS310MI/LstQIDataPO", 0},
    {"PPS310MI/LstQIDataPack", 0}, {"PPS310MI/LstQIDataSSCC", 0}, {"PPS310MI/LstReceivedPO", 0},
    {"PPS310MI/LstRejectReason", 0}, {"PPS310MI/QualityInspPO", 0},
    {"PPS310MI/QualityInspPack", 0}, {"PPS310MI/QualityInspSSCC", 0},
    {"PPS320MI/ClosePADelNote", 0}, {"PPS320MI/GetPADataPO", 0}, {"PPS320MI/LstBalIDPA", 0},
    {"PPS320MI/LstPADataPO", 0}, {"PPS320MI/LstPADataPack", 0}, {"PPS320MI/LstPADataSSCC", 0},
    {"PPS320MI/LstReceivedPO", 0}, {"PPS320MI/PutawayPO", 0}, {"PPS320MI/PutawayPack", 0},
    {"PPS320MI/PutawayPackBld", 0}, {"PPS320MI/PutawaySSCC", 0},
};

#define NTX (sizeof tx_table / sizeof *tx_table)

static int tx_cmp(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const m3_tx_def *)elem)->name);
}

int mlc_m3_transaction_flags(const char *pgm, const char *trn)
{
    char key[64];
    if (snprintf(key, sizeof key, "%s/%s", pgm, trn) >= (int)sizeof key)
        return -1;
    const m3_tx_def *d = bsearch(key, tx_table, NTX, sizeof *tx_table, tx_cmp);
    return d ? d->flags : -1;
}

/* ---- client ------------------------------------------------------------- */

struct mlc_m3 {
    mlc_ionapi *ion;
    int own_ion;
    mlc_http *http;
    int own_http;
    mlc_vault *vault;
    int own_vault;
    mlc_log *log;
    long long cono;
    char divi[16];
    char *source;
    long last_status; /* HTTP status of the last call's answer, 0 = none */
    int last_sent;    /* the last call's request went out (or may have) */
    int select_columns; /* cloudsuite.select_columns */
    struct m3_sel *sel; /* the columns callers read, per transaction */
    size_t nsel;
};

/* ---- results ------------------------------------------------------------ */

typedef struct m3_tx {
    char *transaction;
    cJSON *records; /* array of objects {FIELD: "trimmed value"} */
    int ok;
    int not_processed;
    char *message, *code, *type, *field;
} m3_tx;

struct mlc_m3_result {
    m3_tx *tx;
    size_t ntx;
    int ok;
    long http_status;
    int terminated;
};

static const char *nz(const char *s) { return s ? s : ""; }

/* Length of s without its trailing blanks (M3 pads alphanumeric fields). */
static size_t rtrim_len(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    return n;
}

static char *rtrim_dup(const char *s) { return strndup(s, rtrim_len(s)); }

/* A JSON scalar as a trimmed string; NULL for null/absent. */
static char *scalar_str(const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (cJSON_IsString(v))
        return rtrim_dup(v->valuestring);
    if (cJSON_IsNumber(v)) {
        char buf[64];
        double d = v->valuedouble;
        if (fabs(d) < 9.2e18 && d == (double)(long long)d) /* the cast is undefined out of range */
            snprintf(buf, sizeof buf, "%lld", (long long)d);
        else
            snprintf(buf, sizeof buf, "%.15g", d);
        return strdup(buf);
    }
    if (cJSON_IsBool(v))
        return strdup(cJSON_IsTrue(v) ? "true" : "false");
    return NULL;
}

void mlc_m3_result_free(mlc_m3_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ntx; i++) {
        free(r->tx[i].transaction);
        cJSON_Delete(r->tx[i].records);
        free(r->tx[i].message);
        free(r->tx[i].code);
        free(r->tx[i].type);
        free(r->tx[i].field);
    }
    free(r->tx);
    free(r);
}

static m3_tx *add_tx(mlc_m3_result *r)
{
    m3_tx *n = realloc(r->tx, (r->ntx + 1) * sizeof *n);
    if (!n)
        return NULL;
    r->tx = n;
    m3_tx *t = &n[r->ntx++];
    memset(t, 0, sizeof *t);
    t->ok = 1;
    t->records = cJSON_CreateArray();
    return t->records ? t : NULL;
}

/* Turns a parsed record object into the flat shape in place (every value a
 * right-trimmed string), so the v2 records need no copy: strings are cut where
 * their trailing blanks start, other scalars become their text, anything else "". */
static int flatten_in_place(cJSON *rec)
{
    cJSON *f;
    cJSON_ArrayForEach(f, rec)
    {
        if (cJSON_IsString(f)) {
            f->valuestring[rtrim_len(f->valuestring)] = '\0';
            continue;
        }
        char *v = scalar_str(f);
        cJSON *str = cJSON_CreateString(v ? v : "");
        free(v);
        if (!str)
            return -1;
        cJSON *old = f;
        str->string = old->string; /* the key moves over; old is freed without it */
        old->string = NULL;
        f = str; /* the loop goes on from the replacement, which takes old's place */
        cJSON_ReplaceItemViaPointer(rec, old, str);
    }
    return 0;
}

/* Takes the v2 "records" array out of the parsed response into t->records, in
 * place: objects are flattened, anything else in the array is dropped. */
static int take_v2_records(m3_tx *t, cJSON *res)
{
    cJSON *recs = cJSON_GetObjectItemCaseSensitive(res, "records");
    if (!cJSON_IsArray(recs))
        return 0;
    cJSON_DetachItemViaPointer(res, recs);
    cJSON *rec = recs->child;
    while (rec) {
        cJSON *next = rec->next;
        if (!cJSON_IsObject(rec))
            cJSON_Delete(cJSON_DetachItemViaPointer(recs, rec));
        else if (flatten_in_place(rec) != 0) {
            cJSON_Delete(recs);
            return -1;
        }
        rec = next;
    }
    cJSON_Delete(t->records);
    t->records = recs;
    return 0;
}

static void set_tx_error(m3_tx *t, const cJSON *msg, const cJSON *code, const cJSON *type,
                         const cJSON *field)
{
    t->ok = 0;
    free(t->message);
    free(t->code);
    free(t->type);
    free(t->field);
    t->message = scalar_str(msg);
    t->code = scalar_str(code);
    t->type = scalar_str(type);
    t->field = scalar_str(field);
    if (!t->message || !*t->message) {
        free(t->message);
        t->message = strdup(t->type && *t->type ? t->type : "M3 returned an error");
    }
}

static int parse_v2(mlc_m3_result *r, cJSON *root)
{
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(root, "results");
    cJSON *res;
    cJSON_ArrayForEach(res, results)
    {
        m3_tx *t = add_tx(r);
        if (!t)
            return -1;
        t->transaction = scalar_str(cJSON_GetObjectItemCaseSensitive(res, "transaction"));
        if (take_v2_records(t, res) != 0)
            return -1;
        const cJSON *em = cJSON_GetObjectItemCaseSensitive(res, "errorMessage");
        const cJSON *ec = cJSON_GetObjectItemCaseSensitive(res, "errorCode");
        const cJSON *et = cJSON_GetObjectItemCaseSensitive(res, "errorType");
        const cJSON *ef = cJSON_GetObjectItemCaseSensitive(res, "errorField");
        const cJSON *np = cJSON_GetObjectItemCaseSensitive(res, "notProcessed");
        int has_err = (cJSON_IsString(em) && em->valuestring[0]) ||
                      (cJSON_IsString(et) && et->valuestring[0]) ||
                      (cJSON_IsString(ec) && ec->valuestring[0]);
        if (has_err)
            set_tx_error(t, em, ec, et, ef);
        if (cJSON_IsTrue(np)) {
            t->not_processed = 1;
            if (t->ok) {
                cJSON *m = cJSON_CreateString("not processed (bulk job terminated)");
                set_tx_error(t, m, NULL, NULL, NULL);
                cJSON_Delete(m);
            }
        }
    }
    const cJSON *term = cJSON_GetObjectItemCaseSensitive(root, "wasTerminated");
    const cJSON *failed = cJSON_GetObjectItemCaseSensitive(root, "nrOfFailedTransactions");
    r->terminated = cJSON_IsTrue(term);
    int any_fail = 0;
    for (size_t i = 0; i < r->ntx; i++)
        any_fail |= !r->tx[i].ok;
    if (!any_fail && ((cJSON_IsNumber(failed) && failed->valuedouble > 0) || r->terminated)) {
        /* counters say something failed but no result carries it */
        if (r->ntx == 0 && !add_tx(r))
            return -1;
        const cJSON *reason = cJSON_GetObjectItemCaseSensitive(root, "terminationReason");
        cJSON *m = cJSON_CreateString(cJSON_IsString(reason) ? reason->valuestring
                                                             : "M3 reported failed transactions");
        set_tx_error(&r->tx[r->ntx - 1], m, NULL,
                     cJSON_GetObjectItemCaseSensitive(root, "terminationErrorType"), NULL);
        cJSON_Delete(m);
    }
    return 0;
}

static void set_v1_error(m3_tx *t, const cJSON *e)
{
    set_tx_error(t, cJSON_GetObjectItemCaseSensitive(e, "Message"),
                 cJSON_GetObjectItemCaseSensitive(e, "@code"),
                 cJSON_GetObjectItemCaseSensitive(e, "@type"),
                 cJSON_GetObjectItemCaseSensitive(e, "@field"));
}

static int parse_v1(mlc_m3_result *r, const cJSON *root)
{
    m3_tx *t = add_tx(r);
    if (!t)
        return -1;
    t->transaction = scalar_str(cJSON_GetObjectItemCaseSensitive(root, "Transaction"));
    const cJSON *recs = cJSON_GetObjectItemCaseSensitive(root, "MIRecord");
    const cJSON *rec;
    cJSON_ArrayForEach(rec, recs)
    {
        cJSON *o = cJSON_CreateObject();
        if (!o)
            return -1;
        const cJSON *nv;
        cJSON_ArrayForEach(nv, cJSON_GetObjectItemCaseSensitive(rec, "NameValue"))
        {
            char *name = scalar_str(cJSON_GetObjectItemCaseSensitive(nv, "Name"));
            char *val = scalar_str(cJSON_GetObjectItemCaseSensitive(nv, "Value"));
            if (name && *name)
                cJSON_AddStringToObject(o, name, val ? val : "");
            free(name);
            free(val);
        }
        cJSON_AddItemToArray(t->records, o);
    }
    const cJSON *em = cJSON_GetObjectItemCaseSensitive(root, "ErrorMessage");
    if (cJSON_IsObject(em))
        set_v1_error(t, em);
    else if (cJSON_IsString(em) && em->valuestring[0])
        set_tx_error(t, em, NULL, NULL, NULL);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "@type");
    if (cJSON_IsString(type) && strcmp(type->valuestring, "ServerReturnedNOK") == 0)
        set_v1_error(t, root);
    return 0;
}

mlc_err mlc_m3_result_parse(const char *body, size_t len, const char *what,
                            mlc_m3_result **out, mlc_error *err)
{
    *out = NULL;
    if (!what)
        what = "M3";
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return mlc_error_set(err, MLC_ERR_REMOTE, "M3 %s: response is not a JSON object", what);
    }
    mlc_m3_result *r = calloc(1, sizeof *r);
    if (!r) {
        cJSON_Delete(root);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    int rc = 0, known = 1;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "@type");
    if (cJSON_GetObjectItemCaseSensitive(root, "results"))
        rc = parse_v2(r, root);
    else if (cJSON_GetObjectItemCaseSensitive(root, "MIRecord") ||
             cJSON_GetObjectItemCaseSensitive(root, "Program") ||
             cJSON_GetObjectItemCaseSensitive(root, "ErrorMessage"))
        rc = parse_v1(r, root);
    else if (cJSON_IsString(type)) {
        /* bare v1 error */
        m3_tx *t = add_tx(r);
        if (!t)
            rc = -1;
        else
            set_v1_error(t, root);
    } else
        known = 0;
    cJSON_Delete(root);
    if (rc != 0) {
        mlc_m3_result_free(r);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    if (!known) {
        mlc_m3_result_free(r);
        return mlc_error_set(err, MLC_ERR_REMOTE, "M3 %s: unrecognised response shape", what);
    }
    r->ok = 1;
    for (size_t i = 0; i < r->ntx; i++)
        if (!r->tx[i].ok)
            r->ok = 0;
    *out = r;
    if (!r->ok) {
        const m3_tx *t = NULL;
        for (size_t i = 0; i < r->ntx && !t; i++)
            if (!r->tx[i].ok)
                t = &r->tx[i];
        char extra[160] = "";
        if (t->code && *t->code && t->field && *t->field)
            snprintf(extra, sizeof extra, " (%s, field %s)", t->code, t->field);
        else if (t->code && *t->code)
            snprintf(extra, sizeof extra, " (%s)", t->code);
        else if (t->type && *t->type)
            snprintf(extra, sizeof extra, " (%s)", t->type);
        if (r->ntx > 1) {
            size_t nfail = 0;
            for (size_t i = 0; i < r->ntx; i++)
                nfail += !r->tx[i].ok;
            return mlc_error_set(err, MLC_ERR_REMOTE, "M3 %s: %zu of %zu transactions failed; "
                                 "first: %s%s", what, nfail, r->ntx, t->message, extra);
        }
        return mlc_error_set(err, MLC_ERR_REMOTE, "M3 %s: %s%s", what, t->message, extra);
    }
    return MLC_OK;
}

static const m3_tx *first_tx(const mlc_m3_result *r)
{
    return r && r->ntx ? &r->tx[0] : NULL;
}

static const m3_tx *first_err(const mlc_m3_result *r)
{
    for (size_t i = 0; r && i < r->ntx; i++)
        if (!r->tx[i].ok)
            return &r->tx[i];
    return NULL;
}

size_t mlc_m3_result_count(const mlc_m3_result *r)
{
    const m3_tx *t = first_tx(r);
    return t ? (size_t)cJSON_GetArraySize(t->records) : 0;
}

const char *mlc_m3_result_get(const mlc_m3_result *r, size_t i, const char *field)
{
    return mlc_m3_result_tx_get(r, 0, i, field);
}

int mlc_m3_result_ok(const mlc_m3_result *r) { return r && r->ok; }
const char *mlc_m3_result_message(const mlc_m3_result *r) { const m3_tx *t = first_err(r); return t ? nz(t->message) : ""; }
const char *mlc_m3_result_code(const mlc_m3_result *r) { const m3_tx *t = first_err(r); return t ? nz(t->code) : ""; }
const char *mlc_m3_result_type(const mlc_m3_result *r) { const m3_tx *t = first_err(r); return t ? nz(t->type) : ""; }
const char *mlc_m3_result_field(const mlc_m3_result *r) { const m3_tx *t = first_err(r); return t ? nz(t->field) : ""; }
long mlc_m3_result_http_status(const mlc_m3_result *r) { return r ? r->http_status : 0; }
long mlc_m3_last_http_status(const mlc_m3 *m3) { return m3 ? m3->last_status : 0; }
int mlc_m3_last_sent(const mlc_m3 *m3) { return m3 ? m3->last_sent : 0; }

size_t mlc_m3_result_tx_count(const mlc_m3_result *r) { return r ? r->ntx : 0; }
int mlc_m3_result_tx_ok(const mlc_m3_result *r, size_t tx) { return r && tx < r->ntx && r->tx[tx].ok; }
int mlc_m3_result_tx_not_processed(const mlc_m3_result *r, size_t tx) { return r && tx < r->ntx && r->tx[tx].not_processed; }
const char *mlc_m3_result_tx_message(const mlc_m3_result *r, size_t tx) { return r && tx < r->ntx ? nz(r->tx[tx].message) : ""; }
const char *mlc_m3_result_tx_code(const mlc_m3_result *r, size_t tx) { return r && tx < r->ntx ? nz(r->tx[tx].code) : ""; }
const char *mlc_m3_result_tx_type(const mlc_m3_result *r, size_t tx) { return r && tx < r->ntx ? nz(r->tx[tx].type) : ""; }

size_t mlc_m3_result_tx_record_count(const mlc_m3_result *r, size_t tx)
{
    return r && tx < r->ntx ? (size_t)cJSON_GetArraySize(r->tx[tx].records) : 0;
}

const char *mlc_m3_result_tx_get(const mlc_m3_result *r, size_t tx, size_t i, const char *field)
{
    if (!r || tx >= r->ntx || !field)
        return NULL;
    const cJSON *rec = cJSON_GetArrayItem(r->tx[tx].records, (int)i);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- URL ---------------------------------------------------------------- */

static int valid_name(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '_')
            return 0;
    return n > 0 && n <= max;
}

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

static void sb_enc(sbuf *b, const char *s)
{
    char *e = mlc_http_urlencode(s);
    if (!e) {
        b->oom = 1;
        return;
    }
    sb_add(b, e);
    free(e);
}

/* ---- column selection --------------------------------------------------
 * M3 answers every output field of a transaction unless asked for fewer: a GET
 * names them in the matrix parameter returncols (m3-odin's MIServiceCore builds
 * ";returncols=CUNO"; Doppio sends "returncols=MINM,TRNM,SIMU"), a bulk request per
 * transaction in selectedColumns (a string array in BulkMIService's request model)
 * [CODE, research: infor.md section 3, "Matrix parameters" and "v2 bulk"].  PPS200MI
 * GetHead has 61 output fields, LstLine 95, MMS200MI GetItmBasic 118: mlc reads 2-11
 * of them, and the rest was most of a cron run's memory.  [UNVERIFIED] what M3 does
 * with a column name the transaction does not have (the research has no example):
 * cloudsuite.select_columns: false turns the selection off. */
typedef struct m3_sel {
    char *pgm_trn;
    char *cols; /* "A,B,C"; NULL: every column (a name we could not pass on) */
} m3_sel;

static int col_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 16)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return 0;
    return 1;
}

static int has_col(const char *list, const char *name, size_t n)
{
    for (const char *p = list; p && *p;) {
        size_t l = strcspn(p, ",");
        if (l == n && strncmp(p, name, n) == 0)
            return 1;
        p += l;
        if (*p == ',')
            p++;
    }
    return 0;
}

static m3_sel *find_sel(const mlc_m3 *m3, const char *pgm_trn)
{
    for (size_t i = 0; i < m3->nsel; i++)
        if (strcmp(m3->sel[i].pgm_trn, pgm_trn) == 0)
            return &m3->sel[i];
    return NULL;
}

void mlc_m3_columns(mlc_m3 *m3, const char *pgm_trn, const char *cols)
{
    if (!m3 || !pgm_trn || !cols)
        return;
    m3_sel *s = find_sel(m3, pgm_trn);
    if (!s) {
        m3_sel *grown = realloc(m3->sel, (m3->nsel + 1) * sizeof *grown);
        if (!grown)
            return; /* no selection: every column, as before */
        m3->sel = grown;
        s = &m3->sel[m3->nsel];
        s->pgm_trn = strdup(pgm_trn);
        s->cols = strdup("");
        if (!s->pgm_trn || !s->cols) {
            free(s->pgm_trn);
            free(s->cols);
            return;
        }
        m3->nsel++;
    } else if (!s->cols)
        return; /* already every column */
    for (const char *p = cols; *p;) {
        p += strspn(p, ", ");
        size_t l = strcspn(p, ", ");
        if (l == 0)
            break;
        if (!col_name_ok(p, l)) {
            free(s->cols); /* a name we cannot pass on: ask for every column */
            s->cols = NULL;
            return;
        }
        if (!has_col(s->cols, p, l)) {
            size_t ol = strlen(s->cols);
            char *grown = realloc(s->cols, ol + l + 2);
            if (!grown) {
                free(s->cols);
                s->cols = NULL;
                return;
            }
            s->cols = grown;
            snprintf(s->cols + ol, l + 2, "%s%.*s", ol ? "," : "", (int)l, p);
        }
        p += l;
    }
}

/* The columns to ask pgm/trn for, or NULL for every column. */
static const char *selected(const mlc_m3 *m3, const char *pgm, const char *trn)
{
    if (!m3->select_columns || m3->nsel == 0)
        return NULL;
    char key[64];
    snprintf(key, sizeof key, "%s/%s", pgm, trn);
    const m3_sel *s = find_sel(m3, key);
    return s && s->cols && *s->cols ? s->cols : NULL;
}

/* cols: ;returncols=, or NULL; session_cono > 0: ;cono= (the API session's company). */
static char *build_url(const char *api_base, const char *pgm, const char *trn, const mlc_m3_field *in,
                       size_t nin, int maxrecs, const char *cols, long long session_cono);

char *mlc_m3_build_url(const char *api_base, const char *pgm, const char *trn,
                       const mlc_m3_field *in, size_t nin, int maxrecs)
{
    return build_url(api_base, pgm, trn, in, nin, maxrecs, NULL, 0);
}

static char *build_url(const char *api_base, const char *pgm, const char *trn, const mlc_m3_field *in,
                       size_t nin, int maxrecs, const char *cols, long long session_cono)
{
    sbuf b = {0};
    size_t bl = strlen(api_base);
    while (bl > 0 && api_base[bl - 1] == '/')
        bl--;
    char *base = strndup(api_base, bl);
    if (!base)
        return NULL;
    sb_add(&b, base);
    free(base);
    sb_add(&b, "/M3/m3api-rest/v2/execute/");
    sb_enc(&b, pgm);
    sb_add(&b, "/");
    sb_enc(&b, trn);
    char mr[32];
    snprintf(mr, sizeof mr, ";maxrecs=%d", maxrecs < 0 ? 0 : maxrecs);
    sb_add(&b, mr);
    if (cols) {
        sb_add(&b, ";returncols=");
        sb_add(&b, cols); /* names checked by mlc_m3_columns: letters, digits, '_' and ',' */
    }
    if (session_cono > 0) {
        snprintf(mr, sizeof mr, ";cono=%lld", session_cono);
        sb_add(&b, mr);
    }
    for (size_t i = 0; i < nin; i++) {
        sb_add(&b, i == 0 ? "?" : "&");
        sb_enc(&b, in[i].name);
        sb_add(&b, "=");
        sb_enc(&b, in[i].value ? in[i].value : "");
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- construction ------------------------------------------------------- */

mlc_err mlc_m3_new_with(mlc_ionapi *ion, mlc_http *http, mlc_log *log, long long cono,
                        const char *divi, mlc_m3 **out, mlc_error *err)
{
    mlc_m3 *m = calloc(1, sizeof *m);
    if (!m)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    m->ion = ion;
    m->http = http;
    m->log = log;
    m->cono = cono > 0 ? cono : 0;
    snprintf(m->divi, sizeof m->divi, "%s", divi ? divi : "");
    m->select_columns = 1;
    *out = m;
    return MLC_OK;
}

void mlc_m3_free(mlc_m3 *m3)
{
    if (!m3)
        return;
    if (m3->own_ion)
        mlc_ionapi_free(m3->ion);
    if (m3->own_http)
        mlc_http_free(m3->http);
    if (m3->own_vault)
        mlc_vault_free(m3->vault);
    free(m3->source);
    for (size_t i = 0; i < m3->nsel; i++) {
        free(m3->sel[i].pgm_trn);
        free(m3->sel[i].cols);
    }
    free(m3->sel);
    free(m3);
}

void mlc_m3_set_select_columns(mlc_m3 *m3, int on)
{
    if (m3)
        m3->select_columns = on != 0;
}

mlc_err mlc_m3_new(mlc_ctx *ctx, mlc_vault *vault, mlc_m3 **out, mlc_error *err)
{
    const mlc_config *cfg = NULL;
    mlc_err rc = mlc_ctx_config(ctx, &cfg, err);
    if (rc)
        return rc;
    mlc_log *log = mlc_ctx_log(ctx);
    int own_vault = 0;
    if (!vault) {
        mlc_error verr = {0};
        /* create the vault only to cache tokens when a key is at hand */
        int flags = mlc_vault_key_available() ? MLC_VAULT_CREATE : MLC_VAULT_PROMPT;
        rc = mlc_vault_open_profile(cfg, log, flags, &vault, &verr);
        if (rc == MLC_OK) {
            own_vault = 1;
        } else if (rc == MLC_ERR_NOTFOUND) {
            vault = NULL;
        } else if (rc == MLC_ERR_CONFIG && mlc_config_str(cfg, "cloudsuite.ionapi")) {
            mlc_log_debug(log, "%s", verr.msg);
            vault = NULL;
        } else {
            if (err)
                *err = verr;
            return rc;
        }
    }
    if (!vault)
        mlc_log_warn(log, "no vault key (MLC_VAULT_KEY or MLC_VAULT_KEY_FILE): the ION token "
                          "cannot be cached, so every run logs in again (Infor allows about "
                          "1,000 logins a day)");
    mlc_ionapi *ion = NULL;
    char *source = NULL;
    rc = mlc_ionapi_resolve(cfg, vault, &ion, &source, err);
    if (rc) {
        if (own_vault)
            mlc_vault_free(vault);
        return rc;
    }
    mlc_ionapi_register_secrets(ion, log);
    rc = mlc_http_check_url(mlc_ionapi_api_base(ion), err);
    if (!rc)
        rc = mlc_http_check_url(mlc_ionapi_token_url(ion), err);
    mlc_http *http = NULL;
    if (!rc) {
        mlc_http_opts ho = {.timeout_s = (long)mlc_config_int(cfg, "cloudsuite.timeout"),
                            .retry_base_ms = (long)mlc_config_int(cfg, "retry.base_ms"),
                            .retry_cap_ms = (long)mlc_config_int(cfg, "retry.cap_ms"),
                            .max_attempts = (int)mlc_config_int(cfg, "retry.max_attempts"),
                            .log = log,
                            .trace = mlc_ctx_trace(ctx)};
        rc = mlc_http_new(&ho, &http, err);
    }
    mlc_m3 *m = NULL;
    if (!rc)
        rc = mlc_m3_new_with(ion, http, log, mlc_config_int(cfg, "cloudsuite.cono"),
                             mlc_config_str(cfg, "cloudsuite.divi"), &m, err);
    if (rc) {
        mlc_http_free(http);
        mlc_ionapi_free(ion);
        free(source);
        if (own_vault)
            mlc_vault_free(vault);
        return rc;
    }
    m->own_ion = m->own_http = 1;
    m->vault = vault;
    m->own_vault = own_vault;
    m->source = source;
    m->select_columns = mlc_config_bool(cfg, "cloudsuite.select_columns");
    mlc_ionapi_attach(ion, http, vault, log, (long)mlc_config_int(cfg, "cloudsuite.token_margin"));
    *out = m;
    return MLC_OK;
}

mlc_ionapi *mlc_m3_ionapi(mlc_m3 *m3) { return m3->ion; }
mlc_http *mlc_m3_http(mlc_m3 *m3) { return m3->http; }
mlc_vault *mlc_m3_vault(mlc_m3 *m3) { return m3->vault; }
long long mlc_m3_cono(const mlc_m3 *m3) { return m3->cono; }
const char *mlc_m3_divi(const mlc_m3 *m3) { return m3->divi; }
const char *mlc_m3_source(const mlc_m3 *m3) { return m3->source ? m3->source : "(given)"; }

/* ---- execution ---------------------------------------------------------- */

static int has_field(const mlc_m3_field *in, size_t nin, const char *name)
{
    for (size_t i = 0; i < nin; i++)
        if (in[i].name && strcasecmp(in[i].name, name) == 0)
            return 1;
    return 0;
}

/* The caller's fields plus CONO/DIVI where the transaction defines them.
 * *out is malloc'd (names/values borrowed, except the cono buffer given). */
static mlc_err with_company(const mlc_m3 *m3, const char *pgm, const char *trn,
                            const mlc_m3_field *in, size_t nin, char conobuf[24],
                            mlc_m3_field **out, size_t *nout, mlc_error *err)
{
    mlc_m3_field *f = malloc((nin + 2) * sizeof *f);
    if (!f)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < nin; i++) {
        if (!in[i].name || !valid_name(in[i].name, 16)) {
            free(f);
            return mlc_error_set(err, MLC_ERR_INPUT, "M3 %s/%s: invalid input field name '%.20s'",
                                 pgm, trn, in[i].name ? in[i].name : "(null)");
        }
        f[i] = in[i];
    }
    size_t n = nin;
    int flags = mlc_m3_transaction_flags(pgm, trn);
    if (flags > 0) {
        if ((flags & 1) && m3->cono > 0 && !has_field(in, nin, "CONO")) {
            snprintf(conobuf, 24, "%lld", m3->cono);
            f[n].name = "CONO";
            f[n++].value = conobuf;
        }
        if ((flags & 2) && m3->divi[0] && !has_field(in, nin, "DIVI")) {
            f[n].name = "DIVI";
            f[n++].value = m3->divi;
        }
    }
    *out = f;
    *nout = n;
    return MLC_OK;
}

/* Sends with the bearer token; replays once after a 401 with a fresh token. */
static mlc_err send_authed(mlc_m3 *m3, mlc_http_request *req, const char *what,
                           mlc_http_response *resp, mlc_error *err)
{
    const char *hdrs[5];
    for (int attempt = 0; attempt < 2; attempt++) {
        const char *auth = NULL;
        mlc_err rc = mlc_ionapi_authorization(m3->ion, &auth, err);
        if (rc)
            return rc;
        int h = 0;
        hdrs[h++] = auth;
        hdrs[h++] = "Accept: application/json";
        if (req->body)
            hdrs[h++] = "Content-Type: application/json";
        hdrs[h] = NULL;
        req->headers = hdrs;
        m3->last_sent = 1;
        rc = mlc_http_do(m3->http, req, resp, err);
        if (rc == MLC_OK && resp->status == 401 && attempt == 0) {
            if (m3->log)
                mlc_log_info(m3->log, "M3 %s: 401, refreshing the token and retrying once", what);
            mlc_ionapi_invalidate(m3->ion);
            mlc_http_response_free(resp);
            continue;
        }
        return rc;
    }
    return MLC_OK;
}

static mlc_err map_status(const mlc_http_response *resp, const char *what,
                          mlc_m3_result **out, mlc_error *err)
{
    long st = resp->status;
    if (st / 100 == 2) {
        mlc_err rc = mlc_m3_result_parse(resp->body, resp->body_len, what, out, err);
        if (*out)
            (*out)->http_status = st;
        return rc;
    }
    /* a 4xx/5xx may still carry an M3 error body: use its message if so */
    mlc_m3_result *r = NULL;
    mlc_error perr = {0};
    mlc_err prc = resp->body_len ? mlc_m3_result_parse(resp->body, resp->body_len, what, &r, &perr)
                                 : MLC_ERR_REMOTE;
    const char *msg = (prc == MLC_ERR_REMOTE && r) ? perr.msg : NULL;
    if (r)
        r->http_status = st;
    mlc_err rc;
    if (st == 401)
        rc = mlc_error_set(err, MLC_ERR_AUTH, "M3 %s: HTTP 401 even with a fresh token (the "
                           "service account may lack M3 access)", what);
    else if (st == 403)
        rc = mlc_error_set(err, MLC_ERR_AUTH, "M3 %s: HTTP 403 forbidden%s%s", what,
                           msg ? ": " : "", msg ? msg : "");
    else if (mlc_http_status_transient(st))
        rc = mlc_error_set(err, MLC_ERR_TRANSIENT, "M3 %s: HTTP %ld%s", what, st,
                           st == 504 ? " (gateway timeout)" : "");
    else if (st == 400 && !msg)
        rc = mlc_error_set(err, MLC_ERR_REMOTE,
                           "M3 %s: HTTP 400 (unknown program/transaction or invalid input)", what);
    else if (st == 404)
        rc = mlc_error_set(err, MLC_ERR_REMOTE, "M3 %s: HTTP 404 (check the ION API URL `iu` "
                           "and tenant `ti`)", what);
    else
        rc = mlc_error_set(err, st >= 500 ? MLC_ERR_TRANSIENT : MLC_ERR_REMOTE,
                           "M3 %s: HTTP %ld%s%s", what, st, msg ? ": " : "", msg ? msg : "");
    *out = r;
    return rc;
}

static int split_pgm_trn(const char *pgm_trn, char pgm[32], char trn[32])
{
    const char *slash = pgm_trn ? strchr(pgm_trn, '/') : NULL;
    if (!slash || slash == pgm_trn || (size_t)(slash - pgm_trn) >= 32 || strlen(slash + 1) >= 32)
        return -1;
    memcpy(pgm, pgm_trn, (size_t)(slash - pgm_trn));
    pgm[slash - pgm_trn] = '\0';
    strcpy(trn, slash + 1);
    return 0;
}

mlc_err mlc_m3_execute2(mlc_m3 *m3, const char *pgm, const char *trn, const mlc_m3_field *in,
                        size_t nin, int maxrecs, mlc_m3_result **out, mlc_error *err)
{
    *out = NULL;
    if (!pgm || !trn || !valid_name(pgm, 16) || !valid_name(trn, 24))
        return mlc_error_set(err, MLC_ERR_CONFIG, "M3: invalid program/transaction '%s/%s'",
                             pgm ? pgm : "", trn ? trn : "");
    char what[64];
    snprintf(what, sizeof what, "%s/%s", pgm, trn);
    char conobuf[24];
    mlc_m3_field *f = NULL;
    size_t nf = 0;
    mlc_err rc = with_company(m3, pgm, trn, in, nin, conobuf, &f, &nf, err);
    if (rc)
        return rc;
    /* EXPORTMI has no CONO input and refuses a company in its query: it reads the
     * API session's company ("M3 company is always set to the company used by the
     * API session", Infor M3 UDI 16.x, EXPORTMI page, docs.infor.com/m3udi/16.x/
     * en-us/m3beud/appfoundhs/uof1644857333894.html). The session's company is set
     * with the ;cono= matrix parameter (research: infor.md, m3-odin URL builder), so
     * the profile's company is named there, not left to the service account's
     * default company. */
    long long session_cono = strcmp(pgm, "EXPORTMI") == 0 ? m3->cono : 0;
    char *url = build_url(mlc_ionapi_api_base(m3->ion), pgm, trn, f, nf, maxrecs, selected(m3, pgm, trn),
                          session_cono);
    free(f);
    if (!url)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    mlc_http_request req = {.method = "GET", .url = url};
    mlc_http_response resp = {0};
    m3->last_status = 0;
    m3->last_sent = 0;
    rc = send_authed(m3, &req, what, &resp, err);
    m3->last_status = rc == MLC_OK || rc == MLC_ERR_TRANSIENT ? resp.status : 0;
    if (rc == MLC_OK || (rc == MLC_ERR_TRANSIENT && resp.status))
        rc = map_status(&resp, what, out, err);
    mlc_http_response_free(&resp);
    free(url);
    return rc;
}

mlc_err mlc_m3_execute(mlc_m3 *m3, const char *pgm_trn, const mlc_m3_field *in, size_t nin,
                       int maxrecs, mlc_m3_result **out, mlc_error *err)
{
    char pgm[32], trn[32];
    *out = NULL;
    if (split_pgm_trn(pgm_trn, pgm, trn) != 0)
        return mlc_error_set(err, MLC_ERR_CONFIG, "M3: '%s' is not PROGRAM/TRANSACTION",
                             pgm_trn ? pgm_trn : "");
    return mlc_m3_execute2(m3, pgm, trn, in, nin, maxrecs, out, err);
}

mlc_err mlc_m3_bulk(mlc_m3 *m3, const char *pgm_trn, const mlc_m3_record *recs, size_t n,
                    int idempotent, mlc_m3_result **out, mlc_error *err)
{
    char pgm[32], trn[32];
    *out = NULL;
    if (split_pgm_trn(pgm_trn, pgm, trn) != 0 || !valid_name(pgm, 16) || !valid_name(trn, 24))
        return mlc_error_set(err, MLC_ERR_CONFIG, "M3: '%s' is not PROGRAM/TRANSACTION",
                             pgm_trn ? pgm_trn : "");
    if (n == 0)
        return mlc_error_set(err, MLC_ERR_USAGE, "M3 %s: bulk request with no records", pgm_trn);
    cJSON *body = cJSON_CreateObject();
    cJSON *txs = cJSON_AddArrayToObject(body, "transactions");
    cJSON_AddStringToObject(body, "program", pgm);
    /* every record of each transaction: the server's default (100, as for
     * maxrecs) would cut a long list such as a PO's lines without a word.
     * [INFERENCE] 0 meaning "no limit" here is how public clients use maxrecs=0
     * (research: infor.md); no Infor page we have says so for the bulk body. */
    cJSON_AddNumberToObject(body, "maxReturnedRecords", 0);
    mlc_err rc = MLC_OK;
    const char *cols = selected(m3, pgm, trn);
    for (size_t i = 0; !rc && i < n; i++) {
        char conobuf[24];
        mlc_m3_field *f = NULL;
        size_t nf = 0;
        rc = with_company(m3, pgm, trn, recs[i].fields, recs[i].nfields, conobuf, &f, &nf, err);
        if (rc)
            break;
        cJSON *tx = cJSON_CreateObject();
        cJSON_AddStringToObject(tx, "transaction", trn);
        cJSON *rec = cJSON_AddObjectToObject(tx, "record");
        for (size_t k = 0; k < nf; k++)
            cJSON_AddStringToObject(rec, f[k].name, f[k].value ? f[k].value : "");
        if (cols) {
            cJSON *sc = cJSON_AddArrayToObject(tx, "selectedColumns");
            for (const char *p = cols; *p;) {
                size_t l = strcspn(p, ",");
                char name[17];
                snprintf(name, sizeof name, "%.*s", (int)l, p);
                cJSON_AddItemToArray(sc, cJSON_CreateString(name));
                p += l + (p[l] == ',');
            }
        }
        cJSON_AddItemToArray(txs, tx);
        free(f);
    }
    char *json = rc ? NULL : cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (rc)
        return rc;
    if (!json)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    size_t ul = strlen(mlc_ionapi_api_base(m3->ion)) + 64;
    char *url = malloc(ul);
    if (!url) {
        free(json);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    snprintf(url, ul, "%s/M3/m3api-rest/v2/execute", mlc_ionapi_api_base(m3->ion));
    char what[80];
    snprintf(what, sizeof what, "%s (bulk of %zu)", pgm_trn, n);
    mlc_http_request req = {.method = "POST", .url = url, .body = json,
                            .body_len = strlen(json), .idempotent = idempotent};
    mlc_http_response resp = {0};
    m3->last_status = 0;
    m3->last_sent = 0;
    rc = send_authed(m3, &req, what, &resp, err);
    m3->last_status = rc == MLC_OK || rc == MLC_ERR_TRANSIENT ? resp.status : 0;
    if (rc == MLC_OK || (rc == MLC_ERR_TRANSIENT && resp.status))
        rc = map_status(&resp, what, out, err);
    mlc_http_response_free(&resp);
    free(url);
    free(json);
    return rc;
}
