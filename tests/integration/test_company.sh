#!/bin/sh
# test_company.sh: one company per profile (issue 17): push-shipments, its dry
# run, post-receipts and replay refuse a record of another company (cono, the
# company in order_key) or whose po and po_line disagree; the line is named,
# kept in the rejected table, exit 1, and nothing of company 100 is touched.
# Also: quantities beyond the M3 field or with too many decimals are refused,
# and M3 gets plain decimals; NUL bytes and \u0000 are refused and kept whole.
. tests/integration/lib.sh
sim_start
DB="$MLC_STATE_DIR/sim.db"
rejected() { sqlite3 "$DB" "select count(*) from rejected where command='$1'" 2>/dev/null || echo 0; }

"$MLC" pull-pos >"$SIM_DIR/pos.jsonl" 2>/dev/null
# a PO of company 100 that maps (WH1), pushed once
jq -c 'select(.warehouse == "WH1")' "$SIM_DIR/pos.jsonl" | head -n 1 >"$SIM_DIR/po100.jsonl"
po=$(jq -r .po "$SIM_DIR/po100.jsonl")
"$MLC" push-shipments --dry-run <"$SIM_DIR/po100.jsonl" 2>/dev/null | jq -r .body.external_shipment_id >"$SIM_DIR/k1"
"$MLC" push-shipments <"$SIM_DIR/po100.jsonl" >/dev/null 2>&1
live() { state "[.shipstation.v2.shipments[] | select(.items[0].external_order_id == \"$po\" and .shipment_status != \"cancelled\") | .external_shipment_id] | join(\",\")"; }
check_eq "company 100's PO $po has one shipment" "mlc-100-$po" "$(live)"

# the same PO number under company 200, with other quantities
jq -c '.cono = 200 | .lines[0].qty_ordered = 999' "$SIM_DIR/po100.jsonl" >"$SIM_DIR/po200.jsonl"
"$MLC" push-shipments --dry-run <"$SIM_DIR/po200.jsonl" >"$SIM_DIR/dry.jsonl" 2>"$SIM_DIR/dry.err"; rc=$?
check_eq "dry run: company 200 refused, exit 1" 1 "$rc"
check "dry run: the line is named" grep -q "stdin:1: .*company 200, not this profile's company 100" "$SIM_DIR/dry.err"
check_eq "dry run: no request printed for it" 0 "$(wc -l <"$SIM_DIR/dry.jsonl")"
"$MLC" push-shipments <"$SIM_DIR/po200.jsonl" >"$SIM_DIR/real.jsonl" 2>"$SIM_DIR/real.err"; rc=$?
check_eq "real run: refused the same way, exit 1" 1 "$rc"
check "real run: the line is named" grep -q "stdin:1: .*company 200, not this profile's company 100" "$SIM_DIR/real.err"
check_eq "real run: kept in the rejected table" 1 "$(rejected push-shipments)"
check_eq "company 100's shipment is neither cancelled nor replaced" "mlc-100-$po" "$(live)"
# dry run (made before the push) and real run agree on the key of an accepted PO too
check_eq "dry run showed the key the real run wrote" "mlc-100-$po" "$(cat "$SIM_DIR/k1")"

# a changed PO: the real run cancels and re-creates it as revision 2; the dry run
# shows that same key (it reads the link table), not the first revision's
jq -c '.lines[0].qty_ordered = (.lines[0].qty_ordered + 7)' "$SIM_DIR/po100.jsonl" >"$SIM_DIR/po100b.jsonl"
dry_key=$("$MLC" push-shipments --dry-run <"$SIM_DIR/po100b.jsonl" 2>/dev/null | jq -r .body.external_shipment_id)
rej_before=$(rejected push-shipments)
"$MLC" push-shipments <"$SIM_DIR/po100b.jsonl" >/dev/null 2>&1
check_eq "changed PO: the real run wrote revision 2" "mlc-100-$po.r2" "$(live)"
check_eq "and the dry run showed that key" "mlc-100-$po.r2" "$dry_key"
check_eq "an unchanged PO: the dry run prints no request (the real run sends none)" 0 \
  "$("$MLC" push-shipments --dry-run <"$SIM_DIR/po100b.jsonl" 2>/dev/null | wc -l)"
"$MLC" push-shipments --dry-run <"$SIM_DIR/po200.jsonl" >/dev/null 2>&1
check_eq "a dry run stores nothing, not even a rejected line" "$rej_before" "$(rejected push-shipments)"

# pull-shipments takes only this company's shipments from a shared ShipStation account
jq -c '.po = "7777777"' "$SIM_DIR/po100.jsonl" | "$MLC" push-shipments --dry-run 2>/dev/null |
  jq -c '{shipments: [.body | .external_shipment_id = "mlc-200-7777777"]}' >"$SIM_DIR/other.json"
other=$(curl -s -X POST -H "API-Key: $(cat "$SIM_DIR/shipstation-v2.key")" -H 'Content-Type: application/json' \
  --data @"$SIM_DIR/other.json" "$SIM_URL/v2/shipments" | jq -r '.shipments[0].shipment_id')
mine=$(state "[.shipstation.v2.shipments[] | select(.external_shipment_id == \"mlc-100-$po.r2\")][0].shipment_id")
admin POST ship "{\"ids\":[\"$other\",\"$mine\"]}" >/dev/null
"$MLC" pull-shipments >"$SIM_DIR/sh.jsonl" 2>/dev/null
check_eq "pull-shipments emits this company's shipment" "$mine" "$(jq -r 'select(.order_key | startswith("mlc-100-")) | .shipment_id' "$SIM_DIR/sh.jsonl")"
check_eq "and not company 200's ($other)" 0 "$(jq -r 'select(.order_key | startswith("mlc-200-"))' "$SIM_DIR/sh.jsonl" | wc -l)"

