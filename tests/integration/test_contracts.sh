#!/bin/sh
# test_contracts.sh: the contract check (issue 16). Every V2 request and answer the
# suite exchanged with mlc-sim is validated against ShipStation's own OpenAPI file,
# and every M3 call against m3-transactions.json, by tests/contracts/check.js (ajv,
# an npm validator: no hand-written schema walker). The traffic: what the other
# integration tests recorded (tests/run.sh runs this test last, MLC_CONTRACT_DIR),
# plus a whole job run here (pull-pos | push-shipments, shipping, pull-shipments |
# post-receipts, sync-items; webhook subscriptions come from test_delivery.sh). 0 violations are allowed; a
# planted violation of each kind must fail the check (V2 requests and answers; M3
# calls: transaction, input fields, required ones, company, EXPORTMI's session
# company; M3 answers: output fields, one result per transaction). Also: mlc-sim itself refuses a
# V2 body with an undeclared property and counted no answer of its own off-contract.
# Without node (or the npm packages) the check cannot run: SKIP (exit 77), not a pass.
. tests/integration/lib.sh
C="$PWD/tests/contracts"
command -v node >/dev/null 2>&1 ||
  t_skip_all "SKIP: node is not installed (sh mk/deps.sh installs nodejs and npm): the contract check did NOT run"
[ -d "$C/node_modules/ajv" ] && [ -d "$C/node_modules/ajv-formats" ] && [ -d "$C/node_modules/js-yaml" ] ||
  t_skip_all "SKIP: no npm packages in tests/contracts (sh mk/deps.sh runs npm ci there): the contract check did NOT run"
check_js() { node "$C/check.js" "$@"; }

sim_start
W="$SIM_DIR/work"
mkdir -p "$W"

# ---- the whole job against the sim (its traffic is checked below)
"$MLC" pull-pos 2>"$W/pull.err" | "$MLC" push-shipments >"$W/inbound.jsonl" 2>"$W/push.err"
ncreated=$(jq -r 'select(.action == "created") | .shipstation_id' "$W/inbound.jsonl" | wc -l)
[ "$ncreated" -ge 5 ] && t_ok "push-shipments created $ncreated V2 shipments" ||
  t_fail "push-shipments created $ncreated V2 shipments" "$(cat "$W/push.err")"
set -- $(jq -r 'select(.action == "created") | .shipstation_id' "$W/inbound.jsonl")
admin POST ship "{\"ids\":[\"$1\",\"$2\"]}" >/dev/null
admin POST ship "{\"ids\":[\"$3\"],\"fraction\":0.5}" >/dev/null
admin POST ship "{\"ids\":[\"$4\"],\"void\":true}" >/dev/null
"$MLC" pull-shipments 2>"$W/ps.err" | "$MLC" post-receipts >"$W/receipts.jsonl" 2>"$W/post.err"
nposted=$(jq -r 'select(.status == "posted") | .receipt_id' "$W/receipts.jsonl" | wc -l)
[ "$nposted" -ge 3 ] && t_ok "receipts posted from the V2 shipments ($nposted), routed without custom fields" ||
  t_fail "receipts posted from the V2 shipments ($nposted)" "$(cat "$W/ps.err" "$W/post.err")"
"$MLC" sync-items >"$W/items.jsonl" 2>"$W/items.err" && t_ok "sync-items ran" || t_fail "sync-items ran" "$(cat "$W/items.err")"

