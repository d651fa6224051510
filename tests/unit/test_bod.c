/*
 * test_bod.c: unit tests of lib/bod (BOD XML from templates): the output is
 * parsed back with libxml2 and read with XPath; hostile text survives as text;
 * bad templates and values are refused naming where. Not a test of sending.
 */
#include "bod.h"
#include "testutil.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

static mlc_bod_fields fields(void)
{
    mlc_bod_fields f = {
        .logical_id = "lid://infor.ims.mlc",
        .tenant_id = "TENANT_TST",
        .accounting_entity = "100_AAA",
        .location = "WH1",
        .document_id = "MLC-R-42",
        .creation_time = "2026-12-01T10:00:00Z",
        .puno = "4000123",
        .pnli = 10,
        .pnls = 0,
        .item = "ITEM-A100",
        .qty = 2.5,
        .unit = "EA",
        .warehouse = "WH1",
        .supplier = "SUP01",
        .delivery_note = "1Z999",
        .carrier = "ups",
        .date = "2026-12-01T09:00:00Z",
    };
    return f;
}

/* Parses xml and returns the string value of an XPath (prefix b: = InforOAGIS/2); caller frees. */
static char *xp(const char *xml, size_t len, const char *path)
{
    xmlDocPtr d = xmlReadMemory(xml, (int)len, "out.xml", NULL, XML_PARSE_NONET);
    ck_assert_msg(d != NULL, "output does not parse back:\n%s", xml);
    xmlXPathContextPtr c = xmlXPathNewContext(d);
    xmlXPathRegisterNs(c, BAD_CAST "b", BAD_CAST MLC_BOD_NS);
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST path, c);
    char *r = NULL;
    if (o && o->nodesetval && o->nodesetval->nodeNr > 0) {
        xmlChar *v = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
        r = strdup((const char *)v);
        xmlFree(v);
    }
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(c);
    xmlFreeDoc(d);
    return r;
}

static void expect(const char *xml, size_t len, const char *path, const char *want)
{
    char *v = xp(xml, len, path);
    ck_assert_msg(v && !strcmp(v, want), "%s: want '%s', got '%s'", path, want, v ? v : "(absent)");
    free(v);
}

START_TEST(receipt_has_envelope_and_noun)
{
    mlc_bod *b = NULL;
    mlc_error e;
    ck_assert_msg(mlc_bod_new("Process.ReceiveDelivery", NULL, &b, &e) == MLC_OK, "%s", e.msg);
    ck_assert_str_eq(mlc_bod_document_name(b), "Process.ReceiveDelivery");
    mlc_bod_fields f = fields();
    char *x = NULL;
    size_t n = 0;
    ck_assert_msg(mlc_bod_build(b, &f, &x, &n, &e) == MLC_OK, "%s", e.msg);
    expect(x, n, "/b:ProcessReceiveDelivery/@releaseID", "9.2");
    expect(x, n, "/b:ProcessReceiveDelivery/b:ApplicationArea/b:Sender/b:LogicalID", "lid://infor.ims.mlc");
    expect(x, n, "//b:ApplicationArea/b:CreationDateTime", "2026-12-01T10:00:00Z");
    expect(x, n, "//b:ApplicationArea/b:BODID",
           "infor-nid:TENANT_TST:100_AAA:WH1:MLC-R-42:?ReceiveDelivery&verb=Process");
    expect(x, n, "/*/b:DataArea/b:Process/b:TenantID", "TENANT_TST");
    expect(x, n, "/*/b:DataArea/b:Process/b:AccountingEntityID", "100_AAA");
    expect(x, n, "/*/b:DataArea/b:Process/b:LocationID", "WH1");
    expect(x, n, "//b:Process/b:ActionCriteria/b:ActionExpression/@actionCode", "Add");
    expect(x, n, "//b:ReceiveDeliveryHeader/b:DocumentID/b:ID", "MLC-R-42");
    expect(x, n, "//b:ReceiveDeliveryHeader/b:ShipFromParty/b:PartyIDs/b:ID", "SUP01");
    expect(x, n, "//b:ReceiveDeliveryHeader/b:WarehouseLocation/b:ID", "WH1");
    expect(x, n, "//b:ReceiveDeliveryHeader/b:PackingSlip", "1Z999");
    expect(x, n, "//b:ReceiveDeliveryHeader/b:CarrierParty/b:PartyIDs/b:ID", "ups");
    expect(x, n, "//b:ReceiveDeliveryHeader/b:ActualDeliveryDateTime", "2026-12-01T09:00:00Z");
    expect(x, n, "//b:ReceiveDeliveryItem/b:ItemID/b:ID", "ITEM-A100");
    expect(x, n, "//b:ReceiveDeliveryItem/b:PurchaseOrderReference/b:DocumentID/b:ID", "4000123");
    expect(x, n, "//b:PurchaseOrderReference/b:LineNumber", "10");
    expect(x, n, "//b:PurchaseOrderReference/b:SubLineNumber", "0");
    expect(x, n, "//b:ReceiveDeliveryItem/b:ReceivedQuantity", "2.5");
    expect(x, n, "//b:ReceiveDeliveryItem/b:ReceivedQuantity/@unitCode", "EA");
    ck_assert_ptr_null(strstr(x, "${"));
    free(x);
    mlc_bod_free(b);
}
END_TEST

