#!/bin/sh
# examples/demo-bod.sh: the BOD section of the sandbox demo, behind `make demo-bod`.
# Starts mlc-sim and runs the job with receipts.transport: bod: mlc ping (including
# the ION Messaging Service), POs to ShipStation, a few shipments; at ship time an
# advance ship notice per line (Sync.AdvanceShipNotice: in transit in M3); at
# delivery the receipts go to ION as Process.ReceiveDelivery BODs (state `sent`:
# queued in ION), the sim's M3 BOD processor applies them (one is delivered twice,
# M3 counts it once; one is rejected), and the next run sees them in M3 (`posted`)
# or, for the rejected one after bod.visible_within, `needs_review` with its
# messageId, which an operator replays. Stops the sim; nothing is left running.
# Usage: sh examples/demo-bod.sh [BUILD_DIR]      (KEEP=1 keeps the temporary directory)
# Not here: the REST route (examples/demo.sh), production settings (examples/mlc.yaml).
set -u
BUILD=${1:-build}
MLC="$PWD/$BUILD/mlc"
SIM="$PWD/$BUILD/mlc-sim"
for b in "$MLC" "$SIM"; do [ -x "$b" ] || { echo "demo-bod: $b is missing: run make" >&2; exit 1; }; done
for t in jq curl; do command -v $t >/dev/null || { echo "demo-bod: needs $t (sh mk/deps.sh installs it)" >&2; exit 1; }; done

DIR=$(mktemp -d "${TMPDIR:-/tmp}/mlc-demo-bod.XXXXXX")
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
  i=$((i + 1)); [ $i -gt 100 ] && { echo "demo-bod: mlc-sim did not start" >&2; cat "$DIR/sim.err" >&2; exit 1; }
  sleep 0.1
done
URL=$(sed -n 's/^mlc-sim ready url=\([^ ]*\).*/\1/p' "$DIR/sim.out")
admin() { curl -sS -X "$1" ${3:+-H 'Content-Type: application/json' --data "$3"} "$URL/admin/$2"; }
export MLC_CONFIG="$DIR/mlc.yaml"
unset MLC_STATE_DIR MLC_PROFILE MLC_VAULT_KEY
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DIR/vault.key"; chmod 600 "$DIR/vault.key"
export MLC_VAULT_KEY_FILE="$DIR/vault.key"
cat >>"$MLC_CONFIG" <<'EOF'
    receipts: {base_ms: 200, cap_ms: 1000, max_attempts: 6, post_at: deliver, transport: bod}
    bod:
      logical_id: lid://infor.ims.mlc
      advance_ship_notice: true
      visible_within: 2
      resend_grace: 1
EOF
echo "profile: receipts.transport: bod, bod.logical_id: lid://infor.ims.mlc (see $MLC_CONFIG)"
admin POST ims '{"delay_s":0,"duplicate_probability":0.5,"seed":3}' >/dev/null

step "1. Is ION set up? (the connection point, its documents, an active flow)"
admin POST ims '{"connection_points":{"lid://infor.ims.mlc":{"active":true,"accepted":["Sync.AdvanceShipNotice"]}}}' >/dev/null
run "mlc ping    # the ION admin forgot ReceiveDelivery on the Documents tab"
"$MLC" ping >"$DIR/ping.out" 2>&1; rc=$?
grep ion-ims "$DIR/ping.out"; echo "   exit $rc"
admin POST ims '{"connection_points":{"lid://infor.ims.mlc":{"active":true,"accepted":["Process.ReceiveDelivery","Sync.AdvanceShipNotice"]}}}' >/dev/null
run "mlc ping    # fixed"
"$MLC" ping | sed 's/^/   /' || exit 1

step "2. POs to ShipStation; three orders ship"
"$MLC" pull-pos 2>/dev/null | "$MLC" push-shipments >"$DIR/inbound.jsonl" 2>/dev/null
set -- $(jq -r 'select(.action == "created") | .shipstation_id' "$DIR/inbound.jsonl")
admin POST ship "{\"ids\":[\"$1\",\"$2\",\"$3\"]}" | jq -c '.shipped[] | {shipment_id, tracking_number}'
shipped="\"$1\",\"$2\",\"$3\""

step "3. Shipped: advance ship notices through ION, in transit in M3"
run "mlc pull-shipments | mlc post-receipts"
"$MLC" pull-shipments 2>/dev/null | "$MLC" post-receipts >"$DIR/asn.jsonl" 2>/dev/null
"$MLC" post-receipts </dev/null >/dev/null 2>&1
admin GET state | jq -r '"   \([.ims.messages[] | select(.documentName == "Sync.AdvanceShipNotice" and .status == "applied")] | length) Sync.AdvanceShipNotice BODs applied; in transit: " +
  ([.m3.pos[].lines[] | select((.TNQA // 0) > 0)] | length | tostring) + " PO lines"'

step "4. Delivered: receipts as Process.ReceiveDelivery BODs (ION says queued, not posted)"
admin POST deliver "{\"ids\":[$shipped]}" >/dev/null
admin POST ims '{"reject_next":1,"reject_reason":"Acknowledge Rejected: item not stocked in WH (simulated)"}' >/dev/null
echo "the sim's M3 will reject the next receipt BOD"
run "mlc pull-shipments | mlc post-receipts"
"$MLC" pull-shipments 2>/dev/null | "$MLC" post-receipts >"$DIR/sent.jsonl" 2>/dev/null
jq -r '"   receipt \(.receipt_id): PO \(.po) line \(.line) qty \(.qty): \(.status) as \(.message_id)"' "$DIR/sent.jsonl"
sleep 2.2
run "mlc post-receipts </dev/null    # the next cron run looks at M3"
"$MLC" post-receipts </dev/null >"$DIR/settled.jsonl" 2>/dev/null
jq -r '"   receipt \(.receipt_id): \(.status)"' "$DIR/settled.jsonl"
admin GET state | jq -r '"   the sim: \(.ims.messages | length) IMS messages, \(.ims.duplicates_ignored) delivered twice and ignored by M3, " +
  "\([.ims.messages[] | select(.status == "rejected")] | length) rejected: " + ([.ims.messages[] | select(.status == "rejected") | .reason] | first // "")'

step "5. The operator: needs_review carries the messageId to look up in ION OneView"
"$MLC" queue --state needs_review --table
id=$("$MLC" queue --state needs_review | jq -r .receipt_id | head -n 1)
if [ -n "$id" ]; then
  run "mlc replay --force --reason 'item stocked in WH' $id"
  "$MLC" replay --force --reason "item stocked in WH" "$id" | jq -r '"   receipt \(.receipt_id): \(.status) again as \(.message_id // "-")"'
  "$MLC" post-receipts </dev/null >/dev/null 2>&1
fi

step "Summary"
st=$(admin GET state)
echo "receipts posted through ION:      $("$MLC" queue --state posted | wc -l)"
echo "M3 receipts from BODs:            $(printf '%s' "$st" | jq '[.m3.receipts[] | select(.route == "BOD")] | length') (each PO line once: $(printf '%s' "$st" | jq '[.m3.receipts[] | "\(.PUNO)/\(.PNLI)/\(.PNLS)"] | (length == (unique | length))'))"
echo "left for an operator:             $("$MLC" queue --state pending,queued,in_flight,sent,exhausted,needs_review | wc -l)"
