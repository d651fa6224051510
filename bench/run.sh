#!/bin/sh
# bench/run.sh BUILD: mlc's benchmarks (issue 11). Each metric is a ratio against a
# baseline measured in the same run; prints one table (metric, mlc, baseline, ratio,
# target, met?) and writes bench/results.json. Everything runs against local mlc-sim
# instances (started and stopped here, by PID) and inputs generated into bench/work/.
#
#   sh bench/run.sh build                  # what `make bench` runs
#   BENCH_ONLY="api logins" sh bench/run.sh build
#        sections: api calls ratelimit logins cron throughput m3parse startup notify hosts
#        (memory and m3parse come with throughput; notify runs in real time, about 8
#        minutes: BENCH_NOTIFY_N shipments, default 50, one every 3.6 s, once with
#        webhook serve --on-notify and once with polling alone at a 1-minute cron; hosts, about 5
#        minutes, runs two "hosts" on one PostgreSQL state when tests/pg.sh finds a server)
#   BENCH_LINES=100000 sh bench/run.sh build   # smaller throughput input (default 1000000)
#
# Needs: jq, curl, awk, /usr/bin/time; hyperfine if present (else a loop).
set -u
BUILD=${1:-build}
ROOT=$PWD
MLC="$ROOT/$BUILD/mlc"
SIM_BIN="$ROOT/$BUILD/mlc-sim"
B_BIN="$ROOT/$BUILD/bench"   # bench harnesses (bench/*.c, built by make bench)
B="$ROOT/bench"
W="$B/work"
ONLY=${BENCH_ONLY:-"api calls ratelimit logins cron throughput startup notify hosts"}
LINES=${BENCH_LINES:-1000000}
ROWS="$W/rows.jsonl"

for t in jq curl awk; do
  command -v $t >/dev/null 2>&1 || { echo "bench: '$t' is needed (see mk/packages.txt)" >&2; exit 69; }
done
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is needed (Debian package 'time')" >&2; exit 69; }
[ -x "$MLC" ] && [ -x "$SIM_BIN" ] && [ -x "$B_BIN/m3parse" ] || { echo "bench: build first (make bench)" >&2; exit 69; }

rm -rf "$W"
mkdir -p "$W"
: >"$ROWS"
SIMS=
cleanup() { for p in $SIMS; do kill "$p" 2>/dev/null; done; [ -n "${PG_DIR:-}" ] && sh "$ROOT/tests/pg.sh" stop "$PG_DIR"; :; }
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf 'bench: %s\n' "$*" >&2; }
now_ms() { date +%s%3N; }
sleep_until_ms() { _d=$(($1 - $(now_ms))); [ $_d -gt 0 ] && sleep "$(awk "BEGIN{print $_d/1000}")"; return 0; }
div() { awk -v a="$1" -v b="$2" -v p="${3:-3}" 'BEGIN{ if (b == 0) print "null"; else printf "%.*f\n", p, a / b }'; }

# row METRIC UNIT MLC BASELINE RATIO TARGET MET NOTE   (numbers as JSON, MET true|false|null)
row() {
  jq -nc --arg metric "$1" --arg unit "$2" --argjson mlc "$3" --argjson baseline "$4" \
    --argjson ratio "$5" --arg target "$6" --argjson met "$7" --arg note "$8" \
    '{metric: $metric, unit: $unit, mlc: $mlc, baseline: $baseline, ratio: $ratio,
      target: $target, met: $met, note: $note}' >>"$ROWS"
}

# sim_up NAME [mlc-sim options]: a sim in $W/NAME; sets SIM_URL, SIM_DIR, MLC_CONFIG,
# MLC_STATE_DIR, MLC_VAULT_KEY_FILE (a key file of 32 random bytes: the ION token is
# cached in the vault, HKDF-keyed, as in production)
sim_up() {
  SIM_DIR="$W/$1"; shift
  mkdir -p "$SIM_DIR"
  "$SIM_BIN" --listen 127.0.0.1:0 --dir "$SIM_DIR" "$@" >"$SIM_DIR/sim.out" 2>"$SIM_DIR/sim.err" &
  SIM_PID=$!
  SIMS="$SIMS $SIM_PID"
  _i=0
  while ! grep -q '^mlc-sim ready' "$SIM_DIR/sim.out" 2>/dev/null; do
    _i=$((_i + 1))
    if [ $_i -gt 300 ] || ! kill -0 "$SIM_PID" 2>/dev/null; then
      say "mlc-sim did not start"; cat "$SIM_DIR/sim.err" >&2; exit 1
    fi
    sleep 0.1
  done
  SIM_URL=$(sed -n 's/^mlc-sim ready url=\([^ ]*\).*/\1/p' "$SIM_DIR/sim.out")
  MLC_CONFIG="$SIM_DIR/mlc.yaml"
  MLC_STATE_DIR="$SIM_DIR/state"
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SIM_DIR/vault.key"
  chmod 600 "$SIM_DIR/vault.key"
  MLC_VAULT_KEY_FILE="$SIM_DIR/vault.key"
  export MLC_CONFIG MLC_STATE_DIR MLC_VAULT_KEY_FILE
  unset MLC_PROFILE MLC_VAULT_KEY
}
sim_down() {
  kill "$SIM_PID" 2>/dev/null
  _i=0; while kill -0 "$SIM_PID" 2>/dev/null && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
  kill -9 "$SIM_PID" 2>/dev/null
}
# cfg_under SECTION LINE: a setting under the sim profile's SECTION of mlc.yaml
cfg_under() { sed -i "s/^    $1:\$/&\\n      $2/" "$MLC_CONFIG"; }
admin() {
  if [ -n "${3:-}" ]; then
    curl -sS -X "$1" -H 'Content-Type: application/json' --data "$3" "$SIM_URL/admin/$2"
  else
    curl -sS -X "$1" "$SIM_URL/admin/$2"
  fi
}
counters() { admin GET 'state?path=counters' | jq -r "$1"; }
v2_requests() { counters '[.requests | to_entries[] | select(.key | test("^[A-Z]+ /v2/")) | .value] | add // 0'; }
m3_calls() { counters '[.requests | to_entries[] | select(.key | test("^M3 (GET|bulk) ")) | .value] | add // 0'; }

