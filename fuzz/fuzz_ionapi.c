/*
 * fuzz_ionapi.c: libFuzzer harness for the .ionapi parser (lib/ionapi
 * mlc_ionapi_parse), plus the getters and the JSON round trip of what it accepts.
 *
 * Not for: token fetching, the vault or anything else that talks to a network
 * or a disk.  Built by `make fuzz` (see the Makefile), never by `make`.
 */
#include "ionapi.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t touch(const char *s) { return s ? strlen(s) : 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mlc_ionapi *ion = NULL, *again = NULL;
    mlc_error err = {0};
    size_t n = 0;
    if (mlc_ionapi_parse((const char *)data, size, "fuzz.ionapi", &ion, &err) != MLC_OK) {
        n += touch(err.msg);
        mlc_ionapi_free(ion);
        return 0;
    }
    n += touch(mlc_ionapi_tenant(ion)) + touch(mlc_ionapi_client_id(ion)) + touch(mlc_ionapi_app_name(ion));
    n += touch(mlc_ionapi_token_url(ion)) + touch(mlc_ionapi_revoke_url(ion)) + touch(mlc_ionapi_api_base(ion));
    n += touch(mlc_ionapi_fingerprint(ion)) + (size_t)mlc_ionapi_has_service_account(ion);
    cJSON *j = mlc_ionapi_to_json(ion);
    if (j && mlc_ionapi_from_json(j, "fuzz (vault)", &again, &err) == MLC_OK)
        n += touch(mlc_ionapi_token_url(again));
    cJSON_Delete(j);
    mlc_ionapi_free(again);
    mlc_ionapi_free(ion);
    return n == (size_t)-1; /* keeps n alive; always 0 */
}
