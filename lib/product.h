/*
 * product.h: ShipStation products for the item sync: every active product listed
 * once (V1 GET /products if there are V1 credentials, else V2 GET /v2/products,
 * which is read-only) and indexed by SKU, and the one write, V1 PUT
 * /products/{id} with the whole resource as listed and the synced fields set.
 *
 * Not here: the synced fields' canonical form and which side wins (lib/item:
 * mlc_item_from_product, mlc_item_plan), stock (lib/stock), which SKUs to look
 * at and the records (lib/itemsync).
 * Ownership: mlc_product_new() -> mlc_product_free(); ss and log are borrowed
 * and must outlive it.  SKUs returned are borrowed from the mlc_product and stay
 * valid until the next mlc_product_load; a product returned by mlc_product_get
 * until the next mlc_product_get, mlc_product_load or mlc_product_update (products
 * are kept as JSON text and parsed one at a time: a run holds every product).
 */
#ifndef MLC_PRODUCT_H
#define MLC_PRODUCT_H

#include "error.h"
#include "item.h"
#include "log.h"
#include "shipstation.h"

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct mlc_product mlc_product;

mlc_err mlc_product_new(mlc_ss *ss, mlc_log *log, mlc_product **out, mlc_error *err);
void mlc_product_free(mlc_product *p);
/* Whether products can be written (V1 credentials present). */
int mlc_product_can_write(const mlc_product *p);
/* Lists every active product (a SKU on two products: the first listed wins, the
 * other is logged). */
mlc_err mlc_product_load(mlc_product *p, mlc_error *err);
size_t mlc_product_count(const mlc_product *p);
/* The i-th SKU in SKU order, or NULL. */
const char *mlc_product_sku(const mlc_product *p, size_t i);
/* The product with that SKU, or NULL. A V1 product is the whole resource as
 * listed; a V2 product (read-only) only the keys mlc_item_from_product reads. */
const cJSON *mlc_product_get(mlc_product *p, const char *sku);
/* PUT /products/{id}: the whole resource as listed, with the fields in mask
 * (1u << mlc_item_field) set from v; the index then holds what was written.
 * MLC_ERR_CONFIG when there are no V1 credentials (V2 products are read-only),
 * MLC_ERR_NOTFOUND when no V1 product has v->sku. */
mlc_err mlc_product_update(mlc_product *p, const mlc_item_values *v, unsigned mask, mlc_error *err);

#endif
