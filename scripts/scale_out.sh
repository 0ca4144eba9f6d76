#!/usr/bin/env bash
# Sets everything up, then runs replicas of the server behind HAProxy on http://127.0.0.1:8080,
# sharing a PostgreSQL and a llama.cpp server started here (deploy/local.py; docs/DEPLOYMENT.md).
# Extra flags go to deploy/local.py, e.g. --replicas 3 --records-url postgresql://...
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/debian_packages.sh haproxy postgresql
scripts/setup.sh
exec .venv/bin/python -m deploy.local "$@"
