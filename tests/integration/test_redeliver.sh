#!/bin/sh
# test_redeliver.sh: nothing lost between pull-shipments and post-receipts (issue 17).
# pull-shipments marks what it wrote (content hash) so it is not written twice; a
# reader that died before storing a record used to lose it for good. Here the reader
# dies: a consumer that never reads, a post-receipts killed (kill -9) at random
# points of the real pipe `mlc pull-shipments | mlc post-receipts` while ShipStation
# and M3 are slow; then the normal pipe runs again and the sim's M3 books must hold
# every shipped line exactly once (0 lost, 0 double). Also: a record already in the
# ledger is not written again, a void that follows a record written again is not
# lost either, the redelivery window ends with a warning and an audit event,
# shipstation.redeliver_hours: 0 and --no-redeliver.
# Not here: the receipt protocol itself (test_post_receipts, test_in_doubt).
. tests/integration/lib.sh
sim_start --fault-seed 17
sim_config_add "    receipts: {base_ms: 1, cap_ms: 20, max_attempts: 100}" "    retry: {in_doubt_margin: 1}"
sim_config_under cloudsuite "timeout: 2"
sim_config_under cloudsuite "gateway_timeout: 1"
"$MLC" pull-pos --status 0-74 2>/dev/null | "$MLC" push-shipments >/dev/null 2>&1
# never-labelled pending shipments (a voided one is pending again: not shipped again
# here, a relabel is another story)
fresh='(.shipstation.v2.labels | map(.shipment_id)) as $l | [.shipstation.v2.shipments[]
  | select(.shipment_status == "pending" and (.shipment_id as $i | $l | index($i) | not)) | .shipment_id]'
pending() { state "$fresh | length"; }
ROUNDS=${REDELIVER_ROUNDS:-16}
# one shipment ships per pipe: 8 for the sections, 2 per round
check "POs pushed as shipments, enough for $ROUNDS rounds ($(pending))" test "$(pending)" -ge $((8 + 2 * ROUNDS))
# ship N: the warehouse ships the next N of them, whole
ship() {
  _ids=$(state "$fresh | .[0:$1] | map(\"\\\"\\(.)\\\"\") | join(\",\")")
  [ -n "$_ids" ] && admin POST ship "{\"ids\":[$_ids]}" >/dev/null
}
# books: "LOST DOUBLE LINES" by the sim's books: per PO line, M3's received quantity
# against what shipped under labels that stand
books() {
  state '([.shipstation.v2.labels[] | select(.voided | not) | .shipment_id]) as $live
    | [.shipstation.v2.shipments[] | select(.shipment_id as $i | $live | index($i)) | .items[]
       | {k: .external_order_item_id, q: .quantity}] | group_by(.k) | map("S \(.[0].k) \(map(.q) | add)") | .[]' \
    >"$SIM_DIR/books"
  state '[.m3.receipts[] | {k: "\(.PUNO)/\(.PNLI)/\(.PNLS)", q: (.RVQA|tonumber)}] | group_by(.k)
    | map("M \(.[0].k) \(map(.q) | add)") | .[]' >>"$SIM_DIR/books"
  awk '$1 == "S" { s[$2] = $3 } $1 == "M" { m[$2] = $3 }
       END { for (k in s) { n++; if (m[k] + 0 < s[k] - 1e-9) lost++ }
             for (k in m) if (m[k] > s[k] + 1e-9) dbl++
             printf "%d %d %d\n", lost, dbl, n }' "$SIM_DIR/books"
}
kept() { db_count "select count(*) from outbox where ns='shipment'"; }
pipe() { "$MLC" pull-shipments 2>>"$SIM_DIR/pull.err" | tee -a "$SIM_DIR/pulled.jsonl" | "$MLC" post-receipts >/dev/null 2>>"$SIM_DIR/post.err"; }

# ---- the reader dies before reading anything ----
ship 3
"$MLC" pull-shipments 2>"$SIM_DIR/p1.err" | sleep 2   # a reader that never reads, gone after 2 s
check_eq "a reader that read nothing: three shipments kept for the ledger" 3 "$(kept)"
check_eq "nothing received yet" 0 "$(state '.m3.receipts | length')"
"$MLC" pull-shipments 2>"$SIM_DIR/p2.err" | tee "$SIM_DIR/p2.jsonl" | "$MLC" post-receipts >"$SIM_DIR/r2.jsonl" 2>&1
check_eq "the next cron pipe writes them again" "3 3" \
  "$(jq -r .source "$SIM_DIR/p2.jsonl" | grep -c '^redeliver$') $(wc -l <"$SIM_DIR/p2.jsonl")"
