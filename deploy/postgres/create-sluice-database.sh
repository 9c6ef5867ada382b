#!/bin/sh
# Runs once, when the compose PostgreSQL initialises its volume (/docker-entrypoint-initdb.d): a role and a
# database of their own for Sluice's job store, apart from Temporal's databases. The store creates its tables on
# first use.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v sluice_password="${SLUICE_DB_PASSWORD:-sluice}" <<'SQL'
CREATE ROLE sluice LOGIN PASSWORD :'sluice_password';
CREATE DATABASE sluice OWNER sluice;
SQL
