#!/bin/sh
# test_post_receipts.sh: mlc post-receipts against mlc-sim: every shipped line
# received exactly once with its tracking number; duplicates not posted; M3
# refusals exhausted with M3's message; 20% faults of every kind (429, 5xx,
# resets, commit-then-drop) and 50 kill -9 at random points while M3 is slow
# (receipt calls that commit seconds after the client was killed or gave up, on
# both routes): nothing lost, nothing twice, by the sim's own books.
. tests/integration/lib.sh
sim_start --fault-seed 7
sim_config_add "    receipts: {base_ms: 1, cap_ms: 20, max_attempts: 50}"
DB="$MLC_STATE_DIR/sim.db"

shipments_from_pos 1 >"$SIM_DIR/ship.jsonl"
lines=$(jq '.items | length' "$SIM_DIR/ship.jsonl" | awk '{s += $1} END {print s}')
check "the seed gives shipments to post" test "$lines" -gt 20

# once-per-line checks over the sim's own record of receipts
exactly_once() {
  state '[.m3.receipts[] | "\(.PUNO)/\(.PNLI)/\(.PNLS)"] | group_by(.) | map(length) | max // 0'
}
received() { state '.m3.receipts | length'; }

"$MLC" -v post-receipts <"$SIM_DIR/ship.jsonl" >"$SIM_DIR/out1.jsonl" 2>"$SIM_DIR/err1"; rc=$?
check_eq "happy path exits 0" 0 "$rc"
check_eq "one receipt record per shipped line, all posted" "$lines" "$(jq -r 'select(.status == "posted") | .receipt_id' "$SIM_DIR/out1.jsonl" | wc -l)"
check_eq "M3 recorded every line" "$lines" "$(received)"
check_eq "no line received twice" 1 "$(exactly_once)"
check_eq "delivery notes carry the tracking numbers" 0 \
  "$(state '[.m3.receipts[] | select(.SUDO != ("1ZTEST" + .PUNO))] | length')"
check_eq "quantities are the shipped ones" \
  "$(jq '[.items[].qty] | add' "$SIM_DIR/ship.jsonl" | awk '{s += $1} END {print s}')" \
  "$(state '[.m3.receipts[].RVQA] | add')"
check_eq "both routes used (PPS001MI and MHS850MI)" 2 "$(state '[.m3.receipts[].route] | unique | length')"
calls=$(sed -n 's/.* \([0-9]*\) M3 calls.*/\1/p' "$SIM_DIR/err1")
check "bulk: far fewer M3 calls than receipts (${calls:-?} for $lines)" test "${calls:-999}" -le 10

"$MLC" post-receipts <"$SIM_DIR/ship.jsonl" >"$SIM_DIR/out2.jsonl" 2>/dev/null; rc=$?
check_eq "a rerun of the same shipments exits 0" 0 "$rc"
check_eq "every line reported duplicate" "$lines" "$(jq -r 'select(.status == "duplicate") | .receipt_id' "$SIM_DIR/out2.jsonl" | wc -l)"
check_eq "and nothing more posted" "$lines" "$(received)"

# over-shipment: M3 refuses, the receipt is exhausted with M3's message, not retried
po=$(head -n 1 "$SIM_DIR/ship.jsonl" | jq -r .po)
pl=$(head -n 1 "$SIM_DIR/ship.jsonl" | jq -r '.items[0].po_line')
echo "{\"kind\":\"shipment\",\"shipment_id\":\"se-over\",\"po\":\"$po\",\"items\":[{\"sku\":\"x\",\"qty\":5,\"po_line\":\"$pl\"}]}" \
  | "$MLC" post-receipts >"$SIM_DIR/out3.jsonl" 2>/dev/null; rc=$?
check_eq "over-shipment exits 1" 1 "$rc"
check_eq "over-shipment is exhausted" exhausted "$(jq -r .status "$SIM_DIR/out3.jsonl")"
check "with M3's message" grep -q "more than the remaining" "$SIM_DIR/out3.jsonl"
check_eq "and nothing was posted" "$lines" "$(received)"

# bad input: reported with line numbers, kept in the store, the rest goes on
printf '%s\n' 'not json' '{"kind":"shipment","shipment_id":"se-x","items":[{"qty":1}]}' '{"kind":"note"}' \
  | "$MLC" post-receipts >"$SIM_DIR/out4.jsonl" 2>"$SIM_DIR/err4"; rc=$?
check_eq "bad input exits 1" 1 "$rc"
check "names line 1" grep -q "stdin:1:1: invalid JSON" "$SIM_DIR/err4"
check "names line 2 and the field" grep -q "stdin:2: items\[0\]: 'po_line'" "$SIM_DIR/err4"
check_eq "other kinds pass through" note "$(jq -r .kind "$SIM_DIR/out4.jsonl")"
check_eq "rejected lines are kept" 2 "$(state_sql "select count(*) from rejected where command='post-receipts'")"

