"""Instant answers to questions about what the camera measured: no LLM, every number from the facts.

"How many was that?" has an answer the server already holds, yet through the LLM it was the slowest
question (1.9-2.5 s voice to voice): the prompt has to be read first. Here the question is matched
against example phrasings of each kind of fact question with the MiniLM embedder the knowledge base
already loaded (a few ms), and answered from `SessionStats.facts()` in one of several phrasings.
Anything else, and anything uncertain, goes to the LLM:

- a question asking for advice ("how many reps should I do?", "why ...", "how do I ...") is never a
  fact question, however close its words are to one;
- the nearest example must be a fact question's, at cosine similarity `min_similarity` or more, and
  ahead of the nearest general question (`ADVICE`) by `min_margin`. Exercise names are read as
  "reps" first ("How many lunges did I do?" is "How many reps did I do?" to the embedder), and
  only a question that says "sets" or "which set" asks about sets ("this set" says when).
"""

from __future__ import annotations

import enum
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from coaching.exercises import EXERCISES
from coaching.measures import MEASURES
from coaching.session_stats import counted, fault_list, fault_title, plural


class FactQuestion(str, enum.Enum):
    REPS_SET = "reps_set"
    REPS_TOTAL = "reps_total"
    DEPTH = "depth"
    TEMPO = "tempo"
    FAULTS = "faults"
    HOLD = "hold"
    SETS = "sets"


EXAMPLES: dict[FactQuestion, list[str]] = {
    FactQuestion.REPS_SET: [
        "How many reps did I do?", "How many was that?", "How many reps so far?", "What's my count?",
        "How many did I just do?", "How many reps this set?", "How many squats have I done so far?",
        "How many push-ups was that?", "Count for this set?", "How many have I done?", "How many is that?",
        "How many reps was that set?", "Coach, how many did I do?", "What number am I on?",
        "How many did I do in this set?", "What's the count for this set?",
    ],
    FactQuestion.REPS_TOTAL: [
        "How many reps in total?", "How many have I done today?", "What's my total?",
        "How many reps altogether?", "How many reps across all my sets?", "Total reps today?",
        "How many in total today?", "How many reps have I done overall?",
    ],
    FactQuestion.DEPTH: [
        "How deep was that?", "How deep was my last rep?", "Did I go low enough?", "What was my depth?",
        "How low did I go?", "Was that deep enough?", "What angle did I reach at the bottom?",
        "How far down did I get?", "What was my range of motion?", "How deep did I go?", "How low was that?",
        "Was my squat deep enough?",
    ],
    FactQuestion.TEMPO: [
        "How fast was that rep?", "What was my tempo?", "How long did that rep take?", "Was I too fast?",
        "How long did I take going down?", "How quick was my last rep?", "What was my speed?",
        "How slow was that?", "Was I going too slow?",
    ],
    FactQuestion.FAULTS: [
        "Any faults?", "How is my form?", "Did I make any mistakes?", "What am I doing wrong?",
        "Was my form okay?", "Did you see any problems with my form?", "How was my technique?",
        "Any mistakes?", "Did I do anything wrong?",
    ],
    FactQuestion.HOLD: [
        "How long have I been holding?", "How long was my plank?", "What's my hold time?",
        "How many seconds have I held it?", "How long did I hold it?", "How long have I held the plank?",
    ],
    FactQuestion.SETS: [
        "How many sets have I done?", "Which set is this?", "What set am I on?", "How many sets so far?",
    ],
}
# Questions about exercise in general that read like questions about what was measured: the LLM
# answers these with the coaching notes. (Requests for advice never get this far: _ADVICE_WORDS.)
ADVICE = [
    "How deep is a proper squat?", "How long is a good plank?", "What is good form for a push-up?",
    "What does tempo mean?", "How many reps make a set?", "Is it okay to train every day?",
    "What muscles does this work?", "How far down is parallel?", "Which exercise am I doing?",
    "Am I doing it right or wrong?",
]
# Words of a request for advice or an explanation, never of a question about what was measured.
_ADVICE_WORDS = re.compile(
    r"\b(should|could|would|why|how (?:do|can) i|how to|tips?|recommend\w*|best|better|improve|ought|"
    r"average|normal|usual(?:ly)?|typical(?:ly)?|supposed)\b",
    re.IGNORECASE)


_ASKS_ABOUT_SETS = re.compile(r"\bsets\b|\b(?:which|what) set\b", re.IGNORECASE)
_EXERCISE_WORDS = re.compile(
    r"\b(?:" + "|".join(sorted({re.escape(w) for spec in EXERCISES.values()
                                for w in (spec.title.lower(), spec.name.replace("_", " "))}, key=len, reverse=True))
    + r"|push[- ]ups?|sit[- ]ups?|pull[- ]ups?)(?:e?s)?\b", re.IGNORECASE)


