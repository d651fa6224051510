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
#    a single day over the limit fails without moving the cursor.
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
t_done
