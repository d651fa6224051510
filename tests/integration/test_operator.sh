#!/bin/sh
# test_operator.sh: the operator tools against mlc-sim: mlc queue (filters,
# --table), mlc audit (by receipt, shipment, PO), mlc replay: an exhausted
# receipt replayed after its cause was fixed in the sim (quantity raised, a
# closed line reopened) is posted exactly once; a posted one is left alone;
# needs_review (a crash plus a hand receipt in M3) is refused without --force
# and posted with --force --reason, the reason audited; `mlc queue | mlc
# replay`; --dry-run changes nothing; a queued one stays queued (75) while M3
# fails; bad ids and bad input give clear errors.
. tests/integration/lib.sh
sim_start --fault-seed 3
sim_config_add "    receipts: {base_ms: 1, cap_ms: 20, max_attempts: 5}" "    retry: {in_doubt_margin: 1}"
# a receipt call in doubt is settled 2 s after it started (deadline 1 s, no gateway)
sim_config_under cloudsuite "timeout: 1"
sim_config_under cloudsuite "gateway_timeout: 0"
O="$SIM_DIR"

# half of every open line ships, so every line keeps an open quantity
shipments_from_pos 0.5 >"$O/ship.jsonl"
po1=$(sed -n 1p "$O/ship.jsonl" | jq -r .po)
po2=$(sed -n 2p "$O/ship.jsonl" | jq -r .po)
po3=$(sed -n 3p "$O/ship.jsonl" | jq -r .po)
po4=$(sed -n 4p "$O/ship.jsonl" | jq -r .po)
po5=$(sed -n 5p "$O/ship.jsonl" | jq -r .po)
line_of() { sed -n "$1p" "$O/ship.jsonl" | jq -r '.items[0].po_line | split("/")[1]'; } # an open line
ln1=$(line_of 1); ln3=$(line_of 3); ln4=$(line_of 4); ln5=$(line_of 5)

# how often M3 received PO/LINE with quantity QTY
m3_count() { state "[.m3.receipts[] | select(.PUNO == \"$1\" and .PNLI == $2 and .RVQA == $3)] | length"; }
received() { state '.m3.receipts | length'; }
ledger() { state_sql "select id, state, attempts, next_attempt_at, last_error, updated_at from receipt order by id; select count(*) from audit"; }
one_item() { # SHIPMENT_ID PO LINE QTY
  echo "{\"kind\":\"shipment\",\"shipment_id\":\"$1\",\"po\":\"$2\",\"items\":[{\"sku\":\"x\",\"qty\":$4,\"po_line\":\"$2/$3/0\"}]}"
}

# ---- the ledger: posted, exhausted (over-shipment; closed line) ----
sed -n 1,2p "$O/ship.jsonl" | "$MLC" post-receipts >"$O/p1.jsonl" 2>/dev/null
check_eq "setup: two shipments posted" 0 "$?"
# closed line: finish-marked in CloudSuite before the shipment arrives
admin POST po "{\"PUNO\":\"$po3\",\"lines\":[{\"PNLI\":$ln3,\"OEND\":1}]}" >/dev/null
sed -n 3p "$O/ship.jsonl" | "$MLC" post-receipts >"$O/p2.jsonl" 2>/dev/null
check_eq "setup: the closed line fails with 1" 1 "$?"
C=$(jq -r "select(.line == $ln3) | select(.status == \"exhausted\") | .receipt_id" "$O/p2.jsonl")
check "setup: the closed line's receipt is exhausted" test -n "$C"
cqty=$(jq -r "select(.receipt_id == ${C:-0}) | .qty" "$O/p2.jsonl")
one_item se-over "$po1" "$ln1" 9999 | "$MLC" post-receipts >"$O/p3.jsonl" 2>/dev/null
B=$(jq -r 'select(.status == "exhausted") | .receipt_id' "$O/p3.jsonl")
check "setup: the over-shipment is exhausted" test -n "$B"
base=$(received)

