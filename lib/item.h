/*
 * item.h: the item adapter: an M3 item (MMS200MI) and a ShipStation product (V1
 * /products, or V2 /v2/products read-only) reduced to the same few synced fields,
 * the per-field decision which side wins, and the calls that write a decision
 * back (MMS200MI/UpdItmBasic or AddItmBasic; V1 PUT /products/{id} with the whole
 * resource) plus the stock push (MMS200MI/GetItmWhsBal -> V2 POST /v2/inventory
 * `adjust`, per mapped warehouse).
 *
 * Synced fields, canonical form (what is compared and remembered):
 *   name                 M3 ITDS  <-> name                 text, trimmed
 *   weight               M3 GRWE  <-> weightOz             ounces, 2 decimals
 *   length/width/height  M3 ILEN/IWID/IHEI <-> length/...  inches, 2 decimals
 *   customs_description  M3 FUDS  <-> customsDescription   text, trimmed
 * M3 units are mapping.items.weight_unit (kg|g|lb|oz) and mapping.items.length_unit
 * (cm|mm|m|in); V1 lengths are inches.  Numbers compare with a tolerance of 0.02
 * (unit round trips), names compare M3's 30 characters against a longer product name.
 *
 * Ownership (mapping.items.owners.<field>): cloudsuite (default) | shipstation |
 * newest.  mlc_item_plan() is pure: given both sides now and as mlc last left them
 * (the values it remembered after its own writes: no ping-pong), it says per field
 * which side to write.
 *
 * Not here: cursors, remembered values, records (cmd/sync_items.c with lib/store);
 * which items changed (the caller lists them with mlc_item_m3_changed and the
 * product index).
 * Ownership: mlc_item_new() -> mlc_item_free(); m3, ss, cfg and log are borrowed
 * and must outlive it.  Strings returned live as long as the mlc_item.
 * Values structs are plain data owned by the caller.
 */
#ifndef MLC_ITEM_H
#define MLC_ITEM_H

#include "config.h"
#include "error.h"
#include "log.h"
#include "m3.h"
#include "shipstation.h"

#include <stddef.h>
#include <time.h>

typedef struct mlc_item mlc_item;

typedef enum mlc_item_field {
    MLC_ITEM_NAME,
    MLC_ITEM_WEIGHT,
    MLC_ITEM_LENGTH,
    MLC_ITEM_WIDTH,
    MLC_ITEM_HEIGHT,
    MLC_ITEM_CUSTOMS_DESC,
    MLC_ITEM__NFIELDS
} mlc_item_field;

typedef enum mlc_item_owner { MLC_OWNER_CLOUDSUITE, MLC_OWNER_SHIPSTATION, MLC_OWNER_NEWEST } mlc_item_owner;

#define MLC_ITEM_VALUE_MAX 128

/* One side's view of an item in canonical form. */
typedef struct mlc_item_values {
    char sku[64];
    char v[MLC_ITEM__NFIELDS][MLC_ITEM_VALUE_MAX];
    time_t changed_at; /* M3 LMDT (midnight UTC) or product modifyDate; 0 = unknown */
} mlc_item_values;

/* What to do with one field. */
typedef enum mlc_item_act { MLC_ACT_NONE, MLC_ACT_TO_SS, MLC_ACT_TO_M3 } mlc_item_act;

typedef struct mlc_item_plan_out {
    mlc_item_act act[MLC_ITEM__NFIELDS];
    unsigned to_ss, to_m3; /* bit masks (1u << field) */
} mlc_item_plan_out;

/* "name", "weight", ... (the owners.<field> keys); NULL for a bad index. */
const char *mlc_item_field_name(mlc_item_field f);
/* Whether two canonical values of field f are the same (tolerances above). */
int mlc_item_same(mlc_item_field f, const char *a, const char *b);

/* Per field: both sides equal -> none; owner cloudsuite -> to ShipStation;
 * shipstation -> to M3; newest -> from the side that changed since prev (a NULL
 * prev counts as changed); both or neither changed -> the later changed_at, a tie
 * (M3 keeps days only) goes to CloudSuite. */
void mlc_item_plan(const mlc_item_owner owners[MLC_ITEM__NFIELDS], const mlc_item_values *m3,
                   const mlc_item_values *m3_prev, const mlc_item_values *ss, const mlc_item_values *ss_prev,
                   mlc_item_plan_out *out);

/* Remembered values as text (a small JSON object) and back; 0 on success. Caller frees. */
char *mlc_item_values_encode(const mlc_item_values *v);
int mlc_item_values_decode(const char *text, mlc_item_values *out);

/* Reads the mapping (owners, units, new_item, warehouses) and checks it:
 * MLC_ERR_CONFIG for an unknown field or owner or unit.  m3 or ss may be NULL
 * for the pure parts (tests). */
