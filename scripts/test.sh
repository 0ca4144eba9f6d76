#!/usr/bin/env bash
# Sets up the test machine (Debian packages the tests drive, the virtual environment, the models)
# and runs the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/debian_packages.sh chromium ffmpeg espeak-ng sox iproute2 util-linux postgresql haproxy
scripts/setup.sh --dev

# The offline tests (computation on recorded or generated data, marked `offline`) run on both cores
# at once; then the rest one at a time, where live servers, media and browsers keep to real time
# and no test's timing may depend on another's load. More than half of the suite's time went to
# the offline tests, one core idle. A part with no test among the arguments is no failure (exit 5).
status=5
for part in offline rest; do
  workers=()
  [[ $part == offline ]] && workers=(-n 2)
  code=0
  .venv/bin/python -m pytest --part "$part" "${workers[@]}" "$@" || code=$?
  if [[ $code != 5 && $status == 5 || $code != 0 && $code != 5 ]]; then
    status=$code
  fi
done
exit "$status"
