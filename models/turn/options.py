"""When a pause ends the person's turn: Smart Turn's bar and the silence cap, with their reasons."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TurnOptions(BaseModel):
    """End-of-turn settings used when the Smart Turn model is loaded (without it the VAD's
    `min_silence_ms` alone ends a turn, as before).

    A pause is judged once, when the reply starts speculatively (~150 ms of silence), by the model,
    by the words heard and, where the sentence model is loaded, by a language model reading those
    words (`realtime/voice/turn_end.py`). Defaults from `benchmarks/turns.py`.
    """

    threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="Smart Turn probability of a finished turn at or above which a pause "
        "may end it (the model's own decision point).")
    words_after_ms: int = Field(
        700, ge=0, description="Silence that ends a turn when the words and the model disagree: the words sound "
        "finished but the model misjudges some voices (a robotic voice's finished questions read 0.01-0.1), or "
        "the model hears a finished turn but Whisper left the words open (a dropped last word).")
    silence_cap_ms: int = Field(
        1800, ge=200, description="Silence that ends a turn whatever the model says: longer than the 0.3-1.5 s "
        "pauses a person catches breath in mid-sentence, short enough that a question the model misjudges "
        "is still answered.")
    sentence_threshold: float = Field(
        0.1, ge=0.0, le=1.0, description="The language model's probability that the words heard end a sentence "
        "(`models/turn/sentence_end.py`) under which a pause waits for the silence cap whatever else says "
        "finished: \"can you tell me how deep my\" reads 0.00, finished questions 0.1-0.95. From "
        "`benchmarks/turns.py` and a text check on other questions (docs/TURN_TAKING.md).")
    threads: int = Field(1, ge=1, description="Threads of each model call: onnxruntime's intra-op threads for Smart "
                         "Turn (~40 ms a call on one core here), llama.cpp's for the sentence model (~25 ms a token).")
