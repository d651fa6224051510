#!/bin/sh
# test_m3_table.sh: lib/m3_table.c is exactly what mk/gen-m3-table.sh makes of the
# checked-in catalogue tests/contracts/m3-transactions.json, so the table lib/m3
# uses cannot drift from the catalogue mlc-sim and the contract check hold M3 to.
# Also: the generator refuses nothing silently (a catalogue it cannot read fails).
# Not here: what the flags mean (tests/unit/test_m3.c checks lookups and CONO/DIVI).
. tests/integration/lib.sh
command -v jq >/dev/null 2>&1 || t_skip_all "no jq (mk/packages.txt)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mlc-m3table.XXXXXX")
SIM_DIR=$tmp # removed by lib.sh's t_cleanup on exit (no sim is started)

check "the generator runs" sh mk/gen-m3-table.sh tests/contracts/m3-transactions.json
sh mk/gen-m3-table.sh tests/contracts/m3-transactions.json >"$tmp/m3_table.c" 2>"$tmp/err"
check "lib/m3_table.c is the generator's output (run make m3-table)" cmp -s "$tmp/m3_table.c" lib/m3_table.c
n=$(grep -c '^    {"[A-Z0-9]*/[A-Za-z0-9]*", [0-3]},$' lib/m3_table.c)
m=$(jq '[.programs[] | keys[]] | length' tests/contracts/m3-transactions.json)
check "one row per catalogue transaction ($n of $m)" test "$n" -eq "$m"
printf '{"programs": ' >"$tmp/bad.json"
check "a broken catalogue fails the generator" sh -c '! sh mk/gen-m3-table.sh "$1" >/dev/null 2>&1' _ "$tmp/bad.json"
t_done
