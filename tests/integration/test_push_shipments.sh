#!/bin/sh
# test_push_shipments.sh: mlc pull-pos | mlc push-shipments against mlc-sim, V2 and V1:
# one shipment per PO, reruns push nothing, a changed PO is updated exactly once,
# kill -9 between the create call and the link write and commit-then-drop on the
# create call still leave exactly one shipment per PO (a create in doubt is looked up
# only after its deadline + margin: never while ShipStation may still execute it);
# 20 kill -9 at random points while creates commit seconds later; unmappable POs
# rejected.
. tests/integration/lib.sh
sim_start

"$MLC" pull-pos >"$SIM_DIR/pos.jsonl" 2>/dev/null
npos=$(wc -l <"$SIM_DIR/pos.jsonl")
"$MLC" push-shipments <"$SIM_DIR/pos.jsonl" >"$SIM_DIR/ib.jsonl" 2>"$SIM_DIR/err"; rc=$?
mapped=$(jq -r 'select(.kind == "inbound_shipment") | .po' "$SIM_DIR/ib.jsonl" | sort -u | wc -l)
check_eq "exit 1: some POs cannot be mapped" 1 "$rc"
check "the unmapped warehouse is named with its line" grep -q "stdin:[0-9]*: PO [0-9]*: warehouse 'WH9' is not in mapping.warehouses" "$SIM_DIR/err"
check "the unmapped supplier is named" grep -q "has no address in mapping.suppliers" "$SIM_DIR/err"
check_eq "rejected POs are kept in the store" "$((npos - mapped))" "$(state_sql "select count(*) from rejected where command='push-shipments'")"
check_eq "every mapped PO created once" "$mapped" "$(jq -r 'select(.action == "created") | .po' "$SIM_DIR/ib.jsonl" | wc -l)"
check_eq "ShipStation has exactly one shipment per PO" "$mapped" \
  "$(state '[.shipstation.v2.shipments[] | select(.shipment_status != "cancelled") | .external_shipment_id] | unique | length')"
check_eq "and no more" "$mapped" "$(state '[.shipstation.v2.shipments[] | select(.shipment_status != "cancelled")] | length')"
check_eq "PO lines travel as item keys" 0 \
  "$(state '[.shipstation.v2.shipments[].items[] | select((.external_order_item_id // "") | test("^[0-9A-Za-z]+/[0-9]+/[0-9]+$") | not)] | length')"
calls=$(state '.counters.requests["POST /v2/shipments 200"] // 0')
check "bulk: one create call for all ($calls)" test "$calls" -eq 1

"$MLC" push-shipments <"$SIM_DIR/pos.jsonl" >"$SIM_DIR/ib2.jsonl" 2>/dev/null
check_eq "a rerun reports every PO unchanged" "$mapped" "$(jq -r 'select(.action == "unchanged") | .po' "$SIM_DIR/ib2.jsonl" | wc -l)"
check_eq "and costs no create call" "$calls" "$(state '.counters.requests["POST /v2/shipments 200"] // 0')"
"$MLC" push-shipments "$SIM_DIR/pos.jsonl" >/dev/null 2>"$SIM_DIR/err-file"
check "read from FILE: the unmapped PO is named by file and line" grep -q "pos.jsonl:[0-9]*: PO [0-9]*: warehouse 'WH9'" "$SIM_DIR/err-file"
check_eq "read from FILE: its rejects name the file as their source" "$((npos - mapped))" \
  "$(state_sql "select count(*) from rejected where command='push-shipments' and source='$SIM_DIR/pos.jsonl'")"

