"""A throwaway PostgreSQL server from Debian's packages, for the local scale-out layout and the tests.

Trust authentication on 127.0.0.1 only, fsync off: it holds session records for a demo or a test
run, not a production database (point `COACH_RECORDS_URL` at one of those instead).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class PostgresMissing(RuntimeError):
    """Debian's postgresql package is not installed."""


@dataclass
class LocalPostgres:
    """One PostgreSQL cluster in a folder of its own, run as Debian's postgres user when we are root
    (initdb refuses root)."""

    bin: Path
    root: Path
    port: int
    as_user: list[str]

    @classmethod
    def create(cls, port: int) -> LocalPostgres:
        """initdb a new cluster in a temporary folder (user `coach`, trust authentication)."""
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
        if not found:
            raise PostgresMissing("PostgreSQL is not installed: apt-get install postgresql")
        root = Path(tempfile.mkdtemp(prefix="coach-pg-"))
        as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            as_user = ["runuser", "-u", "postgres", "--"]
        server = cls(Path(found[-1]).parent, root, port, as_user)
        subprocess.run([*as_user, str(server.bin / "initdb"), "-D", str(server.data), "-A", "trust", "-U", "coach",
                        "--no-sync"], check=True, capture_output=True, timeout=120)
        return server

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://coach@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), *args],
                       check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self._ctl("-w", "-l", str(self.root / "log"), "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-w", "-m", mode, "stop")

    def destroy(self) -> None:
        """Stop at once and delete the cluster's folder."""
        try:
            self.stop("immediate")
        except subprocess.SubprocessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)
