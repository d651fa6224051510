#!/bin/sh
# test_state.sh: the PostgreSQL state backend from the command line (issue 21):
# the rules of `state:` (a password in the URL, a weak sslmode off loopback, a value
# that is neither sqlite nor a URL: exit 78 at file:line:col, the password never
# shown), the password from a 0600 state_password_file (a 0644 one refused) and from
# the vault (`mlc state set-password`), one database per profile, and
# `mlc state migrate --to`: a SQLite state with receipts, audit, links, rejects and
# runs copied and verified per table, then used by the pipelines; a second run finds
# it identical; a target of another profile refused; a differing target refused
# without --force, replaced with it.
# Needs the cluster of tests/pg.sh (tests/run.sh starts it; MLC_TEST_PG_DIR).
. tests/integration/lib.sh
[ -n "${MLC_TEST_PG_DIR:-}" ] && [ -S "$MLC_TEST_PG_DIR/sock/.s.PGSQL.5432" ] ||
  t_skip_all "no PostgreSQL test cluster (tests/pg.sh; tests/run.sh starts one when the server is installed)"
PG=tests/pg.sh
sim_start
SOCK="$MLC_TEST_PG_DIR/sock"
PW=$(cat "$MLC_TEST_PG_DIR/mlc_pw.password")
cp "$MLC_CONFIG" "$SIM_DIR/base.yaml"
with_state() { cp "$SIM_DIR/base.yaml" "$MLC_CONFIG"; sim_config_add "$@"; }
line_of() { grep -n "$1" "$MLC_CONFIG" | head -n 1 | cut -d: -f1; }

# ---- the rules of state: ----
with_state "    state: postgresql://mlc:hunter2@db.example.com/acme?sslmode=verify-full"
out=$("$MLC" queue 2>&1); rc=$?
check_eq "a password in the state URL: exit 78" 78 "$rc"
check "  named at file:line:col" sh -c "printf '%s' \"\$1\" | grep -q \"mlc.yaml:$(line_of '^    state:'):5: state: the state URL holds a password\"" _ "$out"
check "  and the password is not repeated" sh -c "! printf '%s' \"\$1\" | grep -q hunter2" _ "$out"
with_state "    state_url: postgresql://mlc@db.example.com/acme?sslmode=require"
out=$("$MLC" queue 2>&1); rc=$?
check_eq "off loopback with sslmode=require: exit 78" 78 "$rc"
check "  says verify-full" sh -c "printf '%s' \"\$1\" | grep -q 'state_url: .*sslmode=require: refused (only verify-full'" _ "$out"
with_state "    state: mysql://db/acme"
out=$("$MLC" queue 2>&1); rc=$?
check_eq "state: neither sqlite nor a URL: exit 78" 78 "$rc"
check "  says what is allowed" sh -c "printf '%s' \"\$1\" | grep -q 'must be sqlite or a postgresql:// URL'" _ "$out"

# ---- the password: a private file, or the vault ----
psql -X -q -h "$SOCK" -U mlc -d postgres -c "CREATE DATABASE st_pw_$$ OWNER mlc_pw" >/dev/null
printf '%s\n' "$PW" >"$SIM_DIR/pg.pw"; chmod 644 "$SIM_DIR/pg.pw"
with_state "    state: postgresql:///st_pw_$$?host=$SOCK&user=mlc_pw" "    state_password_file: pg.pw"
out=$("$MLC" queue 2>&1); rc=$?
check_eq "a group/world-readable state_password_file: exit 78" 78 "$rc"
check "  says so" sh -c "printf '%s' \"\$1\" | grep -q 'permissions 0644 are too open'" _ "$out"
chmod 600 "$SIM_DIR/pg.pw"
check "with a 0600 state_password_file the pipelines run on PostgreSQL" "$MLC" queue
check_eq "  and the state is there (the run recorded)" 1 \
  "$(psql -X -At -h "$SOCK" -U mlc -d "st_pw_$$" -c "select count(*) from run where command='queue'")"
printf 'wrong\n' >"$SIM_DIR/pg.pw"
out=$("$MLC" queue 2>&1); rc=$?
check_eq "a wrong password: exit 74" 74 "$rc"
check "  names the server, not the password" sh -c "printf '%s' \"\$1\" | grep -q \"postgresql://mlc_pw@$SOCK:5432/st_pw_$$: cannot connect: .*password authentication failed\"" _ "$out"
with_state "    state: postgresql:///st_pw_$$?host=$SOCK&user=mlc_pw"
out=$("$MLC" queue 2>&1); rc=$?
check_eq "no password at all: exit 74" 74 "$rc"
printf '%s\n' "$PW" | "$MLC" state set-password 2>"$SIM_DIR/setpw.err"
check_eq "mlc state set-password (stdin) stores it in the vault" 0 "$?"
check "with the vault's password the pipelines run" "$MLC" queue
check_eq "  (runs recorded: 2)" 2 \
  "$(psql -X -At -h "$SOCK" -U mlc -d "st_pw_$$" -c "select count(*) from run where command='queue'")"
