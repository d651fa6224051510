#!/bin/sh
# test_two_hosts.sh: two "hosts" running the receipt pipeline of one profile at
# once (issue 21): each its own working directory, configuration, vault copy and
# state directory (vault, nothing else), both on one PostgreSQL database (a
# private cluster from tests/pg.sh). Round after round both run
# `mlc pull-shipments | mlc post-receipts` while the warehouse ships; host B is
# killed with kill -9 at a random point of every round (when still running); mlc-sim injects ~20% faults (5xx, resets, answers lost after the commit)
# on M3, ShipStation and the ION token. ShipStation's limit is lowered to 10 a
# window (a second) and each host's mlc allowed 8 (a margin for the scaled
# window's latencies): only a budget the hosts share keeps the two under 10. Then a fault-free drain, and the sim's books: every shipped line
# received exactly once in M3 (what the warehouse shipped under labels that stand
# equals what M3 received, per PO line), nothing lost, the ledger drained, no 429
# seen by the sim, and the hosts logged in to ION once per token lifetime at most.
# Without the PostgreSQL server binaries (or an mlc without `state: postgresql://`)
# the two hosts share one SQLite state directory instead and the run says so.
# Not here: the store's own tests (tests/unit/test_store.c), throughput (bench/).
. tests/integration/lib.sh
ROUNDS=${TWO_HOSTS_ROUNDS:-14}
sim_start --fault-seed 21 --time-scale 60
# scaled: ShipStation's window lasts a second, ION tokens a minute (3600 s / 60)
sim_config_add "    receipts: {base_ms: 1, cap_ms: 50, max_attempts: 1000}" "    retry: {base_ms: 5, cap_ms: 50, in_doubt_margin: 1}"
sim_config_under cloudsuite "timeout: 5"
sim_config_under cloudsuite "gateway_timeout: 1"
sim_config_under shipstation "rate_window: 1"
sim_config_under shipstation "rate_limit_v2: 8"
admin POST limits '{"v2_per_minute":10}' >/dev/null

# the cluster of the run (tests/run.sh: MLC_TEST_PG_DIR), else one of our own (not
# under SIM_DIR: the server may run as another user, tests/pg.sh)
PG_DIR= OWN_PG=
MODE=sqlite
if [ -n "${MLC_TEST_PG_DIR:-}" ] && [ -S "$MLC_TEST_PG_DIR/sock/.s.PGSQL.5432" ]; then
  PG_DIR=$MLC_TEST_PG_DIR
elif [ -f tests/pg.sh ] && sh tests/pg.sh bin >/dev/null 2>&1; then
  OWN_PG=$(mktemp -d "${TMPDIR:-/tmp}/mlc-pg.XXXXXX")
  PG_DIR=$(sh tests/pg.sh start "$OWN_PG" 2>"$SIM_DIR/pg.err") || PG_DIR=
fi
pg_stop() { [ -n "$OWN_PG" ] && { sh tests/pg.sh stop "$OWN_PG"; rm -rf "$OWN_PG"; OWN_PG=; }; }
trap 'pg_stop; t_cleanup' EXIT INT TERM
if [ -n "$PG_DIR" ]; then
  PG_DB="mlc_two_$$_$(date +%s%N | tail -c 7)"
  URL=$(sh tests/pg.sh createdb "$PG_DIR" "$PG_DB")
  MODE=postgresql
fi

