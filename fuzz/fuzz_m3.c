/*
 * fuzz_m3.c: libFuzzer harness for the M3 MI response parser (lib/m3
 * mlc_m3_result_parse): the v2 {results[]}, v1 {MIRecord[]} and bare v1 error
 * shapes, every accessor of the result it returns, and the purchase_order record
 * pull-pos builds from a GetHead and a LstLine result (lib/po mlc_po_record; the
 * same parsed body serves as both, and is printed as pull-pos prints it).
 *
 * Not for: the M3 client itself (URLs, tokens, HTTP).  Built by `make fuzz`.
 */
#include "m3.h"
#include "po.h"

#include <stdlib.h>

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t touch(const char *s) { return s ? strlen(s) : 0; }

static const char *const fields[] = {"PUNO", "PNLI", "PNLS", "RVQA", "ITNO", "CONO", "DWDT", "", "X"};
#define NFIELDS (sizeof fields / sizeof fields[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mlc_m3_result *r = NULL;
    mlc_error err = {0};
    size_t n = 0;
    mlc_m3_result_parse((const char *)data, size, "PPS200MI/GetLine", &r, &err);
    n += touch(err.msg);
    if (!r)
        return 0;
    size_t count = mlc_m3_result_count(r);
    for (size_t i = 0; i <= count && i < 64; i++)
        for (size_t f = 0; f < NFIELDS; f++)
            n += touch(mlc_m3_result_get(r, i, fields[f]));
    n += (size_t)mlc_m3_result_ok(r) + (size_t)mlc_m3_result_http_status(r);
    n += touch(mlc_m3_result_message(r)) + touch(mlc_m3_result_code(r)) + touch(mlc_m3_result_type(r)) +
         touch(mlc_m3_result_field(r));
    size_t ntx = mlc_m3_result_tx_count(r);
    for (size_t t = 0; t <= ntx && t < 64; t++) {
        n += (size_t)mlc_m3_result_tx_ok(r, t) + (size_t)mlc_m3_result_tx_not_processed(r, t);
        n += touch(mlc_m3_result_tx_message(r, t)) + touch(mlc_m3_result_tx_code(r, t)) +
             touch(mlc_m3_result_tx_type(r, t));
        size_t nr = mlc_m3_result_tx_record_count(r, t);
        for (size_t i = 0; i <= nr && i < 64; i++)
            for (size_t f = 0; f < NFIELDS; f++)
                n += touch(mlc_m3_result_tx_get(r, t, i, fields[f]));
    }
    const char *po = mlc_m3_result_get(r, 0, "PUNO");
    cJSON *rec = mlc_po_record(r, r, po ? po : "", mlc_m3_result_get(r, 0, "DWDT"), 100, "AAA");
    char *text = cJSON_PrintUnformatted(rec);
    n += touch(text);
    free(text);
    cJSON_Delete(rec);
    mlc_m3_result_free(r);
    return n == (size_t)-1; /* keeps n alive; always 0 */
}
