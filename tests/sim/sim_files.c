/*
 * sim_files.c: the files mlc-sim writes into --dir at start: tenant.ionapi,
 * shipstation-v2.key, shipstation-v1.key (all 0600), sim.json and mlc.yaml (a ready
 * mlc profile against this sandbox, values from the seed); and sim.tokens, every
 * ION token it issues, appended as issued (for the tests' secret scan).
 *
 * Not here: reading any of them back (the sim never does).
 */
#include "sim.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_file(const char *name, const char *text, int mode)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", SIM->dir, name);
    char tmp[1300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0) {
        perror(tmp);
        return -1;
    }
    size_t n = strlen(text);
    int ok = write(fd, text, n) == (ssize_t)n;
    ok = fchmod(fd, (mode_t)mode) == 0 && ok;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

/* tenant.ionapi (the profile's app); with --second-client also second.ionapi */
static int write_ionapi(int second)
{
    cJSON *j = cJSON_CreateObject();
    char pu[160];
    snprintf(pu, sizeof pu, "%s/%s/as/", SIM->base_url, SIM_TENANT);
    jset_str(j, "ti", SIM_TENANT);
    jset_str(j, "cn", second ? "mlc-sim-ims" : "mlc-sim");
    jset_str(j, "dt", "12");
    jset_str(j, "ci", second ? SIM->ci2 : SIM->ci);
    jset_str(j, "cs", second ? SIM->cs2 : SIM->cs);
    jset_str(j, "iu", SIM->base_url);
    jset_str(j, "pu", pu);
    jset_str(j, "oa", "authorization.oauth2");
    jset_str(j, "ot", "token.oauth2");
    jset_str(j, "or", "revoke_token.oauth2");
    jset_str(j, "ev", "U1");
    jset_str(j, "v", "1.0");
    jset_str(j, "saak", second ? SIM->saak2 : SIM->saak);
    jset_str(j, "sask", second ? SIM->sask2 : SIM->sask);
    char *txt = cJSON_Print(j);
    cJSON_Delete(j);
    int rc = write_file(second ? "second.ionapi" : "tenant.ionapi", txt, 0600);
    free(txt);
    return rc;
}

static int write_simjson(void)
{
    cJSON *j = cJSON_CreateObject();
    char buf[256];
    jset_str(j, "url", SIM->base_url);
    snprintf(buf, sizeof buf, "%s/admin", SIM->base_url);
    jset_str(j, "admin_url", buf);
    snprintf(buf, sizeof buf, "%s/%s/as/", SIM->base_url, SIM_TENANT);
    jset_str(j, "ion_url", buf);
    snprintf(buf, sizeof buf, "%s/%s/M3/m3api-rest/v2/execute", SIM->base_url, SIM_TENANT);
    jset_str(j, "m3_url", buf);
    jset_str(j, "v2_url", SIM->base_url);
    jset_str(j, "v1_url", SIM->base_url);
    jset_str(j, "ti", SIM_TENANT);
    jset_num(j, "pid", (double)getpid());
    char *txt = cJSON_Print(j);
    cJSON_Delete(j);
    int rc = write_file("sim.json", txt, 0644);
    free(txt);
    return rc;
}

static void yq(sbuf *b, const char *s)
{
    sb_add(b, "\"");
    for (s = s ? s : ""; *s; s++) {
        if (*s == '"' || *s == '\\')
            sb_add(b, "\\");
        sb_addn(b, s, 1);
    }
    sb_add(b, "\"");
}

static void yaml_address(sbuf *b, const char *key, const cJSON *a)
{
    static const char *f[] = {"name", "company", "street1", "city", "state", "postal_code", "country", "phone"};
    sb_printf(b, "%s: {", key);
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        sb_printf(b, "%s%s: ", i ? ", " : "", f[i]);
        yq(b, jstr(a, f[i]));
    }
    sb_add(b, "}\n");
}

