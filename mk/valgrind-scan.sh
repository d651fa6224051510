#!/bin/sh
# mk/valgrind-scan.sh: judges the logs the wrappers of mk/valgrind-wrap.sh left.
# Valgrind ran with -q, so a log holds only what memcheck found: any non-empty
# log is an error or a leak in that process, and is printed.  Prints one line
# "valgrind: N processes checked, N with findings" and exits 1 on any finding or
# when no process was checked at all (a run that checked nothing proves nothing).
# Not here: running the programs (tests/run.sh through the wrappers).
# Usage: sh mk/valgrind-scan.sh VGDIR
set -u
logs="$1/logs"
total=0 bad=0
for f in "$logs"/*.log; do
  [ -f "$f" ] || continue
  total=$((total + 1))
  if [ -s "$f" ]; then
    bad=$((bad + 1))
    echo "== ${f##*/}"; head -n 60 "$f"
  fi
done
echo "valgrind: $total processes checked, $bad with findings"
[ "$total" -gt 0 ] && [ "$bad" -eq 0 ]
