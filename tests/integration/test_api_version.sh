#!/bin/sh
# test_api_version.sh (issue 18): shipstation.api is read once (lib/setup), in any
# case, so with `api: V1` every command goes to V1: ping checks V1 first, push-shipments
# creates V1 orders, pull-shipments polls V1, all with no V2 call; a value outside
# v1|v2 (`api: v3`) stops every command with exit 78 and file:line:col.
# Not here: what V1 push and pull do in detail (test_push_shipments.sh,
# test_v1_fulfillments.sh), the other enum settings (tests/unit/test_config.c).
. tests/integration/lib.sh
sim_start
# requests the sim answered whose "METHOD /path" starts with $1
calls() { admin GET 'state?path=counters' | jq -r "[.requests | to_entries[] | select(.key | startswith(\"$1\")) | .value] | add // 0"; }

check "the sandbox config says api: v2" grep -q '^      api: v2$' "$MLC_CONFIG"
sed -i 's/^      api: v2$/      api: V1/' "$MLC_CONFIG"

"$MLC" ping >"$SIM_DIR/ping.out" 2>"$SIM_DIR/ping.err"
check_eq "api: V1: ping checks ShipStation V1 first" "shipstation-v1" \
  "$(grep -o '^shipstation-v[12]' "$SIM_DIR/ping.out" | head -n 1)"

v2_before=$(calls "POST /v2/")
"$MLC" pull-pos 2>/dev/null | jq -c 'select(.warehouse != "WH9" and .supplier.id != "SUP012")' | head -n 2 \
  | "$MLC" push-shipments >"$SIM_DIR/push.jsonl" 2>"$SIM_DIR/push.err"; rc=$?
check_eq "api: V1: push-shipments exit 0" 0 "$rc"
check_eq "api: V1: push-shipments created two V1 orders" 2 "$(state '.shipstation.v1.orders | length')"
check_eq "api: V1: both push-shipments records say v1" "v1 v1" "$(jq -r .api "$SIM_DIR/push.jsonl" | tr '\n' ' ' | sed 's/ $//')"
check_eq "api: V1: push-shipments made no V2 write" "$v2_before" "$(calls "POST /v2/")"

v2_get=$(calls "GET /v2/")
v1_ful=$(calls "GET /fulfillments")
"$MLC" pull-shipments --no-webhooks >"$SIM_DIR/pull.jsonl" 2>"$SIM_DIR/pull.err"; rc=$?
check_eq "api: V1: pull-shipments exit 0" 0 "$rc"
check "api: V1: pull-shipments polled V1 fulfillments" test "$(calls "GET /fulfillments")" -gt "$v1_ful"
check_eq "api: V1: pull-shipments made no V2 call" "$v2_get" "$(calls "GET /v2/")"

# --- a value outside v1|v2 is a configuration error at load ---
line=$(grep -n '^      api: V1$' "$MLC_CONFIG" | cut -d: -f1)
sed -i 's/^      api: V1$/      api: v3/' "$MLC_CONFIG"
for cmd in ping pull-shipments; do
  "$MLC" $cmd >/dev/null 2>"$SIM_DIR/bad.err" </dev/null; rc=$?
  check_eq "api: v3: $cmd exits 78" 78 "$rc"
  check "api: v3: $cmd names file:line:col and the values" \
    grep -q "$MLC_CONFIG:$line:7: 'profiles\.[a-z]*\.shipstation\.api' must be one of v2|v1, not 'v3'" "$SIM_DIR/bad.err"
done
t_done