# ---------------------------------------------------------------- API efficiency
bench_api() {
  say "api: seed of 12000 POs, pull-pos"
  "$SIM_BIN" --gen-seed 12000 >"$W/seed.json"
  sim_up api-v2 --seed "$W/seed.json" --time-scale 60
  cfg_under shipstation "rate_window: 1"
  t0=$(now_ms)
  "$MLC" pull-pos --no-cursor >"$W/pos-all.jsonl" 2>"$W/pull-pos.err"
  t1=$(now_ms)
  npull=$(wc -l <"$W/pos-all.jsonl")
  c=$(m3_calls)
  row "pull-pos: M3 calls per PO ($npull POs)" "calls/PO" "$(div "$c" "$npull" 4)" 2 "$(div "$c" $((2 * npull)))" \
    "none (informational)" null \
    "$c M3 calls in $((t1 - t0)) ms; baseline: a GetHead + LstLine GET per PO. pull-pos reads bulk_read_size (1000) POs per bulk GetHead and bulk LstLine, the weights of their distinct items in bulk GetItmBasic calls of 1000, plus GetServerTime (the first-run window) and the EXPORTMI change-list queries (at most cloudsuite.export_max_rows, 10000, rows each: a full answer is split by change day)"
  # 10,000 POs the mapping accepts (the seed leaves WH9 and SUP012 unmapped on purpose)
  jq -c 'select(.warehouse != "WH9" and .supplier.id != "SUP012")' "$W/pos-all.jsonl" | head -n 10000 >"$W/pos10k.jsonl"
  n=$(wc -l <"$W/pos10k.jsonl")

  say "api: V2 push of $n POs (default --batch)"
  "$MLC" push-shipments --dry-run <"$W/pos10k.jsonl" >"$W/dry10k.jsonl" 2>/dev/null
  # the sim refuses bodies over 10 MB (the V2 spec sets no maxItems): the fewest calls
  bytes=$(jq -c .body "$W/dry10k.jsonl" | wc -c)
  mincalls=$(( (bytes + 20 + 10000000 - 1) / 10000000 ))
  big=$(( (n + mincalls - 1) / mincalls ))
  [ $big -gt 10000 ] && big=10000   # push-shipments --batch takes 1-10000
  /usr/bin/time -f '%M' -o "$W/rss-push.txt" "$MLC" push-shipments <"$W/pos10k.jsonl" >"$W/ib-v2.jsonl" 2>"$W/push-v2.err"
  calls=$(counters '[.requests | to_entries[] | select(.key | startswith("POST /v2/shipments ")) | .value] | add // 0')
  created=$(jq -r 'select(.action == "created") | .po' "$W/ib-v2.jsonl" | wc -l)
  met=$([ "$calls" -le "$mincalls" ] && echo true || echo false)
  row "V2 creates, $n POs, --batch 100 (default): $calls calls" "calls/PO" "$(div "$calls" "$n" 4)" 1 "$(div "$calls" "$n" 4)" \
    "fewest allowed: $mincalls calls ($(div "$mincalls" "$n" 4)/PO)" "$met" \
    "$calls calls, $created created; baseline: one create per PO ($n calls). $bytes bytes of shipments; the V2 spec sets no maxItems, the sim's 10 MB body limit allows $mincalls calls; mlc's --batch stops at 1000 (next row)"
  sim_down
  sim_up api-v2-1k --seed "$W/seed.json" --time-scale 60
  cfg_under shipstation "rate_window: 1"
  head -n 1000 "$W/pos10k.jsonl" >"$W/pos1k.jsonl"
  "$MLC" ping >/dev/null 2>&1   # the vault now exists, as for the 10k run (after pull-pos)
  /usr/bin/time -f '%M' -o "$W/rss-push-1k.txt" "$MLC" push-shipments <"$W/pos1k.jsonl" >/dev/null 2>&1
  sim_down

  say "api: V2 push of $n POs with --batch $big"
  sim_up api-v2b --seed "$W/seed.json" --time-scale 60
  cfg_under shipstation "rate_window: 1"
  "$MLC" push-shipments --batch "$big" <"$W/pos10k.jsonl" >"$W/ib-v2b.jsonl" 2>"$W/push-v2b.err"
  calls=$(counters '[.requests | to_entries[] | select(.key | startswith("POST /v2/shipments ")) | .value] | add // 0')
  created=$(jq -r 'select(.action == "created") | .po' "$W/ib-v2b.jsonl" | wc -l)
  met=$([ "$calls" -le "$mincalls" ] && [ "$created" -eq "$n" ] && echo true || echo false)
  row "V2 creates, $n POs, --batch $big: $calls calls" "calls/PO" "$(div "$calls" "$n" 4)" 1 "$(div "$calls" "$n" 4)" \
    "<= $mincalls calls (fewest allowed)" "$met" \
    "$calls calls, $created created. Limit: push-shipments --batch accepts at most 1000 shipments a call (1.2 MB bodies here); batching by body size up to a configured maximum would reach $mincalls"

  say "api: V1 push of $n POs"
  MLC_STATE_DIR="$SIM_DIR/state-v1"; export MLC_STATE_DIR
  "$MLC" push-shipments --api v1 <"$W/pos10k.jsonl" >"$W/ib-v1.jsonl" 2>"$W/push-v1.err"
  calls=$(counters '[.requests | to_entries[] | select(.key | startswith("POST /orders/createorders ")) | .value] | add // 0')
  created=$(jq -r 'select(.action == "created") | .po' "$W/ib-v1.jsonl" | wc -l)
  met=$([ "$calls" -le 105 ] && [ "$created" -eq "$n" ] && echo true || echo false)
  row "V1 creates, $n POs: $calls calls" "calls/PO" "$(div "$calls" "$n" 4)" 1 "$(div "$calls" "$n" 4)" \
    "<= 105 calls (0.0105/PO)" "$met" "$calls createorders calls, $created created; baseline: createorder per PO ($n calls)"
  sim_down

  say "api: post-receipts of ~10000 receipts"
  sim_up api-m3 --seed "$W/seed.json"
  # shipments as ShipStation reports them (as tests/integration/lib.sh shipments_from_pos),
  # for the first POs that hold 10,000 open lines
  jq -c '.po as $po
    | {kind: "shipment", shipment_id: ("se-b" + $po), order_key: ("mlc-100-" + $po), po: $po,
       order_type: .order_type, tracking_number: ("1ZBENCH" + $po), carrier: "ups", service: "ups_ground",
       ship_date: "2026-11-20T10:00:00Z", voided: false, source: "poll",
       items: [.lines[] | select(.qty_ordered > .qty_received)
               | {sku: .item, qty: (.qty_ordered - .qty_received), po_line: "\($po)/\(.line)/\(.subline)"}]}
    | select(.items | length > 0)' "$W/pos10k.jsonl" |
    awk -v want=10000 '{ if (n >= want) exit; print; s = $0; k = gsub(/"po_line"/, "", s); n += k }' >"$W/ship10k.jsonl"
  lines=$(jq '.items | length' "$W/ship10k.jsonl" | awk '{s += $1} END {print s}')
  c0=$(m3_calls)
  t0=$(now_ms)
  /usr/bin/time -f '%M' -o "$W/rss-receipts.txt" "$MLC" post-receipts <"$W/ship10k.jsonl" >"$W/rc.jsonl" 2>"$W/post.err"
  t1=$(now_ms)
  calls=$(( $(m3_calls) - c0 ))
  posted=$(jq -r 'select(.status == "posted") | .receipt_id' "$W/rc.jsonl" | wc -l)
  detail=$(counters '[.requests | to_entries[] | select(.key | test("^M3 [A-Z0-9]+/")) | "\(.key | sub("^M3 "; "")) \(.value)"] | join(", ")')
  met=$([ "$calls" -le 110 ] && [ "$posted" -eq "$lines" ] && echo true || echo false)
  row "M3 calls, $posted receipts posted: $calls calls" "calls/receipt" "$(div "$calls" "$posted" 4)" 1 "$(div "$calls" "$posted" 4)" \
    "<= 110 calls (0.011/receipt)" "$met" \
    "$calls M3 HTTP calls (GET + bulk) in $((t1 - t0)) ms for $lines shipped lines of $(wc -l <"$W/ship10k.jsonl") shipments; transactions: $detail; cloudsuite.bulk_size 100 (posts) and bulk_read_size 1000: receipts are handled in rounds of 1000 rows, each with its own reads and a partial last post chunk per route, so the floor at bulk_size 100 is ~115 (101 post calls alone). Baseline: one Receipt call per receipt"
  sim_down

  say "api: post-receipts again with cloudsuite.bulk_size 250"
  sim_up api-m3-250 --seed "$W/seed.json"
  cfg_under cloudsuite "bulk_size: 250"
  "$MLC" post-receipts <"$W/ship10k.jsonl" >"$W/rc250.jsonl" 2>"$W/post250.err"
  calls=$(m3_calls)
  posted=$(jq -r 'select(.status == "posted") | .receipt_id' "$W/rc250.jsonl" | wc -l)
  met=$([ "$calls" -le 110 ] && [ "$posted" -eq "$lines" ] && echo true || echo false)
  row "M3 calls, $posted receipts posted, bulk_size 250: $calls calls" "calls/receipt" "$(div "$calls" "$posted" 4)" 1 "$(div "$calls" "$posted" 4)" \
    "<= 110 calls (0.011/receipt)" "$met" \
    "configuration only (cloudsuite.bulk_size: 250); the sim accepts bulk requests of any size, a tenant's limit is not documented"
  sim_down
  sim_up api-m3-1k --seed "$W/seed.json"
  awk -v want=1000 '{ if (n >= want) exit; print; s = $0; k = gsub(/"po_line"/, "", s); n += k }' "$W/ship10k.jsonl" >"$W/ship1k.jsonl"
  /usr/bin/time -f '%M' -o "$W/rss-receipts-1k.txt" "$MLC" post-receipts <"$W/ship1k.jsonl" >/dev/null 2>&1
  sim_down
  for what in push receipts; do
    a=$(cat "$W/rss-$what-1k.txt"); b=$(cat "$W/rss-$what.txt")
    flat=$(awk -v a="$a" -v b="$b" 'BEGIN{print (b <= 16384 && b - a <= 2048) ? "true" : "false"}')
    case $what in
      push) m="peak RSS, push-shipments (V2, real), 10000 vs 1000 POs" ;;
      receipts) m="peak RSS, post-receipts, ~10000 vs ~1000 receipts" ;;
    esac
    row "$m" "KiB" "$b" "$a" "$(div "$b" "$a" 2)" "flat (<= +2 MiB), <= 16384 KiB" "$flat" \
      "the runs above, against mlc-sim, both with the vault present (cron: an earlier run cached the ION token), keyed by a 32-byte key file (HKDF: no scrypt; a passphrase vault would add scrypt's 32 MiB working set, see the cron row)"
  done
}

