#!/bin/sh
# test_pull_pos.sh: mlc pull-pos against mlc-sim: first poll, rerun emits nothing,
# a PO changed in the sim is emitted once, --po, --no-cursor, bad options; column
# selection (cloudsuite.select_columns) and mlc-sim's returncols/selectedColumns.
. tests/integration/lib.sh
sim_start
# the output goes to no push-shipments here: nothing is kept or written again
# (REDELIVERY has its own test, test_redeliver_pos)
sim_config_under cloudsuite "redeliver_hours: 0"

out=$("$MLC" pull-pos 2>"$SIM_DIR/err"); rc=$?
check_eq "first poll exits 0" 0 "$rc"
n=$(printf '%s\n' "$out" | grep -c '"kind":"purchase_order"')
open=$(state '[.m3.pos[] | select((.lines|map(.PUSL|tonumber)|min) >= 15 and (.lines|map(.PUSL|tonumber)|min) <= 50)] | length')
check_eq "first poll emits every open PO of the seed" "$open" "$n"
first=$(printf '%s\n' "$out" | head -n 1)
check_eq "records carry cono, po, lines with numeric quantities, UTC dates" true \
  "$(printf '%s\n' "$first" | jq '.cono == 100 and (.po|length) > 0 and (.lines|length) > 0 and (.lines[0].qty_ordered|type) == "number" and (.changed_at|test("Z$"))')"
again=$("$MLC" pull-pos | wc -l)
check_eq "rerun emits nothing" 0 "$again"

po=$(printf '%s\n' "$first" | jq -r .po)
admin POST po "{\"PUNO\":\"$po\",\"lines\":[{\"PNLI\":10,\"ORQA\":\"999\"}]}" >/dev/null
changed=$("$MLC" pull-pos)
check_eq "a PO changed in the sim is emitted once" "$po" "$(printf '%s\n' "$changed" | jq -r .po)"
check_eq "with its new quantity" 999 "$(printf '%s\n' "$changed" | jq -r '.lines[] | select(.line == 10) | .qty_ordered')"
check_eq "and only once" 0 "$("$MLC" pull-pos | wc -l)"

# cloudsuite.select_columns (default on): M3 is asked for the columns mlc reads
# only; the records must be the same as with every column (a column read but not
# asked for would come out null or 0)
all_cols=$("$MLC" pull-pos --no-cursor --status 00-99 | jq -S -c . | sort)
sim_config_under cloudsuite "select_columns: false"
every=$("$MLC" pull-pos --no-cursor --status 00-99 | jq -S -c . | sort)
sed -i '/select_columns: false/d' "$MLC_CONFIG"
check_eq "records with selected columns equal those with every column" "$every" "$all_cols"
check "and there are some" test -n "$all_cols"

# mlc-sim: returncols / selectedColumns return only the named columns and refuse a
# name the transaction does not have
ion() { jq -r ".$1" "$SIM_DIR/tenant.ionapi"; }
tok=$(curl -sS --data-urlencode grant_type=password --data-urlencode "username=$(ion saak)" \
  --data-urlencode "password=$(ion sask)" --data-urlencode "client_id=$(ion ci)" \
  --data-urlencode "client_secret=$(ion cs)" "$(ion pu)$(ion ot)" | jq -r .access_token)
m3get() { curl -sS -H "Authorization: Bearer $tok" "$(ion iu)/$(ion ti)/M3/m3api-rest/v2/execute/$1"; }
check_eq "sim: returncols gives those columns only" '["ORTY","PUNO"]' \
  "$(m3get "PPS200MI/GetHead;returncols=PUNO,ORTY?CONO=100&PUNO=$po" | jq -c '.results[0].records[0] | keys')"
check_eq "sim: an unknown column is refused, naming it" "ZZZZ true" \
  "$(m3get "PPS200MI/GetHead;returncols=PUNO,ZZZZ?CONO=100&PUNO=$po" | jq -r '.results[0] | "\(.errorField) \(.errorMessage | test("ZZZZ"))"')"
bulk=$(jq -cn --arg po "$po" '{program: "PPS200MI", transactions: [
  {transaction: "LstLine", record: {CONO: "100", PUNO: $po}, selectedColumns: ["PNLI", "ORQA"]},
  {transaction: "GetHead", record: {CONO: "100", PUNO: $po}, selectedColumns: ["PUNO", "NOPE"]}]}')
