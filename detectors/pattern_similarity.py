"""Pattern similarity: is this a kind of case that needs a person, or does it resemble one that did?

Two banks, read the same way, from the embeddings every message already has:

- **Case types**, deployment data (the knowledge base's `case_types`): situations a person must handle as soon
  as they come up, such as a legal threat, an injury or a bereavement, each described by example messages. The
  analysis scores every message (and each of its sentences) against them (models.example_classes); the
  detector fires at the first message whose most likely case type reaches `thresholds.case_type`, names the
  kind ("Looks like a case about an injury"), and quotes the sentence and the closest example.
- **Past escalations** (the knowledge base's `past_escalations`, grown by agents' verdicts): whole
  conversations, compared with the recent window of this one, as described below.

A conversation is one vector: the L2-normalised plain mean of its customer turns' sentence embeddings.
The plain mean (not recency-weighted) because the bank's conversations have no "latest" turn that matters
more than the others (an escalation pattern is the whole story), and the live side is already cut down to
its recent window; weighting the newest turn as well mostly re-measures that one message, which the other
detectors judge on their own. Both sides reuse the embeddings computed once per message, so this detector
costs one small matrix-vector product and no encoder pass.

(Measured: a recency-weighted live window, weights 1, 0.5, 0.25 newest first, changed nothing material.)

Score: the cosine similarity clipped to 0..1. MiniLM puts unrelated sentences near 0 and rarely below it,
so negative cosines carry no useful "how unlike" information, and keeping the raw cosine above 0 keeps the
threshold in the units people quote for sentence similarity.

It cannot fire before `min_turns` (default 2) customer turns: a pattern is a conversation, and one message
is already judged by the sentiment, explicit-request and intent detectors; a lone message matches the bank's
topical neighbours too easily.

Default threshold 0.75, window 3, by measurement: 0 false fires on 40 hand-written happy-path
conversations (max 0.68) and 540 bitext same-intent pseudo-conversations (max 0.71); 73% of 22 new wordings
of seed stories reach it, all matched to the right seed. It recognises repeats of known patterns, not new
ones: a seed held out of the bank reaches 0.75 against the others 0% of the time (median 0.57).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from detectors.text import shorten
from detectors.thresholds import PatternSimilarityThresholds
from detectors.types import Conversation, Signal
from models.encoder import Encoder


class SeedFileError(ValueError):
    """The seed bank file is malformed; the message names the line."""


class Match(NamedTuple):
    """The past escalation closest to a conversation."""

    id: str
    summary: str
    similarity: float  # cosine similarity of the two conversation vectors


def conversation_vector(turn_embeddings: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
    """The L2-normalised mean of a conversation's (already normalised) turn embeddings, shape (d,)."""
    matrix = np.asarray(turn_embeddings, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] == 0:
        raise ValueError(f"expected a non-empty (turns, dim) matrix of embeddings, got shape {matrix.shape}")
    mean = matrix.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    if norm == 0.0 or not np.isfinite(norm):
        raise ValueError("the turn embeddings average to a zero or non-finite vector")
    vector: np.ndarray = (mean / norm).astype(np.float32)
    return vector


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """One consistent state of the bank; replaced whole on every add, never mutated."""

    ids: tuple[str, ...]
    summaries: tuple[str, ...]
    matrix: np.ndarray  # (m, d) float32, rows L2-normalised


class EscalationBank:
    """Past escalated conversations as unit vectors, searchable by cosine similarity.

    Thread-safe by copy-on-write: readers take the current snapshot (one attribute read, atomic) and
    never see ids and rows out of step; writers build a new snapshot under a lock and swap it in.
    """

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._lock = threading.Lock()
        empty = np.zeros((0, dim), dtype=np.float32)
        empty.setflags(write=False)
        self._snapshot = _Snapshot((), (), empty)

    @classmethod
    def from_seed_file(cls, path: str | Path, encoder: Encoder) -> EscalationBank:
        """Encode every seed conversation's customer turns in one batch (done once, at start-up)."""
        seeds = read_seed_file(path)
        texts = [turn for _, _, turns in seeds for turn in turns]
        embeddings = encoder.encode(texts) if texts else np.zeros((0, encoder.dim), dtype=np.float32)
        bank = cls(dim=int(encoder.dim))
        start = 0
        for seed_id, summary, turns in seeds:
            bank.add(seed_id, summary, embeddings[start : start + len(turns)])
            start += len(turns)
        return bank

    def __len__(self) -> int:
        return len(self._snapshot.ids)

    @property
    def ids(self) -> tuple[str, ...]:
        return self._snapshot.ids

    def add(self, conversation_id: str, summary: str, turn_embeddings: np.ndarray | Sequence[np.ndarray]) -> None:
        """Remember an escalation an agent confirmed was needed; adding a known id replaces its entry."""
        vector = conversation_vector(turn_embeddings)
        if vector.shape != (self.dim,):
            raise ValueError(f"embeddings have dimension {vector.shape[0]}, the bank holds {self.dim}")
        with self._lock:
            old = self._snapshot
            if conversation_id in old.ids:
                row = old.ids.index(conversation_id)
                matrix = old.matrix.copy()
                matrix[row] = vector
                summaries = old.summaries[:row] + (summary,) + old.summaries[row + 1 :]
                new = _Snapshot(old.ids, summaries, matrix)
            else:
                matrix = np.vstack([old.matrix, vector[None, :]])
                new = _Snapshot(old.ids + (conversation_id,), old.summaries + (summary,), matrix)
            new.matrix.setflags(write=False)
            self._snapshot = new

    def most_similar(self, vector: np.ndarray) -> Match | None:
        """The closest past escalation to a unit conversation vector, or None when the bank is empty."""
        snapshot = self._snapshot
        if not snapshot.ids:
            return None
        similarities = snapshot.matrix @ np.asarray(vector, dtype=np.float32)
        best = int(np.argmax(similarities))
        return Match(snapshot.ids[best], snapshot.summaries[best], float(similarities[best]))


