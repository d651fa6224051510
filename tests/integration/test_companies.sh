#!/bin/sh
# test_companies.sh (issue 16 item 4): M3 selects carry the company and are bounded,
# against mlc-sim, whose default seed has a second company (CONO 200) in the same
# MPHEAD/MPLINE tables, four of its POs numbered as company 100's:
#  - company 200's POs never reach ShipStation from a company-100 profile;
#  - a company-200 profile sees exactly company 200's POs (EXPORTMI reads the API
#    session's company: mlc names it with ;cono=, since the query may not);
#  - the first run looks back cloudsuite.initial_lookback_days from M3's date, a bad
#    value is a configuration error naming file:line:col;
#  - an EXPORTMI answer cut at its row limit is asked again in halves (no PO lost);
#    a single day over the limit fails without moving the cursor;
#  - a company-200 profile's receipt trace (bulk EXPORTMI on MPLIND, read before a
#    post and when a call in doubt is settled) is company 200's: company 100's
#    receipts of the same PO number, line, delivery note and quantity never make a
#    company-200 receipt look already posted (cloudsuite.bulk_company both, body, query).
. tests/integration/lib.sh
sim_start
CFG0="$SIM_DIR/mlc.yaml.orig"; cp "$MLC_CONFIG" "$CFG0"
own200=$(state '[.m3.companies[0].pos[].PUNO] | sort | join(" ")')
shared=$(state '[.m3.companies[0].pos[].PUNO as $p | .m3.pos[] | select(.PUNO == $p) | .PUNO] | sort | join(" ")')
check "the seed's second company shares PO numbers with the first ($shared)" test -n "$shared"

# --- company 100: company 200's POs never reach ShipStation ---
"$MLC" pull-pos >"$SIM_DIR/pos100.jsonl" 2>"$SIM_DIR/pp100.err"; rc=$?
check_eq "company 100: pull-pos exits 0" 0 "$rc"
check_eq "company 100: every record is company 100's" 0 "$(jq -r 'select(.cono != 100) | .po' "$SIM_DIR/pos100.jsonl" | wc -l)"
"$MLC" push-shipments <"$SIM_DIR/pos100.jsonl" >"$SIM_DIR/ib100.jsonl" 2>"$SIM_DIR/ps100.err"
ship_pos=$(state '[.shipstation.v2.shipments[].external_shipment_id] | join(" ")')
leaked=0
for p in $own200; do
  case " $ship_pos " in *"-$p "*|*"-$p-"*) case " $shared " in *" $p "*) ;; *) leaked=$((leaked + 1)) ;; esac ;; esac
done
check_eq "company 100: none of company 200's own POs in ShipStation" 0 "$leaked"
# a PO number both companies use: ShipStation holds company 100's lines, never company 200's 7
for p in $shared; do
  want=$(state "[.m3.pos[] | select(.PUNO == \"$p\") | .lines[] | select((.PUSL | tonumber) < 75)] | length")
  got=$(state "[.shipstation.v2.shipments[] | select(.external_shipment_id | test(\"-$p(-|\$)\")) | .items[]] | length")
  [ "$want" -gt 0 ] && break
done
check "company 100: shared PO $p carries company 100's lines ($got shipped items, $want open lines, company 200 has 7)" \
  test "$got" -le "$want" -a "$got" -ne 7
check_eq "company 100: no shipment names another company" 0 \
  "$(state '[.shipstation.v2.shipments[] | select(.external_shipment_id | startswith("mlc-100-") | not)] | length')"

# --- company 200: exactly its POs ---
sed 's/^      cono: 100$/      cono: 200/; s/^      divi: .*$/      divi: BBB/' "$CFG0" >"$MLC_CONFIG"
MLC_STATE_DIR="$SIM_DIR/state200" "$MLC" pull-pos --status 00-99 >"$SIM_DIR/pos200.jsonl" 2>"$SIM_DIR/pp200.err"; rc=$?
check_eq "company 200: pull-pos exits 0" 0 "$rc"
check_eq "company 200: exactly company 200's POs" "$own200" "$(jq -r .po "$SIM_DIR/pos200.jsonl" | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "company 200: every record says cono 200" 0 "$(jq -r 'select(.cono != 200) | .po' "$SIM_DIR/pos200.jsonl" | wc -l)"
check_eq "company 200: its own lines (7 each)" 0 "$(jq -r 'select((.lines | length) != 7) | .po' "$SIM_DIR/pos200.jsonl" | wc -l)"
cp "$CFG0" "$MLC_CONFIG"