# ---- mlc queue ----
"$MLC" queue >"$O/q.jsonl" 2>"$O/q.err"
check_eq "queue exits 0" 0 "$?"
check_eq "queue lists every receipt" "$(state_sql 'select count(*) from receipt')" "$(wc -l <"$O/q.jsonl" | tr -d ' ')"
check_eq "queue is quiet on stderr" "" "$(cat "$O/q.err")"
check_eq "records carry attempts, next attempt, last error" true \
  "$(head -n 1 "$O/q.jsonl" | jq '.kind == "receipt" and has("attempts") and has("next_attempt_at") and has("last_error")')"
check_eq "--state exhausted: the two failures, with M3's messages" "$C $B" \
  "$("$MLC" queue --state exhausted | jq -r 'select(.last_error | test("closed|remaining")) | .receipt_id' | sort -n | xargs)"
check_eq "--state posted,exhausted (comma list) = all of them" "$(wc -l <"$O/q.jsonl" | tr -d ' ')" \
  "$("$MLC" queue --state posted,exhausted | wc -l | tr -d ' ')"
check_eq "--state posted --state exhausted (repeated) = the same" "$(wc -l <"$O/q.jsonl" | tr -d ' ')" \
  "$("$MLC" queue --state posted --state exhausted | wc -l | tr -d ' ')"
check_eq "--po: only that PO's receipts" "$po1" "$("$MLC" queue --po "$po1" | jq -r .po | sort -u | xargs)"
check_eq "--po with --state" "$B" "$("$MLC" queue --po "$po1" --state exhausted | jq -r .receipt_id)"
check_eq "--shipment" "$B" "$("$MLC" queue --shipment se-over | jq -r .receipt_id)"
check_eq "--since 1h: everything" "$(wc -l <"$O/q.jsonl" | tr -d ' ')" "$("$MLC" queue --since 1h | wc -l | tr -d ' ')"
check_eq "--since in the future: nothing" 0 "$("$MLC" queue --since 2099-01-01T00:00:00Z | wc -l | tr -d ' ')"
check_eq "--since a day" "$(wc -l <"$O/q.jsonl" | tr -d ' ')" "$("$MLC" queue --since 2000-01-01 | wc -l | tr -d ' ')"
"$MLC" queue --state bogus >/dev/null 2>"$O/e"; rc=$?
check_eq "unknown --state is a usage error" 64 "$rc"
check "and names it" grep -q "unknown state 'bogus'" "$O/e"
"$MLC" queue --since yesterday >/dev/null 2>&1; rc=$?
check_eq "bad --since is a usage error" 64 "$rc"
"$MLC" queue --table --state exhausted >"$O/t.txt"; rc=$?
check_eq "--table exits 0" 0 "$rc"
check_eq "--table: a header and one row per receipt" 3 "$(wc -l <"$O/t.txt" | tr -d ' ')"
check "--table header" grep -q '^ID  *STATE  *ATT  *NEXT ATTEMPT  *PO  *LINE  *QTY  *SHIPMENT  *UPDATED  *LAST ERROR$' "$O/t.txt"
check_eq "--table columns are aligned" 1 \
  "$(awk '{ print index($0, " exhausted") ? index($0, "exhausted") : index($0, "STATE") }' "$O/t.txt" | sort -u | wc -l | tr -d ' ')"
check "--table shows the last error" grep -q "more than the remaining" "$O/t.txt"

# ---- mlc audit ----
"$MLC" audit "$B" >"$O/a.jsonl"; rc=$?
check_eq "audit RECEIPT_ID exits 0" 0 "$rc"
check_eq "audit records of that receipt, accepted first, exhausted last" "audit $B accepted exhausted" \
  "$(jq -sr '"\(map(.kind) | unique | join(",")) \(map(.receipt_id) | unique | join(",")) \(.[0].event) \(.[-1].event)"' "$O/a.jsonl")"
check_eq "oldest first" true "$(jq -s '[.[].at] == ([.[].at] | sort)' "$O/a.jsonl")"
check_eq "detail is parsed JSON (the original shipment)" se-over \
  "$(jq -r 'select(.event == "accepted") | .detail.shipment.shipment_id' "$O/a.jsonl")"