def read_seed_file(path: str | Path) -> list[tuple[str, str, tuple[str, ...]]]:
    """(id, summary, customer turns) per line of a JSON-lines seed file; blank lines are skipped."""
    seeds: list[tuple[str, str, tuple[str, ...]]] = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                seed_id, summary, turns = record["id"], record["summary"], record["customer_turns"]
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise SeedFileError(f"{path}:{number}: expected id, summary and customer_turns ({error})") from None
            if not (isinstance(seed_id, str) and isinstance(summary, str) and isinstance(turns, list)):
                raise SeedFileError(f"{path}:{number}: id and summary must be strings, customer_turns a list")
            if not turns or not all(isinstance(turn, str) and turn.strip() for turn in turns):
                raise SeedFileError(f"{path}:{number}: customer_turns must be non-empty strings")
            if any(seed_id == known for known, _, _ in seeds):
                raise SeedFileError(f"{path}:{number}: duplicate id {seed_id!r}")
            seeds.append((seed_id, summary, tuple(turns)))
    return seeds


def similarity_score(similarity: float) -> float:
    """Cosine similarity mapped to the 0..1 score compared with the threshold (negatives clip to 0)."""
    return min(1.0, max(0.0, similarity))


def should_fire(score: float, window_size: int, thresholds: PatternSimilarityThresholds) -> bool:
    """The threshold test, apart from scoring so unit tests can drive it with plain numbers.

    `enabled` is the policy's business: a disabled detector still reports what it would have said.
    """
    return window_size >= thresholds.min_turns and score >= thresholds.threshold


class PatternSimilarityDetector:
    """Compares the newest customer message with the deployment's case types, and the recent customer turns with
    the bank of past escalations."""

    name = "pattern_similarity"

    def __init__(self, bank: EscalationBank, case_labels: Mapping[str, str] | None = None) -> None:
        self.bank = bank
        self.case_labels = dict(case_labels or {})  # case type name -> words for the agent ("an injury")

    def detect(self, conversation: Conversation, thresholds: PatternSimilarityThresholds) -> Signal:
        analysed = [turn.analysis for turn in conversation.customer_turns if turn.analysis is not None]
        window = analysed[-thresholds.window :]
        evidence: dict[str, object] = {"window": len(window)}
        if not window:
            return Signal(self.name, 0.0, thresholds.threshold, False, "No analysed customer turns yet.", evidence)
        case = window[-1].cases[0] if window[-1].cases else None
        if case is not None:
            label = self.case_labels.get(case.name, case.name.replace("_", " "))
            evidence.update(case_type=case.name, case_label=label, case_probability=round(case.probability, 4))
            if case.probability >= thresholds.case_type:
                # A case type goes to a person at its first mention: one message is enough.
                evidence.update(
                    sentence=case.sentence, example=case.example, example_similarity=round(case.similarity, 4)
                )
                reason = f"Looks like a case about {label}: '{shorten(case.sentence, 100)}'"
                return Signal(self.name, case.probability, thresholds.case_type, True, reason, evidence)
        match = self.bank.most_similar(conversation_vector([analysis.embedding for analysis in window]))
        if match is None:
            if case is not None:
                return Signal(
                    self.name,
                    case.probability,
                    thresholds.case_type,
                    False,
                    f"Closest case type: {evidence['case_label']} ({case.probability:.2f})",
                    evidence,
                )
            return Signal(self.name, 0.0, thresholds.threshold, False, "No past escalations to compare with.", evidence)
        score = similarity_score(match.similarity)
        evidence.update(match_id=match.id, summary=match.summary, similarity=round(match.similarity, 4))
        fired = should_fire(score, len(window), thresholds)
        reason = f"{'Resembles' if fired else 'Closest to'} a past escalation ({score:.2f}): {match.summary}"
        return Signal(self.name, score, thresholds.threshold, fired, reason, evidence)
