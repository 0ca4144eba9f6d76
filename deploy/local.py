"""Replicas of the server on one machine behind HAProxy, sharing PostgreSQL and a llama.cpp server.

    .venv/bin/python -m deploy.local --replicas 2 --port 8080     (or scripts/scale_out.sh)

What a multi-machine deployment looks like, started here on loopback with Debian's postgresql and
haproxy and llama-cpp-python's OpenAI-compatible server: each replica runs `run_server.py` with its
own `COACH_REPLICA` name, `COACH_RECORDS_URL` pointing at the shared database and
`COACH_MODELS__LLM_REMOTE` at the shared LLM (so no replica loads the GGUF itself). The tests
(`tests/test_scale_out.py`) start the same layout and kill a replica under it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from deploy.haproxy import Backend, render, servers_up
from deploy.postgres import LocalPostgres

REPO = Path(__file__).resolve().parent.parent
LLM_ALIAS = "coach-llm"


def free_port() -> int:
    """A free port below Linux's ephemeral range (32768-60999): a port the kernel handed out would be
    free when checked here, but may be given to some outgoing connection before the child binds it."""
    for _ in range(200):
        port = random.randint(20_000, 32_000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 20000 and 32000")


def wait_http(url: str, timeout_s: float, process: subprocess.Popen | None = None) -> None:
    """Until `url` answers 200; a process that exits meanwhile is an error at once."""
    deadline = time.monotonic() + timeout_s
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited with {process.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer 200 within {timeout_s:.0f} s")
        time.sleep(0.2)


@dataclass
class LocalCluster:
    """The layout's processes; `start()` brings them up in order, `stop()` takes them all down."""

    replicas: int = 2
    port: int = 8080
    records_url: str | None = None
    """An existing PostgreSQL; None starts a throwaway one."""
    llm_model: Path | None = None
    """The GGUF the shared LLM server runs; None: the embedded profile's."""
    llm_threads: int = 1
    log_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="coach-cluster-")))

    def __post_init__(self) -> None:
        self.postgres: LocalPostgres | None = None
        self.llm: subprocess.Popen | None = None
        self.haproxy: subprocess.Popen | None = None
        self.servers: dict[str, subprocess.Popen] = {}
        self.backends: list[Backend] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 180.0) -> None:
        try:
            self._start(timeout_s)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout_s: float) -> None:
        if self.records_url is None:
            self.postgres = LocalPostgres.create(free_port())
            self.postgres.start()
            self.records_url = self.postgres.url
        llm_port = free_port()
        self.llm = self._spawn("llm", [
            sys.executable, "-m", "llama_cpp.server", "--model", str(self.llm_model or _embedded_gguf()),
            "--model_alias", LLM_ALIAS, "--host", "127.0.0.1", "--port", str(llm_port), "--n_ctx", "4096",
            "--n_threads", str(self.llm_threads), "--n_threads_batch", str(self.llm_threads), "--verbose", "false",
        ], os.environ.copy())
        remote = {"base_url": f"http://127.0.0.1:{llm_port}/v1", "model": LLM_ALIAS}
        for i in range(1, self.replicas + 1):
            backend = Backend(f"r{i}", "127.0.0.1", free_port())
            env = {**os.environ, "COACH_REPLICA": backend.name,
                   "COACH_RECORDS_URL": self.records_url, "COACH_MODELS__LLM_REMOTE": json.dumps(remote),
                   "COACH_TRUST_FORWARDED_FOR": "true", "COACH_DATA_DIR": str(self.log_dir / backend.name)}
            self.servers[backend.name] = self._spawn(backend.name, [
                sys.executable, "run_server.py", "--port", str(backend.port), "--log-level", "WARNING"], env)
            self.backends.append(backend)
        config = self.log_dir / "haproxy.cfg"
        stats = str(self.log_dir / "haproxy.sock")
        config.write_text(render(f"127.0.0.1:{self.port}", self.backends, check_interval_ms=500, stats_socket=stats))
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not Path(haproxy).exists():
            raise FileNotFoundError("haproxy is not installed: apt-get install haproxy")
        self.haproxy = self._spawn("haproxy", [haproxy, "-db", "-f", str(config)], os.environ.copy())
        wait_http(f"{remote['base_url']}/models", timeout_s, self.llm)
        for backend in self.backends:
            wait_http(f"http://127.0.0.1:{backend.port}/ready", timeout_s, self.servers[backend.name])
        deadline = time.monotonic() + 30.0
        while not all((up := _servers_up_or_none(stats) or {}).get(b.name) for b in self.backends):
            if time.monotonic() > deadline or self.haproxy.poll() is not None:
                raise RuntimeError(f"HAProxy does not see every replica up: {up}")
            time.sleep(0.2)

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - the child holds it open
        try:
            return subprocess.Popen(args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        finally:
            log.close()

    def kill(self, replica: str) -> None:
        """SIGKILL one replica, as a machine that dies: no goodbye to its clients or its database."""
        process = self.servers[replica]
        process.kill()
        process.wait(timeout=10)

    def stop(self) -> None:
        processes = [self.haproxy, *self.servers.values(), self.llm]
        for process in processes:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            if process is None:
                continue
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self.postgres is not None:
            self.postgres.destroy()
            self.postgres = None


def _servers_up_or_none(stats_socket: str) -> dict[str, bool] | None:
    try:
        return servers_up(stats_socket)
    except OSError:  # HAProxy not listening yet
        return None


def _embedded_gguf() -> Path:
    from models.llm.prepare import embedded_model_path
    from models.paths import weights_dir

    path = embedded_model_path(weights_dir())
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run scripts/setup.sh")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=8080, help="The balancer's port (127.0.0.1).")
    parser.add_argument("--records-url", help="An existing PostgreSQL; default: a throwaway one started here.")
    parser.add_argument("--llm-threads", type=int, default=1)
    args = parser.parse_args()
    cluster = LocalCluster(args.replicas, args.port, args.records_url, llm_threads=args.llm_threads)
    print(f"starting {args.replicas} replicas, logs in {cluster.log_dir}", flush=True)
    cluster.start()
    print(f"ready: {cluster.url} (HAProxy) -> {', '.join(f'{b.name}:{b.port}' for b in cluster.backends)}; "
          f"records {cluster.records_url}; Ctrl-C stops everything", flush=True)
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)  # after the children started: they keep theirs
    try:
        signal.sigwait(stop_signals)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
