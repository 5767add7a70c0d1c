"""The customer's issue in one to three of their own sentences, so an agent can start without reading everything.

Extractive and cheap: split the customer's turns into sentences, drop greetings and filler, score what is left for
signs of a problem (negative wording, numbers and references, questions, substance) and, when the per-turn
embeddings from the encoder pass are given, for how central the turn is to the conversation. The best sentences
are returned in the order the customer wrote them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from detectors.text import shorten

MAX_CHARS = 300

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*\n+\s*")
_WORD = re.compile(r"[a-z0-9']+")
_FILLER = frozenset(
    [
        "hi",
        "hello",
        "hey",
        "hiya",
        "yo",
        "there",
        "good",
        "morning",
        "afternoon",
        "evening",
        "ok",
        "okay",
        "k",
        "kk",
        "alright",
        "fine",
        "great",
        "cool",
        "nice",
        "sure",
        "yes",
        "yeah",
        "yep",
        "yup",
        "no",
        "nope",
        "nah",
        "thanks",
        "thank",
        "you",
        "thx",
        "ty",
        "cheers",
        "please",
        "pls",
        "plz",
        "bye",
        "goodbye",
        "lol",
        "hmm",
        "um",
        "uh",
        "er",
        "oh",
        "ah",
        "well",
        "so",
        "again",
        "very",
        "much",
        "a",
        "lot",
        "anyway",
        "right",
        "got",
        "it",
        "understood",
        "is",
        "are",
        "anyone",
        "anybody",
    ]
)
_PROBLEM = re.compile(
    r"\b(?:not|no longer|never|nothing|nobody|still|yet|wrong|broken|broke|damaged|defective|faulty|missing|lost|"
    r"late|delayed|stuck|error|problem|issue|fail(?:ed|s|ing)?|unable|can't|cannot|won't|wouldn't|didn't|doesn't|"
    r"don't|isn't|wasn't|haven't|hasn't|refund|charged|twice|overcharged|cancel(?:led|ed)?|return|complain\w*|"
    r"disappointed|angry|frustrated|terrible|awful|worst)\b|n't\b",
    re.IGNORECASE,
)
_REFERENCE = re.compile(r"\d|@|[$£€¥]")
# Asking for a person is why the chat was handed over (the agent already sees that reason), not the issue itself.
_HUMAN_REQUEST = re.compile(
    r"\b(?:speak|talk|chat|connect|transfer)\w*\s+(?:me\s+)?(?:to|with)\s+(?:a|an|the|some|someone|somebody|"
    r"real|live|actual|human|person|agent|representative|manager|supervisor)\b|\b(?:human|real person|live agent)\b",
    re.IGNORECASE,
)


def summarize(
    customer_turns: Sequence[str],
    embeddings: np.ndarray | None = None,
    max_sentences: int = 3,
    max_chars: int = MAX_CHARS,
) -> str:
    """Up to `max_sentences` of the customer's sentences that carry the issue, in transcript order, or ""."""
    if embeddings is not None and len(embeddings) != len(customer_turns):
        raise ValueError(f"{len(embeddings)} embeddings for {len(customer_turns)} customer turns")

    candidates: list[tuple[float, int, int, str]] = []  # (score, order in the transcript, turn, sentence)
    seen: set[str] = set()
    for turn_index, turn in enumerate(customer_turns):
        for sentence in split_sentences(turn):
            words = _WORD.findall(sentence.casefold())
            key = " ".join(words)
            if is_filler(sentence) or key in seen:
                continue
            seen.add(key)
            score = _score(sentence, len(words), turn_index, len(customer_turns))
            candidates.append((score, len(candidates), turn_index, sentence))

    if embeddings is not None and candidates:
        # Centrality among the turns that say something: "hi" and "thanks" must not pull the mean towards them.
        turns = sorted({turn for _, _, turn, _ in candidates})
        central = dict(zip(turns, _centrality(np.asarray(embeddings)[turns]), strict=False))
        candidates = [(score + float(central[turn]), order, turn, s) for score, order, turn, s in candidates]

    chosen: list[tuple[int, str]] = []
    used = 0
    for _, order, _, sentence in sorted(candidates, key=lambda c: (-c[0], c[1])):
        if len(chosen) == max_sentences:
            break
        sentence = _with_stop(sentence)
        if not chosen and len(sentence) > max_chars:
            sentence = shorten(sentence, max_chars, at_word=True)
        if used + len(sentence) + len(chosen) > max_chars:  # len(chosen): the spaces between sentences
            continue
        chosen.append((order, sentence))
        used += len(sentence)
    return " ".join(sentence for _, sentence in sorted(chosen))


def split_sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]


def is_filler(sentence: str) -> bool:
    """Greetings, thanks, acknowledgements: every word is one of them (or there are no words at all)."""
    return all(word in _FILLER for word in _WORD.findall(sentence.casefold()))


def _score(sentence: str, n_words: int, turn_index: int, n_turns: int) -> float:
    score = min(n_words, 20) / 20  # substance: a five-word sentence says less than a twenty-word one
    score += 1.0 if _PROBLEM.search(sentence) else 0.0
    score += 1.0 if _REFERENCE.search(sentence) else 0.0
    score += 0.5 if "?" in sentence else 0.0
    score -= 1.0 if _HUMAN_REQUEST.search(sentence) else 0.0
    score += 0.25 * (1 - turn_index / n_turns)  # customers usually state the issue early
    return score


def _centrality(embeddings: np.ndarray) -> np.ndarray:
    """Cosine of each turn with the conversation's mean direction: high for turns about the main topic."""
    vectors = np.asarray(embeddings, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms == 0, 1, norms)
    mean = unit.mean(axis=0)
    length = float(np.linalg.norm(mean))
    return unit @ (mean / length) if length > 0 else np.zeros(len(unit), dtype=np.float32)


def _with_stop(sentence: str) -> str:
    return sentence if sentence[-1] in ".!?…" else sentence + "."
