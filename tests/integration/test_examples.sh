#!/bin/sh
# test_examples.sh: every example is exercised: the crontab lines and the systemd
# ExecStart commands run against mlc-sim (paths swapped for the sandbox's), the CI
# script runs, and the sandbox demo (make demo) runs to its summary, showing stock
# (M3 and ShipStation on-hand before and after the receipts and the item sync) and a
# PO line in transit before its delivery; the BOD demo (make demo-bod) too.
# (examples/mlc.yaml is loaded and validated by tests/unit/test_config.c.)
. tests/integration/lib.sh
sim_start
mkdir -p "$SIM_DIR/log" "$SIM_DIR/bin"
printf 'demo-vault-key-%s\n' "$$" >"$SIM_DIR/vault.key"; chmod 600 "$SIM_DIR/vault.key"
export MLC_VAULT_KEY_FILE="$SIM_DIR/vault.key"
ln -s "$MLC" "$SIM_DIR/bin/mlc"
PATH="$SIM_DIR/bin:$PATH"; export PATH
sandbox() { sed -e "s#/var/log/mlc#$SIM_DIR/log#g" -e 's#| mail [^|]*$#>/dev/null#'; }

# the CI script
MLC="$MLC" OUT="$SIM_DIR" sh examples/ci-run.sh >"$SIM_DIR/ci.out" 2>"$SIM_DIR/ci.err"; rc=$?
check_eq "ci-run.sh fails on rejected input (two seed POs cannot be mapped)" 1 "$rc"
[ "$rc" = 1 ] || sed 's/^/#   /' "$SIM_DIR/ci.err" | tail -n 20
check "and says why on stderr" grep -q "not in mapping.warehouses" "$SIM_DIR/ci.err"
check "ci-run.sh prints its summary" grep -q "for an operator: 0" "$SIM_DIR/ci.out"
check "ci-run.sh wrote the ping report" jq -e . "$SIM_DIR/ping.json"

# crontab: the five time fields, then the command
grep -Ev '^(#|[A-Z_]+=|$)' examples/crontab | awk '{ $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print }' \
  | sandbox >"$SIM_DIR/cron.cmds"
# a PO changes in CloudSuite, so the cron pipeline has something to carry
chg=$(jq -r 'select(.action == "created") | .po' "$SIM_DIR/inbound.jsonl" | head -n 1)
admin POST po "{\"PUNO\":\"$chg\",\"lines\":[{\"PNLI\":10,\"ORQA\":\"555\"}]}" >/dev/null
check "the crontab has the three pipelines" test "$(grep -c 'mlc ' "$SIM_DIR/cron.cmds")" -ge 3
n=0
while IFS= read -r cmd; do
  n=$((n + 1))
  sh -c "$cmd" </dev/null; rc=$?
  case $rc in 0|1) t_ok "crontab line $n runs: $(printf '%.50s' "$cmd")" ;;
              *) t_fail "crontab line $n runs" "exit $rc: $cmd" ;; esac
done <"$SIM_DIR/cron.cmds"
check "cron carried the changed PO to ShipStation" grep -q "\"po\":\"$chg\".*\"action\":\"updated\"" "$SIM_DIR/log/inbound.jsonl"
check "cron logged item records" grep -q '"kind":"item"' "$SIM_DIR/log/items.jsonl"

# systemd: the webhook unit, its ExecStart run as systemd would (only the unit's
# Environment=, paths swapped for the sandbox's, on a free port, -v so that the
# --on-notify runs' lines are logged): a shipment shipped reaches M3 in seconds,
# and the runs had the vault key (no "no vault key" warning from them)
WU=examples/systemd/mlc-webhook.service
check "the webhook unit runs the receipts pipeline on notifications (--on-notify)" \
  grep -Eq "^ExecStart=.*--on-notify '[^']*mlc pull-shipments --webhooks-only \| mlc post-receipts[^']*'" "$WU"
check "the webhook unit sets the vault key file, as the other units do" \
  grep -qx "Environment=MLC_VAULT_KEY_FILE=/etc/mlc/vault.key" "$WU"
sed -n '/^A systemd service/,/^\.EE/p' man/mlc-webhook.1 >"$SIM_DIR/man-unit"
check "mlc-webhook(1)'s unit has the same --on-notify" \
  grep -qF -- '\-\-on\-notify \(aqmlc pull\-shipments \-\-webhooks\-only | mlc post\-receipts' "$SIM_DIR/man-unit"
check "and the vault key file" grep -qx 'Environment=MLC_VAULT_KEY_FILE=/etc/mlc/vault.key' "$SIM_DIR/man-unit"
printf 'hooktoken-%s\n' "$$" >"$SIM_DIR/hook.token"; chmod 600 "$SIM_DIR/hook.token"
curl -s "$SIM_URL/jwks" >"$SIM_DIR/jwks.json"
sim_config_under shipstation "webhook_secret_file: hook.token"
sim_config_under shipstation "webhook_public_key_file: jwks.json"
ucmd=$(sed -n 's/^ExecStart=//p' "$WU" | sed -e 's#127\.0\.0\.1:8080#127.0.0.1:0#' -e 's#^mlc #mlc -v #' -e 's#^/usr/bin/mlc #mlc -v #')
uenv=$(sed -n 's/^Environment=//p' "$WU" | sed -e "s#/etc/mlc/mlc.yaml#$MLC_CONFIG#" -e "s#/etc/mlc/vault.key#$SIM_DIR/vault.key#" \
  -e "s#/var/lib/mlc#$MLC_STATE_DIR#")