# ---- another installation (no link table, no custom fields): the routing facts
# come from M3 (PPS200MI/GetHead, bulk) when the receipt is posted. The PO is a PP3
# one (goods_receipt): a wrong or missing order type would give the default route
# (po_receipt, PP1's) and fail here.
other=$(jq -r 'select(.action == "created") | "\(.shipstation_id) \(.po)"' "$W/inbound.jsonl" | while read -r id p; do
  case " $1 $2 $3 $4 " in *" $id "*) continue ;; esac
  [ "$(state "[.m3.pos[] | select(.PUNO == \"$p\") | .ORTY][0]")" = PP3 ] && { echo "$id"; break; }
done)
check "a fresh V2 shipment of a PP3 PO to post from another installation ($other)" test -n "$other"
admin POST ship "{\"ids\":[\"$other\"]}" >/dev/null
OTHER="$SIM_DIR/other-install"
MLC_STATE_DIR="$OTHER" "$MLC" pull-shipments 2>"$W/o.err" | jq -c "select(.shipment_id == \"$other\")" >"$W/other.jsonl"
check_eq "without its link, a V2 record's order type is unknown" null "$(jq -r .order_type "$W/other.jsonl")"
po5=$(jq -r .po "$W/other.jsonl")
want=$(state "(.m3.order_types[(.m3.pos[] | select(.PUNO == \"$po5\") | .ORTY)]) // \"po_receipt\"")
check_eq "PO $po5 is PP3: its route is goods_receipt, not the default" goods_receipt "$want"
MLC_STATE_DIR="$OTHER" "$MLC" post-receipts <"$W/other.jsonl" >"$W/other-rc.jsonl" 2>"$W/other-rc.err"
check_eq "its receipts take the route of the PO's order type in M3 ($want)" "$want" \
  "$(jq -r '.route // empty' "$W/other-rc.jsonl" | sort -u | tr '\n' ' ' | sed 's/ $//')"
check "and are posted" test "$(jq -r 'select(.status == "posted")' "$W/other-rc.jsonl" | jq -s length)" -ge 1

# ---- the package weight: M3 knows the items' weights, so each shipment has one
pk=$(state '[.shipstation.v2.shipments[] | select(.external_shipment_id // "" | startswith("mlc-"))
            | (.packages | length == 1) and (.packages[0].weight.value > 1)] | all')
check_eq "every V2 shipment mlc created carries one package with M3's summed weight" true "$pk"

# ---- mlc-sim holds V2 to the contract itself (these requests are wrong on purpose:
# the traffic checked below is the job's, recorded up to here)
cp "$SIM_DIR/sim.traffic.jsonl" "$W/job.jsonl"
K=$(cat "$SIM_DIR/shipstation-v2.key")
addr='{"name":"a","phone":"1","address_line1":"b","city_locality":"c","state_province":"TX","postal_code":"1","country_code":"US","address_residential_indicator":"no"}'
body="{\"shipments\":[{\"external_shipment_id\":\"ct-1\",\"service_code\":\"ups_ground\",\"ship_to\":$addr,\"ship_from\":$addr,\"packages\":[{\"weight\":{\"value\":3,\"unit\":\"pound\"}}]}]}"
out=$(curl -sS -w ' %{http_code}' -H "api-key: $K" -H 'Content-Type: application/json' --data "$body" "$SIM_URL/v2/shipments")
case "$out" in
  *'"error_type":"validation"'*'shipments[0].service_code is not a declared field'*' 400') t_ok "mlc-sim refuses an undeclared property, naming it, in ShipStation's error shape" ;;
  *) t_fail "mlc-sim refuses an undeclared property, naming it" "$out" ;;
esac
out=$(curl -sS -w ' %{http_code}' -H "api-key: $K" "$SIM_URL/v2/shipments?page_size=many&colour=red")
case "$out" in
  *'query parameter'*' 400') t_ok "mlc-sim refuses an undeclared or mistyped query parameter" ;;
  *) t_fail "mlc-sim refuses an undeclared or mistyped query parameter" "$out" ;;
esac
refused() { # NAME EXPECTED-MESSAGE CURL-ARGS...: a 400 in the error shape naming the field
  _n=$1 _m=$2; shift 2
  _o=$(curl -sS -w ' %{http_code}' -H "api-key: $K" "$@")
  case "$_o" in *'"errors":[{'*"$_m"*' 400') t_ok "mlc-sim refuses $_n" ;; *) t_fail "mlc-sim refuses $_n" "$_o" ;; esac
}
inv="$SIM_URL/v2/inventory"
refused "a missing required property" '"error_code":"field_value_required","message":"transaction_type is required"' \
  -H 'Content-Type: application/json' --data '{"sku":"ITM00001","quantity":1,"inventory_location_id":"se-4001"}' "$inv"
refused "a value outside the enum" "transaction_type 'grow' is not one of the allowed values" \
  -H 'Content-Type: application/json' --data '{"transaction_type":"grow","sku":"ITM00001","quantity":1,"inventory_location_id":"se-4001"}' "$inv"
refused "a wrong type" "quantity must be an integer" \
  -H 'Content-Type: application/json' --data '{"transaction_type":"increment","sku":"ITM00001","quantity":"one","inventory_location_id":"se-4001"}' "$inv"
refused "a wrong format" "query parameter created_at_start must be a date-time" "$SIM_URL/v2/shipments?created_at_start=yesterday"
check_eq "mlc-sim sent no answer off its contract" 0 "$(state '.counters.contract_violations')"
grep 'contract:' "$SIM_DIR/sim.err" | head -n 5 | sed 's/^/# /'
# this sim's traffic holds the wrong requests above: only $W/job.jsonl is checked
_suite_dir=${MLC_CONTRACT_DIR:-}; MLC_CONTRACT_DIR=
sim_stop
MLC_CONTRACT_DIR=$_suite_dir

# ---- the real validator over every recorded exchange: 0 violations
files="$W/job.jsonl"
[ -n "${MLC_CONTRACT_DIR:-}" ] && [ -d "$MLC_CONTRACT_DIR" ] && files="$files $(ls "$MLC_CONTRACT_DIR"/*.jsonl 2>/dev/null | tr '\n' ' ')"
# shellcheck disable=SC2086
if out=$(check_js --max-print 40 $files 2>&1); then
  t_ok "$(echo "$out" | tail -n 1)"
else
  t_fail "the recorded traffic keeps to the published contracts" "$out"