check_eq "--shipment: that shipment's trail" "$B" "$("$MLC" audit --shipment se-over | jq -r .receipt_id | sort -u | xargs)"
check_eq "--po: every receipt of the PO" "$("$MLC" queue --po "$po3" | jq -r .receipt_id | sort -n | xargs)" \
  "$("$MLC" audit --po "$po3" | jq -r .receipt_id | sort -nu | xargs)"
check_eq "--po: oldest first across receipts" true "$("$MLC" audit --po "$po1" | jq -s '[.[].at] == ([.[].at] | sort)')"
"$MLC" audit --table "$B" >"$O/at.txt"
check "audit --table header" grep -q '^AT  *RECEIPT  *EVENT  *DETAIL$' "$O/at.txt"
check_eq "audit --table: one line per event" $(($(wc -l <"$O/a.jsonl") + 1)) "$(wc -l <"$O/at.txt" | tr -d ' ')"
"$MLC" audit 99999 >/dev/null 2>"$O/e"; rc=$?
check_eq "audit of an unknown receipt exits 1" 1 "$rc"
check "and says so" grep -q "no receipt with id 99999" "$O/e"
"$MLC" audit --shipment se-nope >/dev/null 2>"$O/e"; rc=$?
check_eq "audit of an unknown shipment exits 1" 1 "$rc"
check "and says so" grep -q "no receipts of shipment se-nope" "$O/e"
"$MLC" audit abc >/dev/null 2>&1; rc=$?
check_eq "audit abc is a usage error" 64 "$rc"
"$MLC" audit >/dev/null 2>&1; rc=$?
check_eq "audit without a target is a usage error" 64 "$rc"
"$MLC" audit "$B" --po "$po1" >/dev/null 2>&1; rc=$?
check_eq "audit with an id and --po is a usage error" 64 "$rc"

# ---- replay: dry run, before the fix, after the fix ----
calls() { state '[.counters.requests | to_entries[] | select(.key | test("^(ION|M3) ")) | .value] | add'; }
writes() { state '[.counters.requests | to_entries[] | select(.key | test("Receipt|AddPOReceipt")) | .value] | add // 0'; }
writes0=$(writes)
before=$(ledger); calls0=$(calls)
"$MLC" queue --state exhausted | "$MLC" replay --dry-run >"$O/d.jsonl" 2>/dev/null; rc=$?
check_eq "--dry-run exits 0" 0 "$rc"
check_eq "--dry-run reports what it would replay" "would_replay would_replay" "$(jq -r .status "$O/d.jsonl" | xargs)"
check_eq "--dry-run changes nothing in the ledger or the audit" "$before" "$(ledger)"
check_eq "--dry-run posts nothing" "$base" "$(received)"
check_eq "--dry-run writes nothing to CloudSuite" "$writes0" "$(writes)"
check "--dry-run only reads the receipt transactions (is it in M3 already?)" test "$(calls)" -gt "$calls0"

"$MLC" replay "$B" >"$O/r0.jsonl" 2>/dev/null; rc=$?
check_eq "replay before the cause is fixed: still exhausted, exit 1" "1 exhausted" "$rc $(jq -r .status "$O/r0.jsonl")"
check_eq "and nothing reached M3" "$base" "$(received)"

# the operator fixes the causes in CloudSuite: more ordered on one line, the other reopened
admin POST po "{\"PUNO\":\"$po1\",\"lines\":[{\"PNLI\":$ln1,\"ORQA\":20000}]}" >/dev/null
admin POST po "{\"PUNO\":\"$po3\",\"lines\":[{\"PNLI\":$ln3,\"reopen\":true}]}" >/dev/null
"$MLC" queue --state exhausted | "$MLC" replay >"$O/r1.jsonl" 2>"$O/r1.err"; rc=$?
check_eq "queue --state exhausted | replay: exit 0" 0 "$rc"
check_eq "both are posted" "$C:posted $B:posted" "$(jq -r '"\(.receipt_id):\(.status)"' "$O/r1.jsonl" | sort -n | xargs)"
check_eq "the over-shipment reached M3 exactly once" 1 "$(m3_count "$po1" "$ln1" 9999)"
check_eq "the reopened line reached M3 exactly once" 1 "$(m3_count "$po3" "$ln3" "$cqty")"
check_eq "M3 got exactly two more receipts" $((base + 2)) "$(received)"
check_eq "the ledger agrees" posted "$(state_sql "select state from receipt where id=$B")"
check_eq "the replay is in the audit before the post" "replay posted" \
  "$("$MLC" audit "$B" | jq -r 'select(.event == "replay" or .event == "posted") | .event' | tail -n 2 | xargs)"

