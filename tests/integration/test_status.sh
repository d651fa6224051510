#!/bin/sh
# tests/integration/test_status.sh (issue 19, items 3-5): run records and `mlc status`
# (text, --json, --prometheus file parsed, Nagios exit codes, --max-age); --trace
# HAR files (HAR 1.2 structure checked with jq, no secret in them, mlc-sim --replay
# answers a second mlc identically); the progress line on a pseudo-terminal only
# (script(1)), never in a pipe, with TERM=dumb or --no-progress.
# It runs on both state backends (tests/run.sh re-runs it with
# MLC_TEST_STATE=postgresql): on PostgreSQL the state is shared between hosts, so
# the ION token is cached in the state (sealed, lib/sharing), not in the vault, and
# status must read its expiry from there.
. "$(dirname "$0")/lib.sh"

command -v script >/dev/null || t_skip_all "no script(1) (util-linux)"
sim_start
OUT=$SIM_DIR/out

# ---- status before any run
"$MLC" status >"$SIM_DIR/st0.txt" 2>&1; rc=$?
check_eq "a fresh profile is healthy (exit 0)" 0 "$rc"
check "and says no run is recorded yet" grep -q "no run recorded yet" "$SIM_DIR/st0.txt"
"$MLC" status --max-age pull-shipments=1h >/dev/null 2>&1; rc=$?
check_eq "--max-age CMD=1h for a command that never ran: CRITICAL (2)" 2 "$rc"
"$MLC" status --max-age banana >/dev/null 2>&1; rc=$?
check_eq "--max-age banana: usage error (64)" 64 "$rc"

# ---- a traced run
"$MLC" pull-pos --trace "$SIM_DIR/pos.har" >"$SIM_DIR/pos.jsonl" 2>"$SIM_DIR/pos.err"; rc=$?
check_eq "pull-pos --trace: exit 0" 0 "$rc"
check "pull-pos emitted POs" test -s "$SIM_DIR/pos.jsonl"
check_eq "one run row, finished, exit 0" "pull-pos|0|1" \
  "$(state_sql "select command, exit_code, case when ended_at >= started_at then 1 else 0 end from run")"
"$MLC" status --json >"$SIM_DIR/st1.json"; rc=$?
check_eq "after a good run: exit 0" 0 "$rc"
check_eq "json: pull-pos last success set, age small, exit 0" "true true 0" \
  "$(jq -r '.commands[] | select(.command == "pull-pos") | "\(.last_success != null) \(.last_success_age_s < 60) \(.last_exit_code)"' "$SIM_DIR/st1.json")"
check_eq "json: the run's counts (HTTP exchanges) were recorded" "true" \
  "$(jq -r '.commands[0].last_counts.http_requests > 0' "$SIM_DIR/st1.json")"
check_eq "json: the pull-pos cursor and how far behind it is" "true" \
  "$(jq -r '[.cursors[] | select(.stream == "pull-pos") | .behind_s >= 0] == [true]' "$SIM_DIR/st1.json")"
check_eq "json: the ION token's expiry from the cache (never the token)" "valid true" \
  "$(jq -r '.ion_token | "\(.state) \(.expires_in_s > 0)"' "$SIM_DIR/st1.json")"
check "json: no token in the output" sh -c "! grep -qi 'access_token\|bearer' '$SIM_DIR/st1.json'"
if [ -n "$T_PG_DB" ]; then cache=state; else cache=vault; fi
check_eq "json: the token is read where it is cached ($cache)" "$cache" "$(jq -r '.ion_token.cache' "$SIM_DIR/st1.json")"
# the sealed value's clear expiry header is the one status reports
if [ -n "$T_PG_DB" ]; then
  hdr=$(state_sql "select encode(substring(value from 6 for 8), 'hex') from shared where name like 'ion-token:cloudsuite.token:%'")
  check_eq "json: the expiry is the shared value's (its clear header)" "$(printf '%d' "0x$hdr")" \
    "$(jq -r '.ion_token.expires_at | fromdateiso8601' "$SIM_DIR/st1.json")"
