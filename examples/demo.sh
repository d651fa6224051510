#!/bin/sh
# examples/demo.sh: the sandbox demo behind `make demo`. Starts mlc-sim (a local
# CloudSuite + ShipStation) on a free loopback port in a temporary directory and
# runs the real job the way the README tells users to schedule it:
#   mlc ping; mlc pull-pos | mlc push-shipments; ships some orders in the sim (full,
#   partial, voided label); mlc pull-shipments | mlc post-receipts sends dispatch
#   advice (the goods show in transit in M3); the carrier delivers; the same
#   pipeline, with faults on, posts the goods receipts (M3 on-hand grows);
#   mlc sync-items carries the new on-hand to ShipStation; mlc queue; a replay of an
#   exhausted receipt once its cause is fixed. Stock of a few items (M3 and
#   ShipStation) is printed before, in between and after. Ends with a short summary
#   and stops the sim; nothing is left running.
# Usage: sh examples/demo.sh [BUILD_DIR]      (KEEP=1 keeps the temporary directory)
# Not here: anything a user needs in production (see examples/mlc.yaml, crontab).
set -u
BUILD=${1:-build}
MLC="$PWD/$BUILD/mlc"
SIM="$PWD/$BUILD/mlc-sim"
for b in "$MLC" "$SIM"; do [ -x "$b" ] || { echo "demo: $b is missing: run make" >&2; exit 1; }; done
for t in jq curl; do command -v $t >/dev/null || { echo "demo: needs $t (sh mk/deps.sh installs it)" >&2; exit 1; }; done

DIR=$(mktemp -d "${TMPDIR:-/tmp}/mlc-demo.XXXXXX")
SIM_PID=
cleanup() {
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
  [ -z "${KEEP:-}" ] && rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; }

step "Starting the sandbox (mlc-sim) in $DIR"
"$SIM" --listen 127.0.0.1:0 --dir "$DIR" >"$DIR/sim.out" 2>"$DIR/sim.err" &
SIM_PID=$!
i=0
while ! grep -q '^mlc-sim ready' "$DIR/sim.out" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 100 ] && { echo "demo: mlc-sim did not start" >&2; cat "$DIR/sim.err" >&2; exit 1; }
  sleep 0.1
done
URL=$(sed -n 's/^mlc-sim ready url=\([^ ]*\).*/\1/p' "$DIR/sim.out")
admin() { curl -sS -X "$1" ${3:+-H 'Content-Type: application/json' --data "$3"} "$URL/admin/$2"; }
echo "CloudSuite (ION + M3) and ShipStation (V1 + V2) answer at $URL"
echo "profile: $DIR/mlc.yaml (written by the sim: .ionapi and ShipStation key files beside it)"
export MLC_CONFIG="$DIR/mlc.yaml"
unset MLC_STATE_DIR MLC_PROFILE MLC_VAULT_KEY  # the sandbox profile's own state and key
# The vault key encrypts the cached ION token, so runs reuse one login.
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DIR/vault.key"; chmod 600 "$DIR/vault.key"
export MLC_VAULT_KEY_FILE="$DIR/vault.key"
# receipts at delivery, with dispatch advice at ship time: in transit in M3 until then
printf '    receipts: {base_ms: 200, cap_ms: 1000, max_attempts: 6, post_at: deliver, advise_at_ship: true}\n' >>"$MLC_CONFIG"
# A receipt call whose answer is lost stays in doubt until it cannot still be executing
# in M3: in production its deadline + the ION gateway's 60 s + 30 s; here 2 + 0 + 1 s.
printf '    retry: {in_doubt_margin: 1}\n' >>"$MLC_CONFIG"
sed -i 's/^    cloudsuite:$/&\n      timeout: 2\n      gateway_timeout: 0/' "$MLC_CONFIG"

step "1. Are both systems reachable?"
run mlc ping
"$MLC" ping || exit 1