# ---------------------------------------------------------------- calls per record
# Issue 16: no call per record where a list or bulk call exists.
#  - pull-shipments on V2: shipments by the paged list, their labels by the paged
#    GET /v2/labels over the page's created_at window (matched by shipment_id),
#    not one GET /v2/labels?shipment_id= per shipment. Target: <= 1 ShipStation
#    call per 50 shipped shipments.
#  - sync-items: the M3 side of the items by bulk GetItmBasic (and bulk
#    GetItmWhsBal for stock), bulk_read_size items a call, not one GET per item.
#    Target: <= 1 M3 call per 100 items synced.
bench_calls() {
  say "calls: seed of 3000 POs, every mapped PO shipped on V2"
  "$SIM_BIN" --gen-seed 3000 >"$W/seed-calls.json"
  sim_up calls-v2 --seed "$W/seed-calls.json" --time-scale 60
  cfg_under shipstation "rate_window: 1"
  "$MLC" pull-pos --no-cursor 2>/dev/null | "$MLC" push-shipments >/dev/null 2>"$W/calls-push.err"
  admin POST ship '{"all":true}' >/dev/null
  shipped=$(admin GET state | jq '[.shipstation.v2.shipments[] | select(.shipment_status == "label_purchased")] | length')
  c0=$(v2_requests)
  "$MLC" pull-shipments --no-cursor --no-webhooks >"$W/calls-sh.jsonl" 2>"$W/calls-sh.err"
  calls=$(( $(v2_requests) - c0 ))
  got=$(wc -l <"$W/calls-sh.jsonl")
  labels=$(counters '[.requests | to_entries[] | select(.key | startswith("GET /v2/labels ")) | .value] | add // 0')
  met=$([ $((calls * 50)) -le "$shipped" ] && [ "$got" -eq "$shipped" ] && echo true || echo false)
  row "pull-shipments V2, $shipped shipped shipments: $calls calls" "calls/shipment" "$(div "$calls" "$shipped" 4)" 1 \
    "$(div "$calls" "$shipped" 4)" "<= 1 call per 50 shipped (0.02/shipment)" "$met" \
    "$calls ShipStation V2 requests ($labels GET /v2/labels list pages of 200, the rest GET /v2/shipments pages of 100) for $got shipment records; baseline: one GET /v2/labels per shipment ($shipped calls) plus the shipment pages"
  sim_down

  say "calls: sync-items over 1000 items (a seed of 20000 POs)"
  "$SIM_BIN" --gen-seed 20000 >"$W/seed-items.json"
  for stock in no yes; do
    sim_up "calls-items-$stock" --seed "$W/seed-items.json"
    # the sim's ready profile maps every warehouse to its inventory location (stock)
    [ $stock = no ] && sed -i '/^          inventory_location_id: /d' "$MLC_CONFIG"
    "$MLC" sync-items --direction to-shipstation >"$W/calls-items-$stock.jsonl" 2>"$W/calls-items-$stock.err"
    calls=$(m3_calls)
    nitems=$(jq -r .sku "$W/calls-items-$stock.jsonl" | sort -u | wc -l)
    tx=$(counters '[.requests | to_entries[] | select(.key | test("^M3 MMS200MI/")) | "\(.key | sub("^M3 "; "")) \(.value)"] | join(", ")')
    met=$([ $((calls * 100)) -le "$nitems" ] && echo true || echo false)
    what="no stock mapping"; [ $stock = yes ] && what="stock for 3 warehouses"
    row "sync-items, $nitems items ($what): $calls M3 calls" "calls/item" "$(div "$calls" "$nitems" 4)" 1 \
      "$(div "$calls" "$nitems" 4)" "<= 1 M3 call per 100 items (0.01/item)" "$met" \
      "$calls M3 HTTP calls (GET + bulk); transactions: $tx; baseline: one GetItmBasic GET per item ($nitems calls), and with stock one GetItmWhsBal bulk per item. cloudsuite.bulk_read_size 1000"
    sim_down
  done
}