check "the password is in no argv, log or output" sh -c "! grep -rqF \"\$1\" \"\$2\"/*.err \"\$2\"/*.jsonl 2>/dev/null" _ "$PW" "$SIM_DIR"

# ---- one database per profile ----
sed "s/^  sim:\$/  other:/" "$SIM_DIR/base.yaml" >"$SIM_DIR/other.yaml"
printf '    state: postgresql:///st_pw_%s?host=%s&user=mlc\n' "$$" "$SOCK" >>"$SIM_DIR/other.yaml"
out=$(MLC_CONFIG="$SIM_DIR/other.yaml" "$MLC" --profile other queue 2>&1); rc=$?
check_eq "another profile on the same database: exit 78" 78 "$rc"
check "  names both profiles" sh -c "printf '%s' \"\$1\" | grep -q \"holds the state of profile 'sim', not of 'other'\"" _ "$out"

# ---- mlc state migrate ----
cp "$SIM_DIR/base.yaml" "$MLC_CONFIG"
sim_config_add "    receipts: {base_ms: 1, cap_ms: 20, max_attempts: 50}"
"$MLC" pull-pos --status 0-74 2>/dev/null | "$MLC" push-shipments >/dev/null 2>&1
ids=$(state '[.shipstation.v2.shipments[] | .shipment_id][0:4]' | jq -c .)
admin POST ship "{\"ids\":$ids}" >/dev/null
"$MLC" pull-shipments 2>/dev/null | "$MLC" post-receipts >"$SIM_DIR/c1.jsonl" 2>/dev/null
printf '{"kind":"shipment","bad\n' | "$MLC" post-receipts >/dev/null 2>&1
posted=$(jq -r 'select(.status == "posted") | .receipt_id' "$SIM_DIR/c1.jsonl" | wc -l)
check "a SQLite state with posted receipts ($posted)" test "$posted" -gt 0
sq() { sqlite3 "$MLC_STATE_DIR/sim.db" "$1"; }
URL=$(sh $PG createdb "$MLC_TEST_PG_DIR" "st_mig_$$")
cp "$MLC_CONFIG" "$SIM_DIR/sqlite.yaml"
"$MLC" state migrate --to "$URL" >"$SIM_DIR/mig1.out" 2>"$SIM_DIR/mig1.err"
check_eq "migrate: exit 0" 0 "$?"
check_eq "migrate: every table checked and equal (11 lines, ok)" 11 "$(grep -c ' ok$' "$SIM_DIR/mig1.out")"
pq() { psql -X -At -h "$SOCK" -U mlc -d "st_mig_$$" -c "$1"; }
for t in receipt audit link rejected run cursor seen outbox; do
  check_eq "migrate: $t rows the same" "$(sq "select count(*) from $t")" "$(pq "select count(*) from $t")"
done
check_eq "migrate: the receipts' states the same" "$(sq "select id||state from receipt order by id" | tr '\n' ' ')" \
  "$(pq "select id||state from receipt order by id" | tr '\n' ' ')"
check_eq "migrate: the rejected raw line kept as bytes" "$(sq "select hex(line) from rejected order by id" | tr '\n' ' ')" \
  "$(pq "select upper(encode(line, 'hex')) from rejected order by id" | tr '\n' ' ')"
check_eq "migrate: the profile recorded" sim "$(pq "select value from mlc_meta where key='profile'")"
"$MLC" state migrate --to "$URL" >"$SIM_DIR/mig2.out" 2>"$SIM_DIR/mig2.err"
check_eq "migrate again: nothing to do, exit 0" 0 "$?"
check "  says already migrated" grep -q "^already migrated" "$SIM_DIR/mig2.out"
# switch the profile over; the pipelines go on where SQLite left off
sim_config_add "    state: $URL"
"$MLC" pull-shipments 2>/dev/null | "$MLC" post-receipts >"$SIM_DIR/c2.jsonl" 2>/dev/null
check_eq "after the switch: nothing posted twice (all known to the ledger)" 0 \
  "$(jq -r 'select(.status == "posted") | .receipt_id' "$SIM_DIR/c2.jsonl" | wc -l)"
