#!/bin/sh
# tests/integration/test_progress.sh (issue 19 item 5): the progress line of the long
# runs besides pull-pos (test_status.sh has pull-pos, TERM=dumb, --no-progress and the
# rate-window wait): push-shipments (total unknown: count and rate), sync-items and
# replay (total known: count/total, rate and an ETA that agrees with the rate and
# what is left), on a pseudo-terminal (script(1)); none when stderr is a pipe or a
# file. The sim's latency faults make each run last long enough to be redrawn.
# Not here: the line's format to the character (tests/unit/test_log.c, on openpty).
. "$(dirname "$0")/lib.sh"
command -v script >/dev/null || t_skip_all "no script(1) (util-linux)"
sim_start
sim_config_under cloudsuite "bulk_read_size: 30"
sim_config_add "    receipts: {base_ms: 1, cap_ms: 20, max_attempts: 2}"

# on_tty OUT CMD: runs CMD (a shell line) with stdout/stderr on a pseudo-terminal,
# the terminal's bytes to OUT, one progress redraw per line (CR -> LF)
on_tty() { _o=$1; shift; script -qfec "$1" /dev/null </dev/null | tr '\r' '\n' >"$_o"; }
latency() { admin POST faults "{\"rules\":[{\"match\":\"$1\",\"kind\":\"latency\",\"ms\":$2,\"probability\":1}]}" >/dev/null; }
# eta_disagrees FILE WHAT: prints the "WHAT: d/t, r/s, ETA e" lines of FILE whose e is
# not (t - d) / r (within a second and 2%: e is rounded, r printed to 0.1)
eta_disagrees() {
  grep -a "$2: [0-9]*/[0-9]*, .*ETA" "$1" | sed 's/\x1b\[K//g' | awk -v w=": $2: " '{
    s = substr($0, index($0, w) + length(w)); split(s, a, /[\/, ]+/)
    d = a[1]; t = a[2]; r = a[3]; e = a[6]
    if (e !~ /^[0-9]+s$/) { print; next }   # minutes and hours: not reached here
    sub(/s$/, "", e); e += 0
    want = (t - d) / r; if (r + 0 <= 0) { print; next }; if (e < want - 1 - want * 0.02 || e > want + 1 + want * 0.02) print }'
}

# ---- push-shipments: the POs read so far and the rate (the total is not known)
"$MLC" pull-pos >"$SIM_DIR/pos.jsonl" 2>/dev/null
npo=$(wc -l <"$SIM_DIR/pos.jsonl")
latency "GET /v2/*" 100
on_tty "$SIM_DIR/push.tty" "'$MLC' push-shipments <'$SIM_DIR/pos.jsonl' >'$SIM_DIR/ib.jsonl'"
admin DELETE faults >/dev/null
check "push-shipments on a terminal: the progress line" grep -aq "^mlc push-shipments: POs read: [0-9]" "$SIM_DIR/push.tty"
check "push-shipments: with the rate once measured (N, R/s)" \
  grep -aEq "^mlc push-shipments: POs read: [0-9]+, [0-9]+\.[0-9]/s" "$SIM_DIR/push.tty"
check "push-shipments: the last redraw counts every PO read ($npo)" \
  grep -aEq "^mlc push-shipments: POs read: $npo(, |$(printf '\033'))" "$SIM_DIR/push.tty"
check "push-shipments: no ETA (the total is not known)" sh -c "! grep -aq 'POs read.*ETA' '$SIM_DIR/push.tty'"
"$MLC" push-shipments <"$SIM_DIR/pos.jsonl" 2>&1 >/dev/null | cat >"$SIM_DIR/push.pipe"
check "push-shipments, stderr a pipe: no progress line" sh -c "! grep -aq 'POs read' '$SIM_DIR/push.pipe'"
"$MLC" push-shipments <"$SIM_DIR/pos.jsonl" >/dev/null 2>"$SIM_DIR/push.file"
check "push-shipments, stderr a file: no progress line" sh -c "! grep -aq 'POs read' '$SIM_DIR/push.file'"

