/*
 * itemsync.h: the two-way item sync, the engine behind `mlc sync-items`
 * (mlc-sync-items(1)): CloudSuite items and ShipStation products aligned field by
 * field as mapping.items.owners says, and M3's on-hand pushed to ShipStation's
 * inventory.  One outcome per SKU and direction goes to a callback, as an `item`
 * record (kind, sku, direction, fields_changed, action, reason, stock, dry_run).
 *
 * Which SKUs a run looks at: M3 items changed since the cursor "sync-items" (a
 * change day, read with cloudsuite.poll_overlap_days of overlap), and every
 * ShipStation product whose synced fields differ from what mlc last saw or wrote
 * there, or from what it last saw in M3.
 * No ping-pong: after its own writes mlc remembers the values it wrote on each
 * side (store namespaces "item:m3" and "item:ss"), so its writes are not taken
 * for new changes on the next run.  Values are not remembered for a side whose
 * change is still waiting for the other direction (a failed or one-way run).
 * The cursor moves only after a complete run (not dry-run, not --sku, direction
 * to ShipStation, no failure, not stopped): see mlc_itemsync_finish.
 *
 * Not here: the field rules and M3 item calls (lib/item), products (lib/product),
 * the stock push (lib/stock), SQL (lib/store), printing (cmd/sync_items.c).  The
 * engine logs through log (stderr) and prints nothing.
 * Ownership: mlc_itemsync_new() -> mlc_itemsync_free(); cfg, m3, ss, st and log
 * are borrowed and must outlive it; it owns its item, product and stock
 * adapters.  The outcome passed to the callback is valid only during the call.
 */
#ifndef MLC_ITEMSYNC_H
#define MLC_ITEMSYNC_H

#include "config.h"
#include "error.h"
#include "log.h"
#include "m3.h"
#include "shipstation.h"
#include "store.h"

#include <cjson/cJSON.h>

typedef struct mlc_itemsync mlc_itemsync;

typedef struct mlc_itemsync_opts {
    /* from the command line */
    int to_ss, to_m3;      /* directions: both set by default */
    int dry_run;           /* read both systems, write nothing, move no cursor */
    const char *sku;       /* this SKU only (no listing, cursor untouched), or NULL */
    const char *since_day; /* yyyyMMdd: M3 changes since this day instead of the cursor, or NULL */
    /* from the configuration (mlc_itemsync_opts_from_config) */
    int create_in_m3;         /* mapping.items.create_in_m3 */
    long long overlap_days;   /* cloudsuite.poll_overlap_days */
    long long bulk_read_size; /* cloudsuite.bulk_read_size: SKUs read from M3 per bulk call */
} mlc_itemsync_opts;

/* Fills *o: both directions, no dry run, no SKU, no since, and the config keys. */
void mlc_itemsync_opts_from_config(const mlc_config *cfg, mlc_itemsync_opts *o);

typedef struct mlc_itemsync_outcome {
    const char *sku;
    const char *direction; /* "to-shipstation" or "to-cloudsuite" */
    const char *action;    /* "updated", "created", "unchanged", "reported", "skipped" */
    const char *reason;    /* "" when none */
    const cJSON *record;   /* the whole item record */
} mlc_itemsync_outcome;

/* Returns nonzero to stop: the run ends after the current SKU and the cursor
 * does not move. */
typedef int (*mlc_itemsync_cb)(void *ud, const mlc_itemsync_outcome *o);

/* Checks the mapping (MLC_ERR_CONFIG).  opts is copied (its strings are borrowed). */
mlc_err mlc_itemsync_new(const mlc_itemsync_opts *opts, const mlc_config *cfg, mlc_m3 *m3, mlc_ss *ss,
                         mlc_store *st, mlc_log *log, mlc_itemsync **out, mlc_error *err);
void mlc_itemsync_free(mlc_itemsync *s);
/* Whether product fields can be written (ShipStation V1 credentials present);
 * without, they are compared and reported, stock is still pushed. */
int mlc_itemsync_can_write_products(const mlc_itemsync *s);

/* Lists the SKUs and syncs each, outcomes via cb.  A failure of one SKU is logged,
 * counted and reported in its outcome (stats.failed, stats.worst) and the run goes
 * on.  Returns an error (in err, not logged) only when the run as a whole could not
 * be done: listing products or changed items, reading the cursor or the memory. */
mlc_err mlc_itemsync_run(mlc_itemsync *s, mlc_itemsync_cb cb, void *ud, mlc_error *err);
/* After a run whose records were all delivered: moves the cursor to the latest
 * M3 change day seen, when the run was complete (see above); else does nothing. */
mlc_err mlc_itemsync_finish(mlc_itemsync *s, mlc_error *err);

typedef struct mlc_itemsync_stats {
    long updated, created, unchanged, reported, skipped; /* outcomes by action */
    long failed;                                        /* failures logged */
    mlc_err worst; /* the failures' code: the first, or a transient one */
    mlc_outcome out; /* the failures counted by the one rule (lib/error.h): failed, later, trouble */
    int stopped;   /* the callback asked to stop */
} mlc_itemsync_stats;
const mlc_itemsync_stats *mlc_itemsync_stats_get(const mlc_itemsync *s);

#endif