set -- $(books)
check_eq "and M3 receives every shipped line ($3 lines) exactly once" "0 0" "$1 $2"
first_lines=$3
"$MLC" pull-shipments 2>/dev/null | "$MLC" post-receipts >"$SIM_DIR/r3.jsonl" 2>&1
check_eq "once in the ledger they are forgotten: the next run writes nothing" "0 0" "$(wc -l <"$SIM_DIR/r3.jsonl") $(kept)"
check_eq "and --no-cursor brings nothing back twice" 0 "$("$MLC" pull-shipments --no-cursor 2>/dev/null | wc -l)"

# ---- a record already in the ledger is not written again ----
ship 2
"$MLC" pull-shipments >"$SIM_DIR/f.jsonl" 2>/dev/null
check_eq "written to a file: kept until a ledger has them" 2 "$(kept)"
"$MLC" post-receipts <"$SIM_DIR/f.jsonl" >/dev/null 2>&1
"$MLC" pull-shipments >"$SIM_DIR/f2.jsonl" 2>/dev/null
check_eq "stored by post-receipts from the file: not written again, forgotten" "0 0" "$(wc -l <"$SIM_DIR/f2.jsonl") $(kept)"
set -- $(books)
check_eq "M3 books: 0 lost, 0 double" "0 0" "$1 $2"

# ---- a void that follows a record written again ----
# The reader dies before storing a shipment; the label is voided; the next pull writes
# the shipment again and then its void, and its reader stores the first and dies
# before the second (here: only the first line, with M3 down so nothing is posted).
# The void is kept too, and voids the receipt rows before anything posts them.
ship 1
"$MLC" pull-shipments 2>/dev/null | sleep 2
vid=$(state_sql "select key from outbox where ns='shipment'")
vpo=$(state "[.shipstation.v2.shipments[] | select(.shipment_id == \"$vid\") | .external_shipment_id][0]" | sed 's/^mlc-[0-9]*-//')
admin POST void "{\"ids\":[\"$vid\"]}" >/dev/null
"$MLC" pull-shipments >"$SIM_DIR/v.jsonl" 2>/dev/null
check_eq "the shipment written again, then its void" "$vid redeliver false|$vid poll true" \
  "$(jq -r '"\(.shipment_id) \(.source) \(.voided)"' "$SIM_DIR/v.jsonl" | paste -sd '|')"
admin POST faults '{"seed":1,"rules":[{"match":"M3 *","kind":"503","probability":1}]}' >/dev/null
head -n 1 "$SIM_DIR/v.jsonl" | "$MLC" post-receipts >/dev/null 2>&1
admin DELETE faults >/dev/null
check "the first record is in the ledger, not posted" test "$(db_count "select count(*) from receipt where shipment_id='$vid' and state in ('pending','queued')")" -gt 0
pipe
check_eq "the void came again and voided its rows" 0 \
  "$(db_count "select count(*) from receipt where shipment_id='$vid' and state != 'voided'")"
check_eq "nothing received for the voided shipment" 0 "$(state "[.m3.receipts[] | select(.PUNO == \"$vpo\")] | length")"

# ---- the window: a consumer that is not post-receipts ----
ship 1
"$MLC" pull-shipments >"$SIM_DIR/g.jsonl" 2>/dev/null
sid=$(jq -r .shipment_id "$SIM_DIR/g.jsonl")
"$MLC" pull-shipments >"$SIM_DIR/g2.jsonl" 2>/dev/null
check_eq "within shipstation.redeliver_hours it is written again each run" "$sid redeliver" \
  "$(jq -r '"\(.shipment_id) \(.source)"' "$SIM_DIR/g2.jsonl")"
"$MLC" pull-shipments --no-redeliver >"$SIM_DIR/g3.jsonl" 2>/dev/null
check_eq "--no-redeliver: not this run, still kept" "0 1" "$(wc -l <"$SIM_DIR/g3.jsonl") $(kept)"
state_sql "update outbox set emitted_at = emitted_at - 25 * 3600" >/dev/null
"$MLC" pull-shipments >"$SIM_DIR/g4.jsonl" 2>"$SIM_DIR/g4.err"
check_eq "past 24 hours: given up, not written" "0 0" "$(wc -l <"$SIM_DIR/g4.jsonl") $(kept)"
check "with a warning naming the shipment" grep -q "shipment $sid was written 2 times since .*not written again" "$SIM_DIR/g4.err"
check_eq "and an audit event" 1 "$(db_count "select count(*) from audit where event='redelivery_expired' and detail like '%$sid%'")"
"$MLC" post-receipts <"$SIM_DIR/g.jsonl" >/dev/null 2>&1   # what the operator does with it

# ---- kill -9 of post-receipts at random points of the real pipe ----
# Cron runs that overlap, as they do when M3 is slow: each round a pipe starts, the
# warehouse ships more, and 0.15 s later a second pipe starts; its post-receipts
# waits for the first (one poster per profile) with its records in the pipe, and is
# killed (kill -9) at a random point: waiting, reading, or posting; in odd rounds the
# first one is killed too. ShipStation and M3 are slow: a third of the receipt calls
# take 1.5 s and commit after that wait, whether the client is still there or not
# (killed mid-post: in doubt, settled 4 s after the call started: deadline 2 s +
# gateway 1 s + margin 1 s).
admin POST faults '{"seed":17,"rules":[
  {"match":"GET /v2/*","kind":"latency","probability":1,"ms":20},
  {"match":"M3 PPS001MI/Receipt","kind":"latency","probability":0.3,"ms":1500,"commit":"after"},
  {"match":"M3 MHS850MI/AddPOReceipt","kind":"latency","probability":0.3,"ms":1500,"commit":"after"},
  {"match":"M3 *","kind":"latency","probability":1,"ms":30}]}' >/dev/null
