/*
 * stubclients.h: an M3 client (through a stub ION token endpoint) and a
 * ShipStation client (V2 key and V1 key/secret) pointed at two stub servers
 * (stubserver.h), for the unit tests of the modules above the clients (lib/item,
 * lib/product, lib/stock, lib/itemsync).  Header-only; not for production code.
 * The first M3 request of a test is the token: push STUB_TOKEN first.
 */
#ifndef MLC_STUBCLIENTS_H
#define MLC_STUBCLIENTS_H

#include "http.h"
#include "ionapi.h"
#include "m3.h"
#include "shipstation.h"
#include "stubserver.h"
#include "testutil.h"

#define STUB_TOKEN (stub_reply){.status = 200, .body = "{\"access_token\":\"AT_1\",\"expires_in\":3600}"}

typedef struct stub_clients {
    stub_server *ms, *ss_srv; /* M3 (ION) and ShipStation */
    mlc_http *http;
    mlc_ionapi *ion;
    mlc_m3 *m3;
    mlc_ss *ss;
    char *dir; /* a fresh temporary directory (ShipStation state, a store) */
} stub_clients;

static inline void stub_clients_init(stub_clients *c)
{
    memset(c, 0, sizeof *c);
    c->ms = stub_start();
    c->ss_srv = stub_start();
    ck_assert_ptr_nonnull(c->ms);
    ck_assert_ptr_nonnull(c->ss_srv);
    c->dir = tu_tmpdir();
    char t[1024];
    snprintf(t, sizeof t,
             "{\"ti\":\"TEN\",\"ci\":\"TEN~c\",\"cs\":\"cs_1\",\"iu\":\"%s\",\"pu\":\"%s/TEN/as/\","
             "\"ot\":\"token.oauth2\",\"saak\":\"TEN#a\",\"sask\":\"sk_1\"}",
             c->ms->base, c->ms->base);
    ck_assert_int_eq(mlc_ionapi_parse(t, strlen(t), "t", &c->ion, NULL), MLC_OK);
    mlc_http_opts ho = {.timeout_s = 5, .max_attempts = 1, .retry_base_ms = 1, .retry_cap_ms = 5};
    ck_assert_int_eq(mlc_http_new(&ho, &c->http, NULL), MLC_OK);
    mlc_ionapi_attach(c->ion, c->http, NULL, NULL, 300);
    ck_assert_int_eq(mlc_m3_new_with(&(mlc_m3_opts){.ion = c->ion, .http = c->http, .cono = 100}, &c->m3, NULL), MLC_OK);
    mlc_ss_opts o = {.v2_url = c->ss_srv->base, .v1_url = c->ss_srv->base, .v2_key = "k2",
                     .v1_key = "k1", .v1_secret = "s1", .state_dir = c->dir,
                     .http = {.timeout_s = 5, .max_attempts = 1, .retry_base_ms = 1, .retry_cap_ms = 5}};
    ck_assert_int_eq(mlc_ss_new_with(&o, &c->ss, NULL), MLC_OK);
}

static inline void stub_clients_free(stub_clients *c)
{
    mlc_ss_free(c->ss);
    mlc_m3_free(c->m3);
    mlc_ionapi_free(c->ion);
    mlc_http_free(c->http);
    stub_stop(c->ms);
    stub_stop(c->ss_srv);
    free(c->dir);
}

/* A profile "t" with cloudsuite.responsible RSP and the given mapping block
 * (indented 6 spaces) and extra cloudsuite keys (indented 6 spaces, or ""). */
static inline mlc_config *stub_config(const char *mapping, const char *cloudsuite)
{
    char text[4096];
    snprintf(text, sizeof text, "profiles:\n  t:\n    cloudsuite:\n      responsible: RSP\n%s    mapping:\n%s",
             cloudsuite, mapping);
    mlc_config *c = NULL;
    mlc_error e = {0};
    ck_assert_msg(mlc_config_load_string(text, strlen(text), "t.yaml", "t", &c, &e) == MLC_OK, "%s", e.msg);
    return c;
}

#endif