fi
echo "$out" | tail -n 1 | grep -Eq ' [1-9][0-9]* V2 requests and [1-9][0-9]* V2 responses' &&
  echo "$out" | tail -n 1 | grep -Eq ' [1-9][0-9]* M3 transactions and [1-9][0-9]* M3 answers' &&
  t_ok "the check saw V2 requests, V2 answers, M3 calls and M3 answers" || t_fail "the check saw V2 and M3 traffic" "$out"

# ---- planted violations: each must fail the check, naming what is wrong
plant() { # NAME EXPECTED-TEXT JSON-LINE
  printf '%s\n' "$3" >"$W/planted.jsonl"
  if out=$(check_js "$W/planted.jsonl" 2>&1); then t_fail "planted: $1 is caught" "$out"
  else case "$out" in *"$2"*) t_ok "planted: $1 is caught" ;; *) t_fail "planted: $1 is caught (says what)" "$out" ;; esac; fi
}
create=$(jq -c 'select(.api == "v2" and .method == "POST" and .path == "/v2/shipments" and .status == 200)' \
  "$W/job.jsonl" | head -n 1)
plant "V2 request with service_code (undeclared)" "'service_code'" \
  "$(printf '%s' "$create" | jq -c '.body.shipments[0].service_code = "ups_ground"')"
plant "V2 request with custom fields (advanced_options)" "'advanced_options'" \
  "$(printf '%s' "$create" | jq -c '.body.shipments[0].advanced_options = {custom_field1: "PO:1"}')"
plant "V2 answer with packages: [] and weight 0" "packages must NOT have fewer than 1 items" \
  "$(printf '%s' "$create" | jq -c '.response.shipments[0].packages = [] | .response.shipments[0].total_weight.value = 0')"
plant "V2 query with an undeclared parameter" "additional properties 'colour'" \
  '{"api":"v2","method":"GET","path":"/v2/labels","query":{"colour":"red"},"body":null,"status":"reset","response":null}'
M="/SIMTENANT_TST/M3/m3api-rest/v2/execute"
plant "M3 unknown transaction" "PPS200MI/GetHeadX: unknown transaction" \
  "{\"api\":\"m3\",\"method\":\"GET\",\"path\":\"$M/PPS200MI/GetHeadX\",\"query\":{\"CONO\":\"100\",\"PUNO\":\"1\"},\"body\":null,\"status\":200,\"response\":null}"
plant "M3 unknown input field" "unknown input field ZZZZ" \
  "{\"api\":\"m3\",\"method\":\"GET\",\"path\":\"$M/PPS200MI/GetHead\",\"query\":{\"CONO\":\"100\",\"PUNO\":\"1\",\"ZZZZ\":\"1\"},\"body\":null,\"status\":200,\"response\":null}"
plant "M3 missing required field" "required field PUNO missing" \
  "{\"api\":\"m3\",\"method\":\"POST\",\"path\":\"$M\",\"query\":{},\"body\":{\"program\":\"PPS200MI\",\"cono\":100,\"transactions\":[{\"transaction\":\"GetHead\",\"record\":{}}]},\"status\":200,\"response\":null}"
plant "M3 call without a company" "no company (CONO)" \
  "{\"api\":\"m3\",\"method\":\"GET\",\"path\":\"$M/PPS200MI/GetHead\",\"query\":{\"PUNO\":\"1\"},\"body\":null,\"status\":200,\"response\":null}"
gethead=$(jq -c 'select(.api == "m3" and .body.program == "PPS200MI" and .body.transactions[0].transaction == "GetHead"
                 and .status == 200 and (.response.results[0].records | length) > 0)' "$W/job.jsonl" | head -n 1)
plant "M3 answer with a field the transaction does not output" \
  "PPS200MI/GetHead answer (result 0, record 0): field ZZZZ is not an output of the transaction" \
  "$(printf '%s' "$gethead" | jq -c '.response.results[0].records[0].ZZZZ = "1"')"
plant "M3 answer with results out of step with the request" "results for" \
  "$(printf '%s' "$gethead" | jq -c '.response.results += [.response.results[0]]')"
# EXPORTMI has no CONO field: it reads the API session's company, which each call must name
q="ICPUNO, ICPNLI from MPLIND where ICPUNO = '2000001'"
plant "M3 bulk EXPORTMI without a session company" "EXPORTMI/Select: no session company" \
  "{\"api\":\"m3\",\"method\":\"POST\",\"path\":\"$M\",\"query\":{},\"body\":{\"program\":\"EXPORTMI\",\"maxReturnedRecords\":0,\"transactions\":[{\"transaction\":\"Select\",\"record\":{\"QERY\":\"$q\",\"SEPC\":\";\",\"HDRS\":\"0\"}}]},\"status\":200,\"response\":null}"
plant "M3 EXPORTMI GET without ;cono=" "EXPORTMI/Select: no session company" \
  "{\"api\":\"m3\",\"method\":\"GET\",\"path\":\"$M/EXPORTMI/Select;maxrecs=0\",\"query\":{\"QERY\":\"$q\"},\"body\":null,\"status\":200,\"response\":null}"
t_done
