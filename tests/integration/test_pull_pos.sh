#!/bin/sh
# test_pull_pos.sh: mlc pull-pos against mlc-sim: first poll, rerun emits nothing,
# a PO changed in the sim is emitted once, --po, --no-cursor, bad options.
. tests/integration/lib.sh
sim_start

out=$("$MLC" pull-pos 2>"$SIM_DIR/err"); rc=$?
check_eq "first poll exits 0" 0 "$rc"
n=$(printf '%s\n' "$out" | grep -c '"kind":"purchase_order"')
open=$(state '[.m3.pos[] | select((.lines|map(.PUSL|tonumber)|min) >= 15 and (.lines|map(.PUSL|tonumber)|min) <= 50)] | length')
check_eq "first poll emits every open PO of the seed" "$open" "$n"
first=$(printf '%s\n' "$out" | head -n 1)
check_eq "records carry cono, po, lines with numeric quantities, UTC dates" true \
  "$(printf '%s\n' "$first" | jq '.cono == 100 and (.po|length) > 0 and (.lines|length) > 0 and (.lines[0].qty_ordered|type) == "number" and (.changed_at|test("Z$"))')"
again=$("$MLC" pull-pos | wc -l)
check_eq "rerun emits nothing" 0 "$again"

po=$(printf '%s\n' "$first" | jq -r .po)
admin POST po "{\"PUNO\":\"$po\",\"lines\":[{\"PNLI\":10,\"ORQA\":\"999\"}]}" >/dev/null
changed=$("$MLC" pull-pos)
check_eq "a PO changed in the sim is emitted once" "$po" "$(printf '%s\n' "$changed" | jq -r .po)"
check_eq "with its new quantity" 999 "$(printf '%s\n' "$changed" | jq -r '.lines[] | select(.line == 10) | .qty_ordered')"
check_eq "and only once" 0 "$("$MLC" pull-pos | wc -l)"

check_eq "--po emits that PO even if unchanged" "$po" "$("$MLC" pull-pos --po "$po" | jq -r .po)"
check_eq "--no-cursor --limit 2 emits two" 2 "$("$MLC" pull-pos --no-cursor --limit 2 | wc -l)"
check_eq "--no-cursor --limit 0 emits nothing" 0 "$("$MLC" pull-pos --no-cursor --limit 0 | wc -l)"
check_eq "--po with --limit 0 emits nothing" 0 "$("$MLC" pull-pos --po "$po" --limit 0 | wc -l)"
"$MLC" pull-pos --po NOSUCHPO >/dev/null 2>&1; rc=$?
check_eq "--po of an unknown PO fails with 1" 1 "$rc"
"$MLC" pull-pos --since yesterday >/dev/null 2>&1; rc=$?
check_eq "bad --since is a usage error" 64 "$rc"
"$MLC" pull-pos --no-cursor | head -n 1 >/dev/null; rc=$?
check_eq "| head ends quietly" 0 "$rc"
t_done