mlc_err mlc_item_new(const mlc_config *cfg, mlc_m3 *m3, mlc_ss *ss, mlc_log *log, mlc_item **out, mlc_error *err);
void mlc_item_free(mlc_item *it);
const mlc_item_owner *mlc_item_owners(const mlc_item *it);
/* Whether products can be written (V1 credentials present). */
int mlc_item_can_write_products(const mlc_item *it);

/* Canonical values from an M3 record (fields as in GetItmBasic) and from a
 * product (V1 or V2 shape, told apart by productId/product_id). */
void mlc_item_from_m3(const mlc_item *it, const mlc_m3_result *r, size_t i, mlc_item_values *out);
void mlc_item_from_product(const cJSON *product, mlc_item_values *out);

/* ---- M3 ---- */
/* Item numbers changed on or after from_day (yyyyMMdd), sorted, unique; *max_day
 * the latest LMDT seen ("" if none).  Caller frees *skus (one malloc'd block of n
 * pointers to strings inside it). */
mlc_err mlc_item_m3_changed(mlc_item *it, const char *from_day, char ***skus, size_t *n, char max_day[9],
                            mlc_error *err);
/* Reads the M3 side of n SKUs at once and keeps it until the next prefetch or
 * mlc_item_m3_forget: one bulk GetItmBasic (cloudsuite.programs.item_get) for all
 * of them and, when warehouses are mapped for stock, one bulk GetItmWhsBal for
 * every SKU and warehouse; mlc_item_m3_get and mlc_item_stock_sync then answer
 * from it.  A SKU M3's bulk answer does not settle (a NOK other than "no such
 * item", not processed) is read on its own as before; an item mlc writes is read
 * again after the write.  The caller sizes n (cloudsuite.bulk_read_size).  On a
 * call-level failure nothing is kept (the single reads then apply). */
mlc_err mlc_item_m3_prefetch(mlc_item *it, char *const *skus, size_t n, mlc_error *err);
void mlc_item_m3_forget(mlc_item *it);
/* MLC_ERR_NOTFOUND if M3 does not know the item. */
mlc_err mlc_item_m3_get(mlc_item *it, const char *sku, mlc_item_values *out, mlc_error *err);
/* UpdItmBasic of the fields in mask with the values in v. */
mlc_err mlc_item_m3_update(mlc_item *it, const mlc_item_values *v, unsigned mask, mlc_error *err);
/* AddItmBasic: ITNO = sku, the values in v (name, weight, customs description)
 * and mapping.items.new_item.<FIELD> for the rest (RESP defaults to
 * cloudsuite.responsible); the dimensions follow with UpdItmBasic (AddItmBasic
 * has no fields for them).  MLC_ERR_CONFIG naming a mandatory field left unset. */
mlc_err mlc_item_m3_create(mlc_item *it, const mlc_item_values *v, mlc_error *err);

/* ---- ShipStation products ---- */
/* Lists every active product once (V1 if it has credentials, else V2) and keeps
 * them indexed by SKU. */
mlc_err mlc_item_products_load(mlc_item *it, mlc_error *err);
size_t mlc_item_product_count(const mlc_item *it);
const char *mlc_item_product_sku(const mlc_item *it, size_t i);
/* The product with that SKU (borrowed), or NULL. */
const cJSON *mlc_item_product(const mlc_item *it, const char *sku);
/* PUT /products/{id}: the whole resource as listed, with the fields in mask set from v.
 * MLC_ERR_CONFIG when there are no V1 credentials (V2 products are read-only). */
mlc_err mlc_item_product_update(mlc_item *it, const mlc_item_values *v, unsigned mask, mlc_error *err);

/* ---- stock ---- */
typedef enum mlc_item_stock_action {
    MLC_STOCK_UNCHANGED,
    MLC_STOCK_ADJUSTED,
    MLC_STOCK_REPORTED, /* unknown warehouse, location or SKU: nothing written */
    MLC_STOCK_FAILED
} mlc_item_stock_action;

typedef struct mlc_item_stock {
    char warehouse[16];      /* M3 WHLO */
    char location[64];       /* inventory_location_id */
    double m3_qty;           /* STQT */
    double ss_qty;           /* on_hand before */
    long qty;                /* what adjust sets (whole units) */
    mlc_item_stock_action action;
    char reason[200];
    mlc_err err;             /* for FAILED */
} mlc_item_stock;

/* Number of warehouses mapped for stock (mapping.warehouses.<WHLO> with an
 * inventory_location_id or inventory_warehouse_id). */
size_t mlc_item_stock_warehouses(const mlc_item *it);
/* For each mapped warehouse: GetItmWhsBal (one bulk request for all of them), the
 * warehouse's GET /v2/inventory levels (read once per mlc_item), and (unless
 * dry_run) POST /v2/inventory adjust when on-hand differs.  out has room for
 * mlc_item_stock_warehouses() entries.  Per-warehouse problems are in out[i]. */
void mlc_item_stock_sync(mlc_item *it, const char *sku, int dry_run, mlc_item_stock *out);

#endif