# ---------------------------------------------------------------- rate-limit use
# mlc-sim --time-scale 6: the sim's 60 s windows last 10 s, mlc's shipstation.rate_window
# is 10; V2 keeps its real limit (200 a window). The backlog: POs pushed with
# `mlc push-shipments --batch 1`, one create request each (1200 for the one process,
# 4 x 600 others for the four; pull-shipments reads labels by list pages since issue
# 16, so it no longer makes a backlog).
# Counted by the sim over NWIN windows in steady state, aligned with the sim's fixed
# windows (they start with the first request): from just before the second window
# opens (the first holds the runs' start-up: store, list pages, dedupe), for NWIN
# windows; from one process and from 4.
bench_ratelimit() {
  SCALE=6; WIN=10; LIMIT=200; NWIN=3
  [ -s "$W/pos10k.jsonl" ] || { say "ratelimit: needs the api section's POs"; return; }
  sim_up rate --seed "$W/seed.json" --time-scale $SCALE
  cfg_under shipstation "rate_window: $WIN"
  "$MLC" ping >/dev/null 2>&1   # V2 traffic on the key before the measure, as in production
  sed -n '1,1200p' "$W/pos10k.jsonl" >"$W/rate-1-1.jsonl"
  for i in 1 2 3 4; do sed -n "$((1201 + (i - 1) * 600)),$((1200 + i * 600))p" "$W/pos10k.jsonl" >"$W/rate-4-$i.jsonl"; done
  for np in 1 4; do
    say "ratelimit: $np process(es), $((WIN * (NWIN + 1))) s"
    sleep $((WIN + 1))
    r0=$(counters .rate_limited)
    before=$(v2_requests)
    pids=
    i=0; while [ $i -lt $np ]; do
      i=$((i + 1))
      "$MLC" push-shipments --batch 1 "$W/rate-$np-$i.jsonl" >/dev/null 2>"$W/rate-$np-$i.err" &
      pids="$pids $!"
    done
    i=0; while [ "$(v2_requests)" -le "$before" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
    tf=$(now_ms)
    sleep_until_ms $((tf + WIN * 1000 - 300))
    t0=$(now_ms); c0=$(v2_requests)
    sleep_until_ms $((t0 + WIN * NWIN * 1000))
    c1=$(v2_requests); t1=$(now_ms)
    alive=0; for p in $pids; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
    for p in $pids; do kill "$p" 2>/dev/null; done
    for p in $pids; do wait "$p" 2>/dev/null; done
    r429=$(( $(counters .rate_limited) - r0 ))
    used=$((c1 - c0))
    # requests per virtual minute, achieved and allowed
    permin=$(awk -v u=$used -v ms=$((t1 - t0)) -v s=$SCALE 'BEGIN{printf "%.1f", u / (ms / 1000.0 * s) * 60}')
    ratio=$(div "$permin" $LIMIT 3)
    met=$(awk -v r="$ratio" -v z=$r429 -v a=$alive -v n=$np 'BEGIN{print (r >= 0.95 && z == 0 && a == n) ? "true" : "false"}')
    row "ShipStation V2 rate used, $np process(es), backlog" "req/min" "$permin" $LIMIT "$ratio" \
      ">= 0.95 of allowed, zero 429s" "$met" \
      "$used requests in $((t1 - t0)) ms real at time-scale $SCALE ($NWIN windows of ${WIN}s); 429s: $r429; runs still busy at the end: $alive of $np"
  done
  sim_down
}

# ---------------------------------------------------------------- logins
# A real day: cron every minute (1440 runs) with 2 h tokens: 12 token lifetimes, 120
# runs each. 1440 runs do not fit in a benchmark (a run of `mlc pull-pos | mlc
# push-shipments` costs ~1 s here, most of it the vault's key derivation), so the day
# is scaled down consistently in its token lifetimes: 12 lifetimes of 6 runs, i.e. 72
# runs 1.5 s apart with 9 s tokens (mlc-sim at --time-scale 1, so the lifetime the sim
# reports is the one it enforces) and cloudsuite.token_margin 1 s (300 s of 7200 in
# production). A login-per-run client logs in once per run: 72 times (1440 a real day).
bench_logins() {
  RUNS=72; TICK_MS=1500; LIFE=9
  say "logins: $RUNS cron runs of 'mlc pull-pos | mlc push-shipments', every ${TICK_MS} ms, ${LIFE} s tokens"
  sim_up logins --token-lifetime $LIFE
  cfg_under cloudsuite "token_margin: 1"
  start=$(now_ms)
  i=0; late=0
  while [ $i -lt $RUNS ]; do
    tick=$((start + i * TICK_MS))
    sleep_until_ms $tick
    [ $(($(now_ms) - tick)) -gt $TICK_MS ] && late=$((late + 1))
    "$MLC" pull-pos 2>>"$W/logins.err" | "$MLC" push-shipments >/dev/null 2>>"$W/logins.err"
    i=$((i + 1))
  done
  end=$(now_ms)
  logins=$(counters .logins)
  refreshes=$(counters .refreshes)
  e401=$(counters '[.requests | to_entries[] | select(.key | test(" 401$")) | .value] | add // 0')
  lifetimes=$(( (end - start + LIFE * 1000 - 1) / (LIFE * 1000) ))
  met=$([ "$logins" -le 12 ] && echo true || echo false)
  row "ION logins, a scaled day of per-minute cron runs" "logins/day" "$logins" $RUNS "$(div "$logins" $RUNS 4)" \
    "<= 12 (one per token lifetime)" "$met" \
    "$RUNS runs in $((end - start)) ms ($lifetimes token lifetimes elapsed), $late runs started late; password grants: $logins, refresh grants: $refreshes, 401 answers: $e401. A real day: $logins password logins vs 1440 for a login-per-run client"
  sim_down
}

# ---------------------------------------------------------------- memory of cron runs
# Every command of examples/crontab, one process each as cron runs them, against the
# ready sandbox, credentialed as in production: the ION token cached in the vault by
# an earlier run (a ping), the vault keyed by a key file of 32 random bytes (HKDF).
# Peak RSS of each by /usr/bin/time; the row shows the largest. Baseline: the same runs
# with the vault keyed by a passphrase (MLC_VAULT_KEY: scrypt N=2^15, r=8, 32 MiB).
bench_cron() {
  for key in file passphrase; do
    say "cron: peak RSS of each cron command, vault keyed by a $key"
    sim_up "cron-$key"
    if [ "$key" = passphrase ]; then
      unset MLC_VAULT_KEY_FILE
      MLC_VAULT_KEY=mlc-bench; export MLC_VAULT_KEY
    fi
    "$MLC" ping >/dev/null 2>&1
    : >"$W/cron-$key.txt"
    m() { # m NAME IN OUT CMD...: one run, its peak RSS appended to cron-$key.txt
      _n=$1 _in=$2 _out=$3; shift 3
      /usr/bin/time -f %M -o "$W/rss-cron" "$@" <"$_in" >"$_out" 2>>"$W/cron-$key.err"
      echo "$_n $(tail -n 1 "$W/rss-cron")" >>"$W/cron-$key.txt"
    }
    m pull-pos /dev/null "$W/cron-pos.jsonl" "$MLC" pull-pos
    m push-shipments "$W/cron-pos.jsonl" /dev/null "$MLC" push-shipments
    admin POST ship '{"all":true}' >/dev/null
    m pull-shipments /dev/null "$W/cron-ship.jsonl" "$MLC" pull-shipments
    m post-receipts "$W/cron-ship.jsonl" /dev/null "$MLC" post-receipts
    m sync-items /dev/null /dev/null "$MLC" sync-items
    m queue /dev/null /dev/null "$MLC" queue --state exhausted,needs_review --table
    sim_down
  done
  unset MLC_VAULT_KEY
  f=$(awk 'BEGIN{m=0} $2 > m {m=$2} END{print m}' "$W/cron-file.txt")
  p=$(awk 'BEGIN{m=0} $2 > m {m=$2} END{print m}' "$W/cron-passphrase.txt")
  met=$([ "$f" -le 16384 ] && echo true || echo false)
  row "peak RSS, credentialed cron runs (largest command)" "KiB" "$f" "$p" "$(div "$f" "$p" 2)" \
    "<= 16384 KiB each" "$met" \
    "each command of examples/crontab alone against the ready sandbox (50 POs, 300 items), token cached. Key file (HKDF): $(tr '\n' ' ' <"$W/cron-file.txt" | sed 's/ \([a-z]\)/, \1/g'). Baseline, passphrase (scrypt): $(tr '\n' ' ' <"$W/cron-passphrase.txt" | sed 's/ \([a-z]\)/, \1/g'). The floor is ~12.6 MiB (libraries, OpenSSL and SQLite initialised: queue; ping ~13.4); above it are the parsed answers. libpq and libxml2 are loaded with dlopen only by a run that needs them (a PostgreSQL state, BOD receipts): linked, they cost every process ~2.3 MiB (libxml2 brings ICU and libstdc++). M3 is asked only for the columns mlc reads (cloudsuite.select_columns: returncols / selectedColumns): GetHead 6 of 61, LstLine 11 of 95, GetItmBasic 2-9 of 118; before that pull-pos peaked at ~20 MiB, sync-items ~19.6 MiB, post-receipts ~17 MiB. sync-items, the largest, also holds every ShipStation product (as compact JSON text, parsed one at a time) and three fields of every inventory level, and reads stock bulk_size items per GetItmWhsBal call, so it still grows with the catalogue (before: whole cJSON rows and one stock call for all, 19.6 MiB)"
}

# versus_jq N MLC_TIME JQ_TIME: reads two /usr/bin/time files ('%e %U %S %M') of an
# mlc run and a jq run over N records; sets me je (wall s), mrss jrss (peak KiB),
# mcpu jcpu (user+sys s), mrate jrate (records per CPU second), ratio, met (>= 5x).
versus_jq() {
  read -r me mu ms mrss <"$2"
  read -r je ju js jrss <"$3"
  mcpu=$(awk -v a="$mu" -v b="$ms" 'BEGIN{print a + b}')
  jcpu=$(awk -v a="$ju" -v b="$js" 'BEGIN{print a + b}')
  mrate=$(awk -v n="$1" -v t="$mcpu" 'BEGIN{printf "%.0f", n / (t > 0 ? t : 0.01)}')
  jrate=$(awk -v n="$1" -v t="$jcpu" 'BEGIN{printf "%.0f", n / (t > 0 ? t : 0.01)}')
  ratio=$(div "$mrate" "$jrate" 2)
  met=$(awk -v r="$ratio" 'BEGIN{print (r >= 5) ? "true" : "false"}')
}

# ---------------------------------------------------------------- throughput + memory
bench_throughput() {
  MLC_CONFIG="$W/bench.yaml"; MLC_STATE_DIR="$W/state"; export MLC_CONFIG MLC_STATE_DIR
  { printf 'default_profile: bench\nprofiles:\n  bench:\n    state_dir: %s\n    shipstation: {api: v2}\n    cloudsuite: {cono: 100}\n    mapping: ' "$MLC_STATE_DIR"
    jq -c . "$B/mapping.json"; } >"$MLC_CONFIG"
  say "throughput: generating $LINES purchase_order lines"
  awk -v n="$LINES" -f "$B/gen-pos.awk" >"$W/pos-big.jsonl"
  awk -v n=1000 -f "$B/gen-pos.awk" >"$W/pos-1k.jsonl"
  inbytes=$(wc -c <"$W/pos-big.jsonl")

  say "throughput: mlc push-shipments --dry-run"
  /usr/bin/time -f '%e %U %S %M' -o "$W/t-mlc.txt" "$MLC" push-shipments --dry-run <"$W/pos-big.jsonl" 2>"$W/mlc-dry.err" |
    tee "$W/mlc-head.jsonl.tmp" | md5sum >"$W/mlc.md5"
  say "throughput: jq baseline (bench/push-dry-run.jq)"
  /usr/bin/time -f '%e %U %S %M' -o "$W/t-jq.txt" jq -c --slurpfile map "$B/mapping.json" -f "$B/push-dry-run.jq" "$W/pos-big.jsonl" |
    md5sum >"$W/jq.md5"
  head -n 1000 "$W/mlc-head.jsonl.tmp" >"$W/mlc-sample.jsonl"; rm -f "$W/mlc-head.jsonl.tmp"
  if cmp -s "$W/mlc.md5" "$W/jq.md5"; then agree="outputs byte-identical (md5 of all $LINES records)"
  else
    head -n 1000 "$W/pos-big.jsonl" | jq -c --slurpfile map "$B/mapping.json" -f "$B/push-dry-run.jq" >"$W/jq-sample.jsonl"
    if [ "$(jq -S -c . "$W/mlc-sample.jsonl" | md5sum)" = "$(jq -S -c . "$W/jq-sample.jsonl" | md5sum)" ]; then
      agree="first 1000 records agree (normalised); the full outputs differ in bytes"
    else agree="OUTPUTS DISAGREE on the first 1000 records"; fi
  fi
  versus_jq "$LINES" "$W/t-mlc.txt" "$W/t-jq.txt"
  met=$(awk -v r="$ratio" 'BEGIN{print (r >= 10) ? "true" : "false"}')   # issue 18: options resolved once per profile
  case $agree in *DISAGREE*) met=false ;; esac
  row "push-shipments --dry-run, $LINES POs" "records/s (CPU)" "$mrate" "$jrate" "$ratio" ">= 10x jq" "$met" \
    "mlc ${mcpu}s CPU (${me}s wall), jq ${jcpu}s CPU (${je}s wall) on $inbytes bytes; $agree. Rates use user+sys CPU time: the machine is shared"

  say "memory: peak RSS at 1k and $LINES records"
  /usr/bin/time -f '%M' -o "$W/rss-1k.txt" "$MLC" push-shipments --dry-run <"$W/pos-1k.jsonl" >/dev/null 2>&1
  r1k=$(cat "$W/rss-1k.txt")
  flat=$(awk -v a="$r1k" -v b="$mrss" 'BEGIN{print (b <= 16384 && b - a <= 2048) ? "true" : "false"}')
  row "peak RSS, push-shipments --dry-run, $LINES vs 1000 records" "KiB" "$mrss" "$r1k" "$(div "$mrss" "$r1k" 2)" \
    "flat (<= +2 MiB), <= 16384 KiB" "$flat" "jq baseline's peak RSS on the same $LINES: ${jrss} KiB"
  rm -f "$W/pos-big.jsonl"
}

