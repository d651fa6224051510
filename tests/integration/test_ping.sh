#!/bin/sh
# tests/integration/test_ping.sh: `mlc ping` against mlc-sim: both systems ok,
# token reuse across processes (the sim's login counter stays 1), refresh before
# expiry (--token-lifetime), a 401 mid-run (fault token_expiry), wrong secret and
# wrong client (exit 78), unreachable (exit 69), key file permissions, and no
# secret in any stdout, stderr or state file.
. "$(dirname "$0")/lib.sh"

OUT=$(mktemp -d "${TMPDIR:-/tmp}/mlc-ping-out.XXXXXX")
n=0
# run NAME ARGS...: runs mlc, keeps stdout/stderr in $OUT, sets RC, O (stdout), E (stderr)
run() {
  n=$((n + 1)); _name=$1; shift
  "$MLC" "$@" >"$OUT/$n.$_name.out" 2>"$OUT/$n.$_name.err"; RC=$?
  O=$(cat "$OUT/$n.$_name.out"); E=$(cat "$OUT/$n.$_name.err")
}
logins() { state '.counters.logins'; }
refreshes() { state '.counters.refreshes'; }

# secrets of a sim directory, one per line
secrets_of() {
  jq -r '.cs, .sask, .saak' "$1/tenant.ionapi"
  cat "$1/shipstation-v2.key"; echo
  tr ':' '\n' <"$1/shipstation-v1.key"; echo
}
# scan DIR...: fails if a secret of $SECRETS (file) appears in any file under the dirs
scan() {
  _hits=""
  while IFS= read -r s; do
    [ ${#s} -ge 6 ] || continue
    if grep -rqF -- "$s" "$@" 2>/dev/null; then _hits="$_hits ${s%"${s#????}"}..."; fi
  done <"$SECRETS"
  [ -z "$_hits" ] || { echo "secrets found:$_hits"; return 1; }
}

sim_start
SECRETS=$OUT/../mlc-ping-secrets.$$
secrets_of "$SIM_DIR" >"$SECRETS"
export MLC_VAULT_KEY="it-vault-key-$$"

run ping ping
check_eq "ping: exit 0 with both systems ok" "0" "$RC"
[ "$RC" = 0 ] || printf '%s\n%s\n' "$O" "$E" | sed 's/^/#   /'
case "$O" in *cloudsuite*ok*) t_ok "ping: cloudsuite ok line" ;; *) t_fail "ping: cloudsuite ok line" "$O" ;; esac
case "$O" in *shipstation-v2*ok*) t_ok "ping: shipstation v2 ok line" ;; *) t_fail "ping: shipstation v2 ok line" "$O" ;; esac
check_eq "ping: quiet on stderr" "" "$E"

run ping ping
run ping ping
run ping_json ping --json
[ "$RC" = 0 ] || printf 'ping --json: exit %s\n%s\n%s\n' "$RC" "$O" "$E" | sed 's/^/#   /'
check_eq "token reused across 4 processes: 1 login" "1" "$(logins)"
check_eq "ping --json: cloudsuite ok" "true" "$(printf '%s\n' "$O" | jq -r 'select(.system=="cloudsuite") | .ok')"
check_eq "ping --json: tenant" "$(jq -r .ti "$SIM_DIR/tenant.ionapi")" \
  "$(printf '%s\n' "$O" | jq -r 'select(.system=="cloudsuite") | .tenant')"
check_eq "ping --json: cono" "100" "$(printf '%s\n' "$O" | jq -r 'select(.system=="cloudsuite") | .cono')"
check_eq "ping --json: token expiry reported" "1" \
  "$(printf '%s\n' "$O" | jq -r 'select(.system=="cloudsuite") | if (.token_ttl_s > 0) then 1 else 0 end')"
check_eq "ping --json: V1 answered too" "true" "$(printf '%s\n' "$O" | jq -r 'select(.system=="shipstation-v1") | .ok')"
check_eq "ping --json: rate-limit headroom reported" "true" \
  "$(printf '%s\n' "$O" | jq -r 'select(.system=="shipstation-v2") | has("rate_remaining")')"

