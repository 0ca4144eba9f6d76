"""Tuning of the speech segmenter, with defaults chosen for a spoken coaching conversation."""

from __future__ import annotations

from pydantic import BaseModel, Field


class VadOptions(BaseModel):
    """How speech is found in the microphone stream and cut into utterances.

    Defaults: a turn ends after 0.5 s of silence (long enough to breathe mid-sentence while
    exercising, short enough to feel responsive); sounds under 250 ms (a clap, a cough, a weight
    set down) are not speech; 300 ms before the detected start are kept because Silero fires a
    little after the first phoneme and Whisper misses clipped onsets.
    """

    threshold: float = Field(0.5, description="Speech probability at or above which a window is speech.")
    neg_threshold: float | None = Field(
        None, description="Probability below which a window counts as silence (hysteresis); default threshold - 0.15."
    )
    min_silence_ms: int = Field(500, description="Silence that ends a turn.")
    min_speech_ms: int = Field(250, description="Voiced time before speech counts (and may barge in).")
    pre_roll_ms: int = Field(300, description="Audio kept before the detected start of speech.")
    post_roll_ms: int = Field(200, description="Audio kept after the last voiced window.")
    max_utterance_s: float = Field(30.0, description="A longer monologue is cut into utterances of this length.")
    threads: int = Field(1, description="onnxruntime intra-op threads for the Silero session (one window is tiny).")

    @property
    def silence_threshold(self) -> float:
        return self.neg_threshold if self.neg_threshold is not None else max(self.threshold - 0.15, 0.01)