# a PO changed in CloudSuite is updated exactly once
po=$(jq -r 'select(.action == "created") | .po' "$SIM_DIR/ib.jsonl" | head -n 1)
admin POST po "{\"PUNO\":\"$po\",\"lines\":[{\"PNLI\":10,\"ORQA\":\"777\"}]}" >/dev/null
"$MLC" pull-pos 2>/dev/null | "$MLC" push-shipments >"$SIM_DIR/ib3.jsonl" 2>/dev/null
check_eq "the changed PO is updated" "updated $po" "$(jq -r '"\(.action) \(.po)"' "$SIM_DIR/ib3.jsonl")"
check_eq "its old shipment is cancelled, one live shipment remains" 1 \
  "$(state "[.shipstation.v2.shipments[] | select(.items[0].external_order_id == \"$po\" and .shipment_status != \"cancelled\")] | length")"
check_eq "with the new quantity" 777 \
  "$(state "[.shipstation.v2.shipments[] | select(.items[0].external_order_id == \"$po\" and .shipment_status != \"cancelled\") | .items[] | select(.external_order_item_id == \"$po/10/0\") | .quantity][0]")"
"$MLC" pull-pos --po "$po" 2>/dev/null | "$MLC" push-shipments >"$SIM_DIR/ib4.jsonl" 2>/dev/null
check_eq "and not again" unchanged "$(jq -r .action "$SIM_DIR/ib4.jsonl")"

# kill -9 between the create call and the link write: the create is slowed down
# in the sim and the process killed while it waits; the rerun must not duplicate
sim_stop; rm -rf "$SIM_DIR"
sim_start
# a create in doubt is settled 3 s after it started (deadline 2 s + margin 1 s)
sim_config_under shipstation "timeout: 2"
sim_config_add "    retry: {in_doubt_margin: 1}"
"$MLC" pull-pos >"$SIM_DIR/pos.jsonl" 2>/dev/null
admin POST faults '{"rules":[{"match":"POST /v2/shipments","kind":"latency","next":1,"ms":1500}]}' >/dev/null
"$MLC" push-shipments <"$SIM_DIR/pos.jsonl" >/dev/null 2>&1 &
pid=$!
# the intents are written just before the create call: wait for them, then kill
i=0
while [ "$(db_count 'select count(*) from link')" -lt "$mapped" ] && [ $i -lt 100 ]; do
  sleep 0.05; i=$((i + 1))
done
sleep 0.5; kill -9 $pid; wait $pid 2>/dev/null
live() { state '[.shipstation.v2.shipments[] | select(.shipment_status != "cancelled")] | length'; }
i=0; while [ "$(live)" -lt "$mapped" ] && [ $i -lt 40 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "the killed run's create reached ShipStation" "$mapped" "$(live)"
"$MLC" push-shipments <"$SIM_DIR/pos.jsonl" >"$SIM_DIR/ib5a.jsonl" 2>/dev/null; rc=$?
check_eq "a rerun inside the window: every PO in_doubt, exit 1 (the unmapped POs' rejects outrank in doubt, mlc(1))" "$mapped 1" \
  "$(jq -r 'select(.action == "in_doubt") | .po' "$SIM_DIR/ib5a.jsonl" | wc -l) $rc"
check_eq "and nothing created or looked up meanwhile" "$mapped" "$(live)"
sleep 3
"$MLC" push-shipments <"$SIM_DIR/pos.jsonl" >"$SIM_DIR/ib5.jsonl" 2>/dev/null
check_eq "after kill -9, the rerun links them without creating" "$mapped" "$(jq -r 'select(.action == "created") | .po' "$SIM_DIR/ib5.jsonl" | wc -l)"
check_eq "exactly one shipment per PO after kill -9" "$mapped" "$(live)"
check_eq "every link has its ShipStation id" 0 "$(state_sql "select count(*) from link where shipstation_id is null")"

# commit-then-drop on the create call: applied, response lost
sim_stop; rm -rf "$SIM_DIR"
sim_start
sim_config_add "    retry: {base_ms: 10, cap_ms: 50, in_doubt_margin: 1}"
"$MLC" pull-pos >"$SIM_DIR/pos.jsonl" 2>/dev/null
admin POST faults '{"rules":[{"match":"POST /v2/shipments","kind":"commit_drop","next":1}]}' >/dev/null
"$MLC" push-shipments <"$SIM_DIR/pos.jsonl" >"$SIM_DIR/ib6.jsonl" 2>/dev/null
check_eq "after commit-then-drop every PO is reported created" "$mapped" "$(jq -r 'select(.action == "created") | .po' "$SIM_DIR/ib6.jsonl" | wc -l)"
check_eq "exactly one shipment per PO after commit-then-drop" "$mapped" "$(live)"

# kill -9 at random points, KILL_RUNS (50) runs, while creates commit 1-3 s later (after the kill
# or the client's 1 s timeout); a create is settled 4 s after it started (deadline
# 1 s + margin 3 s: past every commit), never looked up or sent again before
sim_stop; rm -rf "$SIM_DIR"
sim_start --fault-seed 3
sim_config_under shipstation "timeout: 1"
sim_config_add "    retry: {base_ms: 10, cap_ms: 50, in_doubt_margin: 3}"
"$MLC" pull-pos >"$SIM_DIR/pos.jsonl" 2>/dev/null
split -n l/4 "$SIM_DIR/pos.jsonl" "$SIM_DIR/part."
admin POST faults '{"seed":3,"rules":[
  {"match":"POST /v2/shipments","kind":"latency","probability":0.3,"ms":3000,"commit":"after"},
  {"match":"POST /v2/shipments","kind":"latency","probability":0.4,"ms":1000,"commit":"after"},
  {"match":"POST /v2/shipments","kind":"commit_drop","probability":0.1}]}' >/dev/null
KILL_RUNS=50
n=0
while [ $n -lt $KILL_RUNS ]; do
  cat "$SIM_DIR"/part.* | "$MLC" push-shipments --batch 10 >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(awk -v s=$n 'BEGIN{srand(s); printf "%02d", int(rand()*90)+5}')"
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  n=$((n + 1))
done
admin DELETE faults >/dev/null
i=0
while [ $i -lt 30 ]; do
  "$MLC" push-shipments <"$SIM_DIR/pos.jsonl" >"$SIM_DIR/ibk.jsonl" 2>/dev/null
  [ "$(jq -r 'select(.action == "in_doubt") | .po' "$SIM_DIR/ibk.jsonl" | wc -l)" = 0 ] && break
  sleep 0.5; i=$((i + 1))
done
dupes=$(state '[.shipstation.v2.shipments[] | select(.shipment_status != "cancelled") | .items[0].external_order_id] | group_by(.) | map(select(length > 1)) | length')
check_eq "after $KILL_RUNS kill -9 with slow creates: every PO settled" 0 "$(jq -r 'select(.action == "in_doubt") | .po' "$SIM_DIR/ibk.jsonl" | wc -l)"
check_eq "after $KILL_RUNS kill -9 with slow creates: one live shipment per PO" "$mapped" "$(live)"
check_eq "after $KILL_RUNS kill -9 with slow creates: no PO twice" 0 "$dupes"
check_eq "after $KILL_RUNS kill -9 with slow creates: every link has its id" 0 "$(state_sql "select count(*) from link where shipstation_id is null")"
# a second create of a key (which only ShipStation's uniqueness check would stop) was never
# sent: the sim refused no create (its recorded answers)
check_eq "after $KILL_RUNS kill -9 with slow creates: no key created twice (none refused as existing)" 0 \
  "$(jq -c 'select(.method == "POST" and .path == "/v2/shipments") | .response.shipments[]? | .errors[]? | select(tostring | test("already exists"))' "$SIM_DIR/sim.traffic.jsonl" | wc -l)"
echo "# kill -9 with slow creates: $KILL_RUNS runs, $mapped POs, $(live) live shipments, $dupes POs twice"

# V1: createorders upserts by orderKey, at most 100 a call
sim_stop; rm -rf "$SIM_DIR"
sim_start
"$MLC" pull-pos >"$SIM_DIR/pos.jsonl" 2>/dev/null
"$MLC" push-shipments --api v1 <"$SIM_DIR/pos.jsonl" >"$SIM_DIR/v1.jsonl" 2>/dev/null
check_eq "V1: every mapped PO created" "$mapped" "$(jq -r 'select(.action == "created") | .po' "$SIM_DIR/v1.jsonl" | wc -l)"
check_eq "V1: one order per PO" "$mapped" "$(state '[.shipstation.v1.orders[].orderKey] | unique | length')"
"$MLC" push-shipments --api v1 <"$SIM_DIR/pos.jsonl" >"$SIM_DIR/v1b.jsonl" 2>/dev/null
check_eq "V1: a rerun changes nothing" "$mapped" "$(jq -r 'select(.action == "unchanged") | .po' "$SIM_DIR/v1b.jsonl" | wc -l)"
check_eq "V1: still one order per PO" "$mapped" "$(state '.shipstation.v1.orders | length')"

# V1 too: an upsert killed while ShipStation still executes it is not sent again
# inside its window (deadline 2 s + margin 1 s), then linked to the one order
sim_stop; rm -rf "$SIM_DIR"
sim_start
sim_config_under shipstation "timeout: 2"
sim_config_add "    retry: {in_doubt_margin: 1}"
"$MLC" pull-pos >"$SIM_DIR/pos.jsonl" 2>/dev/null
admin POST faults '{"rules":[{"match":"POST /orders/createorders","kind":"latency","next":1,"ms":1500}]}' >/dev/null
"$MLC" push-shipments --api v1 <"$SIM_DIR/pos.jsonl" >/dev/null 2>&1 &
pid=$!
sleep 0.8; kill -9 $pid; wait $pid 2>/dev/null
"$MLC" push-shipments --api v1 <"$SIM_DIR/pos.jsonl" >"$SIM_DIR/v1k.jsonl" 2>/dev/null; rc=$?
check_eq "V1: a rerun inside the window: every PO in_doubt, exit 1 (the unmapped POs' rejects outrank in doubt)" "$mapped 1" \
  "$(jq -r 'select(.action == "in_doubt") | .po' "$SIM_DIR/v1k.jsonl" | wc -l) $rc"
sleep 3
"$MLC" push-shipments --api v1 <"$SIM_DIR/pos.jsonl" >"$SIM_DIR/v1k2.jsonl" 2>/dev/null; rc=$?
check_eq "V1: after the window every PO is linked (exit 1: the unmapped POs)" "1 $mapped" \
  "$rc $(state_sql "select count(*) from link where api='v1' and shipstation_id is not null")"
check_eq "V1: one order per PO after kill -9" "$mapped" "$(state '.shipstation.v1.orders | length')"

# --dry-run calls nothing
before=$(state '[.counters.requests | to_entries[] | select(.key | test("^(POST|PUT)")) | .value] | add // 0')
"$MLC" push-shipments --dry-run <"$SIM_DIR/pos.jsonl" >"$SIM_DIR/dry.jsonl" 2>/dev/null
check_eq "--dry-run prints one request per mapped PO" "$mapped" "$(jq -r 'select(.kind == "shipstation_request") | .body.external_shipment_id' "$SIM_DIR/dry.jsonl" | wc -l)"
check_eq "--dry-run sends nothing" "$before" "$(state '[.counters.requests | to_entries[] | select(.key | test("^(POST|PUT)")) | .value] | add // 0')"
t_done
