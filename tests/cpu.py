"""What this machine's CPU can do, for tests whose expected numbers depend on it."""

from __future__ import annotations

from pathlib import Path

import pytest


def has_int8_dot_product() -> bool:
    """AVX-512 VNNI or AVX-VNNI: onnxruntime's int8 kernels then compute exactly. Without it (AVX2
    alone, e.g. the AMD EPYC VMs this project is sometimes given) they multiply u8 by s8 in 16-bit
    pairs that can saturate, and int8 models (Smart Turn v3.2 CPU, the int8 pose graph) give
    different outputs: measured 2026-12-02, Smart Turn read a breath mid-sentence as 0.87 finished."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return True
    return "avx512_vnni" in flags or "avx_vnni" in flags


needs_int8_dot_product = pytest.mark.skipif(
    not has_int8_dot_product(),
    reason="this CPU has no VNNI: onnxruntime's int8 kernels saturate here, the int8 model's numbers differ "
    "(a known product gap on such CPUs, see the issue-18 note of 2026-12-02)")
