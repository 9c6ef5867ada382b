#!/usr/bin/env bash
# Stops the throwaway PostgreSQL cluster of scripts/start-test-postgres.sh (same variables); `--remove` also deletes
# its directory.
set -euo pipefail

PORT="${SLUICE_TEST_PG_PORT:-25432}"
DIR="${SLUICE_TEST_PG_DIR:-${TMPDIR:-/tmp}/sluice-test-pg-$PORT}"
BIN="${SLUICE_TEST_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
[[ -x "$BIN/pg_ctl" ]] || BIN="$(dirname "$(readlink -f "$(command -v pg_ctl)")")"

if [[ -f "$DIR/data/postmaster.pid" ]]; then
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2
  else
    "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2
  fi
else
  echo "no PostgreSQL running from $DIR" >&2
fi
if [[ "${1:-}" == "--remove" ]]; then rm -rf "$DIR"; fi