def _generic(text: str) -> str:
    """Exercise names as "reps": the examples then cover every exercise."""
    return _EXERCISE_WORDS.sub("reps", text)


@dataclass(frozen=True)
class FactAnswer:
    question: FactQuestion
    text: str
    similarity: float


class FactAnswerer:
    """Recognises fact questions and answers them. `embed` returns L2-normalised rows (the
    knowledge base's embedder); the examples are embedded once, here."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], min_similarity: float = 0.75,
                 min_margin: float = 0.03, seed: int | None = None) -> None:
        self._embed = embed
        self.min_similarity = min_similarity
        self.min_margin = min_margin
        labels: list[FactQuestion | None] = []
        texts: list[str] = []
        for kind, phrasings in EXAMPLES.items():
            labels += [kind] * len(phrasings)
            texts += phrasings
        labels += [None] * len(ADVICE)
        texts += ADVICE
        self._labels = labels
        self._vectors = np.asarray(embed([_generic(t) for t in texts]), dtype=np.float32)
        self._rng = random.Random(seed)

    def classify(self, question: str) -> tuple[FactQuestion | None, float]:
        """The kind of fact question and its similarity; (None, s) for advice or anything uncertain."""
        if not question.strip() or _ADVICE_WORDS.search(question) or len(_EXERCISE_WORDS.findall(question)) > 1:
            return None, 0.0  # advice, or "squats or lunges?": which exercise, not a measured number
        similarity = self._vectors @ np.asarray(self._embed([_generic(question)]), dtype=np.float32)[0]
        if not _ASKS_ABOUT_SETS.search(question):  # "this set" is when, not what is counted
            similarity = np.where(np.array([label is FactQuestion.SETS for label in self._labels]), -1.0, similarity)
        best = int(np.argmax(similarity))
        kind, top = self._labels[best], float(similarity[best])
        advice = [float(s) for s, label in zip(similarity, self._labels) if label is None]
        if kind is None or top < self.min_similarity or top - max(advice, default=0.0) < self.min_margin:
            return None, top
        return kind, top

    def answer(self, question: str, facts: dict[str, Any]) -> FactAnswer | None:
        """The spoken answer from `facts` (`SessionStats.facts()`), or None for the LLM."""
        kind, similarity = self.classify(question)
        if kind is None:
            return None
        text = _ANSWERS[kind](facts, self._rng)
        return FactAnswer(kind, text, similarity) if text else None


# ---------------------------------------------------------------------------- the answers

_NOTHING_YET = ["I haven't seen you exercise yet.", "Nothing measured yet: start a set and I'll count."]


def _noun(exercise: str | None, n: int) -> str:
    spec = EXERCISES.get(exercise or "")
    return plural(spec.title.lower() if spec is not None else "rep", n)


def _a(word: str) -> str:
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"


def _turning_point(exercise: str | None) -> str:
    """What the person calls the rep's turning point: a squat's bottom, a press's lockout, a
    raise's top; "turning point" where the phase name is no such noun (a jumping jack's "open")."""
    spec = EXERCISES.get(exercise or "")
    name = {"up": "top", "down": "bottom"}.get(spec.phases.turn, spec.phases.turn) if spec else ""
    return name if name in ("top", "bottom", "lockout") else "turning point"


def _is_hold(facts: dict[str, Any]) -> bool:
    spec = EXERCISES.get(facts.get("exercise") or "")
    return spec is not None and spec.kind == "hold"


def _reps_set(facts: dict[str, Any], rng: random.Random) -> str:
    exercise, n, total = facts["exercise"], facts["reps_this_set"], facts["reps_total"]
    if exercise is None:
        return rng.choice(_NOTHING_YET)
    if _is_hold(facts):
        return _hold(facts, rng)
    if n == 0:
        last = facts.get("last_set")
        if last and last.get("reps"):
            return f"This set hasn't started yet; your last set was {last['reps']} {_noun(exercise, last['reps'])}."
        return rng.choice(["No reps counted yet this set.", "I haven't counted a rep yet this set."])
    said = rng.choice([f"{n} {_noun(exercise, n)} this set.", f"That's {n} so far this set.",
                       f"You've done {n} {_noun(exercise, n)} this set."])
    return said + (f" {total} in total today." if total != n else "")


def _reps_total(facts: dict[str, Any], rng: random.Random) -> str:
    exercise = facts["exercise"]
    if exercise is None:
        return rng.choice(_NOTHING_YET)
    counted = [(name, t["reps"]) for name, t in facts["totals"].items() if t["reps"]]
    if not counted:
        return "No reps counted yet today."
    parts = [f"{reps} {_noun(name, reps)}" for name, reps in counted]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return rng.choice([f"{listed} in total today.", f"So far today: {listed}."])


def _depth(facts: dict[str, Any], rng: random.Random) -> str:
    rep = facts["last_rep"]
    if rep is None:
        return rng.choice(["I haven't measured a rep yet.", "No rep measured yet, so no depth yet."])
    depth, rom = rep.get("depth"), rep["rom"]
    spec = EXERCISES.get(facts.get("exercise") or "")
    if depth is not None:
        m = MEASURES[depth["measure"]]
        value, where = m.spoken(depth["value"]), _turning_point(facts.get("exercise"))
        said = rng.choice([f"Your last rep reached {_a(m.label)} of {value} at the {where}.",
                           f"At the {where} of your last rep, your {m.label} was {value}."])
    elif rom["measure"] not in MEASURES:  # counted on the learned model's progress: no angle seen
        if spec is not None and spec.depth_hidden_from(rep.get("view")):
            said = "I counted your last rep, but I can't measure its depth from this angle." + (
                f" {spec.view_guidance}." if spec.view_guidance else "")
        else:
            said = "I counted your last rep, but I couldn't see your joints clearly enough to measure its depth."
    elif rom["unit"] == "fraction of start":
        label = MEASURES[rom["measure"]].label
        said = f"At the turning point of your last rep, your {label} was {100 * rom['min']:.0f}% of the start."
    else:
        m = MEASURES[rom["measure"]]
        said = f"Your last rep moved your {m.label} {m.spoken_range(rom['min'], rom['max'])}."
    faults = [fault_title(facts["exercise"], f) for f in rep["faults"]]
    return said + (f" I saw {' and '.join(faults)} on it." if faults else "")


def _tempo(facts: dict[str, Any], rng: random.Random) -> str:
    rep = facts["last_rep"]
    if rep is None:
        return "I haven't timed a rep yet."
    tempo = rep["tempo"]
    return rng.choice([
        f"Your last rep took {rep['duration_s']:.1f} seconds: {tempo['eccentric_s']:.1f} down and "
        f"{tempo['concentric_s']:.1f} up.",
        f"{rep['duration_s']:.1f} seconds for the last rep, {tempo['eccentric_s']:.1f} lowering and "
        f"{tempo['concentric_s']:.1f} lifting.",
    ])


def _faults(facts: dict[str, Any], rng: random.Random) -> str:
    exercise, faults, reps = facts["exercise"], facts["faults_this_set"], facts["reps_this_set"]
    if exercise is None:
        return rng.choice(_NOTHING_YET)
    last = facts.get("last_set")
    if not faults and not reps and not facts["hold_seconds"] and last and last.get("exercise") == exercise:
        # Between sets, "any faults?" is about the set just done.
        if not last["faults"]:
            return rng.choice(["No form faults in your last set.", "Your last set looked clean: no faults seen."])
        return f"In your last set I saw {fault_list(exercise, last['faults'], last['reps'])}."
    if not faults:
        if not reps and not facts["hold_seconds"]:
            return "Nothing to judge yet this set."
        return rng.choice(["No form faults this set so far.", "Your form looks clean this set: no faults seen."])
    return f"This set I saw {fault_list(exercise, faults, reps)}."


def _hold(facts: dict[str, Any], rng: random.Random) -> str:
    now, best = facts["hold_seconds"], facts["best_hold_seconds"]
    if now:
        said = rng.choice([f"You've held it for {now:.0f} seconds.", f"{now:.0f} seconds so far."])
        return said + (f" Your best today is {best:.0f}." if f"{best:.0f}" != f"{now:.0f}" else "")
    if best:
        return f"Your longest hold today is {best:.0f} seconds."
    return "I haven't timed a hold yet."


def _sets(facts: dict[str, Any], rng: random.Random) -> str:
    if facts["exercise"] is None:
        return rng.choice(_NOTHING_YET)
    done, current = facts["sets_completed"], facts["set"]
    finished = f"{counted(done, 'set')} done" if done else "no set finished yet"
    return rng.choice([f"This is set {current}; {finished}.", f"You're on set {current}, {finished}."])


_ANSWERS: dict[FactQuestion, Callable[[dict[str, Any], random.Random], str]] = {
    FactQuestion.REPS_SET: _reps_set,
    FactQuestion.REPS_TOTAL: _reps_total,
    FactQuestion.DEPTH: _depth,
    FactQuestion.TEMPO: _tempo,
    FactQuestion.FAULTS: _faults,
    FactQuestion.HOLD: _hold,
    FactQuestion.SETS: _sets,
}
