"""Builds what the LLM sees for one turn: persona, measured facts, retrieved passages, history.

The system prompt is fixed text so llama.cpp keeps it in its KV cache across turns; everything that
changes per turn (facts, passages, the question) goes after the history, so a turn pays only for
its new tokens. The model is told to use the facts for every number: a small model answers "how
many reps did I do?" correctly only when the answer is in front of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

SYSTEM_PROMPT = (
    "You are Coach, a warm, expert strength and fitness coach. You speak out loud to a person who is "
    "training in front of a camera, and you address them as \"you\"; a computer-vision system measures "
    "their movement and gives you the facts. Rules: answer in one to three short spoken sentences, "
    "starting with the direct answer; plain words, no lists, no markdown, no emoji. Use only the "
    "measured facts for numbers (reps, angles, times); if the facts do not say, say so in the first "
    "person (\"I have not seen that yet\"). Use the coaching notes for advice and stay consistent with "
    "them. Never diagnose an injury: if the person mentions sharp pain, tell them to stop and see a "
    "professional."
)

# Read with the facts, before any note is found: the header is the same whatever the note.
NOTES_HEADER = "Coaching notes:\n"

SUMMARY_REQUEST = (
    "The set just ended. Give a short spoken summary: how many reps, the main thing that went well, "
    "and the one thing to fix next set, using the facts."
)


# Reading the prompt is the slow part on 2 cores (~45 tokens/s on one core, see LlamaCppChat.prefill),
# so the spoken answer is grounded in the single best passage, cut to its sentences that answer and
# clipped at a clause: the note is usually found only by the last partial transcript, so most of it is
# read while the person waits (~25 tokens at 110 characters instead of ~40 at 160).
PASSAGES_PER_TURN = 1
NOTE_CHARS = 110
# A weaker match is left out: for "Should I keep my back straight?" the best passage (0.63), before
# the knowledge base had a note on it, was about shoulder-press lockout, and the small model then
# answered "No". The benchmark's good matches score 0.73-0.86; wordy questions score lower ("Coach,
# I have a question about my legs: why do my knees cave in?" 0.69 for knee tracking), so the bar
# sits just above the bad match.
NOTE_MIN_SCORE = 0.65


class PassageLike(Protocol):
    doc_id: str
    title: str
    text: str


class ScoredPassage(PassageLike, Protocol):
    score: float


class Knowledge(Protocol):
    """What the responder needs from the knowledge base (rag_index.retriever.Retriever fits)."""

    def search(self, query: str, exercise: str | None, faults: list[str], k: int) -> Sequence[ScoredPassage]: ...

    def excerpt(self, passage: ScoredPassage, query: str, max_chars: int, *, clip: bool = False) -> PassageLike: ...


@dataclass(frozen=True)
class HistoryTurn:
    role: Literal["user", "assistant"]
    text: str
    interrupted: bool = False


def format_facts(facts: Sequence[str]) -> str:
    if not facts:
        # In the coach's own voice: the model copies it, and "the camera has not seen them" came back as
        # "You have not seen any reps yet".
        return "Measured facts:\n- Nothing measured yet: I have not seen you exercise this session."
    return "Measured facts:\n" + "\n".join(f"- {line}" for line in facts)


def format_passages(passages: Sequence[PassageLike], max_chars: int = 320) -> str:
    """Notes as "[doc-id] text", after NOTES_HEADER: the id names the topic (e.g.
    squat-knees-caving) in few tokens."""
    if not passages:
        return "none relevant."
    return "\n".join(f"[{p.doc_id}] {p.text.strip()[:max_chars]}" for p in passages)


def find_note(knowledge: Knowledge, query: str, exercise: str | None, faults: list[str],
              keep: list[PassageLike] | None = None) -> list[PassageLike]:
    """The best passage for `query` if it matches well, cut to its sentences that answer it.

    `keep`, the note the LLM has already read for this turn, stays while it is still among the
    best two: a new one would be read again from its first token."""
    found = knowledge.search(query, exercise, faults, k=2)
    if keep and keep[0].doc_id in {p.doc_id for p in found}:
        return keep
    best = [p for p in found[:PASSAGES_PER_TURN] if p.score >= NOTE_MIN_SCORE]
    return [knowledge.excerpt(p, query, NOTE_CHARS, clip=True) for p in best]


def build_messages(request: str, facts: Sequence[str], passages: Sequence[PassageLike] | None,
                   history: Sequence[HistoryTurn], max_history: int = 2,
                   language: str | None = None) -> list[dict[str, str]]:
    """OpenAI-style messages for one turn; `request` is the person's words or a summary request.

    The last user message is built as facts, then notes, then the request, so that a prefix of it
    (`request=""`, and `passages=None` for the facts and the notes' header alone) can be evaluated
    into the KV cache while the person is still speaking: the cached tokens are then a prefix of
    the final prompt's.
    History is the last exchange (`max_history` messages), each reply cut to its first sentences:
    enough for "and what about my knees?", and every turn re-reads it (~25 ms a token on one core here).
    `language`: the name of the language to answer in (None: the prompt's English); said after the
    request, so the cached prefix stays the same.
    """
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for turn in list(history)[-max_history:]:
        text = _first_sentences(turn.text) + (" (interrupted)" if turn.interrupted else "")
        messages.append({"role": turn.role, "content": text})
    content = f"{format_facts(facts)}\n\n{NOTES_HEADER}"
    if passages is not None:
        content += format_passages(passages)
        if request:
            # "Question:", not "The person says:", which drew third-person answers ("The person
            # should rest ...") and more echoes of the question from the small model.
            content += f"\n\nQuestion: {request}"
            if language is not None:
                content += f"\n\nAnswer in {language}."
    messages.append({"role": "user", "content": content})
    return messages


def _first_sentences(text: str, max_chars: int = 200) -> str:
    """Whole sentences from the start of `text` up to `max_chars` (at least the first one, cut)."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s)", text) if m.end() <= max_chars]
    return text[: ends[-1]] if ends else text[:max_chars].rsplit(" ", 1)[0]