# post-receipts: another company's shipment, and a po/po_line disagreement
shipments_from_pos 1 >"$SIM_DIR/ship.jsonl"
jq -c 'select(.order_type == "PP1")' "$SIM_DIR/ship.jsonl" | head -n 2 >"$SIM_DIR/two.jsonl"
sp1=$(sed -n 1p "$SIM_DIR/two.jsonl" | jq -r .po); sp2=$(sed -n 2p "$SIM_DIR/two.jsonl" | jq -r .po)
{
  sed -n 1p "$SIM_DIR/two.jsonl" | jq -c '.order_key = ("mlc-200-" + .po) | .shipment_id = "se-c200"'
  sed -n 1p "$SIM_DIR/two.jsonl" | jq -c --arg p2 "$sp2" '.shipment_id = "se-mix" | .items[0].po_line = ($p2 + "/10/0")'
  sed -n 1p "$SIM_DIR/two.jsonl" | jq -c '.shipment_id = "se-huge" | .items = [.items[0] | .qty = 1e20]'
  sed -n 1p "$SIM_DIR/two.jsonl" | jq -c '.shipment_id = "se-tiny" | .items = [.items[0] | .qty = 0.000000001]'
  printf '{"kind":"shipment","shipment_id":"se-nul","po":"%s","items":[],"note":"a\\u0000b"}\n' "$sp1"
  printf '{"kind":"shipment","shipment_id":"se-raw","po":"%s","note":"a\000b"}\n' "$sp1"
} >"$SIM_DIR/bad.jsonl"
before=$(state '.m3.receipts | length')
"$MLC" post-receipts "$SIM_DIR/bad.jsonl" >"$SIM_DIR/pr.jsonl" 2>"$SIM_DIR/pr.err"; rc=$?
check_eq "post-receipts: exit 1" 1 "$rc"
check "line 1: company 200 in order_key named" grep -q "bad.jsonl:1: field 'order_key' is company 200" "$SIM_DIR/pr.err"
check "line 2: po_line on another PO named" grep -q "bad.jsonl:2: items\[0\]: 'po_line' $sp2/10/0 is on PO $sp2, but 'po' is $sp1" "$SIM_DIR/pr.err"
check "line 3: quantity 1e20 refused" grep -q "bad.jsonl:3: 'items\[0\].qty' 1e+20 is beyond the M3 quantity field" "$SIM_DIR/pr.err"
check "line 4: quantity 1e-9 refused" grep -q "bad.jsonl:4: 'items\[0\].qty' .* has more than 6 decimals" "$SIM_DIR/pr.err"
check "line 5: \\u0000 refused with line and column" grep -q 'bad.jsonl:5:[0-9]*: \\u0000 (NUL) in a string' "$SIM_DIR/pr.err"
check "line 6: NUL byte refused with line and column" grep -q 'bad.jsonl:6:[0-9]*: NUL byte' "$SIM_DIR/pr.err"
check_eq "all six kept in the rejected table" 6 "$(rejected post-receipts)"
nul_len=$(sqlite3 "$DB" "select length(cast(line as blob)) from rejected where command='post-receipts' and lineno=6")
check_eq "the NUL line is stored whole (as a blob)" "$(sed -n 6p "$SIM_DIR/bad.jsonl" | wc -c | awk '{print $1 - 1}')" "$nul_len"
check_eq "no receipt posted to M3" "$before" "$(state '.m3.receipts | length')"
check_eq "no ledger row for any of them" 0 "$(db_count "select count(*) from receipt")"

# a small quantity goes to M3 as a plain decimal ("0.00005", never "5e-05",
# which mlc-sim, like M3, does not take for a number)
sed -n 1p "$SIM_DIR/two.jsonl" | jq -c '.shipment_id = "se-frac" | .items = [.items[0] | .qty = 0.00005]' >"$SIM_DIR/frac.jsonl"
"$MLC" post-receipts "$SIM_DIR/frac.jsonl" >"$SIM_DIR/frac.out" 2>"$SIM_DIR/frac.err"
check_eq "0.00005 posted" posted "$(jq -r 'select(.kind == "receipt") | .status' "$SIM_DIR/frac.out")"
check_eq "M3 received 0.00005" true "$(state '.m3.receipts[-1].RVQA == 0.00005')"

# replay: a receipt record of another company, or whose po is not the row's
rid=$(jq -r 'select(.kind == "receipt") | .receipt_id' "$SIM_DIR/frac.out")
printf '{"kind":"receipt","receipt_id":%s,"cono":200}\n{"kind":"receipt","receipt_id":%s,"po":"%s"}\n' "$rid" "$rid" "$sp2" |
  "$MLC" replay --dry-run >/dev/null 2>"$SIM_DIR/rp.err"; rc=$?
check_eq "replay: exit 1" 1 "$rc"
check "replay: company 200 named with its line" grep -q "stdin:1: field 'cono' is company 200" "$SIM_DIR/rp.err"
check "replay: a po that is not the row's named" grep -q "stdin:2: receipt $rid is PO line $sp1/" "$SIM_DIR/rp.err"
check_eq "replay: both kept in the rejected table" 2 "$(rejected replay)"
t_done