# shellcheck disable=SC2086 # one NAME=VALUE word per Environment= line
env -i PATH="$PATH" HOME="$HOME" $uenv sh -c "exec $ucmd" >"$SIM_DIR/hook.out" 2>"$SIM_DIR/hook.err" &
HOOK_PID=$!
wait_until 5 grep -q listening "$SIM_DIR/hook.out"
HOOK_URL=$(sed -n 's/.*url=\(.*\)/\1/p' "$SIM_DIR/hook.out")
"$MLC" webhook subscribe --url "$HOOK_URL" >/dev/null 2>&1
r0=$(state '.m3.receipts | length')
ids=$(state '[.shipstation.v2.shipments[] | select(.shipment_status != "label_purchased") | .shipment_id][:2]')
admin POST ship "{\"ids\":$ids}" >/dev/null
more_receipts() { [ "$(state '.m3.receipts | length')" -gt "$r0" ]; }
check "the webhook unit: a shipment shipped is received in M3 without a cron run" wait_until 30 more_receipts
wait_until 10 grep -q "on-notify run [0-9]*: exit" "$SIM_DIR/hook.err"
check "the webhook unit's --on-notify run ended with exit 0" grep -q "on-notify run 1: exit 0" "$SIM_DIR/hook.err"
check "its runs had the vault key (no 'no vault key' warning)" sh -c "! grep -q 'no vault key' '$SIM_DIR/hook.err'"
kill "$HOOK_PID"; wait "$HOOK_PID"
if command -v systemd-analyze >/dev/null 2>&1; then
  # the units as installed: mlc resolved to this build (systemd-analyze wants an executable)
  mkdir -p "$SIM_DIR/units"
  for u in examples/systemd/*; do sed "s#^ExecStart=mlc #ExecStart=$MLC #" "$u" >"$SIM_DIR/units/$(basename "$u")"; done
  (cd "$SIM_DIR/units" && systemd-analyze verify --man=no ./*.service ./*.timer) >"$SIM_DIR/verify.out" 2>&1
  check_eq "systemd-analyze verify: every unit and timer, no complaint" "" "$(cat "$SIM_DIR/verify.out")"
else
  echo "# skip: no systemd-analyze (Debian package systemd): the units are not verified"
fi

# systemd: the oneshot services' commands, with their declared success codes
for unit in examples/systemd/mlc-inbound.service examples/systemd/mlc-receipts.service; do
  [ "$unit" = examples/systemd/mlc-receipts.service ] && admin POST ship '{"all":true}' >/dev/null
  cmd=$(sed -n 's/^ExecStart=//p' "$unit" | sandbox)
  ok=$(sed -n 's/^SuccessExitStatus=//p' "$unit")
  sh -c "$cmd" >"$SIM_DIR/unit.out" 2>/dev/null </dev/null; rc=$?
  case " 0 $ok " in *" $rc "*) t_ok "$(basename "$unit") runs (exit $rc)" ;;
                    *) t_fail "$(basename "$unit") runs" "exit $rc not in 0 $ok" ;; esac
done
check_eq "the receipts unit posted every shipped line (pushed by cron and the inbound unit)" \
  "$(state '[.shipstation.v2.shipments[] | select(.shipment_status == "label_purchased") | .items | length] | add')" \
  "$(state '.m3.receipts | length')"
for t in examples/systemd/*.timer; do
  check "$(basename "$t") has OnCalendar and a unit to start" grep -q '^OnCalendar=' "$t"
  check "$(basename "$t" .timer).service exists" test -f "examples/systemd/$(basename "$t" .timer).service"
done
if command -v systemd-analyze >/dev/null 2>&1; then
  check "systemd-analyze accepts the timers" sh -c "systemd-analyze calendar '*:0/5' >/dev/null"
fi

# the sandbox demo, as `make demo` runs it
sh examples/demo.sh "$BUILD" >"$SIM_DIR/demo.out" 2>&1; rc=$?
check_eq "the demo runs to the end" 0 "$rc"
check "the demo posts receipts" grep -q "goods receipts posted: *[1-9]" "$SIM_DIR/demo.out" \
  || grep -v '^   receipt' "$SIM_DIR/demo.out" | sed 's/^/#   /' | tail -n 40
check "the demo leaves nothing for an operator" grep -q "left for an operator: *0" "$SIM_DIR/demo.out"
check "the demo replays the exhausted receipt" grep -q "receipt [0-9]*: posted" "$SIM_DIR/demo.out"
# stock: the table after TITLE (item, warehouse, M3 on-hand, ShipStation on-hand)
table() { awk -v t="$1" 'index($0, t) == 1 { on = 1; next } on && /ITEM/ { next }
                         on && /^   ITM/ { print $3, $4; next } on { exit }' "$SIM_DIR/demo.out"; }
table "Stock before" >"$SIM_DIR/st0"; table "Stock after the receipts" >"$SIM_DIR/st1"
table "Stock after mlc sync-items" >"$SIM_DIR/st2"
check "the demo prints stock of a few items three times" \
  sh -c "[ \$(wc -l <'$SIM_DIR/st0') -ge 3 ] && [ \$(wc -l <'$SIM_DIR/st1') -eq \$(wc -l <'$SIM_DIR/st0') ] && [ \$(wc -l <'$SIM_DIR/st2') -eq \$(wc -l <'$SIM_DIR/st0') ]"
check_eq "before: M3 and ShipStation agree" "" "$(awk '$1 != $2' "$SIM_DIR/st0")"
check "after the receipts: M3 on-hand grew, ShipStation's not yet" \
  sh -c "paste -d' ' '$SIM_DIR/st0' '$SIM_DIR/st1' | awk '\$3 > \$1 && \$4 == \$2 { n++ } END { exit !(n >= 1) }'"
check_eq "after mlc sync-items: ShipStation has M3's on-hand" "" "$(awk '$1 != $2' "$SIM_DIR/st2")"
check_eq "and that is the on-hand M3 had after the receipts" "$(cut -d' ' -f1 "$SIM_DIR/st1")" "$(cut -d' ' -f1 "$SIM_DIR/st2")"
check "the item step sets stock in ShipStation" grep -q "stock set in ShipStation: [1-9]" "$SIM_DIR/demo.out"
check "a PO line shows in transit in M3 before delivery" grep -q "ordered \([0-9]*\), in transit [1-9][0-9]*, received 0" "$SIM_DIR/demo.out"
po=$(sed -n 's/.*PO \([0-9]*\) line \([0-9]*\) (.*in transit [1-9].*/\1 \2/p' "$SIM_DIR/demo.out" | head -n 1)
check "and received, no longer in transit, after delivery" grep -q "PO ${po% *} line ${po#* } .*in transit 0, received [1-9]" "$SIM_DIR/demo.out"
check "the demo logs in once" grep -q "ION logins: *1$" "$SIM_DIR/demo.out"
demo_dir=$(sed -n 's/.*Starting the sandbox (mlc-sim) in \([^ ]*\).*/\1/p' "$SIM_DIR/demo.out" | head -n 1)
check "the demo names its sandbox" test -n "$demo_dir"
check "the demo removes its sandbox" test ! -e "$demo_dir"
printf '%s\n' "$demo_dir" >"$SIM_DIR/demo.pat"   # a pattern file: no cmdline carries the path
check_eq "the demo leaves no sandbox running" "" "$(grep -l -a -F -f "$SIM_DIR/demo.pat" /proc/[0-9]*/cmdline 2>/dev/null)"

