/*
 * po.h: CloudSuite purchase orders as mlc sees them: which POs changed since a
 * day, and one PO (head + lines) as a `purchase_order` record (mlc-internals(7), RECORDS).
 *
 * "Changed since" has no standard M3 transaction. The default,
 * cloudsuite.programs.po_changed = EXPORTMI/Select, queries MPHEAD (IALMDT) and
 * MPLINE (IBLMDT) for change dates >= the day, in the profile's company (the API
 * session's, set by lib/m3: EXPORTMI refuses a company in the query), at most
 * cloudsuite.export_max_rows rows a query (a full answer is asked again in
 * halves by change day, never taken as complete); any other configured program is
 * called as a list transaction with the from-date in field
 * cloudsuite.po_changed_from_field and the PO number read from
 * cloudsuite.po_changed_po_field (e.g. a CMS100MI custom list). M3 change dates
 * are days, so callers poll with an overlap and drop unchanged POs by the
 * record's content hash (mlc_po_hash, which ignores changed_at).
 *
 * Status: M3's PO head has no status in PPS200MI/GetHead, so the record's
 * `status` is the lowest line status (PUSL) and `status_high` the highest (PUST).
 *
 * Not here: cursors and hashes (lib/store, the caller), ShipStation.
 * Ownership: lists and records returned are the caller's (mlc_po_changes_free,
 * cJSON_Delete).
 */
#ifndef MLC_PO_H
#define MLC_PO_H

#include "config.h"
#include "error.h"
#include "m3.h"
#include <cjson/cJSON.h>

typedef struct mlc_po_change {
    char po[32];
    char day[9];   /* latest change day seen for this PO (yyyyMMdd), or "" */
} mlc_po_change;

/* POs changed on or after from_day (yyyyMMdd), sorted by PO number, unique.
 * *max_day: the latest change day seen (or "" if none). */
mlc_err mlc_po_changed(mlc_m3 *m3, const mlc_config *cfg, const char *from_day, mlc_po_change **out, size_t *n,
                       char max_day[9], mlc_error *err);
void mlc_po_changes_free(mlc_po_change *c);
/* The day a first poll starts from (no cursor): M3's today (GENERAL/GetServerTime,
 * the local clock if M3 does not answer) minus cloudsuite.initial_lookback_days. */
mlc_err mlc_po_initial_day(mlc_m3 *m3, const mlc_config *cfg, char out[9], mlc_error *err);

/* One PO as a purchase_order record. day: its change day if known (else it is
 * looked up). MLC_ERR_NOTFOUND if M3 does not know the PO. */
mlc_err mlc_po_fetch(mlc_m3 *m3, const mlc_config *cfg, const char *po, const char *day, cJSON **out,
                     mlc_error *err);

/* Several POs at once: two M3 bulk calls (po_head, po_lines), one transaction per
 * PO, then bulk item reads (item_get, one transaction per distinct item) for each
 * line's `weight` (GRWE per basic unit, null if M3 has none). The caller sizes n
 * (cloudsuite.bulk_read_size). MLC_OK when M3 answered:
 * then for each i, recs[i] is the record (changed_at from changes[i].day), or
 * NULL with errs[i] saying why (MLC_ERR_NOTFOUND: M3 does not know the PO;
 * MLC_ERR_TRANSIENT: M3 did not process it; MLC_ERR_REMOTE: its lines failed).
 * Otherwise the error of a call that failed as a whole, and no record. */
mlc_err mlc_po_fetch_many(mlc_m3 *m3, const mlc_config *cfg, const mlc_po_change *changes, size_t n, cJSON **recs,
                          mlc_error *errs, mlc_error *err);

/* The purchase_order record of a PO from its head (po_head result, record 0)
 * and lines (po_lines result): what mlc_po_fetch returns once M3 has answered.
 * day: the PO's change day (yyyyMMdd) or NULL/"" (changed_at null); cono and
 * divi: used when the head has none. Pure: no I/O. Returns a new record. */
cJSON *mlc_po_record(const mlc_m3_result *head, const mlc_m3_result *lines, const char *po, const char *day,
                     long long cono, const char *divi);

/* Content hash of a purchase_order record without changed_at (out: 65 bytes). */
void mlc_po_hash(const cJSON *record, char out[65]);

/* Parses "15-50" (or "20") into a range of two-digit statuses; 0 on success. */
int mlc_po_parse_statuses(const char *s, int *lo, int *hi);
/* The lowest status of the record as an integer, -1 if absent. */
int mlc_po_status(const cJSON *record);

#endif
