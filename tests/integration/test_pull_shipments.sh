#!/bin/sh
# test_pull_shipments.sh: ShipStation -> CloudSuite against mlc-sim: webhooks (signed,
# duplicated) and polling feed pull-shipments | post-receipts; full, partial and
# voided shipments; a void after the receipt; hostile webhook payloads and
# resource_urls pointing elsewhere never get the key; V1 polling with Pacific dates.
. tests/integration/lib.sh
sim_start
printf 'hooktoken-%s\n' "$$" >"$SIM_DIR/hook.token"; chmod 600 "$SIM_DIR/hook.token"
curl -s "$SIM_URL/jwks" >"$SIM_DIR/jwks.json"
sim_config_under shipstation "webhook_secret_file: hook.token"
sim_config_under shipstation "webhook_public_key_file: jwks.json"
TOKEN=$(cat "$SIM_DIR/hook.token")

"$MLC" -v pull-pos 2>"$SIM_DIR/pp.err" | "$MLC" -v push-shipments >"$SIM_DIR/ib.jsonl" 2>"$SIM_DIR/ps.err"
ids=$(jq -r 'select(.action == "created") | .shipstation_id' "$SIM_DIR/ib.jsonl")
check "POs became shipments to ship" test "$(printf '%s\n' $ids | grep -c .)" -ge 5 \
  || { sed 's/^/#   pull-pos: /' "$SIM_DIR/pp.err" | tail -n 15; sed 's/^/#   push: /' "$SIM_DIR/ps.err" | tail -n 15; }

