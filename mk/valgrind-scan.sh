#!/bin/sh
# mk/valgrind-scan.sh: judges the files the wrappers of mk/valgrind-wrap.sh left,
# one NAME.PID.xml (and NAME.PID.log, the same as text) per process:
#  - any memory error (invalid read/write, uninitialised value, bad free, ...) is a
#    finding, however the process ended;
#  - a process that died of a crash signal (SEGV, ABRT, BUS, FPE, ILL, ...) is a
#    finding;
#  - a definite or possible leak is a finding, unless the process was stopped from
#    outside with SIGTERM or SIGINT (the tests stop webhook listeners and runaway
#    runs that way): memory a killed process still held is not a leak.
# A process killed with SIGKILL (the crash tests' kill -9) leaves no result and is
# counted as unfinished.  A child a unit test forked (no exec) has only the text
# log (valgrind opens no XML file for it): any line in it is a finding.  Prints each finding's text log and one summary line;
# exits 1 on any finding or when no process finished at all.
# Not here: running the programs (tests/run.sh through the wrappers).
# Usage: sh mk/valgrind-scan.sh VGDIR
set -u
logs="$1/logs"
total=0 bad=0 unfinished=0 stopped=0
for x in "$logs"/*.xml; do
  [ -f "$x" ] || continue
  total=$((total + 1))
  kinds=$(sed -n 's/.*<kind>\([^<]*\)<\/kind>.*/\1/p' "$x")
  sig=$(sed -n '/<fatal_signal>/,/<\/fatal_signal>/s/.*<signame>\([^<]*\)<\/signame>.*/\1/p' "$x" | head -n 1)
  if ! grep -q '<state>FINISHED</state>' "$x"; then unfinished=$((unfinished + 1)); continue; fi
  errors=$(printf '%s\n' "$kinds" | grep -v -e '^Leak_' -e '^$' | sort | uniq -c | tr -s ' ' | tr '\n' ';')
  leaks=$(printf '%s\n' "$kinds" | grep '^Leak_' | sort | uniq -c | tr -s ' ' | tr '\n' ';')
  why=""
  [ -n "$errors" ] && why="memory errors:$errors"
  case "$sig" in
    "") ;;
    SIGTERM|SIGINT) stopped=$((stopped + 1)) ;;
    *) why="$why killed by $sig;" ;;
  esac
  case "$sig" in SIGTERM|SIGINT) ;; *) [ -n "$leaks" ] && why="$why leaks:$leaks" ;; esac
  if [ -n "$why" ]; then
    bad=$((bad + 1))
    log=${x%.xml}.log
    echo "== ${x##*/}: $why"; head -n 60 "$log" 2>/dev/null
  fi
done
children=0
for l in "$logs"/*.log; do
  [ -f "$l" ] && [ ! -f "${l%.log}.xml" ] || continue
  children=$((children + 1))
  if [ -s "$l" ]; then bad=$((bad + 1)); echo "== ${l##*/} (forked child)"; head -n 60 "$l"; fi
done
echo "valgrind: $total processes and $children forked children, $unfinished killed before the end, $stopped stopped by SIGTERM/SIGINT (leaks not counted), $bad with findings"
[ "$total" -gt "$unfinished" ] && [ "$bad" -eq 0 ]