fi
"$MLC" status >"$SIM_DIR/st1.txt" 2>&1
check "text: the token's expiry" grep -Eq "^ION token( \(shared state\))?: expires [0-9-]+T" "$SIM_DIR/st1.txt"
# without a vault key: on a shared state the credentials come from the .ionapi
# file (they name the sealed value) and the expiry is still known; with the
# vault as the cache it is not
( unset MLC_VAULT_KEY_FILE; "$MLC" status --json >"$SIM_DIR/nokey.json" 2>"$SIM_DIR/nokey.err" )
if [ -n "$T_PG_DB" ]; then
  check_eq "no vault key, shared state: the token's expiry still known" "valid" "$(jq -r '.ion_token.state' "$SIM_DIR/nokey.json")"
else
  check_eq "no vault key, local state: the token's expiry is unknown, says why" "unknown no vault key" \
    "$(jq -r '.ion_token | "\(.state) \(.reason)"' "$SIM_DIR/nokey.json" | cut -d' ' -f1-4)"
fi
check "no vault key: no token in the output" sh -c "! grep -qi 'access_token\|bearer' '$SIM_DIR/nokey.json'"
# and a run without a vault key warns that every run logs in only where that is true
( unset MLC_VAULT_KEY_FILE; "$MLC" pull-pos --no-cursor >/dev/null 2>"$SIM_DIR/nokey-run.err" )
if [ -n "$T_PG_DB" ]; then
  check "no vault key, shared state: no 'cannot be cached' warning (the state caches it)" \
    sh -c "! grep -q 'cannot be cached' '$SIM_DIR/nokey-run.err'"
else
  check "no vault key, local state: warns the token cannot be cached" grep -q 'cannot be cached' "$SIM_DIR/nokey-run.err"
fi
check_eq "json: every receipt state is listed (sent: the BOD route)" 10 "$(jq -r '.receipts | length' "$SIM_DIR/st1.json")"
"$MLC" status --max-age 1h >/dev/null 2>&1; rc=$?
check_eq "--max-age 1h after a fresh success: exit 0" 0 "$rc"
state_sql "update run set started_at = started_at - 7200, ended_at = ended_at - 7200"
"$MLC" status --max-age 1h >"$SIM_DIR/st2.txt" 2>&1; rc=$?
check_eq "--max-age 1h when the last success is 2 h old: CRITICAL (2)" 2 "$rc"
check "the text names the stale command" grep -q "CRITICAL: pull-pos has not succeeded within 3600s" "$SIM_DIR/st2.txt"
"$MLC" status --max-age 3h --max-age pull-pos=1h >/dev/null 2>&1; rc=$?
check_eq "a per-command --max-age beats the general one" 2 "$rc"

# ---- a failing run: WARNING and the last error
"$MLC" push-shipments <"$SIM_DIR/pos.jsonl" >"$SIM_DIR/ib.jsonl" 2>/dev/null; rc=$?
check_eq "push-shipments with unmapped POs exits 1" 1 "$rc"
"$MLC" status >"$SIM_DIR/st3.txt" 2>&1; rc=$?
check_eq "the last run of a command failed: WARNING (1)" 1 "$rc"
check "text: the failed run and the last error" grep -q "^last error: .* push-shipments (exit 1): stdin:[0-9]*: PO" "$SIM_DIR/st3.txt"
check "text: the ShipStation rate budget used" grep -Eq "^ShipStation v2 rate budget: [1-9][0-9]* of 200 used" "$SIM_DIR/st3.txt"
# a reader gone before the report: still WARNING (1), quietly, not UNKNOWN (3): the
# reader going away changes nothing by itself (mlc(1))
{ sleep 0.3; "$MLC" status 2>"$SIM_DIR/sp.err"; echo $? >"$SIM_DIR/sp.rc"; } | true
check_eq "status into a closed pipe: still WARNING (1), nothing on stderr" "1|" "$(cat "$SIM_DIR/sp.rc")|$(cat "$SIM_DIR/sp.err")"

