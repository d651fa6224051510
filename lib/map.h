/*
 * map.h: the mapping rules of a profile (mlc.yaml `mapping:`), applied to records.
 *
 *  - purchase_order record -> ShipStation V2 create_shipment_request or V1 Order:
 *    warehouse (WHLO) -> ship_to address and ShipStation warehouse; supplier (SUNO)
 *    -> ship_from address and carrier/service defaults; the PO number and line keys
 *    travel in external_shipment_id / orderKey (mlc's idempotency key) and item
 *    keys ("PUNO/PNLI/PNLS"; V2 items[].external_order_id/external_order_item_id),
 *    so a shipment can always be traced back. V2 sends only fields its contract
 *    declares (no custom fields, no service_code) plus one package with the summed
 *    weight when every open line has one; V1 also carries PO/SUNO/ORTY/WHLO tags in
 *    its custom fields (which V1 documents).
 *  - PO order type (ORTY) -> receipt route (po_receipt | goods_receipt).
 *
 * An inbound shipment goes from the supplier (ship_from) to our warehouse
 * (ship_to). V2's warehouse_id means "ship from", so it is NOT set; the M3
 * warehouse stays in mlc's link table. V1 orders have no per-order ship-from: the
 * supplier travels in billTo and customField2.
 *
 * Not here: talking to either system (lib/shipstation, lib/m3), storing links.
 * Ownership: mlc_map_new() -> mlc_map_free(); payloads returned are the caller's
 * (cJSON_Delete), and must be deleted before the map is freed: their addresses
 * are cJSON references to what the map resolved once from the config. The map
 * borrows the config, which must outlive it.
 */
#ifndef MLC_MAP_H
#define MLC_MAP_H

#include "config.h"
#include "error.h"
#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct mlc_map mlc_map;

typedef enum { MLC_ROUTE_PO_RECEIPT, MLC_ROUTE_GOODS_RECEIPT } mlc_route;

/* Checks the mapping section (routes, address completeness of what is mapped). */
mlc_err mlc_map_new(const mlc_config *cfg, mlc_map **out, mlc_error *err);
void mlc_map_free(mlc_map *map);

/* mlc's idempotency key for a PO: "mlc-<cono>-<po>" (at most 50 chars); from
 * revision 2 on "mlc-<cono>-<po>.r<rev>". V2 has no shipment update (the spec has
 * GET and cancel only), so a changed PO is cancelled and re-created under the
 * next revision; V1 upserts by orderKey and stays at revision 1. */
void mlc_map_order_key(long long cono, const char *po, int rev, char *buf, size_t cap);
/* Parses an order key back; returns 0 on success. po must hold 32 bytes; rev may be NULL. */
int mlc_map_parse_order_key(const char *key, long long *cono, char po[32], int *rev);
/* Item key of a PO line: "PUNO/PNLI/PNLS". */
void mlc_map_line_key(const char *po, int line, int subline, char *buf, size_t cap);
int mlc_map_parse_line_key(const char *key, char po[32], int *line, int *subline);

/* Route for an M3 order type (default mapping.default_route). */
mlc_route mlc_map_route(const mlc_map *map, const char *order_type);
const char *mlc_map_route_name(mlc_route r);

/* Validates a purchase_order record's shape (kind, po, cono, warehouse, supplier.id,
 * lines[] with line, item, qty_ordered). MLC_ERR_INPUT naming the field. */
mlc_err mlc_map_check_po(const cJSON *po, mlc_error *err);

/* PO record -> V2 create_shipment_request (one element of "shipments").
 * MLC_ERR_INPUT with the reason if it cannot be mapped (unknown warehouse, supplier
 * without an address, missing fields). */
mlc_err mlc_map_po_to_v2(const mlc_map *map, const cJSON *po, cJSON **out, mlc_error *err);
/* PO record -> V1 Order for createorders. */
mlc_err mlc_map_po_to_v1(const mlc_map *map, const cJSON *po, cJSON **out, mlc_error *err);

/* Reads KEY:VALUE tokens (PO, SUNO, ORTY, WHLO) back from custom fields; 0 if found. */
int mlc_map_parse_tags(const char *const fields[], size_t n, const char *key, char *out, size_t cap);

/* Hex SHA-256 of the compact JSON of j (out: 65 bytes). */
void mlc_map_hash(const cJSON *j, char out[65]);

#endif