# the BOD demo, as `make demo-bod` runs it
sh examples/demo-bod.sh "$BUILD" >"$SIM_DIR/demo-bod.out" 2>&1; rc=$?
check_eq "demo-bod runs to the end" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   /' "$SIM_DIR/demo-bod.out" | tail -n 30
check "demo-bod: ping fails (exit 78) while the receipt document is not accepted" \
  sh -c "grep -q 'ion-ims .*FAIL.*does not accept Process.ReceiveDelivery' '$SIM_DIR/demo-bod.out' && grep -q '^   exit 78\$' '$SIM_DIR/demo-bod.out'"
check "demo-bod: then ping says ion-ims ok" grep -q "^   ion-ims *ok" "$SIM_DIR/demo-bod.out"
check "demo-bod: advance ship notices applied, lines in transit" \
  grep -q "[1-9][0-9]* Sync.AdvanceShipNotice BODs applied; in transit: [1-9]" "$SIM_DIR/demo-bod.out"
sent=$(grep -c "^   receipt [0-9]*: PO .*: sent as mlc-rcv-" "$SIM_DIR/demo-bod.out")
check "demo-bod: receipts sent as BODs" test "$sent" -gt 0
check "demo-bod: the rejected one needs review, with its messageId and OneView" \
  grep -q "needs_review .*sent to ION as messageId mlc-rcv-.*OneView" "$SIM_DIR/demo-bod.out"
check "demo-bod: the operator's replay sends it again" grep -q "^   receipt [0-9]*: sent again as mlc-rcv-" "$SIM_DIR/demo-bod.out"
check "demo-bod: every receipt posted, each PO line once in M3, nothing left" sh -c \
  "grep -q 'receipts posted through ION: *$sent\$' '$SIM_DIR/demo-bod.out' && grep -q 'M3 receipts from BODs: *$sent (each PO line once: true)' '$SIM_DIR/demo-bod.out' && grep -q 'left for an operator: *0\$' '$SIM_DIR/demo-bod.out'"
bod_dir=$(sed -n 's/.*Starting the sandbox (mlc-sim) in \([^ ]*\).*/\1/p' "$SIM_DIR/demo-bod.out" | head -n 1)
check "demo-bod: removes its sandbox" sh -c "test -n '$bod_dir' && test ! -e '$bod_dir'"
t_done
