/*
 * item.h: the item adapter: an M3 item (MMS200MI) and a ShipStation product (V1
 * /products, or V2 /v2/products read-only) reduced to the same few synced fields,
 * the per-field decision which side wins (pure: item_plan.c), and the M3 item
 * calls that read items and write a decision back (MMS200MI/GetItmBasic,
 * UpdItmBasic or AddItmBasic: item.c).
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
 * Not here: the ShipStation product calls (lib/product), the stock push
 * (lib/stock), cursors, remembered values, records and which items to look at
 * (lib/itemsync with lib/store).
 * Ownership: mlc_item_new() -> mlc_item_free(); m3 and cfg are borrowed and
 * must outlive it.  Strings returned live as long as the mlc_item.
 * Values structs are plain data owned by the caller.
 */
#ifndef MLC_ITEM_H
#define MLC_ITEM_H

#include "config.h"
#include "error.h"
#include "m3.h"
#include <cjson/cJSON.h>

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
#define MLC_ITEM_M3_NAME_MAX 30 /* ITDS keeps this much of a longer name */
#define MLC_ITEM_M3_DESC_MAX 60 /* FUDS */

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
/* Whether f is a text field (name, customs_description) rather than a number. */
int mlc_item_field_is_text(mlc_item_field f);
/* The canonical form into dst (MLC_ITEM_VALUE_MAX bytes): a number with 2
 * decimals (not finite: 0), a text without leading and trailing blanks. */
void mlc_item_set_number(char *dst, double x);
void mlc_item_set_text(char *dst, const char *s);
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

/* Reads the mapping (owners, units, sku_field, new_item) and checks it:
 * MLC_ERR_CONFIG for an unknown field or owner or unit.  m3 may be NULL for
 * the pure parts (tests). */
mlc_err mlc_item_new(const mlc_config *cfg, mlc_m3 *m3, mlc_item **out, mlc_error *err);
void mlc_item_free(mlc_item *it);
const mlc_item_owner *mlc_item_owners(const mlc_item *it);

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
/* The ITNO of a SKU: the SKU itself, or (mapping.items.sku_field other than
 * ITNO) from one full listing read once; MLC_ERR_NOTFOUND if no item has it.
 * *itno lives as long as the mlc_item (or is sku). */
mlc_err mlc_item_m3_itno(mlc_item *it, const char *sku, const char **itno, mlc_error *err);
/* The SKUs of skus[0..n) that an M3 item has (mlc_item_m3_itno of each; the
 * others are left out) into known[0..*m) and their ITNOs into itnos[0..*m); both
 * have room for n.  Fails only when the SKU -> ITNO listing fails. */
mlc_err mlc_item_m3_itnos(mlc_item *it, char *const *skus, size_t n, const char **known, const char **itnos,
                         size_t *m, mlc_error *err);
/* Reads the M3 side of n SKUs at once and keeps it until the next prefetch or
 * mlc_item_m3_forget: one bulk GetItmBasic (cloudsuite.programs.item_get) for all
 * of them; mlc_item_m3_get then answers from it (their stock: mlc_stock_prefetch).  A SKU M3's bulk answer does not settle (a NOK other than "no such
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

#endif
