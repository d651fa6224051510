#!/bin/sh
# tests/soak/soak.sh: the soak test (issue 12). mlc-sim with ~20% faults of every
# kind on every system; a cron-like loop of all subcommands, two of them running
# at once each iteration, with a random kill -9 now and then; the warehouse ships
# (in full, in part, voided) between iterations. Then a fault-free pass and the
# final check against the sim's own state: every PO pushed once (one live
# shipment per mapped PO), every shipped line received exactly once (M3's receipts
# per PO line equal what the warehouse shipped under labels that were not voided,
# and equal the ledger), items aligned (every M3 on-hand equals ShipStation's at
# the mapped location, and a new sync plans nothing), and the ledger holds nothing
# but posted, voided and what was replayed.
# Usage: sh tests/soak/soak.sh [ITERATIONS]   (make soak; not part of make check)
# The state is read through lib.sh's state_sql, so the same run works on either
# backend: MLC_TEST_STATE=postgresql with MLC_TEST_PG_DIR (tests/soak/both.sh, which
# make soak runs, starts a private cluster with tests/pg.sh for that second run).
# Not here: timing or throughput (bench/).
set -u
N=${1:-20}
. tests/integration/lib.sh
# a scaled clock: rate-limit windows (and the waits after a 429) last a second
sim_start --fault-seed 99 --time-scale 60
sim_config_add "    receipts: {base_ms: 1, cap_ms: 50, max_attempts: 1000}" "    retry: {base_ms: 5, cap_ms: 50, in_doubt_margin: 1}"
# a short in-doubt window (issue 17): a receipt call whose answer was lost is settled
# 7 s after it started (deadline 5 s, "gateway" 1 s, margin 1 s), so the final pass
# can wait it out; with the defaults (about 3 minutes) the soak ended with rows in_doubt
sim_config_under cloudsuite "timeout: 5"
sim_config_under cloudsuite "gateway_timeout: 1"
sim_config_under shipstation "rate_window: 1"
# stock of every warehouse is synced too (the receipts move M3's balances): the sim's
# ready profile maps each warehouse to its inventory location

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
  "$MLC" sync-items >/dev/null 2>&1 &
  c=$!
  if [ $((i % 4)) = 0 ]; then sleep 0.0$((i % 7 + 1)); kill -9 $b 2>/dev/null; fi
  wait $a $b $c 2>/dev/null
  # the warehouse: a few pending shipments ship each round, some in part, some voided
  ids=$(state '[.shipstation.v2.shipments[] | select(.shipment_status == "pending") | .shipment_id][0:3] | .[]')
  set -- $ids
  [ -n "${1:-}" ] && admin POST ship "{\"ids\":[\"$1\"]}" >/dev/null
  [ -n "${2:-}" ] && admin POST ship "{\"ids\":[\"$2\"],\"fraction\":0.5}" >/dev/null
  [ -n "${3:-}" ] && [ $((i % 3)) = 0 ] && admin POST ship "{\"ids\":[\"$3\"],\"void\":true}" >/dev/null
  [ $((i % 5)) = 0 ] && "$MLC" replay --exhausted >/dev/null 2>&1
  echo "# iteration $i: $(state_sql "select state || '=' || count(*) from receipt group by state" 2>/dev/null | tr '\n' ' ')"
done

admin DELETE faults >/dev/null
# drain: until nothing waits, in doubt included (an in-doubt row is settled by M3's
# reads once its window has passed; 60 passes at >= 0.5 s cover the 7 s window)
j=0
while [ $j -lt 60 ]; do
  ( "$MLC" pull-pos | "$MLC" push-shipments ) >/dev/null 2>&1
  ( "$MLC" pull-shipments --overlap 100000000 | "$MLC" post-receipts ) >/dev/null 2>&1
  left=$(state_sql "select count(*) from receipt where state in ('pending','queued','in_flight','in_doubt')")
  [ "$left" = 0 ] && break
  sleep 0.5; j=$((j + 1))
done
"$MLC" replay --exhausted >/dev/null 2>&1
j=0
until "$MLC" sync-items --since 1900-01-01 >/dev/null 2>&1 || [ $j -ge 5 ]; do j=$((j + 1)); done

