"""The conversation's numbers (turn-taking, set summaries): typed, with their defaults and why.

Set them under `voice` in the server settings (`COACH_VOICE__SPECULATE_AFTER_SILENCE_S=0.2`).
The end of a turn itself is the VAD's (`models.vad.VadOptions`) and Smart Turn's
(`models.turn.TurnOptions`); these decide what the conversation does around it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class ConversationOptions(BaseModel):
    """How a conversation listens ahead and answers (realtime/voice/conversation.py)."""

    partial_interval_s: float = Field(
        0.4, ge=0, description="From the end of one partial transcript to the start of the next while the "
        "person speaks: the recogniser stays free about half the time, so the final transcript rarely "
        "shares the cores with a partial one.")
    pause_partial_after_s: float = Field(
        0.064, ge=0, description="A partial transcript also starts once this much silence follows the words "
        "(if none is running): if the pause ends the turn it heard every word and is the final transcript, "
        "out ~50 ms sooner (benchmark median 320 vs 367 ms) than one started with the reply.")
    speculate_after_silence_s: float = Field(
        0.15, ge=0, description="After this much silence the final transcript and the reply start, held "
        "behind the turn's gate; the end of the turn is confirmed later, and by then the first clause is "
        "often ready. A reply whose person goes on is dropped unheard.")
    min_words_to_retrieve: int = Field(
        3, ge=1, description="Words a partial transcript needs before a coaching note is retrieved for it "
        "(\"How many reps\" already finds its note; \"How should I\" matches nothing).")
    hold_on_maybe_speech_s: float = Field(
        1.0, ge=0, description="Where the coach's voice comes back into the microphone (a speakerphone), a "
        "voiced sound too short yet to be a turn pauses the coach's voice, at most this long, until it "
        "turns out to be the person (the reply is then stopped) or not (it goes on where it paused): "
        "talking over the coach at the echo's own level, the echo canceller damped the person's words "
        "below what starts a turn, and the coach talked on. 0: never pause.")
    max_history: int = Field(8, ge=0, description="Past turns (question or answer) the LLM sees.")
    summary_min_reps: int = Field(
        3, ge=0, description="A set of fewer reps ends without a spoken summary (it is still recorded and can "
        "be asked about): one or two reps are mostly a movement taken for an exercise, not a set, and each "
        "summary is an LLM reply that took a core from every session's analysis (`benchmarks/load.py`).")
    first_synthesis_wait_s: float = Field(
        0.4, ge=0, description="The LLM pauses between tokens while the reply's first words are synthesised, "
        "at most this long: Piper takes ~0.1 s for a clause with both cores here, twice that beside the LLM.")