# ---- receipts exhausted / needing review: CRITICAL
shipments_from_pos 1 | head -n 2 >"$SIM_DIR/ship.jsonl"
"$MLC" post-receipts <"$SIM_DIR/ship.jsonl" >/dev/null 2>&1
nrec=$(state_sql "select count(*) from receipt")
check "post-receipts recorded receipts ($nrec)" test "$nrec" -ge 2
state_sql "update receipt set state='exhausted' where id = (select min(id) from receipt)"
state_sql "update receipt set state='needs_review' where id = (select max(id) from receipt)"
"$MLC" status --json >"$SIM_DIR/st4.json"; rc=$?
check_eq "exhausted and needs_review receipts: CRITICAL (2)" 2 "$rc"
check_eq "json: counts and the oldest of each" "1 true 1 true" \
  "$(jq -r '.receipts | "\(.exhausted.count) \(.exhausted.oldest != null) \(.needs_review.count) \(.needs_review.oldest_age_s >= 0)"' "$SIM_DIR/st4.json")"

# ---- prometheus textfile
PROM=$SIM_DIR/prom/mlc.prom
mkdir -p "$SIM_DIR/prom"
"$MLC" status --prometheus "$PROM" >"$SIM_DIR/prom.out" 2>&1; rc=$?
check_eq "--prometheus: exit code as for the checks (2)" 2 "$rc"
check "--prometheus: nothing on stdout" test ! -s "$SIM_DIR/prom.out"
check_eq "--prometheus: only the file is left in its directory (temp file renamed)" "mlc.prom" "$(ls -A "$SIM_DIR/prom")"
check_eq "--prometheus: the file is 0644" 644 "$(stat -c %a "$PROM")"
# every sample line: name{labels} number; every name has HELP and TYPE before it
bad=$(awk '
  /^# HELP / { help[$3] = 1; next }
  /^# TYPE / { if (!help[$3] || ($4 != "gauge" && $4 != "counter")) print "bad TYPE: " $0; type[$3] = 1; next }
  /^#/ || /^$/ { next }
  {
    if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.eE+-]+$/) { print "bad line: " $0; next }
    name = $0; sub(/[{ ].*/, "", name)
    if (!type[name]) print "no TYPE for " name
  }' "$PROM")
check "--prometheus: the file parses as the text exposition format" test -z "$bad"
[ -z "$bad" ] || echo "$bad" | sed 's/^/#   /'
check "mlc_receipts{profile,state}" grep -q '^mlc_receipts{profile="sim",state="exhausted"} 1$' "$PROM"
check "mlc_last_success_timestamp_seconds{profile,command}" grep -Eq '^mlc_last_success_timestamp_seconds\{profile="sim",command="pull-pos"\} [0-9]+$' "$PROM"
check "mlc_cursor_lag_seconds" grep -Eq '^mlc_cursor_lag_seconds\{profile="sim",stream="pull-pos"\} [0-9]+$' "$PROM"
check "mlc_ion_token_expiry_timestamp_seconds" grep -Eq '^mlc_ion_token_expiry_timestamp_seconds\{profile="sim"\} [0-9]+$' "$PROM"
check "mlc_shipstation_rate_used" grep -Eq '^mlc_shipstation_rate_used\{profile="sim",api="v2"\} [0-9]+$' "$PROM"
check "mlc_status 2" grep -q '^mlc_status{profile="sim"} 2$' "$PROM"
# every metric in the file is documented in mlc-status(1)
undoc=$(grep '^# TYPE' "$PROM" | awk '{print $3}' | while read -r m; do grep -q "^\.B $m\b" man/mlc-status.1 || echo "$m"; done)
check "every metric is documented in man/mlc-status.1" test -z "$undoc"
[ -z "$undoc" ] || echo "# undocumented: $undoc"
"$MLC" status --prometheus /nonexistent-dir/x.prom >/dev/null 2>&1; rc=$?
check_eq "--prometheus into a missing directory: UNKNOWN (3)" 3 "$rc"
check_eq "status itself is not recorded as a run" 0 "$(state_sql "select count(*) from run where command='status'")"
before=$(state_sql "select count(*) from run")
"$MLC" pull-pos --help >/dev/null 2>&1
"$MLC" pull-pos --bogus >/dev/null 2>&1
check_eq "nor are --help and usage errors" "$before" "$(state_sql "select count(*) from run")"

