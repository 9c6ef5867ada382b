#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the store tests, or reuses the one already running, and prints its
# URL on stdout (everything else goes to stderr):
#
#   export SLUICE_TEST_DATABASE_URL="$(scripts/start-test-postgres.sh)"
#   node --import tsx --test test/store-postgres.test.ts
#   scripts/stop-test-postgres.sh
#
# The cluster lives in $SLUICE_TEST_PG_DIR (default ${TMPDIR:-/tmp}/sluice-test-pg-<port>), listens on 127.0.0.1 only
# (port $SLUICE_TEST_PG_PORT, default 25432: below Linux's ephemeral range 32768-60999, where an outgoing
# connection's local port can hold the port; socket in the same directory) with trust authentication and fsync off:
# test data only, never anything you want to keep. The binaries come from the Debian package `postgresql`
# (`apt-get install -y postgresql`), or from $SLUICE_TEST_PG_BINDIR. PostgreSQL refuses to run as root, so as root
# the cluster is created and run as the `postgres` user (created by the Debian package).
set -euo pipefail

PORT="${SLUICE_TEST_PG_PORT:-25432}"
DIR="${SLUICE_TEST_PG_DIR:-${TMPDIR:-/tmp}/sluice-test-pg-$PORT}"
DB="${SLUICE_TEST_PG_DATABASE:-sluice_test}"
ROLE=sluice
URL="postgres://$ROLE@127.0.0.1:$PORT/$DB"

log() { printf '%s\n' "$*" >&2; }
die() { log "start-test-postgres: $*"; exit 1; }

find_bindir() {
  if [[ -n "${SLUICE_TEST_PG_BINDIR:-}" ]]; then echo "$SLUICE_TEST_PG_BINDIR"; return; fi
  # Debian keeps the server binaries out of PATH, one directory per major version: take the newest.
  local newest
  newest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [[ -n "$newest" && -x "$newest/initdb" ]]; then echo "$newest"; return; fi
  local initdb
  initdb="$(command -v initdb || true)"
  [[ -n "$initdb" ]] && { dirname "$(readlink -f "$initdb")"; return; }
  die "no PostgreSQL server binaries found: apt-get install -y postgresql (or set SLUICE_TEST_PG_BINDIR)"
}

BIN="$(find_bindir)"

# As root, run the server tools as an unprivileged user; otherwise as ourselves.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root and there is no 'postgres' user to run the cluster as"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

ready() { "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d "$DB" -U "$ROLE" >/dev/null 2>&1; }

can_query() { "$BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U "$ROLE" -d "$DB" -c 'select 1' >/dev/null 2>&1; }

if ready && can_query; then
  log "PostgreSQL already running on 127.0.0.1:$PORT ($DIR): reusing it"
  echo "$URL"
  exit 0
fi

mkdir -p "$DIR"
[[ "$(id -u)" == 0 ]] && chown postgres: "$DIR" && chmod 700 "$DIR"

if [[ ! -f "$DIR/data/PG_VERSION" ]]; then
  log "initdb $DIR/data ($("$BIN/postgres" --version))"
  rm -rf "$DIR/data"
  as_owner "$BIN/initdb" -D "$DIR/data" -U "$ROLE" --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null \
    || as_owner "$BIN/initdb" -D "$DIR/data" -U "$ROLE" --auth=trust --encoding=UTF8 --no-locale >/dev/null
fi

if ! as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
  log "starting PostgreSQL on 127.0.0.1:$PORT"
  as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -w -t 60 start \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    >/dev/null || { tail -n 20 "$DIR/postgres.log" >&2 || true; die "pg_ctl start failed (log: $DIR/postgres.log)"; }
fi

for _ in $(seq 1 60); do
  "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" >/dev/null 2>&1 && break
  sleep 0.5
done
"$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" >/dev/null 2>&1 || die "PostgreSQL on port $PORT did not become ready"

if ! "$BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U "$ROLE" -d postgres -tAc "select 1 from pg_database where datname = '$DB'" | grep -q 1; then
  "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U "$ROLE" "$DB"
fi
can_query || die "cannot connect to $URL (is another server on port $PORT? set SLUICE_TEST_PG_PORT)"

log "PostgreSQL ready: $URL"
echo "$URL"
