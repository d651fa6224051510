#!/bin/sh
# tests/pg.sh: a private PostgreSQL cluster for the tests of the PostgreSQL state
# backend: initdb + pg_ctl from the Debian `postgresql` package into a directory,
# listening only on a Unix socket in it (listen_addresses = ''), no system service.
#
#   tests/pg.sh bin                 the server's bin directory (exit 77: none)
#   tests/pg.sh start DIR           creates (if new) and starts the cluster in DIR
#   tests/pg.sh stop DIR            stops it (fast shutdown)
#   tests/pg.sh url DIR DB          the connection URL of database DB
#   tests/pg.sh createdb DIR DB     a new empty database DB; prints its URL
#   tests/pg.sh psql DIR DB ARGS... psql on DB (for tests that read the state)
#
# Superuser `mlc` with trust on the socket (only this user can reach the socket
# directory); role `mlc_pw` must log in with its password (scram-sha-256), so the
# password path of mlc is exercised too: its password is in DIR/mlc_pw.password.
# initdb refuses to run as root (CI runs as root): then the server runs as the
# unprivileged user `mlc-pgtest` (created with useradd if missing, no login
# shell, no home), which owns DIR; root's clients reach the socket anyway.
# The binaries are not on PATH on Debian (/usr/lib/postgresql/N/bin): PG_BIN
# overrides the search.
# Not here: what the tests check (tests/unit/test_store.c, tests/integration).
set -eu

find_bin() {
  if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ]; then echo "$PG_BIN"; return 0; fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] && { echo "$d"; return 0; }
  done
  p=$(command -v initdb 2>/dev/null) || return 1
  d=$(dirname "$(readlink -f "$p")")
  [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] && { echo "$d"; return 0; }
  return 1
}

# as_owner CMD...: runs CMD as the cluster's owner (root: the unprivileged user)
# (from /: the caller's directory may be closed to that user, and initdb and pg_ctl
# need to read theirs)
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && setpriv --reuid=mlc-pgtest --regid=mlc-pgtest --clear-groups --inh-caps=-all -- "$@")
  else
    "$@"
  fi
}

psql_bin() { command -v psql 2>/dev/null || echo "$(find_bin)/psql"; }

ensure_user() {
  [ "$(id -u)" = 0 ] || return 0
  id mlc-pgtest >/dev/null 2>&1 ||
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin mlc-pgtest
}

cmd=${1:-}
case "$cmd" in
bin)
  find_bin || { echo "tests/pg.sh: no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 77; }
  ;;
start)
  dir=${2:?usage: tests/pg.sh start DIR}
  bin=$(find_bin) || { echo "tests/pg.sh: no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 77; }
  ensure_user
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ "$(id -u)" = 0 ] && chown mlc-pgtest:mlc-pgtest "$dir"
  chmod 700 "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/mlc_pw.password"
    as_owner "$bin/initdb" -D "$dir/data" -U mlc --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    mkdir -p "$dir/sock"
    [ "$(id -u)" = 0 ] && chown mlc-pgtest:mlc-pgtest "$dir/sock" "$dir/mlc_pw.password"
    # mlc_pw needs its password; every other local user is trusted (the socket
    # directory is private to the owner)
    printf 'local all mlc_pw scram-sha-256\nlocal all all trust\n' >"$dir/data/pg_hba.conf"
    cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$dir/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 32MB
EOF
    fresh=1
  fi
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
    { tail -n 20 "$dir/server.log" >&2; exit 1; }
  if [ "${fresh:-0}" = 1 ]; then
    "$(psql_bin)" -X -q -h "$dir/sock" -U mlc -d postgres -v ON_ERROR_STOP=1 \
      -c "CREATE ROLE mlc_pw LOGIN PASSWORD '$(cat "$dir/mlc_pw.password")'" >/dev/null
  fi
  echo "$dir"
  ;;
stop)
  dir=${2:?usage: tests/pg.sh stop DIR}
  bin=$(find_bin) || exit 0
  [ -f "$dir/data/postmaster.pid" ] || exit 0
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  ;;
url)
  dir=${2:?usage: tests/pg.sh url DIR DB}
  echo "postgresql:///${3:?usage: tests/pg.sh url DIR DB}?host=$dir/sock&user=mlc"
  ;;
createdb)
  dir=${2:?usage: tests/pg.sh createdb DIR DB}
  db=${3:?usage: tests/pg.sh createdb DIR DB}
  "$(psql_bin)" -X -q -h "$dir/sock" -U mlc -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\"" >/dev/null
  echo "postgresql:///$db?host=$dir/sock&user=mlc"
  ;;
psql)
  dir=${2:?usage: tests/pg.sh psql DIR DB ARGS...}
  db=${3:?usage: tests/pg.sh psql DIR DB ARGS...}
  shift 3
  exec "$(psql_bin)" -X -q -h "$dir/sock" -U mlc -d "$db" "$@"
  ;;
*)
  echo "usage: tests/pg.sh bin | start DIR | stop DIR | url DIR DB | createdb DIR DB | psql DIR DB ARGS..." >&2
  exit 64
  ;;
esac