# ---- sync-items: items done/total, the rate and an ETA
latency "M3 *" 100
on_tty "$SIM_DIR/items.tty" "'$MLC' sync-items >/dev/null"
admin DELETE faults >/dev/null
nitems=$(sed -n 's/^mlc sync-items: items: [0-9]*\/\([0-9]*\).*/\1/p' "$SIM_DIR/items.tty" | tail -n 1)
check "sync-items on a terminal: items done/total ($nitems)" test "${nitems:-0}" -gt 30
check "sync-items: a redraw with the rate and the ETA" \
  grep -aEq "^mlc sync-items: items: [0-9]+/$nitems, [0-9]+\.[0-9]/s, ETA [0-9]+s" "$SIM_DIR/items.tty"
check_eq "sync-items: every ETA agrees with the rate and what is left" "" "$(eta_disagrees "$SIM_DIR/items.tty" items)"
check "sync-items: the last redraw is all done, with the rate and no ETA" \
  grep -aEq "^mlc sync-items: items: $nitems/$nitems, [0-9]+\.[0-9]/s$(printf '\033')\[K$" "$SIM_DIR/items.tty"
"$MLC" sync-items 2>&1 >/dev/null | cat >"$SIM_DIR/items.pipe"
check "sync-items, stderr a pipe: no progress line" sh -c "! grep -aq 'items: [0-9]' '$SIM_DIR/items.pipe'"
"$MLC" sync-items >/dev/null 2>"$SIM_DIR/items.file"
check "sync-items, stderr a file: no progress line" sh -c "! grep -aq 'items: [0-9]' '$SIM_DIR/items.file'"

# ---- replay: receipts queued by an M3 outage, replayed when it is back
ids=$(jq -r 'select(.action == "created") | .shipstation_id' "$SIM_DIR/ib.jsonl" | head -n 6 | jq -R . | jq -sc .)
admin POST ship "{\"ids\":$ids}" >/dev/null
admin POST faults '{"rules":[{"match":"M3 MHS850MI/AddPOReceipt","kind":"503","probability":1},{"match":"M3 PPS001MI/Receipt","kind":"503","probability":1}]}' >/dev/null
"$MLC" pull-shipments 2>/dev/null | "$MLC" post-receipts >/dev/null 2>&1
admin DELETE faults >/dev/null
queued=$(state_sql "select id from receipt where state = 'queued'" | tr '\n' ' ')
nq=$(echo $queued | wc -w)
check "an M3 outage queued receipts ($nq)" test "$nq" -ge 3
latency "M3 *" 100
on_tty "$SIM_DIR/replay.tty" "'$MLC' replay $queued >/dev/null"
admin DELETE faults >/dev/null
check_eq "replay posted them" "$nq" "$(db_count "select count(*) from receipt where state = 'posted' and id in ($(echo $queued | tr ' ' ','))")"
check "replay on a terminal: receipts done/total with the rate and the ETA" \
  grep -aEq "^mlc replay: receipts: [0-9]+/$nq, [0-9]+\.[0-9]/s, ETA [0-9]+s" "$SIM_DIR/replay.tty"
check_eq "replay: every ETA agrees with the rate and what is left" "" "$(eta_disagrees "$SIM_DIR/replay.tty" receipts)"
check "replay: the last redraw is all done, no ETA" \
  grep -aEq "^mlc replay: receipts: $nq/$nq, [0-9]+\.[0-9]/s$(printf '\033')\[K$" "$SIM_DIR/replay.tty"
# the same replay again (now already posted, still one redraw per receipt on a terminal)
on_tty "$SIM_DIR/replay2.tty" "'$MLC' replay $queued >/dev/null"
check "replay again on a terminal: the progress line (the control for the next two)" \
  grep -aq "^mlc replay: receipts: $nq/$nq" "$SIM_DIR/replay2.tty"
"$MLC" replay $queued 2>&1 >/dev/null | cat >"$SIM_DIR/replay.pipe"
check "replay, stderr a pipe: no progress line" sh -c "! grep -aq 'receipts: [0-9]' '$SIM_DIR/replay.pipe'"
"$MLC" replay $queued >/dev/null 2>"$SIM_DIR/replay.file"
check "replay, stderr a file: no progress line" sh -c "! grep -aq 'receipts: [0-9]' '$SIM_DIR/replay.file'"
t_done
