"""Grounding of the coach's answers: do they use the measured facts, and only those?

The embedded LLM answers questions about the workout in situations that the real coaching pipeline
measures from kinematic keypoint sequences (tests/coaching_sequences.py): nothing seen yet, an
exercise chosen but no rep done, clean sets, a set with a depth fault, a second set after a rest.
The prompt is the server's own: system prompt, fact lines, the note `find_note` retrieves for the
question (as the live loop does), the question. Every answer is judged by rules:

- invented: a number (digits or a number word) that is neither in the facts, the note nor the question;
- persona: the coach speaking of itself as "you" ("you have not seen that") or of the person as "them";
- denied: "I have not seen that" when the facts hold the answer (reps, the last rep's depth or tempo);
- count: asked how many reps, the answer holds the reps of this set or the total; asked about this
  set, this set's; asked for the total, the total;
- fault: asked what to fix after a set with a fault, the answer names it (a word of its title or cue).

Prints a table by question kind and every failed answer. Sampling is the server's (temperature
0.3); each seed is one more answer to every question.

First, the answers the server gives from the facts with no LLM (`realtime/voice/fact_answers.py`):
fact questions in other words than the answerer's examples, judged by the same rules, how many of
them it recognises, and how many general questions it wrongly takes for fact questions.

    .venv/bin/python benchmarks/answers.py [--seeds 1,2,3] [--temperature 0.3] [--no-notes] [--facts-only]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coaching.coach import Coach  # noqa: E402
from coaching.exercises import EXERCISES  # noqa: E402
from models.llm import LlamaCppChat, embedded_options, prepare_embedded  # noqa: E402
from models.paths import pin_caches, weights_dir  # noqa: E402
from realtime.voice.responder import build_messages, find_note  # noqa: E402
from tests.coaching_sequences import Sequence, concat, generate, still  # noqa: E402

# "one" is left out: it is more often a pronoun ("the one thing to fix") than a count.
NUMBER_WORDS = {w: n for n, w in enumerate([
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen"]) if w != "one"}
PERSONA_SLIP = re.compile(r"\byou (?:did not|didn't|have not|haven't|do not|don't) (?:see|seen)\b|\bthem\b|\bthe person\b",
                          re.IGNORECASE)
NOT_SEEN = re.compile(r"\b(?:not|never) (?:yet )?(?:seen|measured|see)\b|\bhaven't (?:yet )?(?:seen|measured)\b", re.IGNORECASE)
SHORT_WORDS = 5  # fault words shorter than this ("hips", "your") name no fault


@dataclass(frozen=True)
class Situation:
    name: str
    exercise: str | None
    sequence: Sequence | None


@dataclass(frozen=True)
class Question:
    kind: str  # count | set | total | depth | tempo | fix
    text: str


SITUATIONS = [
    Situation("nothing seen yet", None, None),
    Situation("squat chosen, no rep yet", "squat", None),
    Situation("7 clean squats", "squat", generate("squat", reps=7, view="side", seed=3)),
    Situation("5 shallow squats", "squat", generate("squat", reps=5, view="side", faults={"depth": 60.0}, seed=4)),
    Situation("6 push-ups", "push_up", generate("push_up", reps=6, view="side", seed=5)),
    Situation("second set of squats", "squat", concat(
        generate("squat", reps=5, view="side", seed=6),
        still(EXERCISES["squat"].set_rest_s + 2.0, view="side", seed=7),
        generate("squat", reps=3, view="side", faults={"depth": 60.0}, seed=8))),
]
QUESTIONS = [
    Question("count", "How many reps did I do?"),
    Question("set", "How many have I done this set?"),
    Question("total", "How many reps have I done in total today?"),
    Question("depth", "How deep was my last rep?"),
    Question("tempo", "How fast was that rep?"),
    Question("fix", "What should I fix?"),
]


# Fact questions in words that are not among the answerer's examples, by the judge's kind.
FACT_QUESTIONS = [
    Question("count", "How many reps did I do?"), Question("count", "What's my rep count?"),
    Question("count", "How many did I manage?"), Question("count", "Hey coach, how many reps?"),
    Question("count", "How many squats have I done so far?"), Question("count", "How many was it?"),
    Question("set", "How many have I done this set?"), Question("set", "How many reps this set so far?"),
    Question("total", "How many reps have I done in total today?"), Question("total", "What's the total number of reps?"),
    Question("depth", "How deep was my last rep?"), Question("depth", "Did I hit depth?"),
    Question("depth", "How low did my last squat go?"), Question("depth", "What was the angle at the bottom?"),
    Question("tempo", "How fast was that rep?"), Question("tempo", "How long was that rep?"),
    Question("tempo", "How much time did that rep take?"), Question("tempo", "How fast am I going?"),
    Question("faults", "How's my form looking?"), Question("faults", "Was there anything wrong with my form?"),
    Question("faults", "Any problems?"), Question("sets", "Which set am I on?"),
    Question("sets", "How many sets have I finished?"), Question("hold", "How long have I been in the plank?"),
]
# General questions, advice and chat: none of these may be answered from the facts.
OPEN_QUESTIONS = [
    "What muscles do squats work?", "Is it okay to squat every day?", "What's a good warm up?",
    "How many calories did I burn?", "What is a lunge?", "Tell me a joke", "Is my heart rate okay?",
    "Am I doing squats or lunges?", "What does depth mean?", "Was that a good workout?", "What time is it?",
    "How long is a plank supposed to be?", "How deep do people usually squat?", "What's a normal tempo for squats?",
    "How many push-ups can an average person do?", "Do squats help running?", "Is squatting bad for the knees?",
    "What exercise is next?", "Thanks coach", "Can we take a break?", "What is a rep?",
    "How many reps should I do?", "How deep should I squat?", "How long should I rest between sets?",
    "What should I fix?", "Why do my knees cave in?",
]


def fact_answers_table() -> None:
    """Recognition and grounding of the answers given from the facts, with no LLM."""
    from models.embeddings import EmbeddingOptions, load_embedder
    from realtime.voice.fact_answers import FactAnswerer

    answerer = FactAnswerer(load_embedder(EmbeddingOptions()).embed, seed=0)
    results: list[tuple[Situation, Question, str, str]] = []
    missed: set[str] = set()
    spent = 0.0
    for situation in SITUATIONS:
        lines, facts = measure(situation)
        for question in FACT_QUESTIONS:
            started = time.perf_counter()
            answer = answerer.answer(question.text, facts)
            spent += time.perf_counter() - started
            if answer is None:
                missed.add(question.text)
                continue
            results.append((situation, question, answer.text, judge(question, answer.text, lines, facts, "")))
    taken = [q for q in OPEN_QUESTIONS if answerer.classify(q)[0] is not None]
    per_call = spent / (len(SITUATIONS) * len(FACT_QUESTIONS))
    right = [r for r in results if not r[3]]
    print(f"answers from the facts (no LLM), {per_call * 1000:.1f} ms a question (embedding included):")
    print(f"- fact questions recognised: {len(FACT_QUESTIONS) - len(missed)} of {len(FACT_QUESTIONS)} "
          f"(left to the LLM: {'; '.join(sorted(missed)) or 'none'})")
    print(f"- general questions taken for fact questions: {len(taken)} of {len(OPEN_QUESTIONS)} "
          f"({'; '.join(taken) or 'none'})")
    print(f"- answers right, every number measured: {len(right)} of {len(results)} "
          f"in {len(SITUATIONS)} situations")
    for situation, question, answer, verdict in results:
        if verdict:
            print(f"  [{situation.name}] {question.text!r} -> {answer!r} ({verdict})")
    print()


def measure(situation: Situation) -> tuple[list[str], dict[str, Any]]:
    """Fact lines and the facts dict after the situation's frames went through the real analysis."""
    coach = Coach(situation.exercise or "auto")
    if situation.sequence is not None:
        seq = situation.sequence
        for keypoints, t in seq:
            coach.update(keypoints, seq.width, seq.height, float(t))
    return coach.summary_lines(), coach.facts()


