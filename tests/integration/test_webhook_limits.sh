#!/bin/sh
# test_webhook_limits.sh: `mlc webhook serve` against slow clients (issue 17).
# Clients on 127.0.0.2 open connections and send a body byte a second, which
# restarts libmicrohttpd's idle timeout for ever. With the connection slots all
# theirs and no request deadline they lock a real notification (127.0.0.1) out
# (the control); the per-client cap and the whole-request deadline each let it
# through. Loopback only, every client bounded by `timeout`, stops by itself.
. tests/integration/lib.sh
sim_start
printf 'hooktoken-%s\n' "$$" >"$SIM_DIR/hook.token"; chmod 600 "$SIM_DIR/hook.token"
sim_config_under shipstation "webhook_secret_file: hook.token"
TOKEN=$(cat "$SIM_DIR/hook.token")
STOP="$SIM_DIR/stop"
HOOK_PID=

serve() { # serve OPTIONS...: (re)starts the listener; sets HOOK_URL
  [ -n "$HOOK_PID" ] && { kill "$HOOK_PID"; wait "$HOOK_PID" 2>/dev/null; }
  rm -f "$SIM_DIR/hook.out" # (the child truncates it only once it runs: no stale URL)
  "$MLC" webhook serve --listen 127.0.0.1:0 "$@" >"$SIM_DIR/hook.out" 2>"$SIM_DIR/hook.err" &
  HOOK_PID=$!
  wait_until 10 grep -q listening "$SIM_DIR/hook.out" || { echo "# serve did not start:"; sed 's/^/#   /' "$SIM_DIR/hook.err"; }
  HOOK_URL=$(sed -n 's/.*url=\(.*\)/\1/p' "$SIM_DIR/hook.out")
}
# diag: what the listener said (on a failure)
diag() { echo "# listener $HOOK_URL (pid $HOOK_PID, $(kill -0 "$HOOK_PID" 2>/dev/null && echo alive || echo gone)):"; tail -n 5 "$SIM_DIR/hook.err" | sed 's/^/#   /'; tail -n 8 "$SIM_DIR/real.log" | sed 's/^/#   /'; _p=${HOOK_URL##*:}; _p=${_p%/}; ss -ltnp 2>/dev/null | grep "pid=$HOOK_PID," | sed 's/^/#   listen: /'; ls -la /proc/$HOOK_PID/fd 2>/dev/null | grep -c socket | sed 's/^/#   sockets: /'; head -3 "$SIM_DIR/hook.out" | sed 's/^/#   out: /'; }
# slow client: a POST whose body comes one byte a second, from 127.0.0.2; reconnects
# when cut, until $STOP exists (and at most 40 s)
attacker() {
  end=$(($(date +%s) + 40))
  while [ ! -f "$STOP" ] && [ "$(date +%s)" -lt "$end" ]; do
    (while [ ! -f "$STOP" ]; do printf x; sleep 1; done) |
      timeout 40 curl -s -o /dev/null --interface 127.0.0.2 -X POST -T - -H 'Content-Type: application/json' \
        "$HOOK_URL$TOKEN" 2>/dev/null
    sleep 0.5 # refused or cut: back again soon (not a fork storm on a busy test machine)
  done
}
attack() { # attack N: starts N slow clients, waits for them to connect
  rm -f "$STOP"; APIDS=
  i=0; while [ $i -lt "$1" ]; do attacker & APIDS="$APIDS $!"; i=$((i + 1)); done
  sleep 2
}
stop_attack() { touch "$STOP"; for p in $APIDS; do wait "$p" 2>/dev/null; done; }
# real SECONDS: one real notification, retried while refused, for SECONDS at most;
# prints the HTTP status of the last try
real() {
  end=$(($(date +%s) + $1)); code=000
  while [ "$(date +%s)" -lt "$end" ]; do
    code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
      --data '{"resource_url":"'"$SIM_URL"'/v2/shipments/se-1","resource_type":"fulfillment_shipped_v2"}' \
      "$HOOK_URL$TOKEN")
    echo "try $(date +%s.%N | cut -c1-14) -> $code rc=$?" >>"$SIM_DIR/real.log"
    [ "$code" = 200 ] && break
  done
  echo "$code"
}

# control: 8 slots, all theirs, no effective deadline: the real notification is locked out
serve --max-connections 8 --max-per-client 8 --request-timeout 3600
attack 12
check_eq "control: slow clients holding every slot lock a real notification out" 000 "$(real 4)"
stop_attack
check_eq "control: once they are gone it is stored (the listener was there)" 200 "$(real 10)"

# the per-client cap: they get at most 4 of the 8 slots
serve --max-connections 8 --max-per-client 4 --request-timeout 3600
attack 12
t0=$(date +%s)
r=$(real 15); check_eq "per-client cap: the real notification is stored" 200 "$r"; [ "$r" = 200 ] || diag
check "at once, no deadline needed ($(($(date +%s) - t0)) s)" test $(($(date +%s) - t0)) -le 6
stop_attack

# the whole-request deadline: they may take every slot, but only for 2 s each
serve --max-connections 8 --max-per-client 8 --request-timeout 2
attack 12
t0=$(date +%s)
r=$(real 15); check_eq "request deadline: the real notification is stored" 200 "$r"; [ "$r" = 200 ] || diag
check "within a few deadlines ($(($(date +%s) - t0)) s)" test $(($(date +%s) - t0)) -le 12
check "the slow connections were cut and logged" grep -q "past the 2 s request deadline" "$SIM_DIR/hook.err"
stop_attack
check_eq "the stored notifications are in the inbox" 3 \
  "$(sqlite3 "$MLC_STATE_DIR/sim.db" "select count(*) from inbox where resource_url like '%/v2/shipments/se-1'")"
"$MLC" webhook serve --max-per-client 0 >/dev/null 2>&1; rc=$?
check_eq "--max-per-client 0 is a usage error" 64 "$rc"
kill "$HOOK_PID"; wait "$HOOK_PID"; rc=$?
check_eq "serve stops on SIGTERM with exit 0" 0 "$rc"
t_done