step "2. Purchase orders to inbound shipments"
run "mlc pull-pos | mlc push-shipments"
{ "$MLC" pull-pos 2>"$DIR/pull-pos.err"; echo $? >"$DIR/pull-pos.rc"; } | "$MLC" push-shipments >"$DIR/inbound.jsonl" 2>"$DIR/push.err"
[ "$(cat "$DIR/pull-pos.rc")" = 0 ] || { echo "demo: mlc pull-pos failed:" >&2; cat "$DIR/pull-pos.err" >&2; exit 1; }
npos=$(jq -r 'select(.kind == "inbound_shipment") | .po' "$DIR/inbound.jsonl" | sort -u | wc -l)
echo "$npos POs are now inbound shipments in ShipStation; rejected (kept in the store, see below):"
sed 's/^/   /' "$DIR/push.err"
head -n 2 "$DIR/inbound.jsonl" | sed 's/^/   /'
run "mlc pull-pos | mlc push-shipments    # again: nothing changed, no API call"
again=$("$MLC" pull-pos 2>/dev/null | "$MLC" push-shipments 2>/dev/null | wc -l)
echo "   $again records"

step "3. The warehouse ships: three in full, one partly, one with a voided label"
ids=$(jq -r 'select(.action == "created") | .shipstation_id' "$DIR/inbound.jsonl")
set -- $ids
admin POST ship "{\"ids\":[\"$1\",\"$2\",\"$3\"]}" | jq -c '.shipped[] | {shipment_id, tracking_number, carrier_code}'
admin POST ship "{\"ids\":[\"$4\"],\"fraction\":0.5}" | jq -c '.shipped[] | {shipment_id, partial: true}'
admin POST ship "{\"ids\":[\"$5\"],\"void\":true}" | jq -c '.shipped[] | {shipment_id, voided}'
shipped="\"$1\",\"$2\",\"$3\",\"$4\""
closed=$(admin GET state | jq -r ".shipstation.v2.shipments[] | select(.shipment_id == \"$3\") | .items[0].external_order_item_id")
closed_po=${closed%%/*}; closed_line=${closed#*/}; closed_line=${closed_line%%/*}
admin POST po "{\"PUNO\":\"$closed_po\",\"lines\":[{\"PNLI\":$closed_line,\"PUSL\":\"85\",\"PUST\":\"85\"}]}" >/dev/null
echo "PO $closed_po line $closed_line was closed in CloudSuite meanwhile: its receipt will be refused"

# stock of the shipped items: M3's on-hand (MITBAL, in the sim's state) and
# ShipStation's (its inventory at the warehouse's location), one line per item
admin GET state | jq -c "[[$shipped][] as \$id | .shipstation.v2.shipments[] | select(.shipment_id == \$id)
    | .items[] | {sku, po: (.external_order_item_id | split(\"/\")[0])}]
    | reduce .[] as \$i ([]; if any(.[]; .sku == \$i.sku) then . else . + [\$i] end) | .[:4]" >"$DIR/watch.json"
stock() {
  printf '   %-10s %-4s %12s %18s\n' ITEM WHS "M3 ON-HAND" "SHIPSTATION ON-HAND"
  admin GET state | jq -r --slurpfile w "$DIR/watch.json" '
    . as $st | $w[0][] | . as $i
    | ($st.m3.pos[] | select(.PUNO == $i.po) | .WHLO) as $whlo
    | ($st.shipstation.inventory_locations[] | select(.WHLO == $whlo) | .inventory_location_id) as $loc
    | [$i.sku, $whlo,
       ($st.m3.items[] | select(.ITNO == $i.sku) | .balances[$whlo] // 0),
       ([$st.shipstation.inventory[] | select(.sku == $i.sku and .inventory_location_id == $loc) | .on_hand] | add // 0)]
    | @tsv' | awk -F'\t' '{ printf "   %-10s %-4s %12s %18s\n", $1, $2, $3, $4 }'
}
# one PO line followed through: ordered, in transit (dispatch advice), received
watch_po=$(jq -r '.[0].po' "$DIR/watch.json"); watch_sku=$(jq -r '.[0].sku' "$DIR/watch.json")
po_line() {
  admin GET state | jq -r --arg po "$watch_po" --arg sku "$watch_sku" '
    .m3.pos[] | select(.PUNO == $po) | .lines[] | select(.ITNO == $sku)
    | "   PO \($po) line \(.PNLI) (\(.ITNO)): ordered \(.ORQA), in transit \(.TNQA // 0), received \(.RVQA)"'
}
echo "Stock before anything is received:"
stock

step "4. Shipped: dispatch advice, the goods are in transit in CloudSuite"
run "mlc pull-shipments | mlc post-receipts"
"$MLC" pull-shipments 2>/dev/null | "$MLC" post-receipts >"$DIR/advised.jsonl" 2>"$DIR/advise.err"
echo "   $(jq -r 'select(.status == "pending")' "$DIR/advised.jsonl" | jq -s length) receipts wait for delivery (receipts.post_at: deliver);" \
  "$(admin GET state | jq '.m3.advices | length') lines advised to M3 (PPS001MI/AdviseLine)"
po_line

step "5. Delivered: goods receipts, with CloudSuite failing now and then"
admin POST deliver "{\"ids\":[$shipped]}" | jq -r '"carrier: \(.delivered | length) shipments delivered"'
admin POST faults '{"seed":42,"rules":[{"match":"M3 PPS001MI/Receipt","kind":"503","next":1},{"match":"M3 MHS850MI/AddPOReceipt","kind":"commit_drop","next":1}]}' >/dev/null
echo "faults on: the next PO receipt call answers 503, the next warehouse receipt is applied but its answer lost"
run "mlc pull-shipments | mlc post-receipts"
"$MLC" pull-shipments 2>/dev/null | "$MLC" -v post-receipts >"$DIR/receipts.jsonl" 2>"$DIR/post.err"
jq -r '"   receipt \(.receipt_id): PO \(.po) line \(.line) qty \(.qty) via \(.route): \(.status)"' "$DIR/receipts.jsonl"
grep -E "accepted|reconcil|doubt" "$DIR/post.err" | sed 's/^/   /'
admin DELETE faults >/dev/null
sleep 3.2
run "mlc post-receipts </dev/null    # the next cron runs settle what was in doubt, retry what is due"
"$MLC" post-receipts </dev/null >"$DIR/retry.jsonl" 2>/dev/null
sleep 1.2
"$MLC" post-receipts </dev/null >>"$DIR/retry.jsonl" 2>/dev/null
jq -r '"   receipt \(.receipt_id): \(.status) after \(.attempts) attempts"' "$DIR/retry.jsonl"
po_line
echo "Stock after the receipts: M3 has the goods, ShipStation not yet"
stock

step "6. Item master and stock, both ways"
run "mlc sync-items"
"$MLC" sync-items >"$DIR/items.jsonl" 2>"$DIR/items.err"
echo "   $(wc -l <"$DIR/items.jsonl") item records: $(jq -r .action "$DIR/items.jsonl" | sort | uniq -c | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}')"
echo "   stock set in ShipStation: $(jq -r '.stock[]? | select(.action == "adjusted")' "$DIR/items.jsonl" | jq -s length) item locations"
echo "Stock after mlc sync-items:"
stock

step "7. The operator's view"
run "mlc queue --state exhausted,needs_review,queued --table"
"$MLC" queue --state exhausted,needs_review,queued --table
ex=$("$MLC" queue --state exhausted | jq -r .receipt_id | head -n 1)
if [ -n "$ex" ]; then
  run "mlc audit $ex --table"
  "$MLC" audit "$ex" --table
  echo "The cause is fixed in CloudSuite: PO $closed_po line $closed_line reopened"
  admin POST po "{\"PUNO\":\"$closed_po\",\"lines\":[{\"PNLI\":$closed_line,\"PUSL\":\"35\",\"PUST\":\"35\"}]}" >/dev/null
  run "mlc queue --state exhausted | mlc replay"
  "$MLC" queue --state exhausted | "$MLC" replay | jq -r '"   receipt \(.receipt_id): \(.status)"'
fi

step "Summary"
st=$(admin GET state)
posted=$("$MLC" queue --state posted | wc -l)
left=$("$MLC" queue --state pending,queued,in_flight,in_doubt,exhausted,needs_review | wc -l)
retries=$("$MLC" queue | jq -s '[.[] | select(.attempts > 1)] | length')
echo "POs synced to ShipStation:        $npos"
echo "shipments shipped in the sandbox: 5 (3 full, 1 partial, 1 voided)"
echo "goods receipts posted:            $posted (M3 recorded $(printf '%s' "$st" | jq '.m3.receipts | length'), each PO line once)"
echo "receipts that needed a retry:     $retries"
echo "left for an operator:             $left"
echo "ION logins:                       $(printf '%s' "$st" | jq '.counters.logins')"
