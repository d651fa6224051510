#!/bin/sh
# test_redeliver_pos.sh: nothing lost between pull-pos and push-shipments (issue 17).
# pull-pos marks what it wrote (content hash) so it is not written twice; a reader
# that died before linking a PO used to lose it for good (its shipment never made,
# its goods never received). Here the reader dies: a consumer that never reads, a
# push-shipments killed (kill -9) at random points of the real pipe
# `mlc pull-pos | mlc push-shipments` while ShipStation's creates are slow; then the
# normal pipe runs again and every open PO must have exactly one shipment in the sim
# (0 lost, 0 double). Also: a PO already linked is not written again, the
# redelivery window ends with a warning and an audit event, --no-redeliver and
# cloudsuite.redeliver_hours: 0.
# Not here: the push protocol itself (test_push_shipments, test_in_doubt).
. tests/integration/lib.sh
sim_start --fault-seed 17
sim_config_add "    retry: {in_doubt_margin: 1, base_ms: 1, cap_ms: 20}"
sim_config_under shipstation "timeout: 2"
kept() { db_count "select count(*) from outbox where ns='po'"; }
"$MLC" pull-pos --status 0-74 2>/dev/null | "$MLC" push-shipments >/dev/null 2>&1
# the head of a PO that was pushed: new POs copy it (same supplier, warehouse, type)
tmpl=$(state '.m3.pos[] | select(.PUNO == "2000003") | del(.lines, .LMDT, .RGDT, .PUSL) | tojson')
check "a template PO" test -n "$tmpl"
n_new=0
# new_po: a new open PO in M3 (one line), its number in $SIM_DIR/new
new_po() {
  n_new=$((n_new + 1))
  _p=$((3000000 + n_new))
  admin POST po "$(echo "$tmpl" | jq -c --arg p "$_p" \
    '. + {PUNO: $p, lines: [{PNLI: 10, PNLS: 0, ITNO: "ITM00196", ORQA: 7, RVQA: 0, PUUN: "EA", PUPR: 1.5}]}')" >/dev/null
  echo "$_p" >>"$SIM_DIR/new"
}
# per_po: "LOST DOUBLE POS" over the new POs: shipments in the sim that are not
# cancelled, per PO (keys mlc-100-PO, mlc-100-PO-rN)
per_po() {
  state '[.shipstation.v2.shipments[] | select(.shipment_status != "cancelled") | .external_shipment_id]
    | .[]' | sed -n 's/^mlc-100-\([0-9]*\).*/\1/p' | sort >"$SIM_DIR/shipped"
  awk 'NR == FNR { c[$1]++; next } { n++; if (!c[$1]) lost++; else if (c[$1] > 1) dbl++ }
       END { printf "%d %d %d\n", lost, dbl, n }' "$SIM_DIR/shipped" "$SIM_DIR/new"
}
pipe() { "$MLC" pull-pos 2>>"$SIM_DIR/pull.err" | tee -a "$SIM_DIR/pulled.jsonl" | "$MLC" push-shipments >/dev/null 2>>"$SIM_DIR/push.err"; }

# ---- the reader dies before reading anything ----
new_po; new_po; new_po
"$MLC" pull-pos 2>"$SIM_DIR/p1.err" | sleep 2   # a reader that never reads, gone after 2 s
check_eq "a reader that read nothing: three POs kept for push-shipments" 3 "$(kept)"
set -- $(per_po)
check_eq "no shipment for them yet" "3 0" "$1 $2"
"$MLC" pull-pos 2>"$SIM_DIR/p2.err" | tee "$SIM_DIR/p2.jsonl" | "$MLC" push-shipments >"$SIM_DIR/r2.jsonl" 2>&1
check_eq "the next cron pipe writes them again" "3 3" \
  "$(jq -r .source "$SIM_DIR/p2.jsonl" | grep -c '^redeliver$') $(wc -l <"$SIM_DIR/p2.jsonl")"
set -- $(per_po)
check_eq "and each has exactly one shipment ($3 POs)" "0 0" "$1 $2"
"$MLC" pull-pos 2>/dev/null >"$SIM_DIR/p3.jsonl"
check_eq "once linked they are forgotten: the next run writes nothing" "0 0" "$(wc -l <"$SIM_DIR/p3.jsonl") $(kept)"

# ---- a PO written again is not written twice in one run ----
# push-shipments forgets a PO's content hash when a stop kept it from pushing it
# (mlc-push-shipments(1)); the next pull-pos writes it again from the outbox and its
# poll must not write it a second time (two copies in one push-shipments run)
new_po
"$MLC" pull-pos 2>/dev/null | sleep 2
spo=$(state_sql "select key from outbox where ns='po'")
state_sql "delete from seen where ns='po' and key='$spo'" >/dev/null
"$MLC" pull-pos 2>/dev/null | tee "$SIM_DIR/s.jsonl" | "$MLC" push-shipments >/dev/null 2>&1
check_eq "its hash forgotten by push-shipments: written once, from the outbox" "$spo redeliver" \
  "$(jq -r '"\(.po) \(.source)"' "$SIM_DIR/s.jsonl" | paste -sd '|')"
set -- $(per_po)
check_eq "and it has one shipment" "0 0" "$1 $2"

# ---- a PO already linked is not written again ----
new_po; new_po
"$MLC" pull-pos >"$SIM_DIR/f.jsonl" 2>/dev/null
check_eq "written to a file: kept until push-shipments links them" 2 "$(kept)"
"$MLC" push-shipments <"$SIM_DIR/f.jsonl" >/dev/null 2>&1
"$MLC" pull-pos >"$SIM_DIR/f2.jsonl" 2>/dev/null
check_eq "linked by push-shipments from the file: not written again, forgotten" "0 0" \
  "$(wc -l <"$SIM_DIR/f2.jsonl") $(kept)"

