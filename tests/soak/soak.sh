#!/bin/sh
# tests/soak/soak.sh: the soak test (issue 12). mlc-sim with ~20% faults of every
# kind on every system; a cron-like loop of all subcommands, two of them running
# at once each iteration, with a random kill -9 now and then; the warehouse ships
# (in full, in part, voided) between iterations. Then a fault-free pass and the
# final check against the sim's own state: every PO pushed once (one live
# shipment per mapped PO), every shipped line received exactly once (M3's receipts
# equal the shipped quantities), and the ledger holds nothing but posted, voided
# and what was replayed.
# Usage: sh tests/soak/soak.sh [ITERATIONS]   (make soak; not part of make check)
# Not here: timing or throughput (bench/).
set -u
N=${1:-20}
. tests/integration/lib.sh
# a scaled clock: rate-limit windows (and the waits after a 429) last a second
sim_start --fault-seed 99 --time-scale 60
sim_config_add "    receipts: {base_ms: 1, cap_ms: 50, max_attempts: 1000}" "    retry: {base_ms: 5, cap_ms: 50}"
sim_config_under shipstation "rate_window: 1"
DB="$MLC_STATE_DIR/sim.db"

rules=""
for m in "M3 *" "GET /v2/*" "POST /v2/*" "PUT /v2/*" "ION token"; do
  for k in 429 500 503 reset commit_drop commit_reset; do
    rules="$rules{\"match\":\"$m\",\"kind\":\"$k\",\"probability\":0.033},"
  done
done
out=$(admin POST faults "{\"seed\":99,\"rules\":[${rules%,}]}")
check "the fault rules are accepted" sh -c "printf '%s' '$out' | jq -e 'type == \"array\" and length == 30' >/dev/null"

i=0
while [ $i -lt "$N" ]; do
  i=$((i + 1))
  ( "$MLC" pull-pos | "$MLC" push-shipments ) >/dev/null 2>&1 &
  a=$!
  ( "$MLC" pull-shipments | "$MLC" post-receipts ) >/dev/null 2>&1 &
  b=$!
  if [ $((i % 4)) = 0 ]; then sleep 0.0$((i % 7 + 1)); kill -9 $b 2>/dev/null; fi
  wait $a $b 2>/dev/null
  # the warehouse: a few pending shipments ship each round, some in part, some voided
  ids=$(state '[.shipstation.v2.shipments[] | select(.shipment_status == "pending") | .shipment_id][0:3] | .[]')
  set -- $ids
  [ -n "${1:-}" ] && admin POST ship "{\"ids\":[\"$1\"]}" >/dev/null
  [ -n "${2:-}" ] && admin POST ship "{\"ids\":[\"$2\"],\"fraction\":0.5}" >/dev/null
  [ -n "${3:-}" ] && [ $((i % 3)) = 0 ] && admin POST ship "{\"ids\":[\"$3\"],\"void\":true}" >/dev/null
  [ $((i % 5)) = 0 ] && "$MLC" replay --exhausted >/dev/null 2>&1
  echo "# iteration $i: $(sqlite3 "$DB" "select state || '=' || count(*) from receipt group by state" 2>/dev/null | tr '\n' ' ')"
done

admin DELETE faults >/dev/null
j=0
while [ $j -lt 30 ]; do
  ( "$MLC" pull-pos | "$MLC" push-shipments ) >/dev/null 2>&1
  ( "$MLC" pull-shipments --overlap 100000000 | "$MLC" post-receipts ) >/dev/null 2>&1
  left=$(sqlite3 "$DB" "select count(*) from receipt where state in ('pending','queued','in_flight')")
  [ "$left" = 0 ] && break
  sleep 0.1; j=$((j + 1))
done
"$MLC" replay --exhausted >/dev/null 2>&1

mapped=$(sqlite3 "$DB" "select count(*) from link")
check "POs were pushed" test "$mapped" -gt 0
check_eq "one live shipment per pushed PO" "$mapped" \
  "$(state '[.shipstation.v2.shipments[] | select(.shipment_status != "cancelled") | .external_shipment_id | sub("(\\.r[0-9]+|-2)$"; "")] | unique | length')"
check_eq "no PO key twice among live shipments" 0 \
  "$(state '[.shipstation.v2.shipments[] | select(.shipment_status != "cancelled") | .external_shipment_id] | group_by(.) | map(select(length > 1)) | length')"
check_eq "the queue drained" 0 "$left"
check_eq "the ledger holds only posted, voided or reviewed receipts" 0 \
  "$(sqlite3 "$DB" "select count(*) from receipt where state not in ('posted','voided','needs_review')")"
# M3's receipts per line equal what the ledger says was posted on that line
m3=$(state '[.m3.receipts[] | {k: "\(.PUNO)/\(.PNLI)/\(.PNLS)", q: (.RVQA|tonumber)}] | group_by(.k) | map({k: .[0].k, q: (map(.q) | add)}) | sort_by(.k) | map("\(.k) \(.q)") | .[]')
led=$(sqlite3 "$DB" "select po || '/' || line || '/' || subline, sum(qty) from receipt where state='posted' group by 1 order by 1" | awk -F'|' '{printf "%s %g\n", $1, $2}')
check_eq "every posted line received exactly the posted quantity in M3" "$led" "$(printf '%s\n' "$m3" | awk '{printf "%s %g\n", $1, $2}')"
review=$(sqlite3 "$DB" "select count(*) from receipt where state='needs_review'")
echo "# $N iterations; $(sqlite3 "$DB" "select count(*) from receipt where state='posted'") receipts posted, $review for review, $(state '[.counters.requests | to_entries[] | select(.key | test(" (429|500|503)$")) | .value] | add') error answers injected"
t_done