# host NAME: its working directory: the configuration and the files it names, a
# vault of its own (same key file: a copy of one vault in production); its
# state_dir (state/ beside its configuration) holds the vault only
unset MLC_STATE_DIR
host() {
  d="$SIM_DIR/$1"
  mkdir -p "$d/state"
  cp "$SIM_DIR/tenant.ionapi" "$SIM_DIR/shipstation-v1.key" "$SIM_DIR/shipstation-v2.key" "$d/"
  chmod 600 "$d"/*.key "$d/tenant.ionapi"
  if [ $MODE = postgresql ]; then
    _u=$(printf '%s' "$URL" | sed 's/[&|\\]/\\&/g')   # as a sed replacement
    sed "s|^    state_dir: state\$|    state_dir: state\\n    state: \"$_u\"|" "$MLC_CONFIG" >"$d/mlc.yaml"
  else
    # stand-in: one SQLite state directory for both, each its own vault
    sed "s|^    state_dir: state\$|    state_dir: $SIM_DIR/shared\\n    vault: $d/state/sim.vault|" "$MLC_CONFIG" >"$d/mlc.yaml"
  fi
}
host A
host B
# on_host NAME CMD...: runs mlc CMD as host NAME
on_host() { h=$1; shift; env -u MLC_STATE_DIR MLC_CONFIG="$SIM_DIR/$h/mlc.yaml" "$MLC" "$@"; }
# worker NAME: one round of the host's cron pipe, pull-shipments | post-receipts, in
# its own process group. Only host B is killed (kill -9 of the group), once its
# pull-shipments has written everything: post-receipts is then reading, storing or
# posting. What it had not stored yet is written again by a later pull-shipments
# (REDELIVERY in mlc-pull-shipments(1)); nothing is spooled on the side.
worker() {
  rm -f "$SIM_DIR/$1/posting"
  setsid sh -c 'MLC_CONFIG=$1/mlc.yaml; export MLC_CONFIG; unset MLC_STATE_DIR
                { "$2" pull-shipments; : >"$1/posting"; } | "$2" post-receipts' sh "$SIM_DIR/$1" "$MLC" \
    >/dev/null 2>>"$SIM_DIR/$1/err" &
}
# ledger SQL: a query on the shared state
ledger() {
  if [ $MODE = postgresql ]; then
    sh tests/pg.sh psql "$PG_DIR" "$PG_DB" -At -c "$1"
  else
    sqlite3 "$SIM_DIR/shared/sim.db" "$1"
  fi
}

on_host A status >"$SIM_DIR/status.A" 2>&1
if [ $MODE = postgresql ] && grep -qi "state.*\(unknown\|not a\)" "$SIM_DIR/status.A"; then
  echo "# this mlc has no PostgreSQL state: falling back to one SQLite state directory"
  MODE=sqlite; pg_stop; PG_DIR=; host A; host B
fi
echo "# state: $MODE"

# the POs become shipments (host A), then the hosts' rounds
on_host A pull-pos 2>"$SIM_DIR/pull-pos.err" | on_host A push-shipments >/dev/null 2>"$SIM_DIR/push.err"
pending() { state '[.shipstation.v2.shipments[] | select(.shipment_status == "pending")] | length'; }
check "POs pushed as shipments" test "$(pending)" -gt 10

rules=""
for m in "M3 *" "GET /v2/*" "ION token"; do
  for k in 500 503 reset commit_drop commit_reset; do
    # a token answer lost after the login counts as a login at the sim: not those
    case "$m/$k" in "ION token/commit"*) continue ;; esac
    rules="$rules{\"match\":\"$m\",\"kind\":\"$k\",\"probability\":0.04},"
  done
done
# and slow receipt calls that commit after the wait, whether the caller is still
# there or not (killed, or gone at its deadline), so that kill -9 lands mid-post
rules="$rules{\"match\":\"M3 PPS001MI/Receipt\",\"kind\":\"latency\",\"probability\":0.3,\"ms\":1500,\"commit\":\"after\"},"
rules="$rules{\"match\":\"M3 MHS850MI/AddPOReceipt\",\"kind\":\"latency\",\"probability\":0.3,\"ms\":1500,\"commit\":\"after\"},"
rules="$rules{\"match\":\"M3 *\",\"kind\":\"latency\",\"probability\":1,\"ms\":20},"
admin POST faults "{\"seed\":21,\"rules\":[${rules%,}]}" >/dev/null

kills=0
i=0
while [ $i -lt "$ROUNDS" ]; do
  i=$((i + 1))
  # the warehouse: a few pending shipments ship each round (whole: the remainder of
  # a part shipment comes back under another order key, which is not this test's)
  ids=$(state '[.shipstation.v2.shipments[] | select(.shipment_status == "pending") | .shipment_id][0:4] | map("\"\(.)\"") | join(",")')
  [ -n "$ids" ] && admin POST ship "{\"ids\":[$ids]}" >/dev/null
  worker A; a=$!
  worker B; b=$!
  # once host B posts: kill -9 at a random point
  k=0; while [ ! -f "$SIM_DIR/B/posting" ] && kill -0 $b 2>/dev/null && [ $k -lt 200 ]; do sleep 0.05; k=$((k + 1)); done
  sleep "$(awk -v s=$i 'BEGIN{srand(s); printf "%.2f", rand()*0.25+0.01}')"
  [ -f "$SIM_DIR/B/posting" ] && kill -9 "-$b" 2>/dev/null && kills=$((kills + 1))
  wait $a $b 2>/dev/null
  echo "# round $i: $(ledger "select state || '=' || count(*) from receipt group by state order by state" | tr '\n' ' ')"
done
admin DELETE faults >/dev/null

# drain: the hosts in turn until nothing waits (in-doubt rows included: their window
# is 7 s, timeout 5 + gateway 1 + margin 1)
j=0
while [ $j -lt 60 ]; do
  h=A; [ $((j % 2)) = 1 ] && h=B
  { on_host $h pull-shipments 2>>"$SIM_DIR/$h/err"; echo $? >"$SIM_DIR/prc"; } |
    on_host $h post-receipts >/dev/null 2>>"$SIM_DIR/$h/err"
  prc=$(cat "$SIM_DIR/prc")
  left=$(ledger "select count(*) from receipt where state in ('pending','queued','in_flight','in_doubt')")
  kept=$(ledger "select count(*) from outbox where ns = 'shipment'")   # pull-shipments' (pull-pos keeps its own until its next run)
  [ "$left" = 0 ] && [ "$kept" = 0 ] && [ $prc = 0 ] && break
  sleep 0.5; j=$((j + 1))
done
check_eq "the queue drained, and nothing is kept for the ledger" "0 0" "$left $kept"
check "host B was killed mid-round ($kills times)" test "$kills" -ge $((ROUNDS / 4))
check_eq "the ledger holds only posted, voided or reviewed receipts" 0 \
  "$(ledger "select count(*) from receipt where state not in ('posted','voided','needs_review','already_posted')")"
# the sim's books: M3's receipts per PO line against what the warehouse shipped under
# labels that stand
m3=$(state '[.m3.receipts[] | {k: "\(.PUNO)/\(.PNLI)/\(.PNLS)", q: (.RVQA|tonumber)}] | group_by(.k) | map("\(.[0].k) \(map(.q) | add)") | .[]' |
  awk '{printf "%s %g\n", $1, $2}' | sort)
shipped=$(state '([.shipstation.v2.labels[] | select(.voided | not) | .shipment_id]) as $live
  | [.shipstation.v2.shipments[] | select(.shipment_id as $i | $live | index($i)) | .items[]
     | {k: .external_order_item_id, q: .quantity}] | group_by(.k) | map("\(.[0].k) \(map(.q) | add)") | .[]' |
  awk '{printf "%s %g\n", $1, $2}' | sort)
check "the warehouse shipped something ($(printf '%s\n' "$shipped" | grep -c .) lines)" test -n "$shipped"
check_eq "every shipped line received exactly once in M3 (nothing lost, nothing twice)" "$shipped" "$m3"
check_eq "the sim saw no 429 (the hosts shared one ShipStation budget)" 0 "$(state .counters.rate_limited)"
faults=$(state '[.counters.requests | to_entries[] | select(.key | test(" (500|503|reset|commit_drop|commit_reset)$")) | .value] | add // 0')
check "faults really fired ($faults)" test "$faults" -gt 10
review=$(ledger "select count(*) from receipt where state='needs_review'")
check_eq "nothing left for review" 0 "$review"
logins=$(state .counters.logins)
if [ $MODE = postgresql ]; then
  check_eq "one ION token cached in the shared state" 1 "$(ledger "select count(*) from shared where name like 'ion-token:%'")"
  check_eq "and encrypted" 0 \
    "$(ledger "select count(*) from shared where name like 'ion-token:%' and position('access' in encode(value, 'escape')) > 0")"
  # the run is shorter than a token's life (7200 s at time-scale 60: two minutes)
  check_eq "the two hosts logged in to ION once" 1 "$logins"
  check_eq "no ratelimit file: the budget lives in the database" "" \
    "$(ls "$SIM_DIR/A/state/ratelimit" "$SIM_DIR/B/state/ratelimit" 2>/dev/null | grep state)"
fi
echo "# $MODE: $ROUNDS rounds, $kills kill -9, $(ledger "select count(*) from receipt where state='posted'") receipts posted, $faults faults injected, $logins ION logins"
# TWO_HOSTS_KEEP=DIR: a copy of the sandbox, the ledger's seen and shipment ids (debugging)
[ -n "${TWO_HOSTS_KEEP:-}" ] && ledger "select key from seen where ns='shipment'" >"$SIM_DIR/seen.txt" && ledger "select distinct shipment_id from receipt" >"$SIM_DIR/ledger.txt" && admin GET state >"$SIM_DIR/final-state.json" && rm -rf "$TWO_HOSTS_KEEP" && cp -r "$SIM_DIR" "$TWO_HOSTS_KEEP"
t_done
