#!/bin/sh
# test_run.sh: the plumbing the record-moving commands share (cmd/run.c): a bad
# input line is named by its line number, kept whole in the rejected table, and
# nothing after it is lost; a reader that went away (EPIPE, `| head`) ends the
# output quietly, and the exit code is the one rule of mlc(1): the reader going
# away changes nothing by itself. Covered: pull-pos, pull-shipments, post-receipts,
# push-shipments, sync-items.
. tests/integration/lib.sh
sim_start
DB="$MLC_STATE_DIR/sim.db"

# | head -n 1: pull-pos stops quietly at EPIPE with 0 (mlc's own code, not head's)
{ "$MLC" pull-pos --no-cursor --status 0-99 2>"$SIM_DIR/h.err"; echo $? >"$SIM_DIR/h.rc"; } | head -n 1 >"$SIM_DIR/h.out"
check_eq "pull-pos | head -n 1: one record read" 1 "$(grep -c '"kind":"purchase_order"' "$SIM_DIR/h.out")"
check_eq "pull-pos | head -n 1: mlc exits 0" 0 "$(cat "$SIM_DIR/h.rc")"
check_eq "pull-pos | head -n 1: nothing on stderr" "" "$(cat "$SIM_DIR/h.err")"
# a reader gone before the first record: the cursor does not move
{ sleep 0.3; "$MLC" pull-pos 2>"$SIM_DIR/c.err"; echo $? >"$SIM_DIR/c.rc"; } | true
check_eq "pull-pos into a closed pipe: exit 0" 0 "$(cat "$SIM_DIR/c.rc")"
check_eq "pull-pos into a closed pipe: the cursor did not move" 0 \
  "$(db_count "select count(*) from cursor where stream='pull-pos'")"

# a bad line among others: named, kept whole, nothing after it lost
printf '%s\n' '{"kind":"note","n":1}' '{bad' '{"kind":"note","n":3}' >"$SIM_DIR/in.jsonl"
"$MLC" post-receipts "$SIM_DIR/in.jsonl" >"$SIM_DIR/b.out" 2>"$SIM_DIR/b.err"; rc=$?
check_eq "a rejected line: exit 1" 1 "$rc"
check "it is named by file and line" grep -q "$SIM_DIR/in.jsonl:2:" "$SIM_DIR/b.err"
check_eq "the records around it pass through" "1 3" "$(jq -r .n "$SIM_DIR/b.out" | tr '\n' ' ' | sed 's/ $//')"
check_eq "kept whole with its line number and place" "2|{bad|1" \
  "$(sqlite3 "$DB" "select lineno, cast(line as text), instr(reason, 'in.jsonl:2:') > 0 from rejected where command='post-receipts'")"

# pull-shipments into a closed pipe: a notification to retry still makes it 75
"$MLC" pull-pos 2>/dev/null | "$MLC" push-shipments >"$SIM_DIR/ib.jsonl" 2>/dev/null
a=$(jq -r 'select(.action == "created") | .shipstation_id' "$SIM_DIR/ib.jsonl" | head -n 1)
admin POST ship "{\"ids\":[\"$a\"]}" >/dev/null
sqlite3 "$DB" "INSERT INTO inbox(received_at,resource_type,resource_url,body) VALUES('2026-11-20T10:00:00Z','fulfillment_shipped_v2','$SIM_URL/v2/shipments/se-nothere','{}')"
{ sleep 0.3; "$MLC" pull-shipments 2>"$SIM_DIR/s.err"; echo $? >"$SIM_DIR/s.rc"; } | true
check_eq "pull-shipments into a closed pipe, a notification to retry: exit 75" 75 "$(cat "$SIM_DIR/s.rc")"
check "the notification's failure is named" grep -q "HTTP 404" "$SIM_DIR/s.err"
check_eq "the cursor did not move" 0 "$(db_count "select count(*) from cursor where stream like 'pull-shipments%'")"

# post-receipts into a closed pipe: everything is still posted; the rejected line still counts (1)
shipments_from_pos 1 >"$SIM_DIR/ship.jsonl"
lines=$(jq '.items | length' "$SIM_DIR/ship.jsonl" | awk '{s += $1} END {print s}')
{ echo '{oops'; cat "$SIM_DIR/ship.jsonl"; } >"$SIM_DIR/in2.jsonl"
{ sleep 0.3; "$MLC" post-receipts "$SIM_DIR/in2.jsonl" 2>"$SIM_DIR/p.err"; echo $? >"$SIM_DIR/p.rc"; } | true
check_eq "post-receipts into a closed pipe with a rejected line: exit 1" 1 "$(cat "$SIM_DIR/p.rc")"
check_eq "and every shipped line was received all the same" "$lines" "$(state '.m3.receipts | length')"
check "no word about the closed pipe" sh -c "! grep -qi 'pipe' '$SIM_DIR/p.err'"

