#!/bin/sh
# test_delivery.sh: receipts.post_at: deliver against mlc-sim: a shipped line
# waits (no receipt, optional dispatch advice) until ShipStation reports the
# delivery, by webhook (TRACK_EVENT_V2) or by asking again about shipments in
# transit; then it is received exactly once. V1 (no delivery status) is refused.
. tests/integration/lib.sh
sim_start
sim_config_add "    receipts: {post_at: deliver, advise_at_ship: true}"
DB="$MLC_STATE_DIR/sim.db"
"$MLC" -v pull-pos 2>"$SIM_DIR/pp.err" | "$MLC" -v push-shipments >"$SIM_DIR/ib.jsonl" 2>"$SIM_DIR/ps.err"
check "POs became shipments" test "$(jq -r 'select(.action == "created")' "$SIM_DIR/ib.jsonl" | jq -s length)" -ge 2 \
  || { sed 's/^/#   pull-pos: /' "$SIM_DIR/pp.err" | tail -n 15; sed 's/^/#   push: /' "$SIM_DIR/ps.err" | tail -n 15; }
set -- $(jq -r 'select(.action == "created") | .shipstation_id' "$SIM_DIR/ib.jsonl")
a=$1; b=$2
admin POST ship "{\"ids\":[\"$a\",\"$b\"]}" >/dev/null
"$MLC" pull-shipments 2>/dev/null | "$MLC" post-receipts >"$SIM_DIR/r1.jsonl" 2>/dev/null; rc=$?
n=$(jq -r 'select(.kind == "receipt")' "$SIM_DIR/r1.jsonl" | jq -s length)
check_eq "shipped, not delivered: exit 75 (receipts left for a later run, not 0 = all posted)" 75 "$rc"
check "shipped lines are recorded" test "$n" -gt 0
check_eq "all of them waiting" "$n" "$(jq -r 'select(.status == "pending")' "$SIM_DIR/r1.jsonl" | jq -s length)"
check_eq "nothing received yet" 0 "$(state '.m3.receipts | length')"
check_eq "but the goods show as in transit (dispatch advice)" "$n" "$(state '.m3.advices | length')"
check_eq "a second run posts nothing either" 0 "$("$MLC" post-receipts </dev/null 2>/dev/null | wc -l)"

# delivery of the first, found by asking again about shipments in transit
admin POST deliver "{\"ids\":[\"$a\"]}" >/dev/null
"$MLC" pull-shipments 2>/dev/null | "$MLC" post-receipts >"$SIM_DIR/r2.jsonl" 2>/dev/null
na=$(state "[.shipstation.v2.shipments[] | select(.shipment_id == \"$a\") | .items[]] | length")
check_eq "the delivered shipment's lines are received" "$na" "$(state '.m3.receipts | length')"
check_eq "and reported posted" "$na" "$(jq -r 'select(.status == "posted")' "$SIM_DIR/r2.jsonl" | jq -s length)"
check_eq "the other still waits" "$((n - na))" "$(sqlite3 "$DB" "select count(*) from receipt where state='pending'")"
check_eq "no line twice" 1 "$(state '[.m3.receipts[] | "\(.PUNO)/\(.PNLI)"] | group_by(.) | map(length) | max')"

# delivery of the second, by webhook
printf 'tok-%s\n' "$$" >"$SIM_DIR/hook.token"; chmod 600 "$SIM_DIR/hook.token"
sim_config_under shipstation "webhook_secret_file: hook.token"
"$MLC" webhook serve --listen 127.0.0.1:0 >"$SIM_DIR/hook.out" 2>/dev/null &
HP=$!
wait_until 5 grep -q listening "$SIM_DIR/hook.out"
"$MLC" webhook subscribe --url "$(sed -n 's/.*url=\(.*\)/\1/p' "$SIM_DIR/hook.out")" --event track_event_v2 >/dev/null 2>&1
admin POST deliver "{\"ids\":[\"$b\"]}" >/dev/null
wait_until 5 at_least 1 'select count(*) from inbox'
kill $HP; wait $HP 2>/dev/null
check "the tracking webhook arrived" test "$(sqlite3 "$DB" 'select count(*) from inbox')" -gt 0
"$MLC" pull-shipments --no-cursor 2>/dev/null | "$MLC" post-receipts >"$SIM_DIR/r3.jsonl" 2>/dev/null; rc=$?
check_eq "all delivered and posted: exit 0" 0 "$rc"
check_eq "every shipped line received once in the end" "$n" "$(state '.m3.receipts | length')"
check_eq "nothing waits any more" 0 "$(sqlite3 "$DB" "select count(*) from receipt where state != 'posted'")"
check "the wait is in the audit" test "$(sqlite3 "$DB" "select count(*) from audit where event='delivered'")" -eq "$n"

