#!/bin/sh
# test_sync_items.sh: mlc sync-items against mlc-sim on a small seed of its own:
# both directions with per-field owners (cloudsuite, shipstation, newest), unit
# conversion, exact stock adjustments, unknown warehouse / SKU reported, repeated
# runs without ping-pong, conflicting edits, --dry-run, --sku, creation in M3;
# the plan is the same with and without cloudsuite.select_columns.
# Every check reads the sim's state dump or its request counters.
. tests/integration/lib.sh
sim_start

# ---- seed: three M3 items, three products (A and B in both, C only in M3, D only in ShipStation)
admin GET state | jq '
  del(.counters, .faults)
  | .m3.items = [
      {ITNO: "SKU-A", ITDS: "Widget A", FUDS: "", STAT: "20", UNMS: "EA", ITTY: "FG", RESP: "MLC", MABU: 2,
       GRWE: 1.5, NEWE: 1.4, ILEN: 10, IWID: 20, IHEI: 5, RGDT: "20260115", LMDT: "20261101",
       balances: {WH1: 40, WH2: 7, WH9: 3}},
      {ITNO: "SKU-B", ITDS: "Widget B", STAT: "20", UNMS: "EA", ITTY: "FG", RESP: "MLC", MABU: 2,
       GRWE: 2, ILEN: 2.54, IWID: 2.54, IHEI: 2.54, RGDT: "20260115", LMDT: "20261101", balances: {WH1: 10}},
      {ITNO: "SKU-C", ITDS: "Only in M3", STAT: "20", UNMS: "EA", ITTY: "FG", RESP: "MLC", MABU: 2,
       GRWE: 1, RGDT: "20260115", LMDT: "20261101", balances: {WH1: 1}}]
  | .m3.pos = []
  | .shipstation.products = [
      {product_id: 501, sku: "SKU-A", name: "Old name A", price: {amount: 9.5, currency: "usd"},
       weight: {value: 1, unit: "pound"}, dimensions: {length: 1, width: 1, height: 1, unit: "inch"},
       active: true, create_date: "2026-01-15T17:00:00.000Z", modify_date: "2026-10-01T17:00:00.000Z",
       _v1: {customsTariffNo: "8302.10", customsCountryCode: "US"}},
      {product_id: 502, sku: "SKU-B", name: "Widget B", price: {amount: 5, currency: "usd"},
       weight: {value: 4.40925, unit: "pound"}, dimensions: {length: 1, width: 1, height: 1, unit: "inch"},
       active: true, create_date: "2026-01-15T17:00:00.000Z", modify_date: "2026-10-01T17:00:00.000Z"},
      {product_id: 504, sku: "SKU-D", name: "Gadget D", price: {amount: 3, currency: "usd"},
       weight: {value: 0.5, unit: "pound"}, dimensions: {length: 4, width: 3, height: 2, unit: "inch"},
       active: true, create_date: "2026-01-15T17:00:00.000Z", modify_date: "2026-10-01T17:00:00.000Z"}]
  | .shipstation.inventory = [
      {sku: "SKU-A", on_hand: 35, allocated: 0, available: 35, inventory_warehouse_id: "se-3001", inventory_location_id: "se-4001"},
      {sku: "SKU-B", on_hand: 10, allocated: 0, available: 10, inventory_warehouse_id: "se-3001", inventory_location_id: "se-4001"},
      {sku: "SKU-D", on_hand: 1, allocated: 0, available: 1, inventory_warehouse_id: "se-3002", inventory_location_id: "se-4002"}]
' >"$SIM_DIR/seed.json"
check "the small seed loads" sh -c "curl -sf -X POST --data @$SIM_DIR/seed.json $SIM_URL/admin/seed >/dev/null"

# WH1 by location, WH2 by ShipStation warehouse (location found from its levels),
# WH9 mapped to a location ShipStation does not have. (The sim's ready profile maps
# every warehouse by location: those lines go first.)
sed -i '/^          inventory_location_id: /d' "$MLC_CONFIG"
sed -i 's/^        WH1:$/&\n          inventory_location_id: se-4001/; s/^        WH2:$/&\n          inventory_warehouse_id: se-3002/' "$MLC_CONFIG"
sed -i 's/^      warehouses:.*$/&\n        WH9: {inventory_location_id: se-4999}/' "$MLC_CONFIG"
sim_config_add "      items:" "        weight_unit: kg" "        length_unit: cm" \
  "        owners: {weight: shipstation, customs_description: newest}" \
  "        new_item: {STAT: \"20\", UNMS: EA, ITTY: FG, MABU: \"2\", PRVG: \"P1\"}"