# ---- the HAR file
HAR=$SIM_DIR/pos.har
check "the trace is JSON" jq -e . "$HAR"
check_eq "HAR 1.2: log.version, creator, entries" "1.2 mlc true" \
  "$(jq -r '.log | "\(.version) \(.creator.name) \((.entries | length) > 1)"' "$HAR")"
# the required fields of HAR 1.2 for every entry, with their types
badentries=$(jq '[.log.entries[] | select(
     (.startedDateTime | type) != "string" or (.startedDateTime | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$") | not)
  or (.time | type) != "number"
  or (.request | (.method | type) != "string" or (.url | type) != "string" or (.httpVersion | type) != "string"
        or (.headers | type) != "array" or (.queryString | type) != "array" or (.cookies | type) != "array"
        or (.headersSize | type) != "number" or (.bodySize | type) != "number"
        or ([.headers[] | (.name | type) == "string" and (.value | type) == "string"] | all | not))
  or (.response | (.status | type) != "number" or (.statusText | type) != "string" or (.httpVersion | type) != "string"
        or (.headers | type) != "array" or (.cookies | type) != "array" or (.content | type) != "object"
        or (.content.size | type) != "number" or (.content.mimeType | type) != "string"
        or (.redirectURL | type) != "string" or (.headersSize | type) != "number" or (.bodySize | type) != "number")
  or (.cache | type) != "object"
  or (.timings | (.send | type) != "number" or (.wait | type) != "number" or (.receive | type) != "number")
  )] | length' "$HAR")
check_eq "HAR 1.2: every entry has the required fields" 0 "$badentries"
check_eq "M3 calls are in it with their JSON answers" "true" \
  "$(jq -r '[.log.entries[] | select(.request.url | test("/M3/m3api-rest/")) | .response.content.text | fromjson | type] | length > 0' "$HAR")"
check_eq "the token request's body is not recorded" "" \
  "$(jq -r '.log.entries[] | select(.request.url | test("token.oauth2")) | .request.postData.text' "$HAR")"
check_eq "nor the token response" "null" \
  "$(jq -r '[.log.entries[] | select(.request.url | test("token.oauth2")) | .response.content.text][0]' "$HAR")"
check_eq "Authorization headers are masked" "0" \
  "$(jq -r '[.log.entries[].request.headers[] | select(.name | ascii_downcase == "authorization") | select(.value | test("^Bearer \\*\\*\\*$") | not)] | length' "$HAR")"
check "the HAR holds no access token" sh -c "! grep -q 'access_token' '$HAR'"
# the secret scan (lib.sh, run at every sim_stop) knows the tokens the sim issued:
# one planted in a file is found, access and refresh alike
check "the sim noted the ION tokens it issued (access and refresh)" test "$(grep -c . "$SIM_DIR/sim.tokens")" -ge 2
for n in 1 2; do
  printf 'left behind: %s\n' "$(sed -n "${n}p" "$SIM_DIR/sim.tokens")" >"$SIM_DIR/planted.txt"
  check "the secret scan finds an issued ION token (line $n of sim.tokens) left in a file" \
    sh -c 'printf "%s\n" "$1" | grep -q "^not ok .*a secret leaked" && printf "%s\n" "$1" | grep -q planted.txt' sh "$(secret_scan)"
done
rm -f "$SIM_DIR/planted.txt"

# ShipStation calls traced too (api-key masked), and --trace into a bad path
"$MLC" --trace "$SIM_DIR/ss.har" pull-shipments >/dev/null 2>&1
check_eq "ShipStation: api-key masked" "***" \
  "$(jq -r '[.log.entries[].request.headers[] | select(.name | ascii_downcase == "api-key") | .value] | unique | join(",")' "$SIM_DIR/ss.har")"