# cron_pipe N: the real pipe in the background; post-receipts' pid in post.N.pid
cron_pipe() {
  rm -f "$SIM_DIR/post.$1.pid"
  "$MLC" pull-shipments 2>>"$SIM_DIR/pull.err" |
    sh -c 'echo $$ >"$1"; exec "$2" post-receipts >/dev/null 2>>"$3"' sh "$SIM_DIR/post.$1.pid" "$MLC" "$SIM_DIR/post.err" &
}
set -- $(books); lost0=$1 dbl0=$2
i=0 kills=0
while [ $i -lt "$ROUNDS" ]; do
  i=$((i + 1))
  ship 1
  cron_pipe 1; p1=$!
  sleep 0.15
  ship 1
  cron_pipe 2; p2=$!
  wait_until 5 test -s "$SIM_DIR/post.2.pid"
  sleep "$(awk -v s=$i 'BEGIN{srand(s * 7); printf "%.2f", rand() * 0.9 + 0.02}')"
  kill -9 "$(cat "$SIM_DIR/post.2.pid")" 2>/dev/null && kills=$((kills + 1))
  [ $((i % 2)) = 1 ] && kill -9 "$(cat "$SIM_DIR/post.1.pid" 2>/dev/null)" 2>/dev/null && kills=$((kills + 1))
  wait $p1 $p2 2>/dev/null
  echo "# round $i: kept $(kept), ledger $(state_sql "select state || '=' || count(*) from receipt group by state order by state" | tr '\n' ' ')"
done
admin DELETE faults >/dev/null
# the cron pipe again until nothing waits (in-doubt rows included) and nothing is kept
j=0
while [ $j -lt 40 ]; do
  pipe
  left=$(db_count "select count(*) from receipt where state in ('pending','queued','in_flight','in_doubt')")
  [ "$left" = 0 ] && [ "$(kept)" = 0 ] && break
  sleep 0.5; j=$((j + 1))
done
check "post-receipts was killed mid-run ($kills kill -9 in $ROUNDS rounds)" test "$kills" -ge $((ROUNDS / 2))
check_eq "the queue drained and nothing is kept" "0 0" "$left $(kept)"
redelivered=$(db_count "select count(*) from audit where event='accepted' and detail like '%\"source\":\"redeliver\"%'")
set -- $(books)
echo "# $ROUNDS rounds, $kills kill -9 of post-receipts: $(($1 - lost0)) lines lost, $(($2 - dbl0)) double in the rounds; $3 shipped lines in all: $1 lost, $2 double; $redelivered receipts accepted from records written again"
check "the lines of the rounds were shipped ($3 lines)" test "$3" -gt "$first_lines"
check_eq "every shipped line received exactly once by M3's books (0 lost, 0 double)" "0 0" "$1 $2"
check "records written again made it ($redelivered receipts)" test "$redelivered" -gt 0
check_eq "nothing left for review" 0 "$(db_count "select count(*) from receipt where state='needs_review'")"

# ---- shipstation.redeliver_hours: 0 turns it off ----
sim_config_under shipstation "redeliver_hours: 0"
ship 1
"$MLC" pull-shipments >"$SIM_DIR/h.jsonl" 2>/dev/null
"$MLC" pull-shipments >"$SIM_DIR/h2.jsonl" 2>/dev/null
check_eq "redeliver_hours 0: written once, nothing kept, nothing written again" "1 0 0" \
  "$(wc -l <"$SIM_DIR/h.jsonl") $(kept) $(wc -l <"$SIM_DIR/h2.jsonl")"
t_done