"$MLC" webhook serve --listen 127.0.0.1:0 >"$SIM_DIR/hook.out" 2>"$SIM_DIR/hook.err" &
HOOK_PID=$!
wait_until 5 grep -q listening "$SIM_DIR/hook.out"
HOOK_URL=$(sed -n 's/.*url=\(.*\)/\1/p' "$SIM_DIR/hook.out")
check "webhook serve prints where it listens" test -n "$HOOK_URL"
check "without the token" sh -c "! grep -q '$TOKEN' '$SIM_DIR/hook.out'"
sub=$("$MLC" webhook subscribe --url "$HOOK_URL" 2>&1)
check_eq "subscribe registers the listener" webhook_subscription "$(printf '%s\n' "$sub" | jq -r .kind)"
check_eq "ShipStation holds the URL with the token" 1 "$(state "[.shipstation.v2.webhooks[] | select(.url | endswith(\"/$TOKEN\"))] | length")"

admin POST webhooks '{"duplicate_probability":0.5,"seed":3}' >/dev/null
full=$(printf '%s\n' $ids | sed -n '1,3p' | jq -R . | jq -sc .)
part=$(printf '%s\n' $ids | sed -n '4p')
void=$(printf '%s\n' $ids | sed -n '5p')
admin POST ship "{\"ids\":$full}" >/dev/null
admin POST ship "{\"ids\":[\"$part\"],\"fraction\":0.5}" >/dev/null
admin POST ship "{\"ids\":[\"$void\"],\"void\":true}" >/dev/null
wait_until 5 at_least 5 'select count(*) from inbox'
sleep 0.3
check "signed webhooks were stored (one per shipment, some twice)" test "$(state_sql 'select count(*) from inbox')" -ge 5

"$MLC" pull-shipments >"$SIM_DIR/sh.jsonl" 2>"$SIM_DIR/sh.err"; rc=$?
check_eq "pull-shipments exits 0" 0 "$rc"
check_eq "five shipments reported once each" 5 "$(jq -r .shipment_id "$SIM_DIR/sh.jsonl" | sort -u | wc -l)"
check_eq "no shipment reported twice despite duplicate webhooks" 5 "$(wc -l <"$SIM_DIR/sh.jsonl")"
check "webhooks were the source" test "$(jq -r 'select(.source == "webhook") | .shipment_id' "$SIM_DIR/sh.jsonl" | wc -l)" -ge 1
check_eq "the inbox is drained" 0 "$(state_sql 'select count(*) from inbox where processed_at is null')"
check_eq "the voided one says so" true "$(jq -r "select(.shipment_id == \"$void\") | .voided" "$SIM_DIR/sh.jsonl")"
check_eq "tracking numbers come from the labels" 0 "$(jq -r 'select(.tracking_number == null)' "$SIM_DIR/sh.jsonl" | wc -l)"
check_eq "records carry the order type for routing" 0 "$(jq -r 'select(.order_type == null)' "$SIM_DIR/sh.jsonl" | wc -l)"

"$MLC" post-receipts <"$SIM_DIR/sh.jsonl" >"$SIM_DIR/rc.jsonl" 2>/dev/null
expect=$(jq -r 'select(.voided == false) | .items | length' "$SIM_DIR/sh.jsonl" | awk '{s += $1} END {print s}')
check_eq "every shipped line received once" "$expect" "$(state '.m3.receipts | length')"
check_eq "the partial shipment receives what shipped" \
  "$(jq "select(.shipment_id == \"$part\") | [.items[].qty] | add" "$SIM_DIR/sh.jsonl")" \
  "$(state "[.m3.receipts[] | select(.PUNO == \"$(jq -r "select(.shipment_id == \"$part\") | .po" "$SIM_DIR/sh.jsonl")\") | .RVQA] | add")"
check_eq "the voided shipment receives nothing" 0 \
  "$(state "[.m3.receipts[] | select(.PUNO == \"$(jq -r "select(.shipment_id == \"$void\") | .po" "$SIM_DIR/sh.jsonl")\")] | length")"

check_eq "a second pull reports nothing new" 0 "$("$MLC" pull-shipments 2>/dev/null | wc -l)"
"$MLC" post-receipts <"$SIM_DIR/sh.jsonl" >"$SIM_DIR/rc2.jsonl" 2>/dev/null
check_eq "re-posting the same shipments: all duplicate" "$expect" "$(jq -r 'select(.status == "duplicate")' "$SIM_DIR/rc2.jsonl" | jq -s length)"

# a void after the receipt goes to review, and nothing is undone by itself
first=$(printf '%s\n' $ids | sed -n '1p')
admin POST void "{\"ids\":[\"$first\"]}" >/dev/null
"$MLC" pull-shipments 2>/dev/null | "$MLC" post-receipts >"$SIM_DIR/rc3.jsonl" 2>/dev/null
check "a void after the receipt is flagged needs_review" test "$(jq -r 'select(.status == "needs_review") | .receipt_id' "$SIM_DIR/rc3.jsonl" | wc -l)" -ge 1
check_eq "M3 still holds the receipts" "$expect" "$(state '.m3.receipts | length')"

# hostile notifications: the key never leaves for another host
"$SIM_BIN" --listen 127.0.0.1:0 --dir "$SIM_DIR/evil" >"$SIM_DIR/evil.out" 2>/dev/null &
EVIL_PID=$!
mkdir -p "$SIM_DIR/evil"
wait_until 5 grep -q ready "$SIM_DIR/evil.out"
EVIL=$(sed -n 's/.*url=\([^ ]*\).*/\1/p' "$SIM_DIR/evil.out")
host=${SIM_URL#http://}; evilhost=${EVIL#http://}
post_hook() { # path body -> status; unsigned, so V2 signature checking is off for these
  curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data "$2" "$HOOK_URL${1#/}"
}
kill $HOOK_PID; wait $HOOK_PID 2>/dev/null
sed -i '/webhook_public_key_file/d' "$MLC_CONFIG"
"$MLC" webhook serve --listen 127.0.0.1:0 >"$SIM_DIR/hook2.out" 2>/dev/null &
HOOK_PID=$!
wait_until 5 grep -q listening "$SIM_DIR/hook2.out"
HOOK_URL=$(sed -n 's/.*url=\(.*\)/\1/p' "$SIM_DIR/hook2.out")
check_eq "wrong token: 404" 404 "$(post_hook /nottoken '{"resource_url":"x","resource_type":"SHIP_NOTIFY"}')"
check_eq "invalid JSON: 400" 400 "$(post_hook "/$TOKEN" '{"resource_url":')"
check_eq "no resource_type: 400" 400 "$(post_hook "/$TOKEN" '{"resource_url":"http://a/b"}')"
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
check_eq "oversized body: 413" 413 "$(post_hook "/$TOKEN" "{\"resource_type\":\"SHIP_NOTIFY\",\"pad\":\"$big\"}")"
for u in "http://$evilhost/v2/labels?shipment_id=se-1" "http://$host@$evilhost/v2/labels" \
         "https://$host/v2/labels" "http://$host.evil.example/v2/labels" "ftp://$host/v2/labels"; do
  post_hook "/$TOKEN" "{\"resource_url\":\"$u\",\"resource_type\":\"fulfillment_shipped_v2\"}" >/dev/null
done
"$MLC" pull-shipments >/dev/null 2>"$SIM_DIR/hostile.err"
check_eq "the other host received no request" 0 \
  "$(curl -s "$EVIL/admin/state" | jq '[.counters.requests | to_entries[] | select(.key | test("admin") | not) | .value] | add // 0')"
check "refusals are logged" grep -q "refused resource_url" "$SIM_DIR/hostile.err"
check_eq "the hostile notifications are drained, not retried forever" 0 "$(state_sql 'select count(*) from inbox where processed_at is null and failed_at is null')"
# (the ftp:// one never reached the inbox: webhook serve refused it)
check_eq "they are quarantined with the reason" 4 "$(state_sql "select count(*) from inbox where failed_at is not null and last_error like 'refused resource_url%'")"
kill $HOOK_PID $EVIL_PID 2>/dev/null; wait $HOOK_PID $EVIL_PID 2>/dev/null

# V1 polling: createDate in Pacific time, shipments with items
sim_stop; rm -rf "$SIM_DIR"
sim_start
"$MLC" pull-pos 2>/dev/null | "$MLC" -v push-shipments --api v1 >"$SIM_DIR/v1.jsonl" 2>"$SIM_DIR/v1push.err"
check "V1: orders created" test "$(jq -r 'select(.action == "created")' "$SIM_DIR/v1.jsonl" | jq -s length)" -gt 0
[ "$T_FAILED" -gt 0 ] && sed 's/^/# /' "$SIM_DIR/v1push.err" | tail -n 20
admin POST ship '{"all":true}' >/dev/null
"$MLC" -v pull-shipments --api v1 >"$SIM_DIR/v1sh.jsonl" 2>"$SIM_DIR/v1pull.err"
check "V1: shipments pulled" test -s "$SIM_DIR/v1sh.jsonl"
[ -s "$SIM_DIR/v1sh.jsonl" ] || sed 's/^/# /' "$SIM_DIR/v1pull.err" | tail -n 20
check_eq "V1: every order's shipment reported" "$(jq -r 'select(.action == "created")' "$SIM_DIR/v1.jsonl" | jq -s length)" "$(wc -l <"$SIM_DIR/v1sh.jsonl")"
check_eq "V1: ship dates converted to UTC" 0 "$(jq -r 'select((.ship_date // "") | test("Z$") | not)' "$SIM_DIR/v1sh.jsonl" | wc -l)"
"$MLC" post-receipts <"$SIM_DIR/v1sh.jsonl" >/dev/null 2>&1
check_eq "V1: every shipped line received once" "$(jq -r '.items | length' "$SIM_DIR/v1sh.jsonl" | awk '{s += $1} END {print s}')" "$(state '.m3.receipts | length')"
check_eq "V1: a second pull reports nothing new" 0 "$("$MLC" pull-shipments --api v1 2>/dev/null | wc -l)"
t_done
