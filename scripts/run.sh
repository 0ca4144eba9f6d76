#!/usr/bin/env bash
# Sets everything up (first run: packages and models; later runs: a quick check), then starts
# the server on http://127.0.0.1:8080 with the embedded profile. Extra flags go to run_server.py.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python run_server.py "$@"