# ---------------------------------------------------------------- M3 parsing
# The M3 half of pull-pos without the network: saved GetHead + LstLine bodies of the
# sim's POs (fetched once with curl, as M3 sends them: blank-padded fields), copied
# M3P_COPIES times, turned into purchase_order records by bench/m3parse.c (libmlc's
# own parser and record builder) and by bench/m3-to-po.jq; CPU time compared.
bench_m3parse() {
  say "m3parse: saving the sim's M3 responses (GetHead + LstLine per PO)"
  sim_up m3parse
  ion() { jq -r "$1" "$SIM_DIR/tenant.ionapi"; }
  tok=$(printf 'user = "%s:%s"\ndata-urlencode = "username=%s"\ndata-urlencode = "password=%s"\n' \
          "$(ion .ci)" "$(ion .cs)" "$(ion .saak)" "$(ion .sask)" |
        curl -sS -K - -d grant_type=password "$(ion .pu)$(ion .ot)" | jq -r .access_token)
  base="$(ion .iu)/$(ion .ti)/M3/m3api-rest/v2/execute"
  "$MLC" pull-pos --no-cursor --status 00-99 >"$W/m3p-pull.jsonl" 2>"$W/m3p-pull.err"
  for po in $(jq -r .po "$W/m3p-pull.jsonl"); do
    printf 'header = "Authorization: Bearer %s"\n' "$tok" | curl -sS -K - "$base/PPS200MI/GetHead;maxrecs=1?PUNO=$po&CONO=100"; echo
    printf 'header = "Authorization: Bearer %s"\n' "$tok" | curl -sS -K - "$base/PPS200MI/LstLine;maxrecs=0?PUNO=$po&CONO=100"; echo
  done >"$W/m3p-one.txt"
  sim_down
  npo=$(wc -l <"$W/m3p-pull.jsonl")
  # the harness writes what pull-pos wrote (changed_at aside: pull-pos has it from the
  # change list; line weights aside: pull-pos reads them with MMS200MI, issue 16, which
  # the harness's GetHead + LstLine bodies do not carry)
  "$B_BIN/m3parse" 20261101 <"$W/m3p-one.txt" >"$W/m3p-one.jsonl"
  strip='del(.changed_at) | del(.lines[]?.weight)'
  if [ "$npo" -gt 0 ] && [ "$(jq -c "$strip" "$W/m3p-one.jsonl" | md5sum)" = "$(jq -c "$strip" "$W/m3p-pull.jsonl" | md5sum)" ]
  then same="the harness's records equal pull-pos's ($npo POs)"; else same="HARNESS DIFFERS from pull-pos"; fi
  copies=${M3P_COPIES:-200}
  i=0; while [ $i -lt "$copies" ]; do cat "$W/m3p-one.txt"; i=$((i + 1)); done >"$W/m3p-big.txt"
  n=$((npo * copies)); inbytes=$(wc -c <"$W/m3p-big.txt")
  say "m3parse: libmlc over $n POs"
  /usr/bin/time -f '%e %U %S %M' -o "$W/t-m3p-mlc.txt" "$B_BIN/m3parse" 20261101 <"$W/m3p-big.txt" | md5sum >"$W/m3p-mlc.md5"
  say "m3parse: jq baseline (bench/m3-to-po.jq)"
  /usr/bin/time -f '%e %U %S %M' -o "$W/t-m3p-jq.txt" jq -cn --arg day 20261101 -f "$B/m3-to-po.jq" <"$W/m3p-big.txt" |
    md5sum >"$W/m3p-jq.md5"
  if cmp -s "$W/m3p-mlc.md5" "$W/m3p-jq.md5"; then agree="outputs byte-identical"; else agree="OUTPUTS DISAGREE"; fi
  versus_jq "$n" "$W/t-m3p-mlc.txt" "$W/t-m3p-jq.txt"
  case "$agree$same" in *DISAGREE*|*DIFFERS*) met=false ;; esac
  row "parse M3 list responses into purchase_order, $n POs" "POs/s (CPU)" "$mrate" "$jrate" "$ratio" ">= 5x jq" "$met" \
    "mlc ${mcpu}s CPU, jq ${jcpu}s CPU on $inbytes bytes of saved GetHead + LstLine bodies ($npo POs x $copies); $agree; $same. HTTP excluded on both sides (bench/m3parse.c)"
  rm -f "$W/m3p-big.txt"
}

