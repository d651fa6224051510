/*
 * fuzz_shipstation.c: libFuzzer harness for the ShipStation response helpers
 * (lib/shipstation mlc_ss_page_info and mlc_ss_error_text) on V2 and V1 bodies,
 * including bodies that are not JSON and output buffers of every small size.
 *
 * Not for: requests, keys, the rate limiter.  Built by `make fuzz`.
 * Input: byte 0 picks the output buffer size (1..256); the rest is the body.
 */
#include "shipstation.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t bufsz = (size_t)data[0] + 1;
    char *raw = malloc(size); /* body, NUL-terminated as the response's raw body is */
    char *buf = malloc(bufsz);
    if (!raw || !buf) {
        free(raw);
        free(buf);
        return 0;
    }
    memcpy(raw, data + 1, size - 1);
    raw[size - 1] = '\0';
    cJSON *json = cJSON_ParseWithLength(raw, size - 1);
    int page, pages, total, has_next;
    mlc_ss_page_info(json, &page, &pages, &total, &has_next);
    mlc_ss_error_text(json, raw, buf, bufsz);
    size_t n = strlen(buf);
    mlc_ss_error_text(NULL, raw, buf, bufsz);
    n += strlen(buf);
    cJSON_Delete(json);
    free(buf);
    free(raw);
    return n == (size_t)-1 ? page + pages + total + has_next : 0; /* always 0 */
}