# --- the first run's window: initial_lookback_days from M3's date (the sim's clock, 2026-11-20) ---
sim_config_under cloudsuite "initial_lookback_days: 3"
want=$(state '[.m3.pos[] | select((.LMDT >= "20261117") or ([.lines[].LMDT] | any(. >= "20261117")))] | length')
MLC_STATE_DIR="$SIM_DIR/state-lb" "$MLC" -v pull-pos --status 00-99 >"$SIM_DIR/lb.jsonl" 2>"$SIM_DIR/lb.err"; rc=$?
check_eq "lookback 3 days: exit 0" 0 "$rc"
check "lookback 3 days: from M3's date minus 3 (log says 20261117)" grep -q "changed since 20261117" "$SIM_DIR/lb.err"
check_eq "lookback 3 days: the POs changed since then, no older" "$want" "$(wc -l <"$SIM_DIR/lb.jsonl")"
check "lookback 3 days: fewer than all ($want of $(state '.m3.pos | length'))" test "$want" -lt "$(state '.m3.pos | length')"
for bad in 0 -5 abc 1.5; do
  cp "$CFG0" "$MLC_CONFIG"
  sim_config_under cloudsuite "initial_lookback_days: $bad"
  line=$(grep -n "initial_lookback_days" "$MLC_CONFIG" | cut -d: -f1)
  "$MLC" pull-pos --no-cursor >/dev/null 2>"$SIM_DIR/bad.err"; rc=$?
  check_eq "initial_lookback_days '$bad': exit 78" 78 "$rc"
  check "initial_lookback_days '$bad': the message names file:line:col and the key" \
    grep -q "mlc.yaml:$line:[0-9]*: .*initial_lookback_days' must be an integer" "$SIM_DIR/bad.err"
done
cp "$CFG0" "$MLC_CONFIG"

# --- EXPORTMI's row limit: a cut answer is asked again in halves ---
all=$("$MLC" pull-pos --no-cursor --status 00-99 2>/dev/null | jq -r .po | sort | tr '\n' ' ')
admin POST m3 '{"exportmi_max_rows":40}' >/dev/null
sim_config_under cloudsuite "export_max_rows: 40"
c0=$(state '.counters.requests["M3 EXPORTMI/Select OK"] // 0')
got=$(MLC_STATE_DIR="$SIM_DIR/state-cap" "$MLC" pull-pos --status 00-99 2>"$SIM_DIR/cap.err" | jq -r .po | sort | tr '\n' ' ')
check_eq "row limit 40: every PO still listed" "$all" "$got"
check "row limit 40: by more selects than 2 ($(( $(state '.counters.requests["M3 EXPORTMI/Select OK"] // 0') - c0 )))" \
  test $(( $(state '.counters.requests["M3 EXPORTMI/Select OK"] // 0') - c0 )) -gt 2
check "row limit 40: the cursor moved" test -n "$(sqlite3 "$SIM_DIR/state-cap/sim.db" "select value from cursor where stream = 'pull-pos'" 2>/dev/null)"
admin POST m3 '{"exportmi_max_rows":3}' >/dev/null
sed -i 's/^      export_max_rows: 40$/      export_max_rows: 3/' "$MLC_CONFIG"
MLC_STATE_DIR="$SIM_DIR/state-day" "$MLC" pull-pos >"$SIM_DIR/day.jsonl" 2>"$SIM_DIR/day.err"; rc=$?
check "row limit 3: more rows on one day fails (exit $rc)" test "$rc" -ne 0
check "row limit 3: the message names the setting" grep -q "cloudsuite.export_max_rows is 3" "$SIM_DIR/day.err"
check_eq "row limit 3: nothing emitted, no cursor" "0:" \
  "$(wc -l <"$SIM_DIR/day.jsonl"):$(sqlite3 "$SIM_DIR/state-day/sim.db" "select value from cursor where stream = 'pull-pos'" 2>/dev/null)"
admin POST m3 '{"exportmi_max_rows":10000}' >/dev/null