"$MLC" replay "$B" >"$O/r2.jsonl" 2>"$O/r2.err"; rc=$?
check_eq "replay of a posted receipt exits 0" 0 "$rc"
check_eq "and reports it posted" posted "$(jq -r .status "$O/r2.jsonl")"
check "and says it did nothing" grep -q "receipt $B: already posted, nothing to replay" "$O/r2.err"
check_eq "and posts nothing" $((base + 2)) "$(received)"
echo "$B" | "$MLC" replay >"$O/r3.jsonl" 2>/dev/null; rc=$?
check_eq "a bare id on stdin works too" "0 posted" "$rc $(jq -r .status "$O/r3.jsonl")"
"$MLC" queue --state exhausted | "$MLC" replay >"$O/r4.jsonl" 2>/dev/null; rc=$?
check_eq "an empty queue replays nothing, exit 0" "0 0" "$rc $(wc -l <"$O/r4.jsonl" | tr -d ' ')"
check_eq "still nothing more in M3" $((base + 2)) "$(received)"

# ---- needs_review: a crash while posting, and someone received 1 by hand meanwhile ----
admin POST faults '{"rules":[{"match":"M3 PPS001MI/Receipt","kind":"latency","probability":1,"ms":1500},{"match":"M3 MHS850MI/AddPOReceipt","kind":"latency","probability":1,"ms":1500}]}' >/dev/null
one_item se-crash "$po4" "$ln4" 2 | "$MLC" post-receipts >/dev/null 2>&1 &
pid=$!
i=0
while [ "$(state_sql "select state from receipt where shipment_id='se-crash'" 2>/dev/null)" != in_flight ] && [ $i -lt 100 ]; do
  sleep 0.05; i=$((i + 1))
done
sleep 0.3
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
sleep 1.5 # the sim finishes the request the dead process sent
admin DELETE faults >/dev/null
rvqa=$(state ".m3.pos[] | select(.PUNO == \"$po4\") | .lines[] | select(.PNLI == $ln4) | .RVQA")
admin POST po "{\"PUNO\":\"$po4\",\"lines\":[{\"PNLI\":$ln4,\"RVQA\":$((rvqa + 1))}]}" >/dev/null
# no delivery note on this one: once out of doubt, it is settled by RVQA, which moved by 3, not 2
not_in_doubt() { "$MLC" post-receipts </dev/null >/dev/null 2>&1; [ "$(state_sql "select state from receipt where shipment_id='se-crash'")" != in_doubt ]; }
wait_until 10 not_in_doubt
R=$(state_sql "select id from receipt where shipment_id='se-crash' and state='needs_review'")
check "setup: the crashed receipt needs review" test -n "$R"
n0=$(received)
before=$(ledger)
"$MLC" replay "$R" >"$O/n1.jsonl" 2>"$O/n1.err"; rc=$?
check_eq "needs_review without --force: refused, exit 1" "1 needs_review" "$rc $(jq -r .status "$O/n1.jsonl")"
check "and says what to do" grep -q "receipt $R: needs review.*--force --reason" "$O/n1.err"
check_eq "and changes nothing" "$before" "$(ledger)"
"$MLC" replay --needs-review >/dev/null 2>&1; rc=$?
check_eq "--needs-review without --force: refused too" 1 "$rc"
check_eq "and changes nothing" "$before" "$(ledger)"
"$MLC" replay --force "$R" >/dev/null 2>"$O/e"; rc=$?
check_eq "--force without --reason is a usage error" 64 "$rc"
check "that names --reason" grep -q -- "--reason" "$O/e"
"$MLC" replay --needs-review --force --reason "checked PPS300: 1 was a hand receipt" --dry-run >"$O/n2.jsonl" 2>/dev/null
check_eq "--force --dry-run: would replay, changes nothing" "would_replay $before" "$(jq -r .status "$O/n2.jsonl") $(ledger)"
"$MLC" replay --force --reason "checked PPS300: 1 was a hand receipt" "$R" >"$O/n3.jsonl" 2>/dev/null; rc=$?
check_eq "--force --reason posts it" "0 posted" "$rc $(jq -r .status "$O/n3.jsonl")"
check_eq "once" $((n0 + 1)) "$(received)"
check_eq "the reason is in the audit" "checked PPS300: 1 was a hand receipt" \
  "$("$MLC" audit "$R" | jq -r 'select(.event == "replay_forced") | .detail.reason')"

