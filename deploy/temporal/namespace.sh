#!/bin/sh
# One-shot setup service of docker-compose.yml: waits for the Temporal server, then creates the namespace unless it
# exists (the same step as `npm run stack`, src/dev/cluster/setup-steps.ts). TEMPORAL_ADDRESS is read by the CLI.
set -eu

until temporal operator cluster health >/dev/null 2>&1; do
  echo "waiting for Temporal at $TEMPORAL_ADDRESS..."
  sleep 2
done
temporal operator namespace describe --namespace default >/dev/null 2>&1 ||
  temporal operator namespace create --namespace default --retention 72h
