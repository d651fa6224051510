#!/bin/sh
# test_webhook_poison.sh: poison notifications are quarantined (issue 17). Inbox
# rows whose follow-up GET answers 401, 302 or 404 never stop pull-shipments
# from polling and emitting; after shipstation.webhook_max_attempts they are
# marked failed with the reason, shown by `mlc queue --webhooks`, and never
# fetched again. A transient failure (503) is retried with backoff, then fetched.
. tests/integration/lib.sh
sim_start
DB="$MLC_STATE_DIR/sim.db"
sim_config_under shipstation "webhook_max_attempts: 2"
sim_config_add "    retry: {base_ms: 1, cap_ms: 1, max_attempts: 1}"

"$MLC" pull-pos 2>/dev/null | "$MLC" push-shipments >"$SIM_DIR/ib.jsonl" 2>/dev/null
set -- $(jq -r 'select(.action == "created") | .shipstation_id' "$SIM_DIR/ib.jsonl")
a=$1; b=$2; c=$3; d=$4
admin POST ship "{\"ids\":[\"$a\"]}" >/dev/null
"$MLC" pull-shipments >/dev/null 2>&1   # the cursor starts; a is reported
inbox() { sqlite3 "$DB" "INSERT INTO inbox(received_at,resource_type,resource_url,body) VALUES('2026-11-20T10:00:00Z','fulfillment_shipped_v2','$SIM_URL$1','{}')"; }
inbox "/v2/shipments/$a"          # 401 (token_expiry fault on the first shipment GET)
inbox "/v2/labels/se-redirect"    # 302 (fault)
inbox "/v2/shipments/se-nothere"  # 404 (no such shipment)
arm() { admin POST faults '{"rules":[{"match":"GET /v2/shipments/{id}","kind":"token_expiry","next":1},
  {"match":"GET /v2/labels/{id}","kind":"302","next":1}]}' >/dev/null; }

arm
admin POST ship "{\"ids\":[\"$b\"]}" >/dev/null
"$MLC" pull-shipments >"$SIM_DIR/p1.jsonl" 2>"$SIM_DIR/p1.err"; rc=$?
check_eq "poison in the inbox: polling still emits the new shipment" "$b" "$(jq -r .shipment_id "$SIM_DIR/p1.jsonl" | grep -x "$b")"
check_eq "first failure of each: to retry, exit 75" 75 "$rc"
check_eq "all three wait for another attempt" "1 1 1" "$(sqlite3 "$DB" "select group_concat(attempts, ' ') from inbox where failed_at is null and processed_at is null")"
check "the 401 is named" grep -q "HTTP 401" "$SIM_DIR/p1.err"
check "the 302 is named" grep -q "HTTP 302" "$SIM_DIR/p1.err"
check "the 404 is named" grep -q "HTTP 404" "$SIM_DIR/p1.err"

sleep 1.2; arm
admin POST ship "{\"ids\":[\"$c\"]}" >/dev/null
"$MLC" pull-shipments >"$SIM_DIR/p2.jsonl" 2>"$SIM_DIR/p2.err"; rc=$?
check_eq "second failure: quarantined, exit 1" 1 "$rc"
check "and polling emitted the next shipment" grep -q "\"$c\"" "$SIM_DIR/p2.jsonl"
check_eq "three rows failed, none pending" "3 0" \
  "$(sqlite3 "$DB" "select count(*) from inbox where failed_at is not null") $(sqlite3 "$DB" "select count(*) from inbox where failed_at is null and processed_at is null")"
"$MLC" queue --webhooks >"$SIM_DIR/q.jsonl" 2>&1
check_eq "mlc queue --webhooks shows the three as failed" "failed failed failed" "$(jq -r .status "$SIM_DIR/q.jsonl" | tr '\n' ' ' | sed 's/ $//')"
check "with their reasons" test "$(jq -r .last_error "$SIM_DIR/q.jsonl" | grep -c 'HTTP 401\|HTTP 302\|HTTP 404')" -eq 3
"$MLC" queue --webhooks --table >"$SIM_DIR/qt" 2>&1
check "--table lists them" test "$(grep -c failed "$SIM_DIR/qt")" -eq 3

gets=$(state '[.counters.requests | to_entries[] | select(.key | test("^GET /v2/(shipments|labels)/\\{id\\}")) | .value] | add // 0')
admin POST ship "{\"ids\":[\"$d\"]}" >/dev/null
"$MLC" pull-shipments >"$SIM_DIR/p3.jsonl" 2>"$SIM_DIR/p3.err"; rc=$?
check_eq "afterwards: exit 0" 0 "$rc"
check "the next shipment is emitted" grep -q "\"$d\"" "$SIM_DIR/p3.jsonl"
check_eq "the quarantined rows are not fetched again" "$gets" \
  "$(state '[.counters.requests | to_entries[] | select(.key | test("^GET /v2/(shipments|labels)/\\{id\\}")) | .value] | add // 0')"

# transient: 503 on the follow-up: retried with backoff, never quarantined, then fetched
inbox "/v2/shipments/$d"
admin POST faults '{"rules":[{"match":"GET /v2/shipments/{id}","kind":"503","probability":1}]}' >/dev/null
for i in 1 2 3; do sleep 1.1; "$MLC" pull-shipments >/dev/null 2>"$SIM_DIR/t.err"; done
check_eq "503 three times: still waiting, not failed" "3 " \
  "$(sqlite3 "$DB" "select attempts, failed_at from inbox where resource_url like '%/v2/shipments/$d'" | tr '|' ' ')"
admin DELETE faults >/dev/null
sleep 1.1
"$MLC" pull-shipments >/dev/null 2>&1; rc=$?
check_eq "after the outage it is fetched, exit 0" "0 1" \
  "$rc $(sqlite3 "$DB" "select count(*) from inbox where resource_url like '%/v2/shipments/$d' and processed_at is not null")"
t_done
