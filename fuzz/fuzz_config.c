/*
 * fuzz_config.c: libFuzzer harness for the YAML config loader (lib/config
 * mlc_config_load_string) and, for configs it accepts, the mapping rules built
 * on them (lib/map mlc_map_new) and a walk of the whole parsed tree.
 *
 * Not for: files, XDG paths, the vault.  Built by `make fuzz`.
 */
#include "config.h"
#include "map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t touch(const char *s) { return s ? strlen(s) : 0; }

static size_t walk(const mlc_config_node *n, int depth)
{
    size_t sum = 0;
    if (!n || depth > 64)
        return 0;
    sum += touch(mlc_config_node_key(n)) + (size_t)mlc_config_node_line(n);
    if (mlc_config_node_kind(n) == MLC_CFG_SCALAR)
        return sum + touch(mlc_config_node_value(n));
    size_t count = mlc_config_node_count(n);
    for (size_t i = 0; i < count; i++)
        sum += walk(mlc_config_node_child(n, i), depth + 1);
    return sum + (mlc_config_node_get(n, "warehouses") != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once) { /* the environment must not pick the profile or the state dir */
        unsetenv("MLC_PROFILE");
        unsetenv("MLC_STATE_DIR");
        once = 1;
    }
    mlc_config *cfg = NULL;
    mlc_map *map = NULL;
    mlc_error err = {0};
    size_t n = 0;
    if (mlc_config_load_string((const char *)data, size, "fuzz.yaml", NULL, &cfg, &err) != MLC_OK) {
        mlc_config_free(cfg);
        return (int)(touch(err.msg) == (size_t)-1);
    }
    n += touch(mlc_config_profile(cfg)) + touch(mlc_config_str(cfg, "cloudsuite.programs.po_receipt"));
    n += (size_t)mlc_config_int(cfg, "receipts.max_attempts") + (size_t)mlc_config_bool(cfg, "log.json");
    n += walk(mlc_config_node_at(cfg, "mapping"), 0) + walk(mlc_config_node_at(cfg, "shipstation"), 0);
    if (mlc_map_new(cfg, &map, &err) == MLC_OK) {
        n += (size_t)mlc_map_route(map, "PP1") + (size_t)mlc_map_route(map, "");
        mlc_map_free(map);
    }
    mlc_config_free(cfg);
    return n == (size_t)-1; /* keeps n alive; always 0 */
}
