#!/bin/sh
# test_hardening.sh: smaller findings of issue 17. Integer settings out of range
# (bulk_size 0, -5) and a YAML alias bomb are configuration errors (exit 78,
# file:line:column, at once); a vault at 0644 is refused by ping and pull-pos
# exactly as by creds; an .ionapi URL with user information is never printed.
. tests/integration/lib.sh
sim_start
cp "$MLC_CONFIG" "$SIM_DIR/mlc.yaml.orig"

sim_config_under cloudsuite "bulk_size: 0"
"$MLC" pull-pos >/dev/null 2>"$SIM_DIR/e1"; rc=$?
check_eq "bulk_size: 0 -> exit 78" 78 "$rc"
check "and names file:line:col" grep -q "mlc.yaml:[0-9]*:[0-9]*: 'profiles.sim.cloudsuite.bulk_size' must be an integer 1-10000, not '0'" "$SIM_DIR/e1"
sed -i 's/bulk_size: 0/bulk_size: -5/' "$MLC_CONFIG"
"$MLC" post-receipts </dev/null >/dev/null 2>"$SIM_DIR/e2"; rc=$?
check_eq "bulk_size: -5 -> exit 78" 78 "$rc"
check "and names it" grep -q "bulk_size' must be an integer 1-10000, not '-5'" "$SIM_DIR/e2"
cp "$SIM_DIR/mlc.yaml.orig" "$MLC_CONFIG"

# alias bomb: 9 nested levels of 9 aliases (387 million nodes if expanded)
{
  cat "$SIM_DIR/mlc.yaml.orig"
  echo "bomb:"
  echo "  a: &a [x, x, x, x, x, x, x, x, x]"
  prev=a
  for l in b c d e f g h i; do
    echo "  $l: &$l [*$prev, *$prev, *$prev, *$prev, *$prev, *$prev, *$prev, *$prev, *$prev]"; prev=$l
  done
} >"$SIM_DIR/bomb.yaml"
t0=$(date +%s)
timeout 20 "$MLC" --config "$SIM_DIR/bomb.yaml" queue >/dev/null 2>"$SIM_DIR/e3"; rc=$?
check_eq "alias bomb -> exit 78 (not a hang)" 78 "$rc"
check "within seconds ($(( $(date +%s) - t0 )) s)" test $(( $(date +%s) - t0 )) -le 5
check "and says why, with the position" grep -q "bomb.yaml:[0-9]*:[0-9]*: more than 100000 nodes with aliases expanded" "$SIM_DIR/e3"

# vault at 0644: refused everywhere, exactly as creds refuses it
"$MLC" pull-pos >/dev/null 2>&1   # creates the vault (token cache)
VAULT="$MLC_STATE_DIR/sim.vault"
check "the vault exists" test -f "$VAULT"
chmod 644 "$VAULT"
"$MLC" creds list >/dev/null 2>"$SIM_DIR/c.err"; crc=$?
"$MLC" ping >/dev/null 2>"$SIM_DIR/p.err"; prc=$?
"$MLC" pull-pos >/dev/null 2>"$SIM_DIR/pp.err"; pprc=$?
check_eq "creds, ping and pull-pos all exit 78" "78 78 78" "$crc $prc $pprc"
check "creds says the permissions are too open" grep -q "permissions 0644 are too open" "$SIM_DIR/c.err"
check "ping says the same" grep -q "permissions 0644 are too open" "$SIM_DIR/p.err"
check "pull-pos says the same" grep -q "permissions 0644 are too open" "$SIM_DIR/pp.err"
check "and neither reports 'no vault key'" test "$(cat "$SIM_DIR/p.err" "$SIM_DIR/pp.err" | grep -c 'no vault key')" -eq 0
chmod 600 "$VAULT"
# a key file at 0644 is refused too, not taken for "no key"
chmod 644 "$SIM_DIR/vault.key"
"$MLC" pull-pos >/dev/null 2>"$SIM_DIR/k.err"; rc=$?
check_eq "a key file at 0644: exit 78" 78 "$rc"
check "naming the key file" grep -q "vault.key: permissions 0644 are too open" "$SIM_DIR/k.err"
chmod 600 "$SIM_DIR/vault.key"

# .ionapi URLs with user information: masked in every message
jq '.iu = "ftp://iuser:Iu5ecret@127.0.0.1:9" | .pu = "http://puser:Pu5ecret@127.0.0.1:9/T/as/"' \
  "$SIM_DIR/tenant.ionapi" >"$SIM_DIR/ui.ionapi"; chmod 600 "$SIM_DIR/ui.ionapi"
sed -i 's/ionapi: tenant.ionapi/ionapi: ui.ionapi/' "$MLC_CONFIG"
rm -f "$VAULT"   # no cached token: the .ionapi file is used
"$MLC" -vv ping >/dev/null 2>"$SIM_DIR/u1.err"
jq '.iu = "http://iuser:Iu5ecret@127.0.0.1:9"' "$SIM_DIR/ui.ionapi" >"$SIM_DIR/ui2.ionapi"; chmod 600 "$SIM_DIR/ui2.ionapi"
sed -i 's/ionapi: ui.ionapi/ionapi: ui2.ionapi/' "$MLC_CONFIG"
"$MLC" -vv pull-pos >/dev/null 2>"$SIM_DIR/u2.err"
check "an error message was printed" test -s "$SIM_DIR/u1.err" -a -s "$SIM_DIR/u2.err"
check_eq "no password from an .ionapi URL in any message" 0 "$(cat "$SIM_DIR/u1.err" "$SIM_DIR/u2.err" | grep -c 'Iu5ecret\|Pu5ecret')"
check "the URL is shown masked" grep -q '\*\*\*@127.0.0.1' "$SIM_DIR/u1.err" "$SIM_DIR/u2.err"
t_done
