"""Fakes at the seams, shared by the tests: a deterministic analyzer in place of the models, and analyses by hand.

`FakeAnalyzer` reads a message the way the tests need it read, without loading any model: it matches the knowledge
base's intents by shared words, asks for a person when a person word is asked for, is frustrated when the message
says so, and gives every text a fixed pseudo-random unit vector. Protocol, handoff, routing and console tests run the
whole service on it; the real models are exercised by the integration tests (scenario, browser, evaluations).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.config import STORE_KNOWLEDGE_BASE
from bot.knowledge_base import load_knowledge_base
from models.analysis import CaseScore, Ranked, TurnAnalysis

DIM = 384
_WORD = re.compile(r"[a-z']+")
ASKING = re.compile(r"\b(human|person|agent|representative|manager|someone real|real person)\b", re.I)
FRUSTRATED = re.compile(r"\b(furious|ridiculous|unacceptable|worst|angry|useless)\b", re.I)
CASES = {"lawyer": "legal", "sue": "legal", "burned": "injury", "died": "bereavement"}
_STOP = frozenset({"i", "my", "a", "the", "is", "to", "do", "you", "it", "of", "and", "can", "me", "for", "on", "in"})


class FakeEncoder:
    """A fixed vector per text: the one `vectors` gives it, else a pseudo-random unit vector (equal texts embed
    equally, different ones almost orthogonally). Records every batch it is asked for."""

    def __init__(self, vectors: dict[str, np.ndarray] | None = None) -> None:
        self.vectors = vectors
        self.dim = len(next(iter(vectors.values()))) if vectors else DIM
        self.batches: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(list(texts))
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        table = self.vectors
        return np.stack([table[text] if table is not None else vector(text) for text in texts]).astype(np.float32)


def vector(text: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
    raw = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return raw / np.linalg.norm(raw)


class FakeAnalyzer:
    """Rule-based readings of messages (see the module docstring), for a knowledge base read from its file."""

    def __init__(self, knowledge_base: Path = STORE_KNOWLEDGE_BASE) -> None:
        self.encoder = FakeEncoder()
        self.knowledge_base = load_knowledge_base(knowledge_base)
        self._words = {intent.name: _content(" ".join(intent.examples)) for intent in self.knowledge_base.intents}
        self.analysed: list[str] = []  # every text analysed, in order: tests can see what reached the models

    def analyze(self, texts: Sequence[str]) -> list[TurnAnalysis]:
        self.analysed.extend(texts)
        return [self.read(text) for text in texts]

    def read(self, text: str) -> TurnAnalysis:
        words = _content(text)
        overlap = sorted(((len(words & known), name) for name, known in self._words.items()), reverse=True)
        best, name = overlap[0] if overlap else (0, "")
        intents: Ranked = ((name, 0.9), (overlap[1][1], 0.05)) if best >= 2 else ((name, 0.2), (overlap[1][1], 0.15))
        case = next((kind for word, kind in CASES.items() if word in text.lower()), None)
        return analysis(
            text,
            human_request=0.99 if ASKING.search(text) else 0.01,
            frustration=0.97 if FRUSTRATED.search(text) else 0.05,
            intents=intents,
            out_of_scope=0.05 if best >= 2 else 0.9,
            cases=((CaseScore(case, 0.95, text, "example", 0.9),) if case else ()),
            language="en",
        )


def analysis(
    text: str,
    *,
    human_request: float = 0.01,
    frustration: float = 0.05,
    intents: Ranked = (("track_order", 0.9), ("refund_status", 0.05)),
    out_of_scope: float = 0.05,
    cases: tuple[CaseScore, ...] = (),
    signs: Ranked = (),
    language: str = "en",
    language_confidence: float = 0.9,
) -> TurnAnalysis:
    """A TurnAnalysis by hand, with calm defaults: name only what a test is about."""
    return TurnAnalysis(
        text=text,
        embedding=vector(text),
        negative=frustration,
        human_request=human_request,
        intents=intents,
        out_of_scope=out_of_scope,
        frustration=frustration,
        cases=cases,
        signs=signs,
        language=language,
        language_confidence=language_confidence,
    )


def _content(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if word not in _STOP and len(word) > 2}
