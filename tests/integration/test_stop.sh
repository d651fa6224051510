#!/bin/sh
# test_stop.sh: clean stop (issue 17). SIGTERM (or SIGINT) while post-receipts
# waits on a slow M3 receipt call (mlc-sim latency fault): the call in flight
# finishes and is recorded posted, no new call starts, the rows not sent go back
# to pending (none left in flight), exit 143 (130 for SIGINT); the next run
# posts the rest; M3 has every receipt exactly once. push-shipments: a stop
# pushes nothing new and leaves its POs for the next pull-pos.
. tests/integration/lib.sh
sim_start
DB="$MLC_STATE_DIR/sim.db"
sim_config_under cloudsuite "bulk_size: 1"

shipments_from_pos 1 | jq -c 'select(.order_type == "PP1")' >"$SIM_DIR/ship.jsonl"
head -n 1 "$SIM_DIR/ship.jsonl" >"$SIM_DIR/one.jsonl"
nlines=$(jq '.items | length' "$SIM_DIR/one.jsonl")
check "the shipment has several PO lines ($nlines)" test "$nlines" -ge 3

# stop_mid_call SIGNAL: runs post-receipts with a 2 s receipt call, sends SIGNAL
# while the first call is in flight; sets RC and ELAPSED (ms from signal to exit)
stop_mid_call() {
  admin POST faults '{"rules":[{"match":"M3 PPS001MI/Receipt","kind":"latency","probability":1,"ms":2000}]}' >/dev/null
  "$MLC" post-receipts "$1" >"$SIM_DIR/out.jsonl" 2>"$SIM_DIR/err" &
  pid=$!
  wait_until 20 at_least 1 "select count(*) from receipt where state='in_flight'"
  sleep 0.3   # the receipt call is now waiting in the sim
  t0=$(date +%s%N)
  kill -"$2" $pid
  wait $pid; RC=$?
  ELAPSED=$((($(date +%s%N) - t0) / 1000000))
  admin DELETE faults >/dev/null
}

before=$(state '.m3.receipts | length')
stop_mid_call "$SIM_DIR/one.jsonl" TERM
check_eq "SIGTERM: exit 143" 143 "$RC"
check "SIGTERM: the call in flight was let finish (${ELAPSED} ms after the signal)" test "$ELAPSED" -ge 1000
check_eq "the in-flight receipt is recorded posted" 1 "$(db_count "select count(*) from receipt where state='posted'")"
check_eq "and M3 has exactly that one" "$((before + 1))" "$(state '.m3.receipts | length')"
check_eq "no new call after the signal: the others are pending" "$((nlines - 1))" \
  "$(db_count "select count(*) from receipt where state='pending'")"
check_eq "nothing left in flight" 0 "$(db_count "select count(*) from receipt where state='in_flight'")"
check_eq "the posted receipt is on standard output" 1 "$(jq -r 'select(.status == "posted")' "$SIM_DIR/out.jsonl" | jq -s length)"
check "the stop is logged" grep -q "SIGTERM received" "$SIM_DIR/err"

"$MLC" post-receipts </dev/null >/dev/null 2>&1; rc=$?
check_eq "the next run posts the rest, exit 0" 0 "$rc"
check_eq "every line posted once in the ledger" "$nlines" "$(db_count "select count(*) from receipt where state='posted'")"
check_eq "M3 received every line exactly once" "$((before + nlines))" "$(state '.m3.receipts | length')"
po=$(jq -r .po "$SIM_DIR/one.jsonl")
check_eq "no PO line received twice" 0 \
  "$(state "[.m3.receipts[] | select(.PUNO == \"$po\") | \"\(.PNLI)/\(.PNLS)\"] | group_by(.) | map(select(length > 1)) | length")"

# SIGINT: the same, exit 130; input read after the signal is still recorded
sed -n 2p "$SIM_DIR/ship.jsonl" >"$SIM_DIR/two.jsonl"
n2=$(jq '.items | length' "$SIM_DIR/two.jsonl")
stop_mid_call "$SIM_DIR/two.jsonl" INT
check_eq "SIGINT: exit 130" 130 "$RC"
check_eq "SIGINT: one more posted, the rest pending" "$((nlines + 1)) $((n2 - 1))" \
  "$(db_count "select count(*) from receipt where state='posted'") $(db_count "select count(*) from receipt where state='pending'")"
"$MLC" post-receipts </dev/null >/dev/null 2>&1
check_eq "and the next run posts them" "$((before + nlines + n2))" "$(state '.m3.receipts | length')"

# push-shipments: SIGTERM during a slow create; the call finishes, nothing new starts
sim_config_under cloudsuite "bulk_read_size: 1000"
"$MLC" pull-pos >"$SIM_DIR/pos.jsonl" 2>/dev/null
admin POST faults '{"rules":[{"match":"POST /v2/shipments","kind":"latency","probability":1,"ms":1500}]}' >/dev/null
# one PO a batch: every create is its own call
( cat "$SIM_DIR/pos.jsonl"; sleep 4 ) | "$MLC" push-shipments --batch 1 >"$SIM_DIR/ib.jsonl" 2>"$SIM_DIR/ib.err" &
pid=$!
wait_until 20 at_least 1 "select count(*) from link"
sleep 0.3
kill -TERM $pid; wait $pid; rc=$?
admin DELETE faults >/dev/null
check_eq "push-shipments SIGTERM: exit 143" 143 "$rc"
ncreated=$(jq -r 'select(.action == "created")' "$SIM_DIR/ib.jsonl" | jq -s length)
check_eq "the create in flight finished and is linked" 1 "$ncreated"
check_eq "ShipStation has just that one" 1 "$(state '[.shipstation.v2.shipments[] | select(.shipment_status != "cancelled")] | length')"
check "the POs not pushed are left for the next pull-pos" grep -q "POs not pushed; the next pull-pos emits them again" "$SIM_DIR/ib.err"
"$MLC" pull-pos 2>/dev/null | "$MLC" push-shipments >"$SIM_DIR/ib2.jsonl" 2>/dev/null
check_eq "the next pull-pos | push-shipments pushes the rest, one shipment per PO" \
  "$(state '[.shipstation.v2.shipments[] | select(.shipment_status != "cancelled") | .external_shipment_id] | unique | length')" \
  "$(state '[.shipstation.v2.shipments[] | select(.shipment_status != "cancelled")] | length')"
check "and more than the one" test "$(state '[.shipstation.v2.shipments[] | select(.shipment_status != "cancelled")] | length')" -gt 1
t_done
