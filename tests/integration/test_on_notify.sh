#!/bin/sh
# tests/integration/test_on_notify.sh (issue 19 item 8): `mlc webhook serve --on-notify`
# runs `mlc pull-shipments | mlc post-receipts` seconds after ShipStation's webhooks
# arrive: receipts reach the sim's M3 without any cron run, a burst of notifications
# makes few runs (debounce), the runs' output and exit status are logged without
# secrets, the command sees the clean environment (MLC_CONFIG, MLC_PROFILE, no
# stray variable), pull-shipments --webhooks-only does not poll, and a bad --debounce
# is a usage error.
. tests/integration/lib.sh
sim_start
printf 'hooktoken-%s\n' "$$" >"$SIM_DIR/hook.token"; chmod 600 "$SIM_DIR/hook.token"
curl -s "$SIM_URL/jwks" >"$SIM_DIR/jwks.json"
sim_config_under shipstation "webhook_secret_file: hook.token"
sim_config_under shipstation "webhook_public_key_file: jwks.json"

"$MLC" webhook serve --on-notify true --debounce 2x >/dev/null 2>&1; rc=$?
check_eq "--debounce 2x: usage error" 64 "$rc"

"$MLC" pull-pos 2>/dev/null | "$MLC" push-shipments >"$SIM_DIR/ib.jsonl" 2>/dev/null
ids=$(jq -r 'select(.action == "created") | .shipstation_id' "$SIM_DIR/ib.jsonl" | head -n 4)
check "shipments to ship" test "$(printf '%s\n' $ids | grep -c .)" -ge 4

STRAY_SECRET_VAR=do-not-pass; export STRAY_SECRET_VAR
"$MLC" -v webhook serve --listen 127.0.0.1:0 --debounce 500ms \
  --on-notify "env | sort >'$SIM_DIR/env.txt'; '$MLC' pull-shipments --webhooks-only | '$MLC' post-receipts" \
  >"$SIM_DIR/hook.out" 2>"$SIM_DIR/hook.err" &
HOOK_PID=$!
wait_until 5 grep -q listening "$SIM_DIR/hook.out"
HOOK_URL=$(sed -n 's/.*url=\(.*\)/\1/p' "$SIM_DIR/hook.out")
"$MLC" --trace "$SIM_DIR/sub.har" webhook subscribe --url "$HOOK_URL" >/dev/null 2>&1
check_eq "subscribe traced (the secret scan at the end covers the webhook token in it)" "true" \
  "$(jq -r '[.log.entries[] | select(.request.method == "POST")] | length > 0' "$SIM_DIR/sub.har")"
check "the token's place in the traced target URL is masked" grep -q '\*\*\*' "$SIM_DIR/sub.har"

t0=$(date +%s)
ship=$(printf '%s\n' $ids | jq -R . | jq -sc .)
admin POST ship "{\"ids\":$ship}" >/dev/null
receipts() { state '.m3.receipts | length'; }
got_receipts() { [ "$(receipts)" -gt 0 ]; }
wait_until 20 got_receipts
t1=$(date +%s)
check "receipts reached M3 without a cron run ($((t1 - t0)) s)" got_receipts
want=$(state "[.shipstation.v2.shipments[] | select(.shipment_status == \"label_purchased\") | .items | length] | add")
all_in() { [ "$(receipts)" -ge "$want" ]; }
wait_until 20 all_in
check_eq "every shipped line received" "$want" "$(receipts)"
wait_until 10 grep -q "on-notify run [0-9]*: exit 0" "$SIM_DIR/hook.err"
check "the run's exit status is logged" grep -q "on-notify run 1: exit 0 after" "$SIM_DIR/hook.err"
check "the run's output is logged" grep -q "on-notify run 1: mlc post-receipts\|on-notify run 1: mlc pull-shipments\|on-notify run 1: {" "$SIM_DIR/hook.err"
nruns=$(grep -c "on-notify run [0-9]*: exit" "$SIM_DIR/hook.err")
nhooks=$(grep -c "webhook stored" "$SIM_DIR/hook.err")
check "a burst of $nhooks notifications made fewer runs ($nruns)" test "$nruns" -lt "$nhooks"
check "the command saw MLC_CONFIG and MLC_PROFILE" sh -c "grep -q '^MLC_CONFIG=$MLC_CONFIG\$' '$SIM_DIR/env.txt' && grep -q '^MLC_PROFILE=sim\$' '$SIM_DIR/env.txt'"
check "and not the listener's other variables" sh -c "! grep -q STRAY_SECRET_VAR '$SIM_DIR/env.txt'"
check_eq "--webhooks-only: no poll, so the poll cursor never moved" "" \
  "$(sqlite3 "$MLC_STATE_DIR/sim.db" "select value from cursor where stream like 'pull-shipments%'")"
kill "$HOOK_PID"; wait "$HOOK_PID"; rc=$?
check_eq "SIGTERM: serve exits 0" 0 "$rc"
check_eq "a later status shows webhook serve and the on-notify runs' commands" "true true" \
  "$("$MLC" status --json | jq -r '[any(.commands[]; .command == "webhook serve"), any(.commands[]; .command == "post-receipts" and .last_exit_code == 0)] | map(tostring) | join(" ")')"
t_done
