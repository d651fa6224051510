#!/bin/sh
# test_v1_fulfillments.sh (issue 16 item 6): V1 orders shipped without a label, against
# mlc-sim: an order marked shipped (POST /orders/markasshipped) has a fulfillment and no
# /shipments record; pull-shipments --api v1 finds it (fulfillments joined to the shipped
# orders polled by modifyDate) and post-receipts receives it exactly once; an order
# shipped with a label is received once, not again through the orders poll; an order
# cancelled in ShipStation is never received and is reported once (stderr, audit).
. tests/integration/lib.sh
sim_start
V1KEY=$(cat "$SIM_DIR/shipstation-v1.key")
v1() { curl -sS -u "$V1KEY" -H 'Content-Type: application/json' "$@"; }
v1_calls() { admin GET 'state?path=counters' | jq -r "[.requests | to_entries[] | select(.key | startswith(\"$1 \")) | .value] | add // 0"; }

"$MLC" pull-pos 2>/dev/null | jq -c 'select(.warehouse != "WH9" and .supplier.id != "SUP012")' | head -n 4 \
  | "$MLC" push-shipments --api v1 >"$SIM_DIR/push.jsonl" 2>"$SIM_DIR/push.err"
check_eq "four V1 orders created" 4 "$(state '.shipstation.v1.orders | length')"
oid() { state ".shipstation.v1.orders[$1].orderId"; }
po_of() { state ".shipstation.v1.orders[$1].advancedOptions.customField1" | cut -d'|' -f1; }
A=$(oid 0); B=$(oid 1); C=$(oid 2); D=$(oid 3)
poB=$(jq -r "select(.shipstation_id == \"$B\" or .shipstation_id == $B) | .po" "$SIM_DIR/push.jsonl" 2>/dev/null | head -n 1)
[ -n "$poB" ] || poB=$(state ".shipstation.v1.orders[1].orderNumber")
poC=$(state ".shipstation.v1.orders[2].orderNumber")

# --- nothing shipped: the fulfillments list is empty, the orders list is not read ---
"$MLC" pull-shipments --api v1 --no-webhooks >"$SIM_DIR/sh0.jsonl" 2>"$SIM_DIR/sh0.err"; rc=$?
check_eq "nothing shipped: exit 0" 0 "$rc"
check_eq "nothing shipped: one fulfillments list call" 1 "$(v1_calls 'GET /fulfillments')"

# --- the sim's V1 markasshipped refuses what ShipStation refuses ---
code=$(v1 -o /dev/null -w '%{http_code}' -X POST --data '{"orderId":999999999,"carrierCode":"ups"}' "$SIM_URL/orders/markasshipped")
check_eq "markasshipped: unknown order 404" 404 "$code"
code=$(v1 -o /dev/null -w '%{http_code}' -X POST --data "{\"orderId\":$B}" "$SIM_URL/orders/markasshipped")
check_eq "markasshipped: no carrierCode 400" 400 "$code"

# --- A ships with a label, B is marked shipped, C is cancelled, D waits ---
admin POST ship "{\"ids\":[$A]}" >/dev/null
out=$(v1 -X POST --data "{\"orderId\":$B,\"carrierCode\":\"fedex\",\"shipDate\":\"2026-11-20\",\"trackingNumber\":\"1ZMARKED$B\",\"notifyCustomer\":false,\"notifySalesChannel\":false}" \
  "$SIM_URL/orders/markasshipped")
check_eq "markasshipped answers the order" "$B" "$(printf '%s' "$out" | jq -r .orderId)"
check_eq "B is shipped, with a fulfillment and no shipment" "shipped 1 0" \
  "$(state ".shipstation.v1.orders[1].orderStatus") $(state "[.shipstation.v1.fulfillments[] | select(.orderId == $B)] | length") $(state "[.shipstation.v1.shipments[] | select(.orderId == $B)] | length")"
