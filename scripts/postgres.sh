# Sourced by demo.sh and bench.sh: a throwaway Postgres 15 for the payments schema.
#   pg_start DIR   initdb in DIR/pg, start on a free loopback port, create database `payments` with
#                  deploy/postgres/payments.sql; sets PG_PORT and PSQL (a psql command array)
#   pg_stop DIR    stop it (safe to call when it is not running)
PG_BIN=${REGIONBRIDGE_PG_BIN:-/usr/lib/postgresql/15/bin}
PG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_start() {
  local dir=$1
  mkdir -p "$dir/pg"; chmod 755 "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir/pg"; fi
  PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_postgres "$PG_BIN/initdb" -D "$dir/pg/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
  as_postgres "$PG_BIN/pg_ctl" start -D "$dir/pg/data" -l "$dir/pg/postgres.log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$dir/pg -c fsync=off -c max_wal_size=4GB" >/dev/null
  PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres)
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE payments"
  "${PSQL[@]}" -d payments -f "$PG_ROOT/deploy/postgres/payments.sql"
}

pg_stop() {
  if [ -f "$1/pg/data/postmaster.pid" ]; then as_postgres "$PG_BIN/pg_ctl" stop -D "$1/pg/data" -m fast >/dev/null 2>&1 || true; fi
}