# ---------------------------------------------------------------- start-up
bench_startup() {
  say "startup: mlc --version vs /bin/true"
  if command -v hyperfine >/dev/null 2>&1; then
    hyperfine -N --warmup 20 --runs 500 --export-json "$W/startup.json" "$MLC --version" /bin/true >/dev/null 2>&1
    m=$(jq '.results[0].mean * 1000' "$W/startup.json")
    t=$(jq '.results[1].mean * 1000' "$W/startup.json")
    how="hyperfine -N, 500 runs each, mean"
  else
    t0=$(now_ms); i=0; while [ $i -lt 500 ]; do "$MLC" --version >/dev/null; i=$((i + 1)); done; t1=$(now_ms)
    i=0; while [ $i -lt 500 ]; do /bin/true; i=$((i + 1)); done; t2=$(now_ms)
    m=$(div $((t1 - t0)) 500 3); t=$(div $((t2 - t1)) 500 3)
    how="shell loop, 500 runs each"
  fi
  m=$(printf '%.3f' "$m"); t=$(printf '%.3f' "$t")
  row "start-up: mlc --version vs /bin/true" "ms" "$m" "$t" "$(div "$m" "$t" 2)" "none set (informational)" null "$how"
}

# ---------------------------------------------------------------- receipts in seconds
# Time from a shipment shipped in mlc-sim (its webhook fired at once: the sim's
# webhook delay is 0, ShipStation's own delivery delay is not modelled) to its last
# line's receipt recorded in the sim's M3 (the receipt's real_ms), at a steady
# 1,000 shipments an hour: one every 3.6 s, in real time (no clock scaling: the
# pipeline's own run time is real), for BENCH_NOTIFY_N shipments (default 50, every
# shipment the ready sandbox's POs make; p95 is then the 48th of 50, not the 29th of 30).
# mlc: webhook serve --on-notify 'mlc pull-shipments --webhooks-only | mlc post-receipts'
# --debounce 2s. Baseline, MEASURED the same way on a second sim: polling alone, a cron
# tick every 60 s running 'mlc pull-shipments --no-webhooks | mlc post-receipts' (the
# ticks' phase against the shipments is the run's start; about 4 more minutes).
# notify_ship LAT: ships the listed shipments one every GAP_MS, waits for their
# receipts (at most 90 s after the last), writes the latencies (s, sorted) to LAT.
notify_ship() {
  : >"$SIM_DIR/shipped"
  start=$(now_ms); i=0
  while read -r id po; do
    sleep_until_ms $((start + i * GAP_MS))
    echo "$po $(now_ms)" >>"$SIM_DIR/shipped"
    admin POST ship "{\"ids\":[\"$id\"]}" >/dev/null
    i=$((i + 1))
  done <"$SIM_DIR/ship.list"
  want=$(awk '{ print $2 }' "$SIM_DIR/ship.list" | sort -u | wc -l)
  _i=0
  while [ "$(admin GET 'state?path=m3.receipts' | jq '[.[].PUNO] | unique | length')" -lt "$want" ] && [ $_i -lt 900 ]; do
    sleep 0.1; _i=$((_i + 1))
  done
  admin GET 'state?path=m3.receipts' | jq -r 'group_by(.PUNO)[] | "\(.[0].PUNO) \(map(.real_ms) | max)"' | sort >"$SIM_DIR/received"
  sort "$SIM_DIR/shipped" | join - "$SIM_DIR/received" | awk '{ printf "%.3f\n", ($3 - $2) / 1000 }' | sort -n >"$1"
}
# notify_setup NAME: a sim with the webhook keys configured and shipments to ship in
# $SIM_DIR/ship.list ("id po", N of them); sets n
notify_setup() {
  sim_up "$1"
  printf 'hooktoken-bench\n' >"$SIM_DIR/hook.token"; chmod 600 "$SIM_DIR/hook.token"
  curl -s "$SIM_URL/jwks" >"$SIM_DIR/jwks.json"
  cfg_under shipstation "webhook_secret_file: hook.token"
  cfg_under shipstation "webhook_public_key_file: jwks.json"
  "$MLC" pull-pos 2>/dev/null | "$MLC" push-shipments >"$SIM_DIR/ib.jsonl" 2>/dev/null
  jq -r 'select(.action == "created") | "\(.shipstation_id) \(.po)"' "$SIM_DIR/ib.jsonl" | head -n "$N" >"$SIM_DIR/ship.list"
  n=$(wc -l <"$SIM_DIR/ship.list")
}
pct() { awk -v p="$1" '{ v[NR] = $1 } END { if (NR == 0) { print "null"; exit } i = int(p * NR + 0.999999); if (i < 1) i = 1; print v[i] }' "$2"; }
bench_notify() {
  N=${BENCH_NOTIFY_N:-50}; GAP_MS=3600
  notify_setup notify
  say "notify: $n shipments, one every $GAP_MS ms (1,000/h), webhook serve --on-notify, debounce 2 s"
  "$MLC" -v webhook serve --listen 127.0.0.1:0 --debounce 2s \
    --on-notify "'$MLC' pull-shipments --webhooks-only | '$MLC' post-receipts >/dev/null" \
    >"$SIM_DIR/hook.out" 2>"$SIM_DIR/hook.err" &
  HOOK=$!
  _i=0; while ! grep -q listening "$SIM_DIR/hook.out" 2>/dev/null && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
  "$MLC" webhook subscribe --url "$(sed -n 's/.*url=\(.*\)/\1/p' "$SIM_DIR/hook.out")" >/dev/null 2>&1
  notify_ship "$W/notify-lat"
  kill "$HOOK"; wait "$HOOK" 2>/dev/null
  got=$(wc -l <"$W/notify-lat")
  p50=$(pct 0.50 "$W/notify-lat"); p95=$(pct 0.95 "$W/notify-lat"); max=$(tail -n 1 "$W/notify-lat")
  runs=$(grep -c 'on-notify run [0-9]*: exit' "$SIM_DIR/hook.err")
  fails=$(grep -c 'on-notify run [0-9]*: exit [1-9]' "$SIM_DIR/hook.err")
  run_s=$(sed -n 's/.*on-notify run [0-9]*: exit [0-9]* after \([0-9.]*\) s.*/\1/p' "$SIM_DIR/hook.err" | sort -n |
          awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }')
  sim_down

  # the baseline: polling alone, one cron tick a minute (each tick its own pipeline,
  # in the background as cron starts them: a long run never delays the next tick)
  notify_setup notify-poll
  say "notify: the same $n shipments with polling alone, a tick every 60 s"
  ( k=0; t0=$(now_ms)
    while :; do
      sh -c "'$MLC' pull-shipments --no-webhooks 2>>'$SIM_DIR/poll.err' | '$MLC' post-receipts >/dev/null 2>>'$SIM_DIR/poll.err'" &
      k=$((k + 1)); sleep_until_ms $((t0 + k * 60000))
    done ) &
  CRON=$!
  notify_ship "$W/poll-lat"
  kill "$CRON"; wait "$CRON" 2>/dev/null
  sleep 2 # a tick's pipeline still running ends before the sim stops
  pgot=$(wc -l <"$W/poll-lat")
  poll50=$(pct 0.50 "$W/poll-lat"); poll95=$(pct 0.95 "$W/poll-lat"); pmax=$(tail -n 1 "$W/poll-lat")
  sim_down

  met=$(awk -v p="$p95" 'BEGIN { print (p != "null" && p <= 10) ? "true" : "false" }')
  note="webhook + --on-notify: $got of $n shipments received; shipped one every 3.6 s (1,000/h) in real time; $runs on-notify runs ($fails failed), median run ${run_s} s; max latency ${max} s. Baseline measured the same way on a second sim with polling alone (a tick every 60 s running pull-shipments --no-webhooks | post-receipts): $pgot of $n received, p50 ${poll50} s, p95 ${poll95} s, max ${pmax} s (a model would say 30 s and 57 s + one run)."
  row "shipped -> receipt in M3, p50 (webhook + --on-notify)" "s" "$p50" "$poll50" "$(div "$p50" "$poll50" 3)" "informational (baseline: polling alone, 1-min cron, measured)" null "$note"
  row "shipped -> receipt in M3, p95 (webhook + --on-notify)" "s" "$p95" "$poll95" "$(div "$p95" "$poll95" 3)" "p95 <= 10 s (baseline: polling alone, 1-min cron, measured)" "$met" "$note"
}