static void yaml_mapping(sbuf *b, cJSON *m3, cJSON *ss)
{
    sb_add(b, "    mapping:\n      order_types:            # M3 PO order type (ORTY) -> receipt route\n");
    cJSON *ot;
    cJSON_ArrayForEach(ot, cJSON_GetObjectItem(m3, "order_types"))
        if (cJSON_IsString(ot))
            sb_printf(b, "        %s: %s\n", ot->string, ot->valuestring);
    sb_add(b, "      warehouses:             # M3 WHLO -> ShipStation warehouse and ship-to address\n");
    cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItem(m3, "warehouses")) {
        if (!jbool(w, "mapped", 1))
            continue;
        sb_printf(b, "        %s:\n          warehouse_id: %s     # V2 warehouse id\n", jstr(w, "WHLO"),
                  jstr(w, "v2_warehouse_id"));
        sb_printf(b, "          v1_warehouse_id: %.0f\n", jnum(w, "v1_warehouse_id", 0));
        /* the ShipStation inventory location of this warehouse, so sync-items keeps
         * stock in step (M3 on-hand -> ShipStation) out of the box */
        cJSON *loc;
        cJSON_ArrayForEach(loc, cJSON_GetObjectItem(ss, "inventory_locations"))
            if (jstr(loc, "WHLO") && jstr(w, "WHLO") && strcmp(jstr(loc, "WHLO"), jstr(w, "WHLO")) == 0 &&
                jstr(loc, "inventory_location_id"))
                sb_printf(b, "          inventory_location_id: %s   # V2 inventory location (stock)\n",
                          jstr(loc, "inventory_location_id"));
        yaml_address(b, "          ship_to", cJSON_GetObjectItem(w, "address"));
    }
    sb_add(b, "      suppliers:              # M3 SUNO -> ship-from address and carrier defaults\n");
    cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(m3, "suppliers")) {
        if (!jbool(s, "mapped", 1))
            continue;
        sb_printf(b, "        %s:\n", jstr(s, "SUNO"));
        yaml_address(b, "          ship_from", cJSON_GetObjectItem(s, "address"));
        sb_printf(b, "          carrier_id: %s       # V2 carrier id\n", jstr(s, "carrier_id"));
        sb_printf(b, "          carrier_code: %s         # V1\n", jstr(s, "carrier_code"));
        sb_printf(b, "          service_code: %s\n", jstr(s, "service_code"));
    }
}

static int write_yaml(void)
{
    cJSON *m3 = cJSON_GetObjectItem(SIM->st, "m3");
    sbuf b = {0};
    sb_add(&b, "# mlc.yaml written by mlc-sim for a profile against this sandbox\n"
               "default_profile: sim\nprofiles:\n  sim:\n    state_dir: state\n    cloudsuite:\n"
               "      ionapi: tenant.ionapi\n");
    sb_printf(&b, "      cono: %.0f\n      divi: ", jnum(m3, "cono", 100));
    yq(&b, jstr(m3, "divi"));
    sb_printf(&b, "\n      responsible: %s\n", jstr(m3, "responsible") ? jstr(m3, "responsible") : "MLC");
    sb_printf(&b, "    shipstation:\n      api: v2\n      v2_url: %s\n      v1_url: %s\n"
                  "      api_key_file: shipstation-v2.key\n      v1_key_file: shipstation-v1.key\n",
              SIM->base_url, SIM->base_url);
    yaml_mapping(&b, m3, cJSON_GetObjectItem(SIM->st, "shipstation"));
    int rc = write_file("mlc.yaml", b.s, 0600);
    free(b.s);
    return rc;
}

int files_write(void)
{
    char line[200];
    if (write_ionapi(0) != 0 || (SIM->second_client && write_ionapi(1) != 0))
        return -1;
    snprintf(line, sizeof line, "%s\n", SIM->v2key);
    if (write_file("shipstation-v2.key", line, 0600) != 0)
        return -1;
    snprintf(line, sizeof line, "%s:%s\n", SIM->v1key, SIM->v1secret);
    if (write_file("shipstation-v1.key", line, 0600) != 0)
        return -1;
    pthread_mutex_lock(&SIM->mu);
    int rc = write_yaml();
    pthread_mutex_unlock(&SIM->mu);
    if (rc != 0)
        return -1;
    return write_simjson();
}

/* Appends an issued token (access or refresh) to DIR/sim.tokens (0600), one a
 * line: the integration tests' secret scan looks for these values in whatever mlc
 * left behind. Best effort: a write that fails only weakens that scan. */
void files_note_token(const char *value)
{
    if (!value || !*value || !SIM->dir[0])
        return;
    char path[1200];
    snprintf(path, sizeof path, "%s/sim.tokens", SIM->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0)
        return;
    size_t n = strlen(value);
    if (write(fd, value, n) != (ssize_t)n || write(fd, "\n", 1) != 1)
        fprintf(stderr, "mlc-sim: %s: cannot note an issued token\n", path);
    close(fd);
}