sed -i 's/^    shipstation:$/&\n      rate_limit_v1: 1000\n      rate_limit_v2: 1000/' "$MLC_CONFIG"
admin POST limits '{"v1_per_minute":0,"v2_per_minute":0}' >/dev/null

counter() { state ".counters.requests[\"$1\"] // 0"; }
rec() { printf '%s\n' "$1" | jq -r --arg s "$2" --arg d "$3" "select(.sku == \$s and .direction == \$d) | $4"; }
product() { state ".shipstation.products[] | select(.sku == \"$1\") | $2"; }
item() { state ".m3.items[] | select(.ITNO == \"$1\") | $2"; }
onhand() { state "[.shipstation.inventory[] | select(.sku == \"$1\" and .inventory_location_id == \"$2\") | .on_hand] | add // \"none\""; }

# ---- dry run first: a plan, and nothing written
out=$("$MLC" sync-items --dry-run 2>"$SIM_DIR/err"); rc=$?
check_eq "--dry-run exits 0" 0 "$rc"
check_eq "--dry-run shows the product update for SKU-A" "updated" "$(rec "$out" SKU-A to-shipstation .action)"
check_eq "--dry-run writes nothing" "0 0 0 35" \
  "$(counter 'PUT /products/{id} 200') $(counter 'POST /v2/inventory 204') $(counter 'M3 MMS200MI/UpdItmBasic OK') $(onhand SKU-A se-4001)"
# cloudsuite.select_columns (default on): the same plan as with every M3 column
sim_config_under cloudsuite "select_columns: false"
every=$("$MLC" sync-items --dry-run 2>/dev/null)
sed -i '/select_columns: false/d' "$MLC_CONFIG"
check_eq "--dry-run plan with selected M3 columns equals the one with every column" "$every" "$out"

# ---- first run, both directions
out=$("$MLC" sync-items 2>"$SIM_DIR/err"); rc=$?
check_eq "first run exits 0 (reports are not failures)" 0 "$rc"
check_eq "SKU-A to ShipStation: cloudsuite-owned fields" '["name","length","width","height"]' \
  "$(rec "$out" SKU-A to-shipstation '.fields_changed - ["stock:WH1","stock:WH2"] | tostring')"
check_eq "SKU-A to ShipStation: stock of WH1 and WH2 adjusted" '["stock:WH1","stock:WH2"]' \
  "$(rec "$out" SKU-A to-shipstation '[.fields_changed[] | select(startswith("stock:"))] | tostring')"
check_eq "product name from M3" "Widget A" "$(product SKU-A .name)"
check_eq "product dimensions converted cm -> in" "3.94 7.87 1.97" \
  "$(product SKU-A '"\(.dimensions.length) \(.dimensions.width) \(.dimensions.height)"')"
check_eq "the PUT kept the fields mlc does not sync (whole resource)" "8302.10 US" \
  "$(product SKU-A '"\(._v1.customsTariffNo) \(._v1.customsCountryCode)"')"
check_eq "SKU-A to CloudSuite: the shipstation-owned weight" '["weight"]' \
  "$(rec "$out" SKU-A to-cloudsuite '.fields_changed | tostring')"
check_eq "M3 GRWE from the product's 16 oz, in kg" "0.4536" "$(item SKU-A .GRWE)"
check_eq "stock adjusted exactly: WH1 40, WH2 7" "40 7" "$(onhand SKU-A se-4001) $(onhand SKU-A se-4002)"
check_eq "two inventory posts, no more" 2 "$(counter 'POST /v2/inventory 204')"
check_eq "unknown ShipStation location of WH9 reported in the record" true \
  "$(rec "$out" SKU-A to-shipstation '[.stock[] | select(.warehouse == "WH9") | .action == "reported"] | all and length == 1')"
check_eq "SKU-B in step: no product write" "reported" "$(rec "$out" SKU-B to-shipstation .action)"
check_eq "SKU-B has no balance in WH2: reported" true \
  "$(rec "$out" SKU-B to-shipstation '.reason | test("WH2")')"
