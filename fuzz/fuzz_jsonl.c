/*
 * fuzz_jsonl.c: libFuzzer harness for the JSON-lines reader (lib/jsonl) and the
 * record validation behind it: purchase_order records through mlc_map_check_po
 * and the V2/V1 mappings, shipment records through mlc_receipt_accept (its
 * check, aggregation and ledger insert into an in-memory store), and every
 * record written back with the jsonl writer.
 *
 * Not for: M3 or ShipStation calls (no receipt is posted; m3 is NULL), files.
 * Built by `make fuzz`.
 */
#include "config.h"
#include "jsonl.h"
#include "map.h"
#include "receipt.h"
#include "store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The mapping of tests/unit/test_map.c: one complete warehouse and supplier. */
static const char cfg_text[] = "profiles:\n"
                               "  p:\n"
                               "    shipstation: {store_id: 77}\n"
                               "    mapping:\n"
                               "      order_types: {PP1: po_receipt, PP3: goods_receipt}\n"
                               "      warehouses:\n"
                               "        WH1:\n"
                               "          warehouse_id: se-1001\n"
                               "          v1_warehouse_id: 1001\n"
                               "          ship_to: {name: Receiving, company: Acme, street1: 1 Dock Rd, city: Austin,\n"
                               "                    state: TX, postal_code: \"78701\", country: US}\n"
                               "      suppliers:\n"
                               "        SUP1:\n"
                               "          ship_from: {name: Shipping, street1: 9 Mill St, city: Dallas, state: TX,\n"
                               "                      postal_code: \"75201\", country: US}\n"
                               "          carrier_id: se-2001\n"
                               "      defaults: {service_code: ups_ground}\n";

static mlc_config *cfg;
static mlc_map *map;
static FILE *devnull;
static mlc_store *st;
static mlc_receipt *rcpt;
static unsigned long runs;

static void die(const char *what, const mlc_error *e)
{
    fprintf(stderr, "fuzz_jsonl: %s: %s\n", what, e->msg);
    abort();
}

/* The store is reopened every 512 inputs so the ledger does not grow without bound. */
static void open_store(void)
{
    mlc_error e = {0};
    if (rcpt)
        mlc_receipt_free(rcpt);
    if (st)
        mlc_store_close(st);
    rcpt = NULL;
    st = NULL;
    if (mlc_store_open(":memory:", 0, &st, &e) != MLC_OK)
        die("store", &e);
    if (mlc_receipt_new(NULL, st, cfg, NULL, NULL, &rcpt, &e) != MLC_OK)
        die("receipt", &e);
}

static void init(void)
{
    mlc_error e = {0};
    if (mlc_config_load_string(cfg_text, sizeof cfg_text - 1, "fuzz.yaml", "p", &cfg, &e) != MLC_OK)
        die("config", &e);
    if (mlc_map_new(cfg, &map, &e) != MLC_OK)
        die("map", &e);
    devnull = fopen("/dev/null", "w");
    if (!devnull)
        abort();
}

static void record(mlc_jsonl_writer *w, cJSON *rec)
{
    mlc_error e = {0};
    const char *kind = mlc_jsonl_kind(rec);
    if (kind && !strcmp(kind, "purchase_order") && mlc_map_check_po(rec, &e) == MLC_OK) {
        cJSON *out = NULL;
        char hash[65];
        if (mlc_map_po_to_v2(map, rec, &out, &e) == MLC_OK)
            mlc_map_hash(out, hash);
        cJSON_Delete(out);
        out = NULL;
        if (mlc_map_po_to_v1(map, rec, &out, &e) == MLC_OK)
            mlc_map_hash(out, hash);
        cJSON_Delete(out);
    } else if (kind && !strcmp(kind, "shipment")) {
        mlc_receipt_accept(rcpt, rec, NULL, NULL, &e);
    }
    mlc_jsonl_write(w, rec, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cfg)
        init();
    if (runs++ % 512 == 0)
        open_store();
    if (size == 0)
        return 0; /* fmemopen refuses a zero-sized buffer */
    FILE *in = fmemopen((void *)data, size, "r");
    if (!in)
        return 0;
    mlc_jsonl_reader *r = mlc_jsonl_reader_new(in, "fuzz", 4096); /* small limit: long lines get skipped */
    mlc_jsonl_writer *w = mlc_jsonl_writer_new(devnull);
    mlc_error e = {0};
    size_t n = 0;
    for (int i = 0; i < 1000; i++) {
        cJSON *rec = NULL;
        mlc_err rc = mlc_jsonl_read(r, &rec, &e);
        if (rc == MLC_ERR_EOF || rc == MLC_ERR_IO)
            break;
        n += strlen(mlc_jsonl_reader_line(r)) + mlc_jsonl_reader_lineno(r);
        if (rc == MLC_OK)
            record(w, rec);
        cJSON_Delete(rec);
    }
    n += (size_t)mlc_jsonl_utf8_valid((const char *)data, size);
    mlc_jsonl_writer_free(w);
    mlc_jsonl_reader_free(r);
    fclose(in);
    return n == (size_t)-1; /* keeps n alive; always 0 */
}
