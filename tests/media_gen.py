"""Test media made at test time (never committed): y4m video and wav speech or tones."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise RuntimeError(f"{tool} is not installed; run scripts/test.sh to set up the test machine")
    return path


def pattern_y4m(path: Path, seconds: float = 2.0, size: str = "640x480", fps: int = 30) -> Path:
    """A moving ffmpeg test pattern as raw y4m (Chromium's fake camera reads y4m)."""
    subprocess.run([need("ffmpeg"), "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size={size}:rate={fps}", "-t", str(seconds), "-pix_fmt", "yuv420p", str(path)],
                   check=True)
    return path


def video_to_y4m(source: Path, path: Path, seconds: float | None = None, size: str = "640x480",
                 fps: int = 30) -> Path:
    """A real video re-encoded to y4m at the camera size the browser would send."""
    w, h = size.split("x")
    cmd = [need("ffmpeg"), "-loglevel", "error", "-y", "-i", str(source)]
    if seconds:
        cmd += ["-t", str(seconds)]
    cmd += ["-vf", f"scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,fps={fps}",
            "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, check=True)
    return path


def espeak_wav(text: str, path: Path, rate: int = 48_000) -> Path:
    """Synthetic speech from espeak-ng, resampled with sox to `rate` mono."""
    raw = path.with_suffix(".raw.wav")
    subprocess.run([need("espeak-ng"), "-w", str(raw), text], check=True)
    subprocess.run([need("sox"), str(raw), "-r", str(rate), "-c", "1", str(path)], check=True)
    raw.unlink()
    return path


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype(np.int16).tobytes())
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        data = np.frombuffer(w.readframes(w.getnframes()), np.int16)
        if w.getnchannels() > 1:
            data = data.reshape(-1, w.getnchannels())[:, 0]
        return data.copy(), w.getframerate()


def tone(seconds: float, rate: int = 48_000, hz: float = 440.0, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (level * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)
