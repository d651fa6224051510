# tests/integration/lib.sh: shared helpers for the integration tests (POSIX sh).
# Source it from a test_*.sh; it starts mlc-sim in a temporary directory, points
# mlc at it (MLC_CONFIG), and prints TAP-like lines that tests/run.sh counts:
#   ok N - name   /   not ok N - name
# Not here: assertions about any one command (the test files hold those).

BUILD=${MLC_BUILD:-build}
MLC="$PWD/$BUILD/mlc"
SIM_BIN="$PWD/$BUILD/mlc-sim"
T_N=0
T_FAILED=0
SIM_PID=
SIM_DIR=

t_ok() { T_N=$((T_N + 1)); echo "ok $T_N - $1"; }
t_fail() {
  T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $1"
  [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'
  return 0
}
# check NAME CMD...: passes when CMD exits 0.
check() { _t_name=$1; shift; if _t_out=$("$@" 2>&1); then t_ok "$_t_name"; else t_fail "$_t_name" "$_t_out"; return 1; fi; }
# check_eq NAME EXPECTED ACTUAL
check_eq() { if [ "$2" = "$3" ]; then t_ok "$1"; else t_fail "$1" "expected [$2], got [$3]"; fi; }

# MLC_TEST_SLOW=N stretches every wait_until timeout N times (make valgrind sets it:
# under memcheck mlc and mlc-sim run many times slower).
T_SLOW=${MLC_TEST_SLOW:-1}
# wait_until SECONDS CMD...: runs CMD every 0.1 s until it succeeds; gives up (status
# 1) after SECONDS x MLC_TEST_SLOW. For waits on something to happen, not for pacing.
wait_until() {
  _w_n=$(($1 * 10 * T_SLOW)); shift
  until "$@"; do
    _w_n=$((_w_n - 1)); [ "$_w_n" -le 0 ] && return 1
    sleep 0.1
  done
}
# State backend: MLC_TEST_STATE=postgresql (tests/run.sh sets it for the re-run on
# PostgreSQL, with MLC_TEST_PG_DIR = the cluster of tests/pg.sh) gives every
# sim_start a fresh database on that cluster and writes `state: postgresql://...`
# into the sim profile; otherwise the state is the SQLite file of today.
# state_sql SQL: runs SQL on the sim profile's state (sqlite3 or psql; rows as
# "a|b" lines either way).
T_PG_DB=
state_sql() {
  if [ -n "$T_PG_DB" ]; then
    psql -X -q -At -v ON_ERROR_STOP=1 -h "$MLC_TEST_PG_DIR/sock" -U mlc -d "$T_PG_DB" -c "$1"
  else
    sqlite3 "$MLC_STATE_DIR/sim.db" "$1"
  fi
}
# state_wipe: a fresh state, as `rm -rf "$MLC_STATE_DIR"` gives on SQLite (the
# state directory goes either way; on PostgreSQL the database is emptied).
state_wipe() {
  rm -rf "$MLC_STATE_DIR"
  [ -z "$T_PG_DB" ] || state_sql "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null
}
# db_count SQL: prints the single number SQL selects from the state database (0 if
# there is none yet); at_least N SQL: that number is N or more.
db_count() { _d_n=$(state_sql "$1" 2>/dev/null) && [ -n "$_d_n" ] && echo "$_d_n" || echo 0; }
at_least() { [ "$(db_count "$2")" -ge "$1" ]; }

t_skip_all() { echo "skip: $1"; exit 77; }

# secret_scan: every file this run left in the sandbox directory (mlc's outputs,
# logs, state database and audit trail, webhook inbox...) must be free of the
# secrets: the .ionapi client secret and service-account keys, the ShipStation
# keys, the webhook token, and every ION access and refresh token the sim issued
# (its sim.tokens). Only the files that hold them on purpose are skipped.
secret_scan() {
  [ -n "$SIM_DIR" ] && [ -f "$SIM_DIR/tenant.ionapi" ] || return 0
  _t_sec="$SIM_DIR/.secrets"
  jq -r '.cs, .saak, .sask' "$SIM_DIR/tenant.ionapi" >"$_t_sec" 2>/dev/null
  [ -f "$SIM_DIR/second.ionapi" ] && jq -r '.cs, .saak, .sask' "$SIM_DIR/second.ionapi" >>"$_t_sec" 2>/dev/null
  cat "$SIM_DIR/shipstation-v2.key" >>"$_t_sec" 2>/dev/null
  tr ':' '\n' <"$SIM_DIR/shipstation-v1.key" >>"$_t_sec" 2>/dev/null
  [ -f "$SIM_DIR/hook.token" ] && cat "$SIM_DIR/hook.token" >>"$_t_sec"
  [ -f "$SIM_DIR/sim.tokens" ] && grep . "$SIM_DIR/sim.tokens" >>"$_t_sec"
  _t_hits=$(find "$SIM_DIR" -type f ! -name '*.ionapi*' ! -name 'shipstation-v?.key' ! -name hook.token \
      ! -name .secrets ! -name 'sim.*' ! -name '*.vault' ! -name 'vault.key' ! -path '*/evil/*' \
      -exec grep -a -l -F -f "$_t_sec" {} + 2>/dev/null)
  if [ -z "$_t_hits" ]; then t_ok "no secret in any file this run left ($(find "$SIM_DIR" -type f | wc -l) files)"
  else t_fail "a secret leaked into a file" "$_t_hits"; fi
  rm -f "$_t_sec"
}

# Every sim records its M3/V2/V1 traffic (mlc-sim --record) to $SIM_DIR/sim.traffic.jsonl
# (what mlc sent the services on purpose, webhook URLs with their token included: the
# secret scan leaves sim.* files alone); with MLC_CONTRACT_DIR set (tests/run.sh sets
# it), the recording is kept there for test_contracts.sh, which runs last.
# An answer of mlc-sim off the V2 contract (mlc-sim(1) CONTRACT) fails the test that
# got it.
sim_stop() {
  if [ -n "$SIM_PID" ]; then
    secret_scan
    kill "$SIM_PID" 2>/dev/null
    _t_i=0; while kill -0 "$SIM_PID" 2>/dev/null && [ $_t_i -lt 50 ]; do sleep 0.1; _t_i=$((_t_i + 1)); done
    kill -9 "$SIM_PID" 2>/dev/null
    if grep -q '^mlc-sim: contract: ' "$SIM_DIR/sim.err" 2>/dev/null; then
      t_fail "mlc-sim answered off the V2 contract" "$(grep '^mlc-sim: contract: ' "$SIM_DIR/sim.err" | sort | uniq -c | head -n 10)"
    fi
    SIM_PID=
    if [ -n "${MLC_CONTRACT_DIR:-}" ] && [ -s "$SIM_DIR/sim.traffic.jsonl" ]; then
      mkdir -p "$MLC_CONTRACT_DIR" &&
        cp "$SIM_DIR/sim.traffic.jsonl" "$MLC_CONTRACT_DIR/$(basename "$0" .sh).$$.$(date +%s%N).jsonl"
    fi
  fi
}

t_cleanup() { [ -n "${KEEP:-}" ] && [ -n "$SIM_PID" ] && echo "kept: $SIM_URL $SIM_DIR" && exit; sim_stop; [ -n "$SIM_DIR" ] && rm -rf "$SIM_DIR"; }
trap t_cleanup EXIT INT TERM

# sim_start [mlc-sim options...]: starts the sandbox; sets SIM_DIR, SIM_URL, MLC_CONFIG.
sim_start() {
  [ -x "$SIM_BIN" ] || t_skip_all "no $SIM_BIN"
  if [ "${MLC_TEST_STATE:-sqlite}" = postgresql ]; then
    [ -n "${MLC_TEST_PG_DIR:-}" ] && [ -S "$MLC_TEST_PG_DIR/sock/.s.PGSQL.5432" ] ||
      t_skip_all "MLC_TEST_STATE=postgresql without a running cluster (MLC_TEST_PG_DIR; tests/pg.sh start)"
  fi
  SIM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mlc-it.XXXXXX")
  "$SIM_BIN" --listen 127.0.0.1:0 --dir "$SIM_DIR" --record "$SIM_DIR/sim.traffic.jsonl" "$@" \
    >"$SIM_DIR/sim.out" 2>"$SIM_DIR/sim.err" &
  SIM_PID=$!
  sim_ready() { grep -q '^mlc-sim ready' "$SIM_DIR/sim.out" 2>/dev/null || ! kill -0 "$SIM_PID" 2>/dev/null; }
  if ! wait_until 10 sim_ready || ! kill -0 "$SIM_PID" 2>/dev/null; then
    echo "mlc-sim did not start:"; cat "$SIM_DIR/sim.err"; exit 1
  fi
  SIM_URL=$(sed -n 's/^mlc-sim ready url=\([^ ]*\).*/\1/p' "$SIM_DIR/sim.out")
  MLC_CONFIG="$SIM_DIR/mlc.yaml"
  MLC_STATE_DIR="$SIM_DIR/state"
  export MLC_CONFIG MLC_STATE_DIR SIM_URL SIM_DIR
  if [ "${MLC_TEST_STATE:-sqlite}" = postgresql ]; then
    T_PG_DB="it_$(basename "$0" .sh | tr -cd 'a-z0-9_')_$$_$(date +%s%N | tail -c 7)"
    sh tests/pg.sh createdb "$MLC_TEST_PG_DIR" "$T_PG_DB" >/dev/null ||
      { echo "cannot create database $T_PG_DB"; exit 1; }
    sim_config_add "    state: postgresql:///$T_PG_DB?host=$MLC_TEST_PG_DIR/sock&user=mlc"
  fi
  unset MLC_PROFILE MLC_VAULT_KEY MLC_VAULT_KEY_FILE
  # as in production, a vault key so the ION token is cached between runs
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SIM_DIR/vault.key"
  chmod 600 "$SIM_DIR/vault.key"
  MLC_VAULT_KEY_FILE="$SIM_DIR/vault.key"; export MLC_VAULT_KEY_FILE
}

# admin METHOD PATH [JSON]: calls the sim's admin API, prints the body.
admin() {
  if [ -n "${3:-}" ]; then
    curl -sS -X "$1" -H 'Content-Type: application/json' --data "$3" "$SIM_URL/admin/$2"
  else
    curl -sS -X "$1" "$SIM_URL/admin/$2"
  fi
}

# state JQ: runs a jq filter over GET /admin/state.
state() { admin GET state | jq -r "$1"; }

t_done() {
  sim_stop
  echo "# $T_N checks, $T_FAILED failed"
  [ "$T_FAILED" -eq 0 ] && [ "$T_N" -gt 0 ]
}

# sim_config_under SECTION LINE: adds LINE (indented 6) under the profile's
# existing SECTION (e.g. cloudsuite) of mlc.yaml.
sim_config_under() { sed -i "s/^    $1:\$/&\\n      $2/" "$MLC_CONFIG"; }

# sim_config_add YAML_LINES: appends settings to the sim profile of mlc.yaml
# (4-space indent = a key of the profile), e.g. sim_config_add "    receipts: {base_ms: 1}"
sim_config_add() { printf '%s\n' "$@" >>"$MLC_CONFIG"; }

# shipments_from_pos FRACTION: shipment records for the open lines of every PO
# that pull-pos emits (qty = ceil(open * FRACTION)), as ShipStation would report them.
shipments_from_pos() {
  "$MLC" pull-pos --no-cursor --status 0-74 | jq -c --argjson f "${1:-1}" '
    .po as $po
    | {kind: "shipment", shipment_id: ("se-t" + $po), order_key: ("mlc-100-" + $po), po: $po,
       order_type: .order_type, tracking_number: ("1ZTEST" + $po), carrier: "ups", service: "ups_ground",
       ship_date: "2026-11-20T10:00:00Z", voided: false, source: "poll",
       items: [.lines[] | select(.qty_ordered > .qty_received)
               | {sku: .item, qty: (((.qty_ordered - .qty_received) * $f) | ceil),
                  po_line: "\($po)/\(.line)/\(.subline)"}]}
    | select(.items | length > 0)'
}
