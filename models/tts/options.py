"""Voice settings for the speech synthesizers."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class TtsOptions(BaseModel):
    """Piper (embedded) voice and synthesis options.

    The voice's own scales (from its .onnx.json) are used unless overridden. Per-sentence peak
    normalisation (Piper's default) is off: it makes every sentence equally loud, so a short "Good!"
    would blast; the raw model output is already at a steady level (peak about -4 dBFS for joe).
    """

    model_path: Path = Field(..., description="Piper voice .onnx")
    config_path: Path | None = Field(None, description="Voice .onnx.json (default: model_path + '.json').")
    threads: int = Field(
        2, description="onnxruntime threads. 2 synthesise a sentence 1.7x faster here (88 vs 148 ms idle), and "
        "the first clause is on the critical path of every answer; the LLM's one generation thread is "
        "slowed only while a clause is synthesised, and a sentence takes ~20x longer to speak than to make.")
    length_scale: float | None = Field(None, description="> 1 speaks slower; None keeps the voice's value.")
    noise_scale: float | None = None
    noise_w_scale: float | None = None
    volume: float = Field(1.0, description="Gain applied to the model output (clipped).")
    sentence_pause_ms: int = Field(120, description="Silence appended to each chunk, a natural gap between sentences.")
    use_cuda: bool = False


class XttsOptions(BaseModel):
    """XTTS-v2 (coqui-tts) for the full profile: multilingual, streamed, optionally cloning a voice.

    The weights are under the Coqui Public Model License (non-commercial use only), so nothing loads
    them until `accept_licence` says the licence was read and the use complies. They are read from
    `model_dir`, or from the Hub repository `model_name` through the Hugging Face cache that
    `python -m models.prepare --profile full` fills: loading a checkpoint directory ourselves skips
    coqui's model manager and its interactive licence prompt, which would block a server.
    """

    model_name: str = Field("coqui/XTTS-v2", description="Hub repository of the weights, used when model_dir is None.")
    model_dir: Path | None = Field(
        None, description="A checkpoint directory (config.json, model.pth, vocab.json, speakers_xtts.pth); "
        "None: `model_name` from the Hub cache.")
    cache_dir: Path | None = Field(None, description="Hub cache; None: huggingface_hub's (models/weights/hf).")
    accept_licence: bool = Field(
        False, description="I have read the Coqui Public Model License (https://coqui.ai/cpml) and my use "
        "complies (non-commercial). Loading refuses without it.")
    device: str = Field(
        "auto", description="'auto' (CUDA when available, else the CPU), 'cuda', 'cuda:N' or 'cpu'. When CUDA "
        "fails at load the model runs on the CPU, far from real time.")
    language: str = Field("en", description="Default language, as Whisper names it ('en', 'fr', 'zh', ...).")
    speaker_wav: Path | None = Field(None, description="A 6-30 s clean reference clip to clone; None uses `speaker`.")
    speaker: str = Field("Claribel Dervla", description="A built-in XTTS-v2 speaker, used without a reference clip.")
    stream_chunk_size: int = Field(20, description="GPT tokens per streamed chunk: smaller starts sooner.")
