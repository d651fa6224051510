#!/bin/sh
# test_stop.sh: clean stop (issue 17). SIGTERM (or SIGINT) while post-receipts
# waits on a slow M3 receipt call (mlc-sim latency fault): the call in flight
# finishes and is recorded posted, no new call starts, the rows not sent go back
# to pending (none left in flight), exit 143 (130 for SIGINT); the next run
# posts the rest; M3 has every receipt exactly once. push-shipments: a stop
# pushes nothing new and leaves its POs for the next pull-pos. The BOD route
# (transport: bod): the BOD send in flight finishes, no new one starts.
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

# ---- BOD route (receipts.transport: bod): SIGTERM while a BOD send waits on a slow IMS ----
# The send in flight finishes and is recorded sent; no new BOD starts (the rows
# claimed and not sent go back to pending, none left in flight, no write-ahead for
# them); exit 143; the next runs send the rest, each messageId once, and M3 has
# every line once.
sim_stop; rm -rf "$SIM_DIR"
sim_start
DB="$MLC_STATE_DIR/sim.db"
sim_config_add "    receipts: {base_ms: 1, cap_ms: 20, max_attempts: 50, transport: bod}" \
  "    bod: {logical_id: lid://infor.ims.mlc, resend_grace: 0}"
admin POST ims '{"delay_s":0}' >/dev/null
shipments_from_pos 1 >"$SIM_DIR/bod_all.jsonl"
head -n 2 "$SIM_DIR/bod_all.jsonl" >"$SIM_DIR/bod.jsonl"
nb=$(jq '.items | length' "$SIM_DIR/bod.jsonl" | awk '{s += $1} END {print s}')
check "bod: the shipments have several lines ($nb)" test "$nb" -ge 3
admin POST faults '{"rules":[{"match":"IMS multipartMessage","kind":"latency","probability":1,"ms":2000}]}' >/dev/null
"$MLC" post-receipts "$SIM_DIR/bod.jsonl" >"$SIM_DIR/bod_out.jsonl" 2>"$SIM_DIR/bod_err" &
pid=$!
wait_until 20 at_least 1 "select count(*) from bod_message"
sleep 0.3   # the first BOD send is now waiting in the sim
t0=$(date +%s%N)
kill -TERM $pid
wait $pid; rc=$?
elapsed=$((($(date +%s%N) - t0) / 1000000))
admin DELETE faults >/dev/null
check_eq "bod SIGTERM: exit 143" 143 "$rc"
check "bod SIGTERM: the send in flight was let finish (${elapsed} ms after the signal)" test "$elapsed" -ge 1000
check_eq "bod SIGTERM: the BOD in flight is in ION, no other sent after the signal" 1 "$(state '.ims.messages | length')"
check_eq "bod SIGTERM: and recorded sent" 1 "$(db_count "select count(*) from receipt where state='sent'")"
check_eq "bod SIGTERM: reported sent on standard output" 1 "$(jq -r 'select(.status == "sent")' "$SIM_DIR/bod_out.jsonl" | jq -s length)"
check_eq "bod SIGTERM: the others back to pending, none in flight" "$((nb - 1))|0" \
  "$(db_count "select count(*) from receipt where state='pending'")|$(db_count "select count(*) from receipt where state='in_flight'")"
check_eq "bod SIGTERM: no send was begun for them (one message record)" 1 "$(db_count "select count(*) from bod_message")"
check_eq "bod SIGTERM: audited unclaimed" "$((nb - 1))" "$(db_count "select count(*) from audit where event='unclaimed'")"
"$MLC" post-receipts </dev/null >/dev/null 2>&1; rc=$?
"$MLC" post-receipts </dev/null >/dev/null 2>&1
check_eq "bod: the next run sends the rest, exit 0" 0 "$rc"
check_eq "bod: every line posted" "$nb" "$(db_count "select count(*) from receipt where state='posted'")"
check_eq "bod: each messageId sent once" "$nb|$nb" \
  "$(state '.ims.messages | length')|$(state '[.ims.messages[].messageId] | unique | length')"
check_eq "bod: M3 received every line exactly once" "$nb|1" \
  "$(state '.m3.receipts | length')|$(state '[.m3.receipts[] | "\(.PUNO)/\(.PNLI)/\(.PNLS)"] | group_by(.) | map(length) | max')"

# re-sends stop too: two sends lost (IMS dropped them unqueued), so both receipts
# are `sent` in doubt; the next run re-sends them (bod.resend_grace 0) on a slow
# IMS; SIGTERM during the first re-send: it finishes, the second is not re-sent
sed -n 3p "$SIM_DIR/bod_all.jsonl" | jq -c '.items = .items[0:2]' >"$SIM_DIR/bod2.jsonl"
check_eq "bod re-send: a shipment of two lines" 2 "$(jq '.items | length' "$SIM_DIR/bod2.jsonl")"
admin POST faults '{"rules":[{"match":"IMS multipartMessage","kind":"timeout","next":2,"ms":200}]}' >/dev/null
"$MLC" post-receipts "$SIM_DIR/bod2.jsonl" >/dev/null 2>&1
check_eq "bod re-send: both sends in doubt, nothing in ION" "2|$nb" \
  "$(db_count "select count(*) from audit where event='send_in_doubt'")|$(state '.ims.messages | length')"
admin POST faults '{"rules":[{"match":"IMS multipartMessage","kind":"latency","probability":1,"ms":2000}]}' >/dev/null
"$MLC" post-receipts </dev/null >/dev/null 2>&1 &
pid=$!
wait_until 20 at_least 1 "select count(*) from audit where event='resend'"
sleep 0.3   # the first re-send is now waiting in the sim
kill -TERM $pid
wait $pid; rc=$?
admin DELETE faults >/dev/null
check_eq "bod re-send SIGTERM: exit 143" 143 "$rc"
check_eq "bod re-send SIGTERM: the re-send in flight reached ION, the other was not re-sent" "$((nb + 1))|1|2 1" \
  "$(state '.ims.messages | length')|$(db_count "select count(*) from audit where event='resend'")|$(state_sql "select sends from bod_message where sends > 0 and receipt_id in (select id from receipt where state != 'posted') order by sends desc" | tr '\n' ' ' | sed 's/ $//')"
"$MLC" post-receipts </dev/null >/dev/null 2>&1
"$MLC" post-receipts </dev/null >/dev/null 2>&1
check_eq "bod re-send: the next runs re-send the other and post both, M3 has each line once" "$((nb + 2))|$((nb + 2))|1" \
  "$(db_count "select count(*) from receipt where state='posted'")|$(state '.m3.receipts | length')|$(state '[.m3.receipts[] | "\(.PUNO)/\(.PNLI)/\(.PNLS)"] | group_by(.) | map(length) | max')"
t_done