START_TEST(verb_is_configurable_and_asn_builds)
{
    mlc_bod *b = NULL;
    mlc_error e;
    ck_assert(mlc_bod_new("Sync.ReceiveDelivery", NULL, &b, &e) == MLC_OK);
    mlc_bod_fields f = fields();
    char *x = NULL;
    size_t n = 0;
    ck_assert(mlc_bod_build(b, &f, &x, &n, &e) == MLC_OK);
    expect(x, n, "/b:SyncReceiveDelivery/b:DataArea/b:Sync/b:ActionCriteria/b:ActionExpression/@actionCode", "Replace");
    expect(x, n, "//b:BODID", "infor-nid:TENANT_TST:100_AAA:WH1:MLC-R-42:?ReceiveDelivery&verb=Sync");
    free(x);
    mlc_bod_free(b);
    ck_assert(mlc_bod_new("Sync.AdvanceShipNotice", NULL, &b, &e) == MLC_OK);
    ck_assert(mlc_bod_build(b, &f, &x, &n, &e) == MLC_OK);
    expect(x, n, "//b:AdvanceShipNoticeItem/b:ShippedQuantity", "2.5");
    expect(x, n, "//b:AdvanceShipNoticeHeader/b:DocumentReference/b:DocumentID/b:ID", "1Z999");
    free(x);
    mlc_bod_free(b);
    ck_assert_int_eq(mlc_bod_new("Process.Banana", NULL, &b, &e), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "no built-in BOD template for the noun Banana"));
    ck_assert_int_eq(mlc_bod_new("ProcessReceiveDelivery", NULL, &b, &e), MLC_ERR_CONFIG);
    ck_assert_int_eq(mlc_bod_new("Process.Receive Delivery", NULL, &b, &e), MLC_ERR_CONFIG);
}
END_TEST

START_TEST(hostile_text_stays_text)
{
    mlc_bod *b = NULL;
    mlc_error e;
    ck_assert(mlc_bod_new("Process.ReceiveDelivery", NULL, &b, &e) == MLC_OK);
    mlc_bod_fields f = fields();
    const char *evil = "</ID><Evil a=\"1\"/>&amp;&lt;]]>${PUNO}\"'";
    f.delivery_note = evil;
    f.supplier = "S\xc3\xa9"; /* UTF-8 e-acute */
    f.unit = "\"><x y='";
    char *x = NULL;
    size_t n = 0;
    ck_assert(mlc_bod_build(b, &f, &x, &n, &e) == MLC_OK);
    expect(x, n, "//b:ReceiveDeliveryHeader/b:PackingSlip", evil);
    expect(x, n, "//b:ShipFromParty/b:PartyIDs/b:ID", "S\xc3\xa9");
    expect(x, n, "//b:ReceivedQuantity/@unitCode", "\"><x y='");
    char *ev = xp(x, n, "//*[local-name()='Evil']");
    ck_assert_ptr_null(ev);
    free(x);
    /* what XML 1.0 cannot carry is refused, naming the field */
    f = fields();
    f.carrier = "u\x01ps";
    ck_assert_int_eq(mlc_bod_build(b, &f, &x, &n, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "carrier"));
    f = fields();
    f.item = "\xff\xfe";
    ck_assert_int_eq(mlc_bod_build(b, &f, &x, &n, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "item"));
    f = fields();
    f.puno = NULL;
    ck_assert_int_eq(mlc_bod_build(b, &f, &x, &n, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "puno is missing"));
    f = fields();
    f.qty = 0;
    ck_assert_int_eq(mlc_bod_build(b, &f, &x, &n, &e), MLC_ERR_INPUT);
    mlc_bod_free(b);
}
END_TEST

