"""Run a command in a fresh network namespace that has only the loopback interface."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess


def loopback_only(command: list[str]) -> list[str]:
    """Wrap `command` so it runs with `lo` up and no other interface (root or user namespace)."""
    if shutil.which("unshare") is None:
        raise RuntimeError("unshare (util-linux) is needed for browser tests")
    flags = "-n" if os.geteuid() == 0 else "-rn"
    inner = "ip link set lo up && exec " + shlex.join(command)
    return ["unshare", flags, "sh", "-c", inner]


def run_isolated(command: list[str], timeout: float, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(loopback_only(command), capture_output=True, text=True, timeout=timeout, cwd=cwd)
