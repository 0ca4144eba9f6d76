#!/usr/bin/env bash
# Sets up the test machine (Debian packages the tests drive, the virtual environment, the models)
# and runs the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/debian_packages.sh chromium ffmpeg espeak-ng sox iproute2 util-linux postgresql haproxy
scripts/setup.sh --dev
exec .venv/bin/python -m pytest "$@"