START_TEST(absent_optional_values_drop_their_element)
{
    mlc_bod *b = NULL;
    mlc_error e;
    ck_assert(mlc_bod_new("Process.ReceiveDelivery", NULL, &b, &e) == MLC_OK);
    mlc_bod_fields f = fields();
    f.carrier = NULL;
    f.unit = NULL;
    f.delivery_note = NULL;
    char *x = NULL;
    size_t n = 0;
    ck_assert(mlc_bod_build(b, &f, &x, &n, &e) == MLC_OK);
    char *v = xp(x, n, "//b:CarrierParty");
    ck_assert_ptr_null(v);
    v = xp(x, n, "//b:PackingSlip");
    ck_assert_ptr_null(v);
    v = xp(x, n, "//b:ReceivedQuantity/@unitCode");
    ck_assert_ptr_null(v);
    expect(x, n, "//b:ReceivedQuantity", "2.5");
    free(x);
    mlc_bod_free(b);
}
END_TEST

START_TEST(template_file_overrides)
{
    char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/t.xml", dir);
    const char *t = "<?xml version=\"1.0\"?>\n<ProcessReceiveDelivery xmlns=\"" MLC_BOD_NS "\">\n"
                    "<ApplicationArea><BODID>${BODID}</BODID></ApplicationArea>\n"
                    "<DataArea><Process><TenantID>${TENANT_ID}</TenantID></Process>\n"
                    "<ReceiveDelivery><Custom ref=\"${PUNO}-${PNLI}\">${DELIVERY_NOTE}</Custom></ReceiveDelivery>"
                    "</DataArea></ProcessReceiveDelivery>\n";
    tu_write(path, t, strlen(t));
    mlc_bod *b = NULL;
    mlc_error e;
    ck_assert_msg(mlc_bod_new("Process.ReceiveDelivery", path, &b, &e) == MLC_OK, "%s", e.msg);
    mlc_bod_fields f = fields();
    f.delivery_note = "a<b";
    char *x = NULL;
    size_t n = 0;
    ck_assert(mlc_bod_build(b, &f, &x, &n, &e) == MLC_OK);
    expect(x, n, "//b:Custom/@ref", "4000123-10");
    expect(x, n, "//b:Custom", "a<b");
    free(x);
    mlc_bod_free(b);
    /* wrong root, unknown placeholder, DTD, not XML: each names the file */
    ck_assert_int_eq(mlc_bod_new("Sync.ReceiveDelivery", path, &b, &e), MLC_ERR_CONFIG);
    ck_assert_msg(strstr(e.msg, "root element must be <SyncReceiveDelivery") != NULL, "%s", e.msg);
    const char *t2 = "<ProcessReceiveDelivery xmlns=\"" MLC_BOD_NS "\">\n<A>${NOPE}</A></ProcessReceiveDelivery>";
    tu_write(path, t2, strlen(t2));
    ck_assert_int_eq(mlc_bod_new("Process.ReceiveDelivery", path, &b, &e), MLC_ERR_CONFIG);
    ck_assert_msg(strstr(e.msg, ":2: unknown placeholder ${NOPE}") != NULL, "%s", e.msg);
    const char *t3 = "<!DOCTYPE x [<!ENTITY a \"aaaa\">]>\n<ProcessReceiveDelivery xmlns=\"" MLC_BOD_NS
                     "\">&a;</ProcessReceiveDelivery>";
    tu_write(path, t3, strlen(t3));
    ck_assert_int_eq(mlc_bod_new("Process.ReceiveDelivery", path, &b, &e), MLC_ERR_CONFIG);
    ck_assert_msg(strstr(e.msg, "DTD") != NULL, "%s", e.msg);
    tu_write(path, "<a><b></a>", 10);
    ck_assert_int_eq(mlc_bod_new("Process.ReceiveDelivery", path, &b, &e), MLC_ERR_CONFIG);
    ck_assert_msg(strstr(e.msg, "not well-formed") != NULL, "%s", e.msg);
    unlink(path);
    rmdir(dir);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("bod");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, receipt_has_envelope_and_noun);
    tcase_add_test(tc, verb_is_configurable_and_asn_builds);
    tcase_add_test(tc, hostile_text_stays_text);
    tcase_add_test(tc, absent_optional_values_drop_their_element);
    tcase_add_test(tc, template_file_overrides);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
