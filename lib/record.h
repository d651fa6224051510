/*
 * record.h: the checks every consumer of records makes before acting on one, in
 * one place, so push-shipments, post-receipts, replay and their dry runs refuse
 * exactly the same records:
 *
 *  - company: one company per profile. A record's `cono`, and the company in its
 *    `order_key` ("mlc-<cono>-<po>[.r<rev>]"), must be the profile's
 *    (cloudsuite.cono). A profile without cloudsuite.cono cannot tell: a record
 *    that names a company is then refused too, asking for the setting.
 *  - keys agree: the PO in `order_key` and in every `items[].po_line`
 *    ("PO/line/subline") is the record's `po`.
 *  - quantities fit the M3 field they go to (RVQA, ADQA: numeric, 15 digits, of
 *    which MLC_RECORD_QTY_DECIMALS are decimals): finite, >= 0, below
 *    MLC_RECORD_QTY_MAX, at most that many decimals; and they are always sent as
 *    plain decimals, never in exponent notation (mlc_record_qty_format).
 *
 * Not here: the shape of a record of one kind (lib/map for purchase orders,
 * lib/receipt for shipments), reading or rejecting lines (cmd/, lib/store).
 * Ownership: nothing is allocated; the record is borrowed.
 */
#ifndef MLC_RECORD_H
#define MLC_RECORD_H

#include "error.h"
#include <cjson/cJSON.h>
#include <stddef.h>

/* M3 quantity fields are numeric, 15 digits long (m3-transactions.json:
 * PPS001MI/GetLine RVQA length 15). [UNVERIFIED] the split into integer and
 * decimal digits is not in the public field list; 6 decimals is M3's usual
 * quantity precision, which leaves 9 integer digits. */
#define MLC_RECORD_QTY_DECIMALS 6
#define MLC_RECORD_QTY_MAX 1e9

/* MLC_OK, or MLC_ERR_INPUT naming the field and the reason. cono is the
 * profile's company (cloudsuite.cono), 0 if the profile sets none. */
mlc_err mlc_record_check(const cJSON *rec, long long cono, mlc_error *err);

/* MLC_OK if q fits an M3 quantity field; MLC_ERR_INPUT naming `field` if not. */
mlc_err mlc_record_check_qty(double q, const char *field, mlc_error *err);

/* q as a plain decimal ("12", "0.5", "1234.125"): no exponent, no trailing
 * zeros, rounded to MLC_RECORD_QTY_DECIMALS decimals; 32 bytes are enough.
 * Returns -1 and writes "" (never a cut-off number) when |q| is not below
 * MLC_RECORD_QTY_MAX or not finite; M3 then refuses the empty field. */
int mlc_record_qty_format(double q, char *buf, size_t cap);

#endif