mapped=$(state_sql "select count(*) from link")
check "POs were pushed" test "$mapped" -gt 0
check_eq "one live shipment per pushed PO" "$mapped" \
  "$(state '[.shipstation.v2.shipments[] | select(.shipment_status != "cancelled") | .external_shipment_id | sub("(\\.r[0-9]+|-2)$"; "")] | unique | length')"
check_eq "no PO key twice among live shipments" 0 \
  "$(state '[.shipstation.v2.shipments[] | select(.shipment_status != "cancelled") | .external_shipment_id] | group_by(.) | map(select(length > 1)) | length')"
check_eq "the queue drained" 0 "$left"
check_eq "the ledger holds only posted, voided or reviewed receipts" 0 \
  "$(state_sql "select count(*) from receipt where state not in ('posted','voided','needs_review')")"
# M3's receipts per line equal what the ledger says was posted on that line
m3=$(state '[.m3.receipts[] | {k: "\(.PUNO)/\(.PNLI)/\(.PNLS)", q: (.RVQA|tonumber)}] | group_by(.k) | map({k: .[0].k, q: (map(.q) | add)}) | sort_by(.k) | map("\(.k) \(.q)") | .[]')
led=$(state_sql "select po || '/' || line || '/' || subline, sum(qty) from receipt where state='posted' group by 1 order by 1" | awk -F'|' '{printf "%s %g\n", $1, $2}')
check_eq "every posted line received exactly the posted quantity in M3" "$led" "$(printf '%s\n' "$m3" | awk '{printf "%s %g\n", $1, $2}')"
# what the warehouse shipped per PO line: items of shipments whose label stands
shipped=$(state '([.shipstation.v2.labels[] | select(.voided | not) | .shipment_id]) as $live
  | [.shipstation.v2.shipments[] | select(.shipment_id as $i | $live | index($i)) | .items[]
     | {k: .external_order_item_id, q: .quantity}] | group_by(.k) | map("\(.[0].k) \(map(.q) | add)") | .[]')
check "the warehouse shipped something" test -n "$shipped"
check_eq "every shipped line received exactly once in M3" "$(printf '%s\n' "$shipped" | awk '{printf "%s %g\n", $1, $2}' | sort)" \
  "$(printf '%s\n' "$m3" | awk '{printf "%s %g\n", $1, $2}' | sort)"
# items: M3's on-hand in WH1..3 equals ShipStation's at se-4001..3, for every SKU in both
bal=$(state '.m3.items[] | .ITNO as $i | .balances | to_entries[] | select(.key | test("^WH[1-3]$")) | "\($i) \(.key | ltrimstr("WH")) \(.value)"' | awk '{printf "%s %s %d\n", $1, $2, $3}' | sort)
inv=$(state '.shipstation.inventory[] | select(.inventory_location_id | test("^se-400[1-3]$")) | "\(.sku) \(.inventory_location_id | ltrimstr("se-400")) \(.on_hand)"' | sort)
check "M3 has balances in the mapped warehouses" test -n "$bal"
check_eq "items aligned: every M3 on-hand equals ShipStation's at the mapped location" "$bal" \
  "$(printf '%s\n' "$bal" | while read -r sku wh q; do printf '%s\n' "$inv" | grep -m1 "^$sku $wh " || echo "$sku $wh none"; done)"
"$MLC" sync-items --dry-run --since 1900-01-01 >"$SIM_DIR/plan.jsonl" 2>"$SIM_DIR/plan.err"
check "items aligned: a new sync plans no write" jq -se 'length > 0 and all(.[]; (.action == "unchanged" or .action == "reported")
  and all(.stock[]?; .action != "adjusted" and .action != "failed"))' "$SIM_DIR/plan.jsonl"
review=$(state_sql "select count(*) from receipt where state='needs_review'")
echo "# $N iterations; $(state_sql "select count(*) from receipt where state='posted'") receipts posted, $review for review, $(state '[.counters.requests | to_entries[] | select(.key | test(" (429|500|503)$")) | .value] | add') error answers injected"
t_done
