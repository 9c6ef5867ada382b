#!/bin/sh
# One-shot setup service of docker-compose.yml: Temporal's schemas in PostgreSQL, with Temporal's SQL tool. The same
# steps, in the same order, as `npm run stack` (src/dev/cluster/setup-steps.ts; test/compose.test.ts compares them).
# Safe to run again: a database that exists keeps its schema and is only updated. Connection: SQL_PLUGIN, SQL_HOST,
# SQL_PORT, SQL_USER, SQL_PASSWORD (read by temporal-sql-tool itself).
set -eu

if temporal-sql-tool --db temporal create-database; then
  temporal-sql-tool --db temporal setup-schema -v 0.0
fi
temporal-sql-tool --db temporal update-schema --schema-name postgresql/v12/temporal

if temporal-sql-tool --db temporal_visibility create-database; then
  temporal-sql-tool --db temporal_visibility setup-schema -v 0.0
fi
temporal-sql-tool --db temporal_visibility update-schema --schema-name postgresql/v12/visibility
