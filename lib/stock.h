/*
 * stock.h: the stock push: M3 on-hand (MMS200MI/GetItmWhsBal, cloudsuite.programs.
 * item_balance) -> ShipStation inventory (V2 POST /v2/inventory `adjust`), per
 * warehouse mapped for stock (mapping.warehouses.<WHLO> with an
 * inventory_location_id or inventory_warehouse_id).  One way only: ShipStation's
 * on-hand never goes back to M3.
 *
 * adjust sets an absolute quantity, so repeating it is harmless; it is sent only
 * where ShipStation's on-hand differs from M3's (whole units, never negative).
 * A warehouse's inventory levels are listed once per mlc_stock (one paged GET
 * /v2/inventory) and kept in step with the adjusts made.
 *
 * Not here: item fields and the SKU -> ITNO mapping (lib/item), products
 * (lib/product), which SKUs to look at and the records (lib/itemsync).
 * Ownership: mlc_stock_new() -> mlc_stock_free(); cfg, m3, ss and it are
 * borrowed and must outlive it.  Level structs are plain data owned by the caller.
 */
#ifndef MLC_STOCK_H
#define MLC_STOCK_H

#include "config.h"
#include "error.h"
#include "item.h"
#include "m3.h"
#include "shipstation.h"

#include <stddef.h>

typedef struct mlc_stock mlc_stock;

typedef enum mlc_stock_action {
    MLC_STOCK_UNCHANGED,
    MLC_STOCK_ADJUSTED,
    MLC_STOCK_REPORTED, /* unknown warehouse, location or SKU: nothing written */
    MLC_STOCK_FAILED
} mlc_stock_action;

/* One SKU in one warehouse. */
typedef struct mlc_stock_level {
    char warehouse[16]; /* M3 WHLO */
    char location[64];  /* inventory_location_id */
    double m3_qty;      /* STQT */
    double ss_qty;      /* on_hand before */
    long qty;           /* what adjust sets (whole units) */
    mlc_stock_action action;
    char reason[200];
    mlc_err err; /* for FAILED */
} mlc_stock_level;

/* Reads mapping.warehouses; it gives the SKU -> ITNO mapping.  m3 and ss may be
 * NULL for the mapping alone (tests). */
mlc_err mlc_stock_new(const mlc_config *cfg, mlc_m3 *m3, mlc_ss *ss, mlc_item *it, mlc_stock **out,
                      mlc_error *err);
void mlc_stock_free(mlc_stock *s);
/* Number of warehouses mapped for stock. */
size_t mlc_stock_warehouses(const mlc_stock *s);
/* M3 on-hand of n SKUs in every mapped warehouse, read with bulk GetItmWhsBal
 * calls of cloudsuite.bulk_size SKUs (one transaction per SKU and warehouse), kept
 * until the next prefetch or mlc_stock_forget; mlc_stock_sync then answers from
 * it.  A SKU M3 does not know is left out (its sync reports it).  Only running
 * out of memory or a failed SKU mapping fails the call (nothing is kept then); a
 * failed bulk read is kept as a failure of each of its SKUs. */
mlc_err mlc_stock_prefetch(mlc_stock *s, char *const *skus, size_t n, mlc_error *err);
void mlc_stock_forget(mlc_stock *s);
/* For each mapped warehouse: M3's on-hand (prefetched, or one bulk request for
 * all warehouses), the warehouse's inventory levels, and (unless dry_run) POST
 * /v2/inventory adjust when on-hand differs.  out has room for
 * mlc_stock_warehouses() entries; per-warehouse problems are in out[i]. */
void mlc_stock_sync(mlc_stock *s, const char *sku, int dry_run, mlc_stock_level *out);

#endif