check_eq "SKU-C (only in M3) reported" "reported" "$(rec "$out" SKU-C to-shipstation .action)"
check_eq "SKU-D (only in ShipStation) reported, not created" "reported" "$(rec "$out" SKU-D to-cloudsuite .action)"
check_eq "SKU-D is not in M3" "" "$(item SKU-D .ITNO)"
check_eq "records carry kind and fields_changed arrays" true \
  "$(printf '%s\n' "$out" | jq -s 'all(.kind == "item" and (.fields_changed | type) == "array")')"
puts=$(counter 'PUT /products/{id} 200'); upds=$(counter 'M3 MMS200MI/UpdItmBasic OK')
posts=$(counter 'POST /v2/inventory 204')
check_eq "one PUT and one UpdItmBasic" "1 1" "$puts $upds"

# ---- repeated runs: no ping-pong
for i in 1 2; do
  out=$("$MLC" sync-items 2>"$SIM_DIR/err"); rc=$?
  check_eq "run $((i + 1)) exits 0" 0 "$rc"
  check_eq "run $((i + 1)) updates nothing" 0 "$(printf '%s\n' "$out" | grep -c '"action":"\(updated\|created\)"')"
done
check_eq "no more writes on either side" "$puts $upds $posts" \
  "$(counter 'PUT /products/{id} 200') $(counter 'M3 MMS200MI/UpdItmBasic OK') $(counter 'POST /v2/inventory 204')"

# ---- conflicting edits of SKU-A on both sides
admin GET state | jq '
  del(.counters, .faults)
  | (.m3.items[] | select(.ITNO == "SKU-A")) |= (.ITDS = "Widget A2" | .GRWE = 9 | .FUDS = "Steel (M3)" | .LMDT = "20261119")
  | (.shipstation.products[] | select(.sku == "SKU-A")) |= (.name = "Name from SS" | .weight = {value: 2, unit: "pound"}
      | ._v1.customsDescription = "Steel (SS)" | .modify_date = "2026-11-20T13:00:00.000Z")' >"$SIM_DIR/seed2.json"
curl -sf -X POST --data @"$SIM_DIR/seed2.json" "$SIM_URL/admin/seed" >/dev/null
out=$("$MLC" sync-items 2>"$SIM_DIR/err"); rc=$?
check_eq "conflict run exits 0" 0 "$rc"
check_eq "name: cloudsuite owns it, ShipStation gets M3's" "Widget A2" "$(product SKU-A .name)"
check_eq "weight: shipstation owns it, M3 gets 32 oz in kg" "0.9072" "$(item SKU-A .GRWE)"
check_eq "customs description: newest (ShipStation, a day later) wins in M3" "Steel (SS)" "$(item SKU-A .FUDS)"
check_eq "and ShipStation keeps it" "Steel (SS)" "$(product SKU-A ._v1.customsDescription)"
check_eq "to-cloudsuite record names weight and customs_description" '["weight","customs_description"]' \
  "$(rec "$out" SKU-A to-cloudsuite '.fields_changed | tostring')"
out=$("$MLC" sync-items 2>"$SIM_DIR/err")
check_eq "after the conflict: no ping-pong" 0 "$(printf '%s\n' "$out" | grep -c '"action":"\(updated\|created\)"')"

# ---- stock follows M3 exactly (--sku)
admin GET state | jq 'del(.counters, .faults) | (.m3.items[] | select(.ITNO == "SKU-A")).balances.WH1 = 12' >"$SIM_DIR/seed3.json"
curl -sf -X POST --data @"$SIM_DIR/seed3.json" "$SIM_URL/admin/seed" >/dev/null
out=$("$MLC" sync-items --sku SKU-A --direction to-shipstation 2>"$SIM_DIR/err")
check_eq "--sku --direction to-shipstation: one record" 1 "$(printf '%s\n' "$out" | grep -c .)"
check_eq "on-hand set to M3's 12, WH2 untouched" "12 7" "$(onhand SKU-A se-4001) $(onhand SKU-A se-4002)"
check_eq "one adjust for it" 1 "$(counter 'POST /v2/inventory 204')"