"$MLC" pull-pos --trace /nonexistent-dir/t.har >/dev/null 2>"$SIM_DIR/badtrace.err"; rc=$?
check_eq "--trace into a missing directory: exit 74 (I/O)" 74 "$rc"
check "and says which file" grep -q "trace /nonexistent-dir/t.har" "$SIM_DIR/badtrace.err"

# ---- progress: on a pseudo-terminal only
script -qfec "$MLC pull-pos --no-cursor >/dev/null" /dev/null >"$SIM_DIR/tty.out" 2>&1
check "on a terminal: the progress line (count/total)" grep -aq "mlc pull-pos: POs: [0-9]*/[0-9]*" "$SIM_DIR/tty.out"
check "on a terminal: the line is redrawn in place (CR) and cleared" grep -aq "$(printf '\r')" "$SIM_DIR/tty.out"
TERM=dumb script -qfec "$MLC pull-pos --no-cursor >/dev/null" /dev/null >"$SIM_DIR/dumb.out" 2>&1
check "TERM=dumb: no progress line" sh -c "! grep -aq 'POs:' '$SIM_DIR/dumb.out'"
script -qfec "$MLC --no-progress pull-pos --no-cursor >/dev/null" /dev/null >"$SIM_DIR/np.out" 2>&1
check "--no-progress: no progress line" sh -c "! grep -aq 'POs:' '$SIM_DIR/np.out'"
"$MLC" pull-pos --no-cursor 2>&1 >/dev/null | cat >"$SIM_DIR/pipe.out"
check "stderr a pipe: no progress line" sh -c "! grep -aq 'POs:' '$SIM_DIR/pipe.out'"
"$MLC" pull-pos --no-cursor >/dev/null 2>"$SIM_DIR/file.out"
check "stderr a log file: no progress line" sh -c "! grep -aq 'POs:' '$SIM_DIR/file.out'"
# a wait for ShipStation's rate window shows too (1 request per 3 s, shared by processes)
sim_config_under shipstation "rate_window: 3"
sim_config_under shipstation "rate_limit_v2: 1"
"$MLC" ping >/dev/null 2>&1
script -qfec "$MLC pull-shipments >/dev/null" /dev/null >"$SIM_DIR/wait.out" 2>&1
check "a rate-window wait shows on a terminal" grep -aq "waiting [0-9]* s for ShipStation's rate window" "$SIM_DIR/wait.out"

# ---- replay: a second sandbox answers from the HAR; mlc's output is the same
KEEP_HAR=$(mktemp "${TMPDIR:-/tmp}/mlc-har.XXXXXX")
cp "$HAR" "$KEEP_HAR"
cp "$SIM_DIR/pos.jsonl" "$KEEP_HAR.out"
sim_stop   # also runs the secret scan over everything this sandbox left, the HAR files included
rm -rf "$SIM_DIR"
sim_start --replay "$KEEP_HAR"
"$MLC" pull-pos >"$SIM_DIR/replayed.jsonl" 2>"$SIM_DIR/replayed.err"; rc=$?
check_eq "replay: pull-pos exit 0" 0 "$rc"
check "replay: the same records as the recorded run" cmp -s "$KEEP_HAR.out" "$SIM_DIR/replayed.jsonl"
check "replay: every request found its recorded exchange" sh -c "! grep -q 'no recorded exchange' '$SIM_DIR/sim.err'"
rm -f "$KEEP_HAR" "$KEEP_HAR.out"

