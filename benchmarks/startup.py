"""Start-up as a person meets it: seconds from launching the server to every model family ready.

Starts `run_server.py` (embedded profile, a free port) as a process of its own, polls GET /health
every 50 ms and notes when the page first answers and when each model family turns ready (or
unavailable); stops the server; repeats. `--cold` first evicts the checkout's files (weights,
the virtual environment's packages, the code) from the kernel's page cache
(posix_fadvise DONTNEED, no root needed), so everything is read from disk again as on the first
start after setup or a reboot; without it the second and later starts of a machine are measured.

`--run-sh` launches `scripts/run.sh` instead, as the README does (its setup check included).

    .venv/bin/python benchmarks/startup.py [--runs 3] [--cold] [--run-sh] [--timeout 120]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLD_PATHS = ("models", "rag_index", ".venv", "coaching", "realtime")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def evict(paths: tuple[str, ...] = COLD_PATHS) -> int:
    """Drop these folders' files from the page cache (after writing out any dirty pages);
    returns how many files."""
    os.sync()
    files = 0
    for folder in paths:
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and not path.is_symlink():
                try:
                    fd = os.open(path, os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                    files += 1
                finally:
                    os.close(fd)
    return files


def health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1.0) as response:
            return json.loads(response.read())
    except OSError:
        return None


def one_start(timeout: float, run_sh: bool) -> dict[str, float]:
    """Seconds from launch to: the first /health answer ('http'), each family settled, all settled."""
    port = free_port()
    launcher = [str(ROOT / "scripts" / "run.sh")] if run_sh else [sys.executable, str(ROOT / "run_server.py")]
    started = time.monotonic()
    server = subprocess.Popen([*launcher, "--port", str(port), "--log-level", "WARNING"], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    seen: dict[str, float] = {}
    try:
        while time.monotonic() - started < timeout:
            body = health(port)
            now = time.monotonic() - started
            if body is not None:
                seen.setdefault("http", now)
                for family, status in body["models"].items():
                    if status["state"] in ("ready", "unavailable"):
                        seen.setdefault(family, now)
                        if status["state"] == "unavailable":
                            seen.setdefault(f"{family} unavailable", now)
                if all(s["state"] in ("ready", "unavailable") for s in body["models"].values()):
                    seen["all"] = now
                    return seen
            if server.poll() is not None:
                raise RuntimeError(f"server exited with {server.returncode}")
            time.sleep(0.05)
        raise TimeoutError(f"not every family settled within {timeout:.0f} s: {seen}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # run.sh's children too
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="evict the checkout's files from the page cache first")
    parser.add_argument("--run-sh", action="store_true", help="launch scripts/run.sh (setup check included)")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    results = []
    for i in range(args.runs):
        if args.cold:
            evict()
        results.append(one_start(args.timeout, args.run_sh))
        print(f"run {i + 1}: all ready in {results[-1]['all']:.1f} s", flush=True)
    keys = list(results[0])
    launcher = "scripts/run.sh" if args.run_sh else "run_server.py"
    print(f"\n{'cold' if args.cold else 'warm'} start of {launcher}, {args.runs} runs: seconds from launch to ready\n")
    print("| what | median | max |")
    print("|---|---|---|")
    for key in keys:
        values = [r[key] for r in results if key in r]
        print(f"| {key} | {statistics.median(values):.1f} | {max(values):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