# ---------------------------------------------------------------- hosts
# Issue 21: more than one machine. Two "hosts" = two working directories, each its
# own configuration, vault and state_dir (the vault and, for a local state, the rate
# budget's file), both with `state:` on one PostgreSQL database of a private cluster
# (tests/pg.sh; the Debian postgresql server). Without the server binaries the rows
# that need it say so (met null) and the hosts share one SQLite state directory.
#  - ShipStation V2 rate used by 4 processes, 2 per host, as bench_ratelimit
#    (time-scale 6: 10 s windows, 200 a window): >= 95% of the allowed rate, 0 429s.
#  - receipts posted per second against the sim, PostgreSQL against SQLite.
#  - ION logins over a scaled day of cron runs alternating between the hosts, as
#    bench_logins: at most one per token lifetime (12).
PG_DIR=
hosts_pg() {
  [ -n "$PG_DIR" ] && return 0
  [ -f "$ROOT/tests/pg.sh" ] && sh "$ROOT/tests/pg.sh" bin >/dev/null 2>&1 || return 1
  PG_DIR=$(sh "$ROOT/tests/pg.sh" start "$W/pg" 2>"$W/pg.err") || { PG_DIR=; return 1; }
  return 0
}
# hosts_setup DB: host directories $SIM_DIR/hostA, hostB for the current sim; DB a
# new PostgreSQL database, or "" for one SQLite state directory
hosts_setup() {
  for h in hostA hostB; do
    d="$SIM_DIR/$h"
    mkdir -p "$d/state"
    cp "$SIM_DIR/tenant.ionapi" "$SIM_DIR/shipstation-v1.key" "$SIM_DIR/shipstation-v2.key" "$d/"
    chmod 600 "$d"/*.key "$d/tenant.ionapi"
    if [ -n "$1" ]; then
      url=$(sh "$ROOT/tests/pg.sh" url "$PG_DIR" "$1")
      _u=$(printf '%s' "$url" | sed 's/[&|\\]/\\&/g')   # as a sed replacement
    sed "s|^    state_dir: state\$|    state_dir: state\\n    state: \"$_u\"|" "$MLC_CONFIG" >"$d/mlc.yaml"
    else
      sed "s|^    state_dir: state\$|    state_dir: $SIM_DIR/shared\\n    vault: $d/state/sim.vault|" "$MLC_CONFIG" >"$d/mlc.yaml"
    fi
  done
}
# on_host NAME CMD...: mlc CMD as host NAME (its configuration; no MLC_STATE_DIR)
on_host() { _h=$1; shift; env -u MLC_STATE_DIR MLC_CONFIG="$SIM_DIR/$_h/mlc.yaml" "$MLC" "$@"; }

bench_hosts() {
  pg=postgresql
  if hosts_pg; then say "hosts: PostgreSQL cluster in $PG_DIR"
  else pg=; say "hosts: no PostgreSQL server binaries: the hosts share one SQLite state directory"; fi

  # -- ShipStation rate, 4 processes on 2 hosts
  SCALE=6; WIN=10; LIMIT=200; NWIN=3
  "$SIM_BIN" --gen-seed 2500 >"$W/seed-hosts.json"
  sim_up hosts-rate --seed "$W/seed-hosts.json" --time-scale $SCALE
  cfg_under shipstation "rate_window: $WIN"
  [ -n "$pg" ] && sh "$ROOT/tests/pg.sh" createdb "$PG_DIR" hosts_rate >/dev/null
  hosts_setup "${pg:+hosts_rate}"
  on_host hostA pull-pos --no-cursor 2>/dev/null | jq -c 'select(.warehouse != "WH9" and .supplier.id != "SUP012")' >"$W/hosts-pos.jsonl"
  on_host hostA ping >/dev/null 2>&1; on_host hostB ping >/dev/null 2>&1
  for i in 1 2 3 4; do sed -n "$(((i - 1) * 450 + 1)),$((i * 450))p" "$W/hosts-pos.jsonl" >"$W/hosts-rate-$i.jsonl"; done
  sleep $((WIN + 1))
  r0=$(counters .rate_limited)
  before=$(v2_requests)
  pids=
  for i in 1 2 3 4; do
    h=hostA; [ $i -gt 2 ] && h=hostB
    on_host $h push-shipments --batch 1 "$W/hosts-rate-$i.jsonl" >/dev/null 2>"$W/hosts-rate-$i.err" &
    pids="$pids $!"
  done
  i=0; while [ "$(v2_requests)" -le "$before" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
  tf=$(now_ms)
  sleep_until_ms $((tf + WIN * 1000 - 300))
  t0=$(now_ms); c0=$(v2_requests)
  sleep_until_ms $((t0 + WIN * NWIN * 1000))
  c1=$(v2_requests); t1=$(now_ms)
  alive=0; for p in $pids; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
  for p in $pids; do kill "$p" 2>/dev/null; done
  for p in $pids; do wait "$p" 2>/dev/null; done
  r429=$(( $(counters .rate_limited) - r0 ))
  used=$((c1 - c0))
  permin=$(awk -v u=$used -v ms=$((t1 - t0)) -v s=$SCALE 'BEGIN{printf "%.1f", u / (ms / 1000.0 * s) * 60}')
  ratio=$(div "$permin" $LIMIT 3)
  met=$(awk -v r="$ratio" -v z=$r429 -v a=$alive 'BEGIN{print (r >= 0.95 && z == 0 && a == 4) ? "true" : "false"}')
  [ -z "$pg" ] && met=null
  row "ShipStation V2 rate used, 4 processes on 2 hosts, one state" "req/min" "$permin" $LIMIT "$ratio" \
    ">= 0.95 of allowed, zero 429s" "$met" \
    "${pg:-no PostgreSQL server: SQLite stand-in (one state directory, so one budget file), not a measure of hosts}: 2 push-shipments --batch 1 per host, each host its own state_dir; $used requests in $((t1 - t0)) ms real at time-scale $SCALE ($NWIN windows of ${WIN}s); 429s: $r429; runs still busy at the end: $alive of 4"
  sim_down

  # -- receipts posted per second, SQLite and PostgreSQL
  for b in sqlite ${pg:+postgresql}; do
    sim_up "hosts-rc-$b" --seed "$W/seed-hosts.json"
    if [ $b = postgresql ]; then
      sh "$ROOT/tests/pg.sh" createdb "$PG_DIR" hosts_rc >/dev/null
      hosts_setup hosts_rc
    else
      hosts_setup ""
    fi
    [ -s "$W/hosts-ship.jsonl" ] || on_host hostA pull-pos --no-cursor --status 0-74 2>/dev/null | jq -c '.po as $po
      | {kind: "shipment", shipment_id: ("se-h" + $po), order_key: ("mlc-100-" + $po), po: $po,
         order_type: .order_type, tracking_number: ("1ZHOST" + $po), carrier: "ups", service: "ups_ground",
         ship_date: "2026-11-20T10:00:00Z", voided: false, source: "poll",
         items: [.lines[] | select(.qty_ordered > .qty_received)
                 | {sku: .item, qty: (.qty_ordered - .qty_received), po_line: "\($po)/\(.line)/\(.subline)"}]}
      | select(.items | length > 0)' | head -n 600 >"$W/hosts-ship.jsonl"
    on_host hostA ping >/dev/null 2>&1
    t0=$(now_ms)
    on_host hostA post-receipts <"$W/hosts-ship.jsonl" >"$W/hosts-rc-$b.jsonl" 2>"$W/hosts-rc-$b.err"
    t1=$(now_ms)
    posted=$(jq -r 'select(.status == "posted") | .receipt_id' "$W/hosts-rc-$b.jsonl" | wc -l)
    eval "rc_$b=\$(div $posted \$(((t1 - t0))) 6)"
    eval "rc_${b}_n=$posted; rc_${b}_ms=$((t1 - t0))"
    sim_down
  done
  sq=$(awk -v r="$rc_sqlite" 'BEGIN{printf "%.1f", r * 1000}')
  if [ -n "$pg" ]; then
    pq=$(awk -v r="$rc_postgresql" 'BEGIN{printf "%.1f", r * 1000}')
    row "receipts posted per second, PostgreSQL vs SQLite" "receipts/s" "$pq" "$sq" "$(div "$pq" "$sq" 3)" \
      "informational (side by side)" null \
      "one post-receipts of $rc_postgresql_n receipts in $rc_postgresql_ms ms on PostgreSQL (a private cluster on a Unix socket, fsync off) vs $rc_sqlite_n in $rc_sqlite_ms ms on SQLite (WAL); mlc-sim without faults, M3 bulk calls as configured"
  else
    row "receipts posted per second, PostgreSQL vs SQLite" "receipts/s" null "$sq" null \
      "informational (side by side)" null "no PostgreSQL server binaries: SQLite only, $rc_sqlite_n receipts in $rc_sqlite_ms ms"
  fi

  # -- ION logins over a scaled day, runs alternating between the two hosts
  RUNS=72; TICK_MS=1500; LIFE=9
  sim_up hosts-logins --token-lifetime $LIFE
  cfg_under cloudsuite "token_margin: 1"
  [ -n "$pg" ] && sh "$ROOT/tests/pg.sh" createdb "$PG_DIR" hosts_logins >/dev/null
  hosts_setup "${pg:+hosts_logins}"
  start=$(now_ms)
  i=0; late=0
  while [ $i -lt $RUNS ]; do
    tick=$((start + i * TICK_MS))
    sleep_until_ms $tick
    [ $(($(now_ms) - tick)) -gt $TICK_MS ] && late=$((late + 1))
    h=hostA; [ $((i % 2)) = 1 ] && h=hostB
    on_host $h pull-pos 2>>"$W/hosts-logins.err" | on_host $h push-shipments >/dev/null 2>>"$W/hosts-logins.err"
    i=$((i + 1))
  done
  end=$(now_ms)
  logins=$(counters .logins)
  refreshes=$(counters .refreshes)
  lifetimes=$(( (end - start + LIFE * 1000 - 1) / (LIFE * 1000) ))
  met=$([ "$logins" -le 12 ] && echo true || echo false)
  [ -z "$pg" ] && met=null
  row "ION logins, a scaled day of cron runs on 2 hosts" "logins/day" "$logins" $RUNS "$(div "$logins" $RUNS 4)" \
    "<= 12 (one per token lifetime)" "$met" \
    "${pg:-no PostgreSQL server: each host caches the token in its own vault (SQLite stand-in), not a measure of shared caching}: $RUNS runs alternating between the hosts (own vault each) in $((end - start)) ms ($lifetimes token lifetimes of ${LIFE}s), $late late; password grants: $logins, refresh grants: $refreshes"
  sim_down
  [ -n "$PG_DIR" ] && sh "$ROOT/tests/pg.sh" stop "$PG_DIR"
  PG_DIR=
}

for s in $ONLY; do
  case $s in
    api) bench_api ;;
    calls) bench_calls ;;
    ratelimit) bench_ratelimit ;;
    logins) bench_logins ;;
    cron) bench_cron ;;
    throughput|memory) bench_throughput; bench_m3parse ;;
    m3parse) bench_m3parse ;;
    startup) bench_startup ;;
    notify) bench_notify ;;
    hosts) bench_hosts ;;
    *) say "unknown section '$s'" ;;
  esac
done

jq -s --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg host "$(uname -srm), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" \
  --arg version "$("$MLC" --version 2>/dev/null)" \
  '{date: $date, host: $host, mlc: $version, results: .}' "$ROWS" >"$B/results.json"

# the table
jq -r '.results[] | [.metric, (.mlc // "-" | tostring) + (if .unit != "-" then " " + .unit else "" end),
       (.baseline // "-" | tostring), (.ratio // "-" | tostring), .target,
       (if .met == true then "yes" elif .met == false then "NO" else "-" end)] | @tsv' "$B/results.json" |
  awk -F'\t' 'BEGIN { printf "%-58s %-24s %-10s %-8s %-36s %s\n", "metric", "mlc", "baseline", "ratio", "target", "met?" }
              { printf "%-58s %-24s %-10s %-8s %-36s %s\n", $1, $2, $3, $4, $5, $6 }'
echo "notes and details: bench/results.json"