# ---- queued: M3 keeps failing (75), then recovers ----
admin POST faults '{"rules":[{"match":"M3 PPS001MI/Receipt","kind":"503","probability":1},{"match":"M3 MHS850MI/AddPOReceipt","kind":"503","probability":1}]}' >/dev/null
one_item se-q "$po5" "$ln5" 1 | "$MLC" post-receipts >/dev/null 2>&1; rc=$?
check_eq "setup: M3 failing queues the receipt (75)" 75 "$rc"
Q=$(state_sql "select id from receipt where shipment_id='se-q'")
check_eq "queue shows it queued with its attempts and error" "queued 1 true" \
  "$("$MLC" queue --state queued | jq -r "select(.receipt_id == $Q) | \"\(.status) \(.attempts) \(.last_error != null)\"")"
"$MLC" replay "$Q" >"$O/q1.jsonl" 2>/dev/null; rc=$?
check_eq "replay while M3 still fails: queued, exit 75" "75 queued" "$rc $(jq -r .status "$O/q1.jsonl")"
admin DELETE faults >/dev/null
"$MLC" replay "$Q" >"$O/q2.jsonl" 2>/dev/null; rc=$?
check_eq "replay once M3 is back: posted" "0 posted" "$rc $(jq -r .status "$O/q2.jsonl")"
check_eq "exactly once" 1 "$(m3_count "$po5" "$ln5" 1)"

# ---- bad ids and bad input ----
"$MLC" replay 99999 >/dev/null 2>"$O/e"; rc=$?
check_eq "an unknown id exits 1" 1 "$rc"
check "and names it" grep -q "receipt 99999: no such receipt" "$O/e"
"$MLC" replay "$B" 99999 >"$O/b.jsonl" 2>/dev/null; rc=$?
check_eq "known ids are still handled beside an unknown one" "1 posted" "$rc $(jq -r .status "$O/b.jsonl")"
"$MLC" replay abc >/dev/null 2>"$O/e"; rc=$?
check_eq "a non-numeric id is a usage error" 64 "$rc"
check "naming it" grep -q "'abc' is not a receipt id" "$O/e"
"$MLC" replay --exhausted 5 >/dev/null 2>&1; rc=$?
check_eq "ids and --exhausted together: usage error" 64 "$rc"
"$MLC" replay --po "$po1" >/dev/null 2>&1; rc=$?
check_eq "--po alone: usage error" 64 "$rc"
printf '%s\n' 'garbage' '{"kind":"receipt"}' '{"kind":"note","x":1}' '{"kind":"receipt","receipt_id":1e300}' | "$MLC" replay >"$O/g.jsonl" 2>"$O/e"; rc=$?
check_eq "bad stdin lines exit 1" 1 "$rc"
check "with line numbers" grep -q "stdin:1:" "$O/e"
check "and the field" grep -q "stdin:2: receipt record without a valid 'receipt_id'" "$O/e"
check_eq "other kinds pass through" note "$(jq -r .kind "$O/g.jsonl")"
check_eq "bad lines are kept in the store" 3 "$(state_sql "select count(*) from rejected where command='replay'")"
check_eq "after all that, no PO line was received twice by mistake" 1 \
  "$(state "[.m3.receipts[] | select(.PUNO != \"$po4\") | \"\(.PUNO)/\(.PNLI)/\(.PNLS)/\(.RVQA)\"] | group_by(.) | map(length) | max")"
t_done