# dispatch advice at ship time (receipts.advise_at_ship): in transit before the receipt
sed -i 's/^    receipts: {base_ms: 1, cap_ms: 20, max_attempts: 50}$/    receipts: {base_ms: 1, cap_ms: 20, max_attempts: 50, advise_at_ship: true}/' "$MLC_CONFIG"
apo=${pl%%/*}; aln=${pl#*/}; aln=${aln%%/*}
admin POST po "{\"PUNO\":\"$apo\",\"lines\":[{\"PNLI\":$aln,\"ORQA\":\"100000\"}]}" >/dev/null
adv_before=$(state '.m3.advices | length')
echo "{\"kind\":\"shipment\",\"shipment_id\":\"se-adv\",\"po\":\"$apo\",\"tracking_number\":\"1ZADV\",\"items\":[{\"sku\":\"x\",\"qty\":1,\"po_line\":\"$pl\"}]}" \
  | "$MLC" post-receipts >"$SIM_DIR/adv.jsonl" 2>/dev/null
check_eq "advise_at_ship: one dispatch advice sent" "$((adv_before + 1))" "$(state '.m3.advices | length')"
check_eq "advise_at_ship: the receipt is posted too" posted "$(jq -r .status "$SIM_DIR/adv.jsonl")"
check_eq "advise_at_ship: audited" 1 "$(state_sql "select count(*) from audit where event='advised'")"

# ---- faults: 20% of every kind on the receipt and read calls ----
sim_stop; rm -rf "$SIM_DIR"
sim_start --fault-seed 11
sim_config_add "    receipts: {base_ms: 1, cap_ms: 20, max_attempts: 50}" "    retry: {in_doubt_margin: 0}"
sim_config_under cloudsuite "bulk_size: 4"
sim_config_under cloudsuite "bulk_read_size: 8"
# calls in doubt are settled 1 s after they started (deadline 1 s, no gateway)
sim_config_under cloudsuite "timeout: 1"
sim_config_under cloudsuite "gateway_timeout: 0"
DB="$MLC_STATE_DIR/sim.db"
shipments_from_pos 1 >"$SIM_DIR/ship.jsonl"
lines=$(jq '.items | length' "$SIM_DIR/ship.jsonl" | awk '{s += $1} END {print s}')
rules=""
for m in "M3 PPS001MI/Receipt" "M3 MHS850MI/AddPOReceipt" "M3 PPS200MI/GetLine"; do
  for k in 429 500 503 reset commit_drop commit_reset; do
    rules="$rules{\"match\":\"$m\",\"kind\":\"$k\",\"probability\":0.035},"
  done
done
admin POST faults "{\"seed\":11,\"rules\":[${rules%,}]}" >/dev/null
"$MLC" post-receipts <"$SIM_DIR/ship.jsonl" >/dev/null 2>"$SIM_DIR/errf"
i=0
while [ $i -lt 80 ]; do
  left=$(state_sql "select count(*) from receipt where state in ('pending','queued','in_flight','in_doubt')")
  [ "$left" = 0 ] && break
  sleep 0.3
  "$MLC" post-receipts </dev/null >/dev/null 2>>"$SIM_DIR/errf"
  i=$((i + 1))
done
check_eq "with faults: the queue drains" 0 "$left"
state_sql "select receipt_id, event, detail from audit where receipt_id in (select id from receipt where state != 'posted')" | cut -c1-250 | sed "s/^/# /"
[ -n "${STOP_AFTER_FAULTS:-}" ] && exit 0
check_eq "with faults: every line posted" "$lines" "$(state_sql "select count(*) from receipt where state='posted'")"
check_eq "with faults: M3 has every line" "$lines" "$(received)"
check_eq "with faults: no line twice" 1 "$(exactly_once)"
check "faults really fired" test "$(state '[.counters.requests | to_entries[] | select(.key | test(" (429|500|503)$")) | .value] | add // 0')" -gt 0
check "retries were audited" test "$(state_sql "select count(*) from audit where event in ('queued','not_applied','call_failed')")" -gt 0
check "lost answers went in_doubt and were settled by the delivery note" \
  test "$(state_sql "select count(*) from audit where event in ('posted','not_applied') and detail like '%\"settled_by\":\"delivery_note\"%'")" -gt 0

# ---- kill -9 at random points, 50 runs, M3 slow on both receipt routes ----
# A quarter of the receipt calls take 1.5 to 4 s and commit after that wait, whether
# the client is still there or not (killed, or gone at its 2 s timeout); a tenth of
# the PPS001MI ones commit and then drop the answer. Calls are settled 6 s after they
# start (deadline 2 s + "gateway" 3 s + margin 1 s), past every commit.
sim_stop; rm -rf "$SIM_DIR"
sim_start --fault-seed 5
sim_config_add "    receipts: {base_ms: 1, cap_ms: 20, max_attempts: 100}" "    retry: {in_doubt_margin: 1}"
sim_config_under cloudsuite "bulk_size: 5"
sim_config_under cloudsuite "bulk_read_size: 10"
sim_config_under cloudsuite "timeout: 2"
sim_config_under cloudsuite "gateway_timeout: 3"
DB="$MLC_STATE_DIR/sim.db"
# half of each open line ships: a second receipt of a line fits in what is open, so
# M3's over-receipt check cannot hide a double post
shipments_from_pos 0.5 >"$SIM_DIR/ship.jsonl"
lines=$(jq '.items | length' "$SIM_DIR/ship.jsonl" | awk '{s += $1} END {print s}')
# the first receipt call of each route is slow for sure (a loaded machine makes few
# calls before the kills), the rest by chance
admin POST faults '{"seed":5,"rules":[
  {"match":"M3 PPS001MI/Receipt","kind":"latency","next":1,"ms":4000,"commit":"after"},
  {"match":"M3 MHS850MI/AddPOReceipt","kind":"latency","next":1,"ms":4000,"commit":"after"},
  {"match":"M3 PPS001MI/Receipt","kind":"latency","probability":0.12,"ms":4000,"commit":"after"},
  {"match":"M3 PPS001MI/Receipt","kind":"latency","probability":0.14,"ms":1500,"commit":"after"},
  {"match":"M3 MHS850MI/AddPOReceipt","kind":"latency","probability":0.12,"ms":4000,"commit":"after"},
  {"match":"M3 MHS850MI/AddPOReceipt","kind":"latency","probability":0.14,"ms":1500,"commit":"after"},
  {"match":"M3 PPS001MI/Receipt","kind":"commit_drop","probability":0.1},
  {"match":"M3 *","kind":"latency","probability":1,"ms":15}]}' >/dev/null
n=0
while [ $n -lt 50 ]; do
  "$MLC" post-receipts <"$SIM_DIR/ship.jsonl" >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(awk -v s=$n 'BEGIN{srand(s); printf "%02d", int(rand()*90)+5}')"
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  n=$((n + 1))
done
slow=$(state '[.counters.requests | to_entries[] | select(.key | test("^M3")) | .value] | add // 0')
# how many receipt calls each route's slow rules (1.5 s and 4 s, commit after) delayed
slow_po=$(state '[.faults[] | select(.kind == "latency" and .ms >= 1500 and .match == "M3 PPS001MI/Receipt") | .fired] | add // 0')
slow_wh=$(state '[.faults[] | select(.kind == "latency" and .ms >= 1500 and .match == "M3 MHS850MI/AddPOReceipt") | .fired] | add // 0')
admin DELETE faults >/dev/null
i=0
while [ $i -lt 60 ]; do
  "$MLC" post-receipts <"$SIM_DIR/ship.jsonl" >/dev/null 2>>"$SIM_DIR/errk"
  left=$(state_sql "select count(*) from receipt where state in ('pending','queued','in_flight','in_doubt')")
  [ "$left" = 0 ] && break
  sleep 0.5
  i=$((i + 1))
done
review=$(state_sql "select count(*) from receipt where state='needs_review'")
# the sim's books: what M3 received per PO line against what was shipped
books=$(jq -s '[.[] | .items[] | {key: .po_line, value: .qty}] | group_by(.key) | map({key: .[0].key, value: (map(.value) | add)}) | from_entries' "$SIM_DIR/ship.jsonl")
got=$(state '[.m3.receipts[] | {key: "\(.PUNO)/\(.PNLI)/\(.PNLS)", value: (.RVQA | tonumber)}] | group_by(.key) | map({key: .[0].key, value: (map(.value) | add)}) | from_entries')
lost=$(jq -n --argjson s "$books" --argjson g "$got" '[$s | to_entries[] | select(($g[.key] // 0) < .value)] | length')
double=$(jq -n --argjson s "$books" --argjson g "$got" '[$s | to_entries[] | select(($g[.key] // 0) > .value)] | length')
settled=$(state_sql "select count(*) from audit where event in ('posted','not_applied') and detail like '%\"settled_by\":\"delivery_note\"%'")
check_eq "after 50 kill -9 with slow M3: the queue drains" 0 "$left"
check_eq "after 50 kill -9 with slow M3: no line received twice" 1 "$(exactly_once)"
check_eq "after 50 kill -9 with slow M3: 0 lines short in M3 (lost)" 0 "$lost"
check_eq "after 50 kill -9 with slow M3: 0 lines over in M3 (double)" 0 "$double"
check_eq "after 50 kill -9 with slow M3: every line posted or found already posted" "$lines" \
  "$(state_sql "select count(*) from receipt where state in ('posted','already_posted')")"
check "both routes were slowed (PPS001MI $slow_po, MHS850MI $slow_wh slow calls)" test "$slow_po" -gt 0 -a "$slow_wh" -gt 0
check "both routes received" test "$(state '[.m3.receipts[].route] | unique | length')" = 2
check "calls were in doubt and settled by their delivery note ($settled)" test "$settled" -gt 0
echo "# kill -9 with slow M3: 50 runs, $lines lines, lost $lost, double $double, $review for review, $settled settled by delivery note, $slow M3 requests, slow receipt calls: $slow_po PPS001MI, $slow_wh MHS850MI"
t_done