# --- company 200: its receipts are judged on company 200's receipt trace, never company 100's ---
# PO 2000003 is both companies' (lines 10 and 20 open in each). Before a receipt is
# posted, and when a call in doubt is settled, mlc reads the PO's receipt transactions
# (EXPORTMI/Select on MPLIND, in a bulk call) for the receipt's delivery note and
# quantity. EXPORTMI reads the API session's company: the bulk call must name company
# 200. Left to the service account's default company (100), it finds company 100's
# receipts of the same PO number and takes company 200's as already in M3.
po=2000003
ship="{\"kind\":\"shipment\",\"shipment_id\":\"se-co200\",\"po\":\"$po\",\"order_type\":\"PP1\",\"tracking_number\":\"1ZBOTHCO\",\"items\":[{\"sku\":\"x\",\"qty\":1,\"po_line\":\"$po/10/0\"}]}"
on_co() { state "[.m3.receipts[] | select(.PUNO == \"$po\" and .PNLI == $1 and .CONO == $2)] | length"; }
S200="$SIM_DIR/state200-rc"
rstate200() { sqlite3 "$S200/sim.db" "select state from receipt where shipment_id='$1'" 2>/dev/null; }
sed 's/^      cono: 100$/      cono: 200/; s/^      divi: .*$/      divi: BBB/' "$CFG0" >"$MLC_CONFIG"
sim_config_under cloudsuite "timeout: 5"
sim_config_under cloudsuite "gateway_timeout: 1"
sim_config_add "    receipts: {base_ms: 1, cap_ms: 20, max_attempts: 50}" "    retry: {in_doubt_margin: 1}"
CFG200="$SIM_DIR/mlc.yaml.200"; cp "$MLC_CONFIG" "$CFG200"
# company 200's call is lost in flight (M3 never applies it), its run killed: in doubt
admin POST faults '{"rules":[{"match":"M3 PPS001MI/Receipt","kind":"timeout","next":1,"ms":3000}]}' >/dev/null
echo "$ship" | MLC_STATE_DIR="$S200" "$MLC" post-receipts >/dev/null 2>&1 &
pid=$!
sleep 1
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
# meanwhile company 100 receives the same quantity of its line 10 with the same delivery note
cp "$CFG0" "$MLC_CONFIG"
echo "$ship" | jq -c '.shipment_id = "se-co100"' | "$MLC" post-receipts >/dev/null 2>"$SIM_DIR/co100.err"
check_eq "company 100 received its PO $po line 10 (delivery note 1ZBOTHCO), company 200 nothing" "1:0" \
  "$(on_co 10 100):$(on_co 10 200)"
cp "$CFG200" "$MLC_CONFIG"
settled200() { MLC_STATE_DIR="$S200" "$MLC" post-receipts </dev/null >>"$SIM_DIR/co200.jsonl" 2>>"$SIM_DIR/co200.err"; [ "$(rstate200 se-co200)" = posted ]; }
check "company 200: the receipt in doubt is settled, then posted" wait_until 25 settled200
admin DELETE faults >/dev/null
check_eq "company 200: settled as not applied, by its own company's trace" 1 \
  "$(sqlite3 "$S200/sim.db" "select count(*) from audit a join receipt r on r.id=a.receipt_id where r.shipment_id='se-co200' and a.event='not_applied' and a.detail like '%delivery_note%'")"
check_eq "company 200's M3 has the receipt once (company 100's: still once)" "1:1" "$(on_co 10 200):$(on_co 10 100)"
# a new receipt: company 100 already has one of line 20 with this delivery note and quantity
ship2=$(echo "$ship" | jq -c '.tracking_number = "1ZBOTHCO2" | .items[0].qty = 2 | .items[0].po_line = "2000003/20/0"')
cp "$CFG0" "$MLC_CONFIG"
echo "$ship2" | jq -c '.shipment_id = "se-co100b"' | "$MLC" post-receipts >/dev/null 2>>"$SIM_DIR/co100.err"
cp "$CFG200" "$MLC_CONFIG"
echo "$ship2" | jq -c '.shipment_id = "se-co200b"' | MLC_STATE_DIR="$S200" "$MLC" post-receipts >"$SIM_DIR/co200b.jsonl" 2>>"$SIM_DIR/co200.err"
check_eq "company 200: a new receipt is posted, not taken as already in M3 from company 100's" posted \
  "$(jq -r .status "$SIM_DIR/co200b.jsonl")"
check_eq "each company's M3 has its line 20 receipt once" "1:1" "$(on_co 20 200):$(on_co 20 100)"
# the same with the company only in the bulk body, then only on the bulk URL (cloudsuite.bulk_company)
ln=30
for mode in body query; do
  ship3=$(echo "$ship" | jq -c --arg t "1ZBOTH$mode" --arg l "$po/$ln/0" '.tracking_number = $t | .items[0].po_line = $l')
  cp "$CFG0" "$MLC_CONFIG"
  echo "$ship3" | jq -c ".shipment_id = \"se-co100-$mode\"" | "$MLC" post-receipts >/dev/null 2>>"$SIM_DIR/co100.err"
  cp "$CFG200" "$MLC_CONFIG"
  sim_config_under cloudsuite "bulk_company: $mode"
  echo "$ship3" | jq -c ".shipment_id = \"se-co200-$mode\"" | MLC_STATE_DIR="$S200" "$MLC" post-receipts >"$SIM_DIR/co200-$mode.jsonl" 2>>"$SIM_DIR/co200.err"
  check_eq "bulk_company: $mode: company 200's receipt of line $ln is posted, once in each company" "posted:1:1" \
    "$(jq -r .status "$SIM_DIR/co200-$mode.jsonl"):$(on_co $ln 200):$(on_co $ln 100)"
  ln=40
done
cp "$CFG0" "$MLC_CONFIG"
t_done
