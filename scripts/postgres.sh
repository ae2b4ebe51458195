#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests (Debian's postgresql package), on a temp data directory and a free
# loopback port, run as a non-root user (postgres when called as root), with password authentication.
#   scripts/postgres.sh start DIR   initialises DIR, starts the server, prints its URL
#                                   (postgres://mtx:PASSWORD@127.0.0.1:PORT/mtx?sslmode=disable)
#   scripts/postgres.sh stop DIR    stops it and deletes DIR
#   scripts/postgres.sh pause DIR   stops it, keeping DIR (an outage, for tests)
#   scripts/postgres.sh resume DIR  starts it again on the same port, with the same data
set -euo pipefail
command="${1:?usage: scripts/postgres.sh start|stop|pause|resume DIR}"
dir="${2:?usage: scripts/postgres.sh start|stop|pause|resume DIR}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$bin/initdb" ] || { echo "postgres.sh: PostgreSQL is not installed (scripts/install-deps.sh --test installs it)" >&2; exit 1; }
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$command" in
start)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  as_owner sh -c "echo '$password' > '$dir/pwfile'"
  as_owner "$bin/initdb" -D "$dir/data" -U mtx --pwfile="$dir/pwfile" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  rm -f "$dir/pwfile"
  # fsync off: a test server, thrown away afterwards (a crash of the machine loses nothing anyone keeps).
  options="-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
  as_owner sh -c "echo '$options' > '$dir/options'"
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$options" start >/dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
  PGPASSWORD="$password" "$bin/psql" -h 127.0.0.1 -p "$port" -U mtx -d postgres -qAtc "CREATE DATABASE mtx" >/dev/null
  echo "postgres://mtx:$password@127.0.0.1:$port/mtx?sslmode=disable"
  ;;
stop)
  [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
pause)
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
  ;;
resume)
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$(cat "$dir/options")" start >/dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
  ;;
*)
  echo "usage: scripts/postgres.sh start|stop|pause|resume DIR" >&2; exit 2
  ;;
esac
