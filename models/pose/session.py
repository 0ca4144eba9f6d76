"""One place that builds onnxruntime sessions, so every ONNX model gets the same threads, providers
and handling of int8 graphs on CPUs whose int8 kernels are inexact."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import onnxruntime as ort

_AUTO_PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")


def resolve_providers(requested: list[str] | None) -> list[str]:
    """The requested providers this onnxruntime has, in order; CUDA-then-CPU when none were requested.

    CPU is always appended last, so a GPU build on a machine without a usable GPU still runs.
    """
    available = set(ort.get_available_providers())
    wanted = list(requested) if requested else list(_AUTO_PROVIDERS)
    chosen = [p for p in wanted if p in available]
    if "CPUExecutionProvider" not in chosen:
        chosen.append("CPUExecutionProvider")
    return chosen


@cache
def int8_kernels_exact() -> bool:
    """The CPU has an int8 dot product (AVX-512 VNNI or AVX-VNNI), or is not x86 (read on Linux).

    Without it onnxruntime's fused int8 kernels multiply u8 by s8 in 16-bit pairs that saturate
    (onnxruntime issue 6004): on an AMD EPYC VM with AVX2 alone, Smart Turn v3.2 read a breath
    mid-sentence as 0.87 finished (0.03 with the fusion off) and the int8 pose graph moved boxes
    by 50 px."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return True
    if "avx2" not in cpuinfo:
        return True  # not an x86 CPU whose int8 kernels are the saturating ones
    return "avx512_vnni" in cpuinfo or "avx_vnni" in cpuinfo


def create_session(model: Path | bytes, threads: int, providers: list[str] | None) -> ort.InferenceSession:
    """An inference session on `threads` intra-op threads.

    Spinning is off: the pose worker shares 2 cores with ASR, TTS and the LLM, and threads that
    busy-wait between operators and frames would steal their time. Spinning would save about
    2-3 ms per inference here (measured on YOLO11n-pose at 320 and 640 px).
    On a CPU whose int8 kernels saturate (`int8_kernels_exact`), quantize-dequantize pairs are not
    fused into int8 kernels: the graph runs in float32 on the quantized values, as its makers meant
    (Smart Turn: 127 instead of 107 ms a call on such a VM).
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if not int8_kernels_exact():
        options.add_session_config_entry("session.disable_quant_qdq", "1")
    source = str(model) if isinstance(model, Path) else model
    return ort.InferenceSession(source, sess_options=options, providers=resolve_providers(providers))