# ---- unknown SKU, creation in M3
out=$("$MLC" sync-items --sku NO-SUCH-SKU 2>"$SIM_DIR/err"); rc=$?
check_eq "unknown SKU: reported, exit 0" "reported 0" "$(printf '%s\n' "$out" | jq -r .action) $rc"
sed -i 's/^        weight_unit: kg$/&\n        create_in_m3: true/' "$MLC_CONFIG"
out=$("$MLC" sync-items --sku SKU-D --direction to-cloudsuite 2>"$SIM_DIR/err"); rc=$?
check_eq "create_in_m3: SKU-D created" "created 0" "$(rec "$out" SKU-D to-cloudsuite .action) $rc"
check_eq "with name, weight (8 oz in kg), length (4 in in cm) and the configured mandatory fields" "Gadget D 0.2268 10.16 FG P1" \
  "$(item SKU-D '"\(.ITDS) \(.GRWE) \(.ILEN) \(.ITTY) \(.PRVG)"')"

# ---- faults: a ShipStation 500 that outlasts the retries, a dropped inventory answer
admin GET state | jq 'del(.counters, .faults)
  | (.m3.items[] | select(.ITNO == "SKU-B")) |= (.ITDS = "Widget B2" | .LMDT = "20261120" | .balances.WH1 = 11)' \
  >"$SIM_DIR/seed4.json"
curl -sf -X POST --data @"$SIM_DIR/seed4.json" "$SIM_URL/admin/seed" >/dev/null
sim_config_add "    retry: {base_ms: 1, cap_ms: 5, max_attempts: 3}"
admin POST faults '{"rules":[{"match":"PUT /products/{id}","kind":"500","next":20},
  {"match":"POST /v2/inventory","kind":"commit_drop","next":1}]}' >/dev/null
out=$("$MLC" sync-items 2>"$SIM_DIR/err"); rc=$?
check_eq "PUT failing with 500 after the retries: exit 75" 75 "$rc"
check_eq "SKU-B to ShipStation skipped, with the reason" "skipped true" \
  "$(rec "$out" SKU-B to-shipstation '"\(.action) \(.reason | test("500|[Ss]erver"))"')"
check_eq "the product is unchanged" "Widget B" "$(product SKU-B .name)"
check_eq "stock set exactly although the answer was dropped" 11 "$(onhand SKU-B se-4001)"
admin DELETE faults >/dev/null
out=$("$MLC" sync-items 2>"$SIM_DIR/err"); rc=$?
check_eq "the next run does the update" "updated 0 Widget B2" \
  "$(rec "$out" SKU-B to-shipstation .action) $rc $(product SKU-B .name)"
check_eq "and then nothing more" 0 "$("$MLC" sync-items 2>/dev/null | grep -c '"action":"\(updated\|created\)"')"

# ---- without V1 credentials: products listed with V2, differences reported, stock still synced
sed -i '/v1_key_file/d' "$MLC_CONFIG"
admin GET state | jq 'del(.counters, .faults)
  | (.m3.items[] | select(.ITNO == "SKU-A")) |= (.ITDS = "Widget A3" | .balances.WH1 = 13)' >"$SIM_DIR/seed5.json"
curl -sf -X POST --data @"$SIM_DIR/seed5.json" "$SIM_URL/admin/seed" >/dev/null
out=$("$MLC" sync-items --sku SKU-A --direction to-shipstation 2>"$SIM_DIR/err"); rc=$?
check_eq "V2 only: updated (stock), exit 0, the product name left alone" "updated 0 Widget A2" \
  "$(rec "$out" SKU-A to-shipstation .action) $rc $(product SKU-A .name)"
check_eq "V2 only: the reason says why" true "$(rec "$out" SKU-A to-shipstation '.reason | test("read-only")')"
check_eq "V2 only: products read from /v2/products, no PUT" "1 0" \
  "$(counter 'GET /v2/products 200') $(counter 'PUT /products/{id} 200')"
check_eq "V2 only: stock still set" 13 "$(onhand SKU-A se-4001)"
check "V2 only: warned once" grep -q "V1 credentials" "$SIM_DIR/err"

# ---- usage
"$MLC" sync-items --direction sideways >/dev/null 2>&1; rc=$?
check_eq "bad --direction is a usage error" 64 "$rc"
"$MLC" sync-items --since yesterday >/dev/null 2>&1; rc=$?
check_eq "bad --since is a usage error" 64 "$rc"
t_done