# a 401 in the middle of a run: refresh once, replay once
admin POST faults '{"rules":[{"match":"M3 GENERAL/GetUserInfo","kind":"token_expiry","next":1}]}' >/dev/null
before_l=$(logins); before_r=$(refreshes)
run ping_401 ping
check_eq "401 mid-run: ping still ok" "0" "$RC"
check_eq "401 mid-run: one refresh, no new login" "$((before_r + 1)) $before_l" "$(refreshes) $(logins)"
admin DELETE faults >/dev/null

# without a vault key the token cannot be cached, but ping works from the files
( unset MLC_VAULT_KEY MLC_VAULT_KEY_FILE; "$MLC" ping >"$OUT/nokey.out" 2>"$OUT/nokey.err" </dev/null ); rc=$?
check_eq "no vault key: still works from the config's files (existing vault unreadable)" "0" "$rc"
case "$(cat "$OUT/nokey.err")" in *"no vault key"*"logs in"*) t_ok "no vault key: warns that every run logs in" ;;
  *) t_fail "no vault key: warns that every run logs in" "$(cat "$OUT/nokey.err")" ;; esac

# loose key file: refused
chmod 644 "$SIM_DIR/shipstation-v2.key"
run ping_loose ping
check_eq "loose ShipStation key file: exit 78" "78" "$RC"
case "$O$E" in *"too open"*) t_ok "loose key file: says why" ;; *) t_fail "loose key file: says why" "$O $E" ;; esac
chmod 600 "$SIM_DIR/shipstation-v2.key"

# wrong secret / wrong client (a different .ionapi: the cached token is not theirs)
GOOD=$SIM_DIR/good.ionapi.keep
cp "$SIM_DIR/tenant.ionapi" "$GOOD"
jq '.sask = "wrong-sask-value-123"' "$GOOD" >"$SIM_DIR/tenant.ionapi"
run ping_badsask ping
check_eq "wrong service-account secret: exit 78" "78" "$RC"
case "$O$E" in *saak/sask*) t_ok "wrong secret: names saak/sask" ;; *) t_fail "wrong secret: names saak/sask" "$O $E" ;; esac
jq '.cs = "wrong-client-secret-123"' "$GOOD" >"$SIM_DIR/tenant.ionapi"
run ping_badcs ping
check_eq "wrong client secret: exit 78" "78" "$RC"
case "$O$E" in *ci/cs*) t_ok "wrong client: names ci/cs" ;; *) t_fail "wrong client: names ci/cs" "$O $E" ;; esac
cp "$GOOD" "$SIM_DIR/tenant.ionapi"; chmod 600 "$SIM_DIR/tenant.ionapi"

check "no secret in any output or state file" scan "$OUT" "$SIM_DIR/state"
check "vault does not hold the token in clear" sh -c "! grep -rq access_token '$SIM_DIR/state'"

# unreachable
sim_stop
run ping_down ping
check_eq "systems unreachable: exit 69" "69" "$RC"

# refresh before expiry: a short token lifetime
SIM_DIR_OLD=$SIM_DIR
# (stretched under valgrind: a slow first ping must not itself reach the refresh point)
sim_start --token-lifetime $((4 * T_SLOW))
export MLC_VAULT_KEY="it-vault-key-$$"
secrets_of "$SIM_DIR" >>"$SECRETS"
run ping_short ping
sleep $((4 * T_SLOW))
run ping_short2 ping
check_eq "short-lived token: refreshed, not a new login" "1 1" "$(logins) $(refreshes)"
check_eq "short-lived token: ping ok after expiry" "0" "$RC"
check "no secret in any output or state file (second sim)" scan "$OUT" "$SIM_DIR/state"
rm -rf "$SIM_DIR_OLD" "$OUT" "$SECRETS"
t_done