# a label voided before its receipt, and the shipment shipped again under a new label:
# the new label is received (once); the voided label's own record coming again is not
c=$3
admin POST ship "{\"ids\":[\"$c\"]}" >/dev/null
"$MLC" pull-shipments 2>/dev/null | tee "$SIM_DIR/c1.ship" | "$MLC" post-receipts >/dev/null 2>&1
nc=$(state "[.shipstation.v2.shipments[] | select(.shipment_id == \"$c\") | .items[]] | length")
r0=$(state '.m3.receipts | length')
check_eq "relabel: the third shipment's lines wait for delivery" "$nc" \
  "$(sqlite3 "$DB" "select count(*) from receipt where shipment_id='$c' and state='pending'")"
admin POST void "{\"ids\":[\"$c\"]}" >/dev/null
"$MLC" pull-shipments 2>/dev/null | "$MLC" post-receipts >/dev/null 2>&1
check_eq "relabel: the void voids them" "$nc" "$(sqlite3 "$DB" "select count(*) from receipt where shipment_id='$c' and state='voided'")"
admin POST ship "{\"ids\":[\"$c\"]}" >/dev/null
tn2=$(state "[.shipstation.v2.labels[] | select(.shipment_id == \"$c\" and (.voided | not)) | .tracking_number][0]")
check "relabel: a new label with its own tracking number" test -n "$tn2" -a "$tn2" != null -a \
  "$tn2" != "$(jq -r 'select(.shipment_id == "'"$c"'") | .tracking_number' "$SIM_DIR/c1.ship" | head -n 1)"
"$MLC" pull-shipments 2>/dev/null | "$MLC" post-receipts >"$SIM_DIR/c3.jsonl" 2>/dev/null
check_eq "relabel: the new label's record starts the lines over, waiting for delivery" "$nc|$nc" \
  "$(sqlite3 "$DB" "select count(*) from receipt where shipment_id='$c' and state='pending' and tracking='$tn2'")|$(sqlite3 "$DB" "select count(*) from audit where event='relabelled'")"
"$MLC" post-receipts <"$SIM_DIR/c1.ship" >"$SIM_DIR/c4.jsonl" 2>/dev/null
check_eq "relabel: the voided label's record again is a duplicate and changes nothing" "$nc|$nc" \
  "$(jq -r 'select(.status == "duplicate")' "$SIM_DIR/c4.jsonl" | jq -s length)|$(sqlite3 "$DB" "select count(*) from receipt where shipment_id='$c' and tracking='$tn2'")"
admin POST deliver "{\"ids\":[\"$c\"]}" >/dev/null
"$MLC" pull-shipments 2>/dev/null | "$MLC" post-receipts >/dev/null 2>&1
# (M3's delivery note holds the tracking number's first 20 characters)
check_eq "relabel: delivered, each line received once, under the new label" "$((r0 + nc))|$nc" \
  "$(state '.m3.receipts | length')|$(state "[.m3.receipts[] | select(.SUDO == (\"$tn2\"[0:20]))] | length")"

sed -i 's/^      api: v2$/      api: v1/' "$MLC_CONFIG"
echo '{"kind":"shipment","shipment_id":"v1-1","po":"1","items":[]}' | "$MLC" post-receipts >/dev/null 2>"$SIM_DIR/v1.err"; rc=$?
check_eq "post_at deliver with V1 is a configuration error" 78 "$rc"
check "and says why" grep -q "deliver needs ShipStation V2" "$SIM_DIR/v1.err"
sed -i 's/post_at: deliver/post_at: arrive/' "$MLC_CONFIG"
echo '{"kind":"shipment","shipment_id":"x-1","po":"1","items":[]}' | "$MLC" post-receipts >/dev/null 2>"$SIM_DIR/pa.err"; rc=$?
check_eq "post_at other than ship or deliver: exit 78" 78 "$rc"
check "and says which values, where (file:line:col)" grep -q "mlc.yaml:[0-9]*:[0-9]*: 'profiles.sim.receipts.post_at' must be one of ship|deliver, not 'arrive'" "$SIM_DIR/pa.err"
# the two man pages agree: both document deliver
check "mlc-post-receipts(1) documents post_at: deliver" grep -q '^(wait for the delivery; ShipStation V2 only' man/mlc-post-receipts.1
check "mlc.yaml(5) documents post_at: deliver" grep -q 'fBdeliver\\fR waits for' man/mlc.yaml.5
t_done