# ---- the window: a consumer that is not push-shipments ----
new_po
"$MLC" pull-pos >"$SIM_DIR/g.jsonl" 2>/dev/null
gpo=$(jq -r .po "$SIM_DIR/g.jsonl")
"$MLC" pull-pos >"$SIM_DIR/g2.jsonl" 2>/dev/null
check_eq "within cloudsuite.redeliver_hours it is written again each run" "$gpo redeliver" \
  "$(jq -r '"\(.po) \(.source)"' "$SIM_DIR/g2.jsonl")"
"$MLC" pull-pos --no-redeliver >"$SIM_DIR/g3.jsonl" 2>/dev/null
check_eq "--no-redeliver: not this run, still kept" "0 1" "$(wc -l <"$SIM_DIR/g3.jsonl") $(kept)"
state_sql "update outbox set emitted_at = emitted_at - 25 * 3600" >/dev/null
"$MLC" pull-pos >"$SIM_DIR/g4.jsonl" 2>"$SIM_DIR/g4.err"
check_eq "past 24 hours: given up, not written" "0 0" "$(wc -l <"$SIM_DIR/g4.jsonl") $(kept)"
check "with a warning naming the PO" grep -q "PO $gpo was written 2 times since .*not written again" "$SIM_DIR/g4.err"
check_eq "and an audit event" 1 "$(db_count "select count(*) from audit where event='redelivery_expired' and detail like '%$gpo%'")"
"$MLC" push-shipments <"$SIM_DIR/g.jsonl" >/dev/null 2>&1   # what the operator does with it

# ---- kill -9 of push-shipments at random points of the real pipe ----
# Each round two new POs come, a cron pipe starts, and push-shipments is killed
# (kill -9) at a random point: reading, waiting for a slow create (a third of them
# take 1.5 s and commit after that wait, whether the client is still there or not),
# or after. In odd rounds a second pipe overlaps the first.
admin POST faults '{"seed":17,"rules":[
  {"match":"POST /v2/shipments","kind":"latency","probability":0.3,"ms":1500,"commit":"after"},
  {"match":"GET /v2/*","kind":"latency","probability":1,"ms":20},
  {"match":"M3 *","kind":"latency","probability":1,"ms":20}]}' >/dev/null
# cron_pipe N: the real pipe in the background; push-shipments' pid in push.N.pid
cron_pipe() {
  rm -f "$SIM_DIR/push.$1.pid"
  "$MLC" pull-pos 2>>"$SIM_DIR/pull.err" |
    sh -c 'echo $$ >"$1"; exec "$2" push-shipments >/dev/null 2>>"$3"' sh "$SIM_DIR/push.$1.pid" "$MLC" "$SIM_DIR/push.err" &
}
ROUNDS=${REDELIVER_ROUNDS:-10}
set -- $(per_po); lost0=$1 dbl0=$2
i=0 kills=0
while [ $i -lt "$ROUNDS" ]; do
  i=$((i + 1))
  new_po; new_po
  cron_pipe 1; p1=$!
  if [ $((i % 2)) = 1 ]; then sleep 0.1; new_po; cron_pipe 2; p2=$!; else p2=; fi
  wait_until 5 test -s "$SIM_DIR/push.1.pid"
  sleep "$(awk -v s=$i 'BEGIN{srand(s * 7); printf "%.2f", rand() * 0.6 + 0.02}')"
  kill -9 "$(cat "$SIM_DIR/push.1.pid")" 2>/dev/null && kills=$((kills + 1))
  [ -n "$p2" ] && kill -9 "$(cat "$SIM_DIR/push.2.pid" 2>/dev/null)" 2>/dev/null && kills=$((kills + 1))
  wait $p1 $p2 2>/dev/null
  set -- $(per_po)
  echo "# round $i: kept $(kept), POs without a shipment $1, with two $2"
done
set -- $(per_po); lost_rounds=$1 dbl_rounds=$2
admin DELETE faults >/dev/null
# the cron pipe again until nothing is kept (in-doubt creates settle after 2 s + 1 s)
j=0
while [ $j -lt 30 ]; do
  pipe
  [ "$(kept)" = 0 ] && break
  sleep 0.5; j=$((j + 1))
done
redelivered=$(jq -r 'select(.source == "redeliver") | .po' "$SIM_DIR/pulled.jsonl" 2>/dev/null | wc -l)
set -- $(per_po)
echo "# $ROUNDS rounds, $kills kill -9 of push-shipments: right after the rounds $((lost_rounds - lost0)) POs without a shipment, $((dbl_rounds - dbl0)) with two; after the cron pipe again ($j runs): $3 new POs, $1 without a shipment, $2 with two; $redelivered records written again"
check "push-shipments was killed mid-run ($kills kill -9 in $ROUNDS rounds)" test "$kills" -ge $((ROUNDS / 2))
check_eq "nothing is kept" 0 "$(kept)"
check_eq "every new open PO has exactly one shipment (0 lost, 0 double)" "0 0" "$1 $2"
check "records written again made it ($redelivered)" test "$redelivered" -gt 0

# ---- cloudsuite.redeliver_hours: 0 turns it off ----
sim_config_under cloudsuite "redeliver_hours: 0"
new_po
"$MLC" pull-pos >"$SIM_DIR/h.jsonl" 2>/dev/null
"$MLC" pull-pos >"$SIM_DIR/h2.jsonl" 2>/dev/null
check_eq "redeliver_hours 0: written once, nothing kept, nothing written again" "1 0 0" \
  "$(wc -l <"$SIM_DIR/h.jsonl") $(kept) $(wc -l <"$SIM_DIR/h2.jsonl")"
t_done