def numbers(text: str) -> set[float]:
    found = {float(x) for x in re.findall(r"\d+(?:\.\d+)?", text)}
    return found | {float(NUMBER_WORDS[w]) for w in re.findall(r"[a-z]+", text.lower()) if w in NUMBER_WORDS}


def fault_words(exercise: str, fault: str) -> set[str]:
    rule = EXERCISES[exercise].fault(fault)
    text = f"{rule.title} {rule.cue}" if rule else fault.replace("_", " ")
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) >= SHORT_WORDS}


def judge(question: Question, answer: str, lines: list[str], facts: dict[str, Any], note: str) -> str:
    """What is wrong with `answer` ("" when nothing is)."""
    invented = numbers(answer) - numbers(" ".join(lines)) - numbers(note) - numbers(question.text) - {0.0}
    if invented:
        return "invented " + ", ".join(f"{n:g}" for n in sorted(invented))
    if PERSONA_SLIP.search(answer):
        return "persona"
    known = bool(facts["reps_total"]) if question.kind in ("count", "set", "total") else facts["last_rep"] is not None
    if question.kind != "fix" and known and NOT_SEEN.search(answer):
        return "denied"
    said = numbers(answer)
    if question.kind == "count" and facts["reps_total"] and not {facts["reps_this_set"], facts["reps_total"]} & said:
        return f"count: not {facts['reps_this_set']} or {facts['reps_total']}"
    if question.kind == "set" and facts["reps_this_set"] and facts["reps_this_set"] not in said:
        return f"set: not {facts['reps_this_set']}"
    if question.kind == "total" and facts["reps_total"] and facts["reps_total"] not in said:
        return f"total: not {facts['reps_total']}"
    if question.kind == "fix" and facts["faults_this_set"]:
        words = set().union(*(fault_words(facts["exercise"], f) for f in facts["faults_this_set"]))
        if not words & set(re.findall(r"[a-z]+", answer.lower())):
            return "fault not named"
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3", help="sampling seeds; one answer per seed and question")
    parser.add_argument("--temperature", type=float, default=None, help="default: the server's")
    parser.add_argument("--no-notes", action="store_true", help="no retrieved note in the prompt")
    parser.add_argument("--facts-only", action="store_true", help="only the answers from the facts (seconds)")
    args = parser.parse_args()
    pin_caches()
    fact_answers_table()
    if args.facts_only:
        return
    seeds = [int(s) for s in args.seeds.split(",")]

    knowledge = None
    if not args.no_notes:
        from models.embeddings import EmbeddingOptions
        from rag_index.retriever import Retriever

        knowledge = Retriever(embedding=EmbeddingOptions())
    prepare_embedded(weights_dir())
    options = embedded_options(weights_dir())
    if args.temperature is not None:
        options = options.model_copy(update={"temperature": args.temperature})
    chat = LlamaCppChat(options)

    results: list[tuple[Situation, Question, str, str]] = []
    started = time.perf_counter()
    for situation in SITUATIONS:
        lines, facts = measure(situation)
        print(f"{situation.name}: {' '.join(lines) or '(no facts)'}", flush=True)
        faults = list(facts["faults_this_set"])
        for question in QUESTIONS:
            notes = find_note(knowledge, question.text, facts["exercise"], faults) if knowledge else []
            messages = build_messages(question.text, lines, notes, [])
            for seed in seeds:
                chat.options = options.model_copy(update={"seed": seed})
                answer = "".join(chat.stream(messages)).strip()
                verdict = judge(question, answer, lines, facts, " ".join(p.text for p in notes))
                results.append((situation, question, answer, verdict))
    elapsed = time.perf_counter() - started

    print(f"\ngrounding of {len(results)} answers ({len(SITUATIONS)} situations x {len(QUESTIONS)} questions x "
          f"{len(seeds)} seeds, temperature {options.temperature}, notes {'off' if args.no_notes else 'on'}; "
          f"{elapsed / len(results):.1f} s an answer)\n")
    print("| question | answers | right | invented number | persona slip | denied a fact | count or fault missed |")
    print("|---|---|---|---|---|---|---|")
    kinds = [*dict.fromkeys(q.kind for q in QUESTIONS), "all"]
    for kind in kinds:
        rows = [r for r in results if kind in ("all", r[1].kind)]
        bad = [r[3] for r in rows if r[3]]
        print(f"| {kind} | {len(rows)} | {len(rows) - len(bad)} ({(len(rows) - len(bad)) / len(rows):.0%}) | "
              f"{sum(b.startswith('invented') for b in bad)} | {sum(b == 'persona' for b in bad)} | {sum(b == 'denied' for b in bad)} | "
              f"{sum(b.startswith(('count', 'set', 'total', 'fault')) for b in bad)} |")
    print("\nwrong answers:")
    for situation, question, answer, verdict in results:
        if verdict:
            print(f"  [{situation.name}] {question.text!r} -> {answer[:140]!r} ({verdict})")


if __name__ == "__main__":
    main()
