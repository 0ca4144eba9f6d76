#!/usr/bin/env bash
# Sets everything up (first run: packages and models; later runs: a quick check), then starts
# the server on http://127.0.0.1:8080 with the embedded profile. Extra flags go to run_server.py;
# with --profile full (or COACH_PROFILE=full) the setup is the full profile's (scripts/setup.sh --full).
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${COACH_PROFILE:-embedded}"
for ((i = 1; i <= $#; i++)); do
  [[ "${!i}" == "--profile" && $i -lt $# ]] && { next=$((i + 1)); profile="${!next}"; }
  [[ "${!i}" == --profile=* ]] && profile="${!i#--profile=}"
done
if [[ "$profile" == full ]]; then scripts/setup.sh --full; else scripts/setup.sh; fi
exec .venv/bin/python run_server.py "$@"