ans=$(curl -sS -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' --data "$bulk" \
  "$(ion iu)/$(ion ti)/M3/m3api-rest/v2/execute")
check_eq "sim: selectedColumns per bulk transaction" '["ORQA","PNLI"]' "$(printf '%s' "$ans" | jq -c '.results[0].records[0] | keys')"
check_eq "sim: an unknown selected column fails its transaction" "NOPE" "$(printf '%s' "$ans" | jq -r '.results[1].errorField')"

check_eq "--po emits that PO even if unchanged" "$po" "$("$MLC" pull-pos --po "$po" | jq -r .po)"
check_eq "--no-cursor --limit 2 emits two" 2 "$("$MLC" pull-pos --no-cursor --limit 2 | wc -l)"
check_eq "--no-cursor --limit 0 emits nothing" 0 "$("$MLC" pull-pos --no-cursor --limit 0 | wc -l)"
check_eq "--po with --limit 0 emits nothing" 0 "$("$MLC" pull-pos --po "$po" --limit 0 | wc -l)"
"$MLC" pull-pos --po NOSUCHPO >/dev/null 2>&1; rc=$?
check_eq "--po of an unknown PO fails with 1" 1 "$rc"
"$MLC" pull-pos --since yesterday >/dev/null 2>&1; rc=$?
check_eq "bad --since is a usage error" 64 "$rc"
"$MLC" pull-pos --no-cursor | head -n 1 >/dev/null; rc=$?
check_eq "| head ends quietly" 0 "$rc"

# ---- bulk reads: one po_head and one po_lines call per bulk_read_size POs, and the
# item weights (MMS200MI/GetItmBasic) of their distinct items, bulk_read_size a call
m3_count() { state "[.counters.requests | to_entries[] | select(.key == \"M3 $1 200\") | .value] | add // 0"; }
b0=$(m3_count bulk); g0=$(m3_count GET)
"$MLC" pull-pos --no-cursor --status 00-99 >"$SIM_DIR/bulk.jsonl"
n=$(wc -l <"$SIM_DIR/bulk.jsonl")
check "every PO read ($n)" test "$n" -ge 40
check_eq "$n POs read with 3 bulk calls (heads, lines, item weights)" 3 $(( $(m3_count bulk) - b0 ))
check_eq "every line carries its item's weight from M3" 0 \
  "$(jq -c '.lines[] | select(.weight == null or .weight <= 0)' "$SIM_DIR/bulk.jsonl" | wc -l)"
check_eq "and only the 2 change-list GETs and M3's date (the first-run window)" 3 $(( $(m3_count GET) - g0 ))
sim_config_under cloudsuite "bulk_read_size: 20"
b0=$(m3_count bulk)
check_eq "bulk_read_size 20: the same $n POs" "$n" "$("$MLC" pull-pos --no-cursor --status 00-99 | wc -l)"
items=$(jq -s '[range(0; length; 20) as $i | .[$i:$i + 20] | [.[].lines[].item] | unique | length
               | (. + 19) / 20 | floor] | add' "$SIM_DIR/bulk.jsonl")
check_eq "bulk_read_size 20: 2 calls per 20 POs and 1 per 20 of their items" \
  $(( (n + 19) / 20 * 2 + items )) $(( $(m3_count bulk) - b0 ))

# a PO of 120 lines comes whole (M3's default would stop a list at 100 records)
head=$(state '.m3.pos[0] | del(.lines, .PUNO)')
lines=$(jq -cn '[range(1; 121) | {PNLI: ., PNLS: 0, ITNO: "ITM00001", ORQA: 1, PUUN: "EA", DWDT: "20261201", PUSL: "20", PUST: "20"}]')
admin POST po "$(printf '%s' "$head" | jq -c --argjson l "$lines" '. + {PUNO: "LONG120", lines: $l}')" >/dev/null
check_eq "a PO of 120 lines is read with all of them" 120 \
  "$("$MLC" pull-pos --no-cursor --status 00-99 | jq -r 'select(.po == "LONG120") | .lines | length')"

# a list that fails half-way (m3_partial) never yields a PO with lines missing
"$MLC" pull-pos >/dev/null 2>&1   # the cursor is up to date
admin POST po '{"PUNO":"LONG120","lines":[{"PNLI":1,"ORQA":5}]}' >/dev/null
admin POST faults '{"rules":[{"match":"M3 PPS200MI/LstLine","kind":"m3_partial","next":1}]}' >/dev/null
out=$("$MLC" pull-pos 2>"$SIM_DIR/partial.err"); rc=$?
check_eq "lines cut short: nothing emitted" "" "$out"
check "lines cut short: the run fails (exit $rc) and says why" sh -c "[ $rc -ne 0 ] && grep -q 'LONG120 lines' '$SIM_DIR/partial.err'"
check_eq "the next run emits the changed PO whole" "LONG120 120 5" \
  "$("$MLC" pull-pos | jq -r 'select(.po == "LONG120") | "\(.po) \(.lines | length) \(.lines[0].qty_ordered)"')"
t_done