# push-shipments: a bad line between two POs is named SOURCE:LINE, kept whole, and both POs are handled
"$MLC" pull-pos --no-cursor --status 0-99 >"$SIM_DIR/pos.jsonl" 2>/dev/null
p1=$(jq -r 'select(.action == "created") | .po' "$SIM_DIR/ib.jsonl" | sed -n 1p)
p2=$(jq -r 'select(.action == "created") | .po' "$SIM_DIR/ib.jsonl" | sed -n 2p)
{ jq -c --arg p "$p1" 'select(.po == $p)' "$SIM_DIR/pos.jsonl"; echo '{bad'
  jq -c --arg p "$p2" 'select(.po == $p)' "$SIM_DIR/pos.jsonl"; } >"$SIM_DIR/ps.jsonl"
"$MLC" push-shipments "$SIM_DIR/ps.jsonl" >"$SIM_DIR/ps.out" 2>"$SIM_DIR/ps.err"; rc=$?
check_eq "push-shipments, a bad line: exit 1" 1 "$rc"
check "push-shipments: the bad line is named by file and line" grep -q "$SIM_DIR/ps.jsonl:2:" "$SIM_DIR/ps.err"
check_eq "push-shipments: the POs around it are handled" "$p1 $p2" "$(jq -r .po "$SIM_DIR/ps.out" | tr '\n' ' ' | sed 's/ $//')"
check_eq "push-shipments: the line kept whole" "2|{bad" \
  "$(sqlite3 "$DB" "select lineno, cast(line as text) from rejected where command='push-shipments' and source='$SIM_DIR/ps.jsonl'")"

# sync-items | head -n 1: stops quietly with 0 (mlc's own code), the cursor stays
{ "$MLC" sync-items 2>"$SIM_DIR/sh.err"; echo $? >"$SIM_DIR/sh.rc"; } | head -n 1 >"$SIM_DIR/sh.out"
check_eq "sync-items | head -n 1: one record read" 1 "$(grep -c '"kind":"item"' "$SIM_DIR/sh.out")"
check_eq "sync-items | head -n 1: mlc exits 0" 0 "$(cat "$SIM_DIR/sh.rc")"
check_eq "sync-items | head -n 1: nothing on stderr but the summary" "" "$(grep -v ' updated, ' "$SIM_DIR/sh.err")"
check_eq "sync-items | head -n 1: the cursor did not move" 0 "$(db_count "select count(*) from cursor where stream='sync-items'")"
# an output that fails at the last flush (a record buffered, then a full disk) is an
# I/O error (74), not a quiet 0
sku=$(jq -r .sku "$SIM_DIR/sh.out")
"$MLC" sync-items --sku "$sku" >/dev/full 2>"$SIM_DIR/si.err"; rc=$?
check_eq "sync-items --sku > /dev/full: exit 74" 74 "$rc"
check "sync-items --sku > /dev/full: the write error is named" grep -q "No space left on device" "$SIM_DIR/si.err"

# | head -n 1 on a fresh state: push-shipments stops writing quietly; mlc's own code
# (not head's) is the rule's: the rejected lines (1) outrank the creates left for later (75)
sim_stop; rm -rf "$SIM_DIR"
sim_start
DB="$MLC_STATE_DIR/sim.db"
sim_config_add "    retry: {max_attempts: 1, base_ms: 1, cap_ms: 5}"
"$MLC" pull-pos >"$SIM_DIR/pos.jsonl" 2>/dev/null
{ seq 1 20000 | sed 's/.*/{"kind":"note","n":&}/'; echo '{bad'; cat "$SIM_DIR/pos.jsonl"; } >"$SIM_DIR/ph.jsonl"
admin POST faults '{"rules":[{"match":"POST /v2/shipments","kind":"500","next":50}]}' >/dev/null
{ "$MLC" push-shipments "$SIM_DIR/ph.jsonl" 2>"$SIM_DIR/ph.err"; echo $? >"$SIM_DIR/ph.rc"; } | head -n 1 >"$SIM_DIR/ph.out"
check_eq "push-shipments | head -n 1: one record read" '{"kind":"note","n":1}' "$(cat "$SIM_DIR/ph.out")"
check_eq "push-shipments | head -n 1, rejected lines and creates left for later: mlc exits 1" 1 "$(cat "$SIM_DIR/ph.rc")"
check "push-shipments | head -n 1: the bad line is named" grep -q "$SIM_DIR/ph.jsonl:20001:" "$SIM_DIR/ph.err"
check "push-shipments | head -n 1: no word about the closed pipe" sh -c "! grep -qi 'pipe' '$SIM_DIR/ph.err'"
check_eq "push-shipments | head -n 1: the creates were still tried, their intents kept" \
  "$(jq -r .po "$SIM_DIR/pos.jsonl" | wc -l)" \
  "$(( $(db_count "select count(*) from link") + $(db_count "select count(*) from rejected where command='push-shipments' and source='$SIM_DIR/ph.jsonl'") - 1 ))"
admin DELETE faults >/dev/null

t_done
