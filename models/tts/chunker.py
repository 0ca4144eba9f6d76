"""Cuts streamed LLM text into pieces worth synthesising.

Piper needs a whole sentence before it can make a sound, and the LLM produces ~15-24 tokens a
second here, so waiting for the first full stop would add a second or more of silence. Until a few
words (`first_clause_words`) have gone to synthesis, the chunker cuts early: at a comma, colon,
semicolon or dash ("Yes," | "you should ..."; "During the squat," | "breathe in ..."), or, once the
piece has `first_clause_words` words, before a word that opens a new phrase, such as "because",
"at" or "during" ("Your knees caved in | because of weak hips"), unless the word before it leans
on what follows ("or", "the"). After that it emits whole sentences; a run-on without punctuation
is cut at a clause mark or, at worst, at a space after `max_words` words. A fenced code block
stays in one piece (the normaliser drops it). Decimals ("2.5 kg") and common abbreviations
("e.g.") do not end a sentence.
"""

from __future__ import annotations

import re

# A mark ends a piece when whitespace follows it, or, right after a letter, at the end of the text
# so far: the model writes "yet" "." and only then the next word (or nothing), so waiting for the
# space would hold every first clause back by one token (~50 ms here). After a digit it waits
# ("2." may go on "5 kg"; "1," may go on "500").
_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]]*(?=\s)|(?<=[^\W\d_])[.!?…]+$|\n+")
_CLAUSE_END = re.compile(r"[,;:]+(?=\s)|(?<=[^\W\d_])[,;:]+$|\s[-–—]+(?=\s)")
# Words that open a clause or an adverbial phrase: a pause before them sounds natural, so the first
# pieces may end there. Not "and", "or", "to", "in": they join words as often ("one to two minutes").
_PHRASE_OPENERS = frozenset({
    "but", "so", "because", "since", "when", "while", "if", "unless", "until", "before", "after",
    "at", "on", "into", "during", "with", "without", "for", "by", "from", "which", "where",
    "due", "like", "such", "especially", "instead", "through", "over", "under",
})
# Words that lean on the next one: a piece never ends with them ("Breathe in at the top or" | "on ...").
_LEANING = frozenset({
    "and", "or", "nor", "but", "the", "a", "an", "to", "of", "not", "very", "more", "most",
    "your", "my", "his", "her", "its", "our", "their", "this", "that", "these", "those",
})
_ABBREVIATIONS = frozenset({"e.g.", "i.e.", "etc.", "vs.", "dr.", "mr.", "mrs.", "ms.", "st.", "approx.", "min.", "sec."})


class SentenceChunker:
    """Per reply; not thread-safe. `push` text deltas, then `flush` once the stream has ended."""

    def __init__(self, first_clause_words: int = 3, max_words: int = 30) -> None:
        self.first_clause_words = first_clause_words
        self.max_words = max_words
        self._buffer = ""
        self._emitted_words = 0

    def push(self, delta: str) -> list[str]:
        """Add a delta; return the pieces that are complete now (possibly none)."""
        self._buffer += delta
        pieces: list[str] = []
        while (piece := self._next_piece()) is not None:
            if piece:
                pieces.append(piece)
                self._emitted_words += len(piece.split())
        return pieces

    def flush(self) -> list[str]:
        """The rest of the text, at the end of the reply."""
        rest, self._buffer = self._buffer.strip(), ""
        if rest:
            self._emitted_words += len(rest.split())
            return [rest]
        return []

    def _next_piece(self) -> str | None:
        sentence_end = next((m.end() for m in _SENTENCE_END.finditer(self._buffer)
                             if self._outside_code(m.end()) and not self._is_abbreviation(m.start())), None)
        # Early on, any clause is worth speaking at once: "Yes," is heard ~0.5 s before the sentence
        # it opens is written. That holds for text that comes whole too (an answer from the facts):
        # Piper starts "Your last rep took 1.5 seconds:" in half the time of the whole sentence.
        if self._emitted_words < self.first_clause_words and (cut := self._early_cut(sentence_end)) is not None:
            return self._cut(cut)
        if sentence_end is not None:
            return self._cut(sentence_end)
        words = len(self._buffer.split())
        if words > self.max_words:  # later, a clause mark is a cut point only in a run-on
            for match in _CLAUSE_END.finditer(self._buffer):
                if len(self._buffer[: match.start()].split()) >= self.first_clause_words \
                        and self._outside_code(match.end()):
                    return self._cut(match.end())
            last_space = max(m.start() for m in re.finditer(r"\s", self._buffer.rstrip()))
            if self._outside_code(last_space):
                return self._cut(last_space)
        return None

    def _early_cut(self, limit: int | None) -> int | None:
        """Where the first pieces may end before the sentence does (before `limit`, the first
        sentence end, if any): at a clause mark, or before a word that opens a phrase."""
        head = self._buffer if limit is None else self._buffer[:limit]
        for match in _CLAUSE_END.finditer(head):
            if self._buffer[: match.start()].strip() and self._outside_code(match.end()):
                return match.end()
        if len(head.split()) > self.first_clause_words + 1 and "```" not in self._buffer:
            # A complete word (whitespace after it) that opens a phrase, after enough words.
            for match in re.finditer(r"\s(\w+)(?=\s)", head):
                before = self._buffer[: match.start()].split()
                if len(before) >= self.first_clause_words and match.group(1).lower() in _PHRASE_OPENERS \
                        and before[-1].lower() not in _LEANING:
                    return match.start()
        return None

    def _outside_code(self, pos: int) -> bool:
        """A cut inside a ``` fence would hand the code to TTS line by line; keep the block whole."""
        return self._buffer[:pos].count("```") % 2 == 0

    def _cut(self, end: int) -> str:
        piece, self._buffer = self._buffer[:end].strip(), self._buffer[end:].lstrip()
        return piece

    def _is_abbreviation(self, dot: int) -> bool:
        words = self._buffer[: dot + 1].split()
        token = words[-1].lower() if words else ""
        return token in _ABBREVIATIONS or re.fullmatch(r"[a-z]\.", token) is not None