check_eq "no line received twice in M3" 1 "$(state '[.m3.receipts[] | "\(.PUNO)/\(.PNLI)/\(.PNLS)"] | group_by(.) | map(length) | max // 1')"
nid=$(pq "select nextval(pg_get_serial_sequence('audit', 'id'))")
check "new audit ids follow the copied ones" test "$nid" -gt "$(sq "select max(id) from audit")"
# the target now differs from the SQLite file (the runs above): refused, then --force
cp "$SIM_DIR/sqlite.yaml" "$MLC_CONFIG"
"$MLC" state migrate --to "$URL" >"$SIM_DIR/mig3.out" 2>"$SIM_DIR/mig3.err"
check_eq "a target with other rows of the profile: exit 78" 78 "$?"
check "  says --force" grep -q -- "--force replaces them" "$SIM_DIR/mig3.err"
"$MLC" state migrate --to "$URL" --force >"$SIM_DIR/mig4.out" 2>"$SIM_DIR/mig4.err"
check_eq "--force: replaced and verified" "0 11" "$? $(grep -c ' ok$' "$SIM_DIR/mig4.out")"
sed "s/^  sim:\$/  other:/" "$SIM_DIR/base.yaml" >"$SIM_DIR/other-sqlite.yaml"
MLC_CONFIG="$SIM_DIR/other-sqlite.yaml" "$MLC" --profile other queue >/dev/null 2>&1
out=$(MLC_CONFIG="$SIM_DIR/other-sqlite.yaml" "$MLC" --profile other state migrate --to "$URL" 2>&1); rc=$?
check_eq "migrate into another profile's database: exit 78" 78 "$rc"
check "  names both profiles" sh -c "printf '%s' \"\$1\" | grep -q \"holds the state of profile 'sim', not of 'other'\"" _ "$out"
out=$("$MLC" state migrate --to "postgresql://u:hunter2@db.example.com/x" 2>&1); rc=$?
check_eq "migrate --to with a password: exit 78, not shown" "78 0" "$rc $(printf '%s' "$out" | grep -c hunter2)"
# a few thousand rows (batches of 500 rows per INSERT: full ones and a remainder,
# a table of exactly two batches, bytes in the rejected lines) copied and verified
sed "s/^  sim:\$/  bulk:/" "$SIM_DIR/base.yaml" >"$SIM_DIR/bulk.yaml"
MLC_CONFIG="$SIM_DIR/bulk.yaml" "$MLC" --profile bulk queue >/dev/null 2>&1
sqlite3 "$MLC_STATE_DIR/bulk.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3001)
  INSERT INTO audit(id, receipt_id, at, event, detail) SELECT i, 0, '2026-11-20T10:00:00Z', 'note', 'row ' || i FROM n;
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
  INSERT INTO rejected(id, at, command, source, lineno, reason, line)
    SELECT i, '2026-11-20T10:00:00Z', 'post-receipts', 'stdin', i, 'bad', CAST(x'00ff' || randomblob(i % 7) AS BLOB) FROM n;
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 777)
  INSERT INTO seen(ns, key, hash, updated_at) SELECT 'po', 'k' || i, 'h' || i, '2026-11-20T10:00:00Z' FROM n"
check_eq "a SQLite state of 4778 rows" 4778 \
  "$(sqlite3 "$MLC_STATE_DIR/bulk.db" "select (select count(*) from audit) + (select count(*) from rejected) + (select count(*) from seen)")"
BURL=$(sh $PG createdb "$MLC_TEST_PG_DIR" "st_bulk_$$")
t0=$(date +%s%N)
MLC_CONFIG="$SIM_DIR/bulk.yaml" "$MLC" --profile bulk state migrate --to "$BURL" >"$SIM_DIR/bulk.out" 2>"$SIM_DIR/bulk.err"
rc=$?; ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check_eq "4778 rows: exit 0, every table checked and equal" "0 11" "$rc $(grep -c ' ok$' "$SIM_DIR/bulk.out")"
bq() { psql -X -At -h "$SOCK" -U mlc -d "st_bulk_$$" -c "$1"; }
check_eq "4778 rows: the counts on PostgreSQL" "3001 1000 777" \
  "$(bq "select (select count(*) from audit) || ' ' || (select count(*) from rejected) || ' ' || (select count(*) from seen)")"
check_eq "4778 rows: the last rows of each batch in place" "row 500|row 501|row 3001" \
  "$(bq "select string_agg(detail, '|' order by id) from audit where id in (500, 501, 3001)")"
echo "# state migrate of 4778 rows: ${ms} ms"
t_done