# ---- every command records its run: start, end, outcome (its exit code) and counts
sim_stop; rm -rf "$SIM_DIR"
sim_start
printf 'hooktoken-%s\n' "$$" >"$SIM_DIR/hook.token"; chmod 600 "$SIM_DIR/hook.token"
sim_config_under shipstation "webhook_secret_file: hook.token"
: >"$SIM_DIR/ran"
# ran NAME CMD...: runs CMD (stdin from $SIM_DIR/in), notes "NAME|exit code|start|end"
ran() {
  _n=$1; shift; _s=$(date +%s)
  "$@" <"$SIM_DIR/in" >"$SIM_DIR/ran.out" 2>>"$SIM_DIR/ran.err"; _rc=$?
  echo "$_n|$_rc|$_s|$(date +%s)" >>"$SIM_DIR/ran"
}
: >"$SIM_DIR/in"
ran pull-pos "$MLC" pull-pos
cp "$SIM_DIR/ran.out" "$SIM_DIR/in"
ran push-shipments "$MLC" push-shipments
: >"$SIM_DIR/in"
admin POST ship '{"all":true}' >/dev/null
ran pull-shipments "$MLC" pull-shipments
cp "$SIM_DIR/ran.out" "$SIM_DIR/in"
ran post-receipts "$MLC" post-receipts
: >"$SIM_DIR/in"
ran sync-items "$MLC" sync-items --dry-run
ran replay "$MLC" replay --exhausted
ran ping "$MLC" ping
ran queue "$MLC" queue
ran audit "$MLC" audit 1
ran "creds list" "$MLC" creds list
ran "webhook subscribe" "$MLC" webhook subscribe --url https://hooks.example.com
"$MLC" webhook serve --listen 127.0.0.1:0 >"$SIM_DIR/serve.out" 2>>"$SIM_DIR/ran.err" &
spid=$!; _s=$(date +%s)
wait_until 5 grep -q listening "$SIM_DIR/serve.out"
kill "$spid"; wait "$spid"; echo "webhook serve|$?|$_s|$(date +%s)" >>"$SIM_DIR/ran"
check_eq "every recorded command ran (12 runs, their outcomes vary)" 12 "$(wc -l <"$SIM_DIR/ran")"
check "and some failed (push-shipments with unmapped POs)" grep -q '^push-shipments|1|' "$SIM_DIR/ran"
bad=""
while IFS='|' read -r name rc s e; do
  row=$(state_sql "select exit_code, started_at, ended_at, counts from run where command = '$name'")
  if [ "$(printf '%s\n' "$row" | grep -c .)" != 1 ]; then bad="$bad
$name: $(printf '%s\n' "$row" | grep -c .) rows"; continue; fi
  code=${row%%|*}; rest=${row#*|}; st=${rest%%|*}; rest=${rest#*|}; en=${rest%%|*}; counts=${rest#*|}
  [ "$code" = "$rc" ] || bad="$bad
$name: exit code $code recorded, $rc returned"
  [ "$st" -ge "$s" ] && [ "$st" -le "$e" ] && [ "$en" -ge "$st" ] && [ "$en" -le "$e" ] || bad="$bad
$name: started $st, ended $en, outside the run ($s-$e)"
  printf '%s' "$counts" | jq -e '(.errors | type) == "number" and (.warnings | type) == "number" and (.http_requests | type) == "number"' >/dev/null ||
    bad="$bad
$name: counts $counts"
done <"$SIM_DIR/ran"
check_eq "each run row: the command, its exit code, start and end within the run, counts" "" "$bad"
check_eq "the commands that called the services counted their HTTP exchanges" "" \
  "$(for c in pull-pos push-shipments pull-shipments post-receipts sync-items ping; do
       [ "$(state_sql "select counts from run where command = '$c'" | jq -r .http_requests)" -gt 0 ] || printf '%s ' "$c"; done)"
check_eq "a failed run: its error count and last error" "true true" \
  "$(state_sql "select counts, error from run where command = 'push-shipments'" | { IFS='|' read -r c er; printf '%s %s' "$(printf '%s' "$c" | jq -r '.errors > 0')" "$([ -n "$er" ] && echo true)"; })"
check_eq "status lists every one of them" "" \
  "$(cut -d'|' -f1 "$SIM_DIR/ran" | while read -r n; do
       "$MLC" status --json | jq -e --arg n "$n" 'any(.commands[]; .command == $n and .last_run_started != null)' >/dev/null || printf '%s ' "$n"; done)"
check_eq "status and version record no run" 0 \
  "$("$MLC" status >/dev/null 2>&1; "$MLC" version >/dev/null 2>&1
     state_sql "select count(*) from run where command in ('status', 'version')")"
t_done
