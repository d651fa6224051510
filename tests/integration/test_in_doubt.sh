#!/bin/sh
# test_in_doubt.sh: receipts whose outcome is unknown against a slow M3 (issue 17):
# the issue's reproduction (4 s latency on PPS001MI/Receipt, kill -9 at 1.5 s, a rerun
# at once, a rerun after the backoff: the old code posted twice), the in-doubt window
# and its settlement by the delivery note in M3, replay of an exhausted row M3 already
# carries, and a deleted state directory: the cron pipes run again post nothing twice.
. tests/integration/lib.sh
sim_start
# the call's deadline 5 s, the "gateway" 1 s, margin 1 s: settled 7 s after the call starts
sim_config_under cloudsuite "timeout: 5"
sim_config_under cloudsuite "gateway_timeout: 1"
sim_config_add "    receipts: {base_ms: 1, cap_ms: 20, max_attempts: 50}" "    retry: {in_doubt_margin: 1}"
DB="$MLC_STATE_DIR/sim.db"

po=2000001
"$MLC" pull-pos --po $po --status 0-74 >"$SIM_DIR/po.jsonl"
ln=$(jq -r '[.lines[] | select(.qty_ordered > .qty_received)][0] | "\(.line)/\(.subline)"' "$SIM_DIR/po.jsonl")
ship="{\"kind\":\"shipment\",\"shipment_id\":\"se-slow\",\"po\":\"$po\",\"order_type\":\"PP1\",\"tracking_number\":\"1ZSLOW1\",\"items\":[{\"sku\":\"x\",\"qty\":1,\"po_line\":\"$po/$ln\"}]}"
on_line() { state "[.m3.receipts[] | select(.PUNO == \"$po\" and \"\(.PNLI)/\(.PNLS)\" == \"$ln\")] | length"; }
receipt_state() { state_sql "select state from receipt where shipment_id='$1'"; }

# ---- the issue's reproduction ----
admin POST faults '{"rules":[{"match":"M3 PPS001MI/Receipt","kind":"latency","next":1,"ms":4000}]}' >/dev/null
echo "$ship" | "$MLC" post-receipts >/dev/null 2>&1 &
pid=$!
sleep 1.5
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
check_eq "killed while M3 executes: nothing received yet" 0 "$(on_line)"
echo "$ship" | "$MLC" post-receipts >"$SIM_DIR/r1.jsonl" 2>"$SIM_DIR/r1.err"; rc=$?
check_eq "a rerun at once: the receipt is in_doubt" in_doubt "$(jq -r 'select(.status != "duplicate") | .status' "$SIM_DIR/r1.jsonl")"
check_eq "a rerun at once exits 75 (try again later)" 75 "$rc"
check "its record says when it will be settled" jq -s -e 'map(select(.status == "in_doubt"))[0].settle_after | test("Z$")' "$SIM_DIR/r1.jsonl"
at_m3() { [ "$(on_line)" -ge 1 ]; }
check "M3 finishes the orphaned call" wait_until 10 at_m3
sleep 0.2 # the backoff (20 ms at most)
echo "$ship" | "$MLC" post-receipts >"$SIM_DIR/r2.jsonl" 2>/dev/null
check_eq "a rerun after the backoff, inside the window: still in_doubt, not posted again" in_doubt "$(receipt_state se-slow)"
check_eq "one receipt on the line" 1 "$(on_line)"
settled() { "$MLC" post-receipts </dev/null >>"$SIM_DIR/r3.jsonl" 2>/dev/null; [ "$(receipt_state se-slow)" != in_doubt ]; }
check "after the window the receipt is settled" wait_until 15 settled
check_eq "settled as posted" posted "$(receipt_state se-slow)"
check_eq "by its delivery note in M3" 1 "$(state_sql "select count(*) from audit a join receipt r on r.id=a.receipt_id where r.shipment_id='se-slow' and a.event='posted' and a.detail like '%\"settled_by\":\"delivery_note\"%'")"
check_eq "still one receipt on the line" 1 "$(on_line)"
check "the call's deadline, gateway timeout and margin were recorded when it started" \
  test "$(state_sql "select count(*) from audit a join receipt r on r.id=a.receipt_id where r.shipment_id='se-slow' and a.event='call_started' and a.detail like '%\"deadline_s\":5,\"gateway_timeout_s\":1,\"margin_s\":1%'")" -ge 1

# ---- not applied: the same story where M3 drops the call: settled as not applied, posted once ----
admin POST faults '{"rules":[{"match":"M3 PPS001MI/Receipt","kind":"timeout","next":1,"ms":3000}]}' >/dev/null
ship2=$(echo "$ship" | jq -c '.shipment_id = "se-lost" | .tracking_number = "1ZLOST1"')
echo "$ship2" | "$MLC" post-receipts >/dev/null 2>&1 &
pid=$!
sleep 1
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
settled2() { "$MLC" post-receipts </dev/null >/dev/null 2>&1; [ "$(receipt_state se-lost)" = posted ]; }
check "a call M3 never applied is posted after the window" wait_until 20 settled2
check_eq "exactly once" 1 "$(state '[.m3.receipts[] | select(.SUDO == "1ZLOST1")] | length')"
check_eq "the audit says it was not applied, by the delivery note" 1 \
  "$(state_sql "select count(*) from audit a join receipt r on r.id=a.receipt_id where r.shipment_id='se-lost' and a.event='not_applied' and a.detail like '%delivery_note%'")"