code=$(v1 -o /dev/null -w '%{http_code}' -X POST --data "{\"orderId\":$B,\"carrierCode\":\"ups\"}" "$SIM_URL/orders/markasshipped")
check_eq "markasshipped: a shipped order is refused (400)" 400 "$code"
check_eq "GET /fulfillments?orderId= lists it" 1 "$(v1 "$SIM_URL/fulfillments?orderId=$B" | jq .total)"
admin POST cancel "{\"ids\":[$C]}" >/dev/null
check_eq "C is cancelled" cancelled "$(state ".shipstation.v1.orders[2].orderStatus")"

"$MLC" pull-shipments --api v1 --no-webhooks >"$SIM_DIR/sh1.jsonl" 2>"$SIM_DIR/sh1.err"; rc=$?
check_eq "pull-shipments: exit 0" 0 "$rc"
check_eq "the label shipment reported once (v1-<shipmentId>)" 1 "$(jq -r "select(.order_key == \"$(state ".shipstation.v1.orders[0].orderKey")\") | .shipment_id" "$SIM_DIR/sh1.jsonl" | grep -c '^v1-[0-9]')"
check_eq "the marked-shipped order reported from its fulfillment" "1ZMARKED$B" \
  "$(jq -r 'select(.shipment_id | startswith("v1-f")) | .tracking_number' "$SIM_DIR/sh1.jsonl")"
check_eq "its items: every line of the order" "$(state ".shipstation.v1.orders[1].items | length")" \
  "$(jq -r 'select(.shipment_id | startswith("v1-f")) | .items | length' "$SIM_DIR/sh1.jsonl")"
check_eq "its ship date in UTC (Pacific midnight)" "2026-11-20T08:00:00Z" \
  "$(jq -r 'select(.shipment_id | startswith("v1-f")) | .ship_date' "$SIM_DIR/sh1.jsonl")"
check_eq "two records, none for the cancelled or the waiting order" 2 "$(wc -l <"$SIM_DIR/sh1.jsonl")"
check "the cancelled order is reported on stderr" grep -q "was cancelled in ShipStation" "$SIM_DIR/sh1.err"
check_eq "and in the audit trail, once" 1 \
  "$(sqlite3 "$MLC_STATE_DIR/sim.db" "select count(*) from audit where event = 'order_cancelled' and detail like '%$C%'")"

"$MLC" post-receipts <"$SIM_DIR/sh1.jsonl" >"$SIM_DIR/rc1.jsonl" 2>"$SIM_DIR/rc1.err"
want=$(jq -r '.items | length' "$SIM_DIR/sh1.jsonl" | awk '{s += $1} END {print s}')
check_eq "every shipped line received once" "$want" "$(state '.m3.receipts | length')"
poB=$(jq -r 'select(.shipment_id | startswith("v1-f")) | .po' "$SIM_DIR/sh1.jsonl")
check_eq "the marked-shipped PO received" "$(jq -r 'select(.shipment_id | startswith("v1-f")) | .items | length' "$SIM_DIR/sh1.jsonl")" \
  "$(state "[.m3.receipts[] | select(.PUNO == \"$poB\")] | length")"
poC=$(state ".shipstation.v1.orders[2].advancedOptions.customField1" | sed 's/[^0-9A-Za-z_-].*//')
check_eq "the cancelled order's PO not received" 0 "$(state "[.m3.receipts[] | select(.PUNO == \"$poC\")] | length")"

# --- again: nothing new, nothing received twice, the cancel not reported again ---
"$MLC" pull-shipments --api v1 --no-webhooks --no-cursor --since 2026-11-01 >"$SIM_DIR/sh2.jsonl" 2>"$SIM_DIR/sh2.err"
check_eq "a second pull (from before everything) reports nothing new" 0 "$(wc -l <"$SIM_DIR/sh2.jsonl")"
check "the cancelled order is not reported again" sh -c "! grep -q 'was cancelled in ShipStation' '$SIM_DIR/sh2.err'"
"$MLC" post-receipts <"$SIM_DIR/sh1.jsonl" >"$SIM_DIR/rc2.jsonl" 2>/dev/null
check_eq "the same records again: all duplicates" "$want" "$(jq -r 'select(.status == "duplicate")' "$SIM_DIR/rc2.jsonl" | jq -s length)"
check_eq "M3 still holds each receipt once" "$want" "$(state '.m3.receipts | length')"
t_done