# ---- mlc-sim: latency that commits before the answer ----
admin POST faults '{"rules":[{"match":"M3 PPS001MI/Receipt","kind":"latency","next":1,"ms":3000,"commit":"before"}]}' >/dev/null
check_eq "the sim shows the commit mode" before "$(admin GET faults | jq -r '.[0].commit // .rules[0].commit')"
ship3=$(echo "$ship" | jq -c '.shipment_id = "se-early" | .tracking_number = "1ZEARLY"')
echo "$ship3" | "$MLC" post-receipts >/dev/null 2>&1 &
pid=$!
early() { [ "$(state '[.m3.receipts[] | select(.SUDO == "1ZEARLY")] | length')" = 1 ]; }
check "commit before: M3 has it while the answer is still held back" wait_until 2 early
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
settled3() { "$MLC" post-receipts </dev/null >/dev/null 2>&1; [ "$(receipt_state se-early)" = posted ]; }
check "and the killed run's receipt is settled as posted" wait_until 20 settled3
check_eq "once" 1 "$(state '[.m3.receipts[] | select(.SUDO == "1ZEARLY")] | length')"
admin DELETE faults >/dev/null

# ---- exhausted after an over-receipt refusal, but M3 carries it: replay does not offer it ----
open=$(state "[.m3.pos[] | select(.PUNO == \"$po\") | .lines[] | select(\"\(.PNLI)/\(.PNLS)\" == \"$ln\") | ((.ORQA|tonumber) - (.RVQA|tonumber))][0]")
over=$(echo "$ship" | jq -c --argjson q "$open" '.shipment_id = "se-over" | .tracking_number = "1ZOVER" | .items[0].qty = $q')
# M3 receives it behind mlc's back (an earlier run's call), then mlc's own post is refused
admin POST faults '{"rules":[{"match":"M3 PPS001MI/Receipt","kind":"commit_drop","next":1}]}' >/dev/null
echo "$over" | "$MLC" post-receipts >/dev/null 2>&1
admin DELETE faults >/dev/null
id=$(state_sql "select id from receipt where shipment_id='se-over'")
# the ledger lost track: pretend the refusal path (state exhausted, as the old code left it)
state_sql "update receipt set state='exhausted', last_error='M3 refused the receipt (WRV0102): more than the remaining' where id=$id"
"$MLC" replay --dry-run "$id" >"$SIM_DIR/rp1.jsonl" 2>/dev/null
check_eq "replay --dry-run: M3 already carries it" already_posted "$(jq -r .status "$SIM_DIR/rp1.jsonl")"
"$MLC" replay "$id" >"$SIM_DIR/rp2.jsonl" 2>/dev/null
check_eq "replay records it already_posted" already_posted "$(receipt_state se-over)"
check_eq "and posts nothing" 1 "$(state '[.m3.receipts[] | select(.SUDO == "1ZOVER")] | length')"
"$MLC" queue >"$SIM_DIR/q.txt" 2>&1
check "mlc queue shows already_posted" grep -q already_posted "$SIM_DIR/q.txt"

# ---- fresh state: the cron pipes run again post nothing twice ----
sim_stop; rm -rf "$SIM_DIR"
sim_start
sim_config_add "    receipts: {base_ms: 1, cap_ms: 20, max_attempts: 50}"
DB="$MLC_STATE_DIR/sim.db"
"$MLC" pull-pos --status 0-74 | "$MLC" push-shipments >/dev/null 2>&1
# ShipStation ships some of them
ids=$(state '[.shipstation.v2.shipments[] | .shipment_id][0:8]' | jq -c .)
admin POST ship "{\"ids\":$ids}" >/dev/null
"$MLC" pull-shipments 2>/dev/null | "$MLC" post-receipts >"$SIM_DIR/c1.jsonl" 2>/dev/null
posted=$(jq -r 'select(.status == "posted") | .receipt_id' "$SIM_DIR/c1.jsonl" | wc -l)
check "the cron pipes posted receipts" test "$posted" -gt 0
before=$(state '.m3.receipts | length')
state_wipe
"$MLC" pull-pos --status 0-74 2>/dev/null | "$MLC" push-shipments >"$SIM_DIR/p2.jsonl" 2>/dev/null
check_eq "fresh state: push-shipments creates no second shipment" 0 "$(jq -r 'select(.action == "created") | .po' "$SIM_DIR/p2.jsonl" | wc -l)"
"$MLC" pull-shipments 2>"$SIM_DIR/ps2.err" >"$SIM_DIR/s2.jsonl"
check "fresh state: pull-shipments says it starts from the bounded lookback" grep -q "fresh state" "$SIM_DIR/ps2.err"
check_eq "and records it in the audit" 1 "$(state_sql "select count(*) from audit where event='fresh_state' and detail like '%pull-shipments%'")"
check "it re-emits the past shipments" test "$(wc -l <"$SIM_DIR/s2.jsonl")" -gt 0
"$MLC" post-receipts <"$SIM_DIR/s2.jsonl" >"$SIM_DIR/c2.jsonl" 2>/dev/null
check_eq "post-receipts finds every one already posted in M3" "$posted" \
  "$(jq -r 'select(.status == "already_posted") | .receipt_id' "$SIM_DIR/c2.jsonl" | wc -l)"
check_eq "nothing posted twice" "$before" "$(state '.m3.receipts | length')"
check_eq "no line received twice" 1 "$(state '[.m3.receipts[] | "\(.PUNO)/\(.PNLI)/\(.PNLS)"] | group_by(.) | map(length) | max // 1')"
t_done
