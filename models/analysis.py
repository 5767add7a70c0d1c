"""TurnAnalysis: everything the models say about one customer message, from one encoder pass."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from models.encoder import Encoder
from models.example_classes import ExampleClasses
from models.frustration import FrustrationBaseline, FrustrationHead
from models.language import UNDETERMINED, LanguageGuess, LanguageIdentifier
from models.sentences import Span, sentence_spans
from models.stuck_signs import StuckSigns

Ranked = tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class SentenceAnalysis:
    """One sentence of a message of several, read on its own (models.sentences)."""

    text: str
    embedding: np.ndarray = field(repr=False)
    human_request: float


@dataclass(frozen=True, slots=True)
class CaseScore:
    """How likely the message raises one of the deployment's case types, where, and the example it is closest to."""

    name: str
    probability: float
    sentence: str  # the part of the message that scored highest (the whole message when it has one sentence)
    example: str  # the case type's example closest to that part
    similarity: float  # cosine similarity of the two


@dataclass(frozen=True, slots=True)
class TurnAnalysis:
    """The encoder's embedding of one message and what every cheap head read off it."""

    text: str
    embedding: np.ndarray = field(repr=False)  # (dim,), float32, L2-normalised
    negative: float  # P(negative sentiment), 0..1, from the sentiment branch
    human_request: float  # P(the message asks for a human), 0..1
    intents: Ranked  # knowledge-base intents, most probable first
    out_of_scope: float  # 0..1, higher means further from anything the knowledge base covers
    # Negativity beyond what a routine message on the same topic has (models.frustration); None without a baseline.
    frustration: float | None = None
    sentences: tuple[SentenceAnalysis, ...] = ()  # only for messages of two sentences or more
    cases: tuple[CaseScore, ...] = ()  # the deployment's case types, most probable first
    signs: Ranked = ()  # signs that the bot is not helping ("I tried that already"), most probable first
    language: str = UNDETERMINED  # ISO 639-1 code of the message's language, "" when it cannot be told
    language_confidence: float = 0.0

    @property
    def top_intent(self) -> str | None:
        return self.intents[0][0] if self.intents else None

    @property
    def top_confidence(self) -> float:
        return self.intents[0][1] if self.intents else 0.0

    @property
    def margin(self) -> float:
        """Gap between the two most probable intents (1.0 when there is only one)."""
        if len(self.intents) < 2:
            return self.top_confidence
        return self.intents[0][1] - self.intents[1][1]

    @property
    def upset(self) -> float:
        """The number the sentiment detector reads: frustration when a baseline exists, else raw negativity."""
        return self.negative if self.frustration is None else self.frustration

    def sign(self, name: str) -> float:
        return dict(self.signs).get(name, 0.0)


class TextAnalyzer(Protocol):
    """What the rest of the service needs from the models: every head's reading of a batch of messages, and the
    encoder behind it (for the few fixed texts embedded on their own, such as past escalations)."""

    encoder: Encoder

    def analyze(self, texts: Sequence[str]) -> list[TurnAnalysis]: ...


class IntentRanker(Protocol):
    def rank(self, embeddings: np.ndarray, k: int = 3) -> list[Ranked]: ...

    def out_of_scope(self, embeddings: np.ndarray) -> np.ndarray: ...


# A head maps a batch of embeddings (n, dim) to one probability per row (n,).
ProbabilityHead = Callable[[np.ndarray], np.ndarray]


@runtime_checkable
class Branch(Protocol):
    """Layers of its own that fork off the encoder's pass at an inner layer (models.sentiment_branch)."""

    from_layer: int
    classes: tuple[str, ...]

    def index(self, name: str) -> int: ...


@runtime_checkable
class SentencePass(Protocol):
    """An encoder that runs a branch inside its pass and pools sentences from it (see models.encoder.BranchEncoder)."""

    def encode_with_sentences(
        self, texts: Sequence[str], branch: Any, spans: Sequence[Sequence[Span]] | None
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]: ...


class MissingFeatures(ValueError):
    """The sentiment branch's output is needed but the encoder or the caller did not provide it."""


@dataclass(frozen=True, slots=True)
class DeploymentHeads:
    """The heads fitted to one deployment at start-up (its case types, the stuck signs judged against its routine
    messages, how frustrated its routine messages sound), the shipped frustration head that baseline calibrates,
    and the languages to tell apart. Any may be absent."""

    cases: ExampleClasses | None = None
    signs: StuckSigns | None = None
    frustration: FrustrationHead | None = None  # needs the sentiment branch's output
    baseline: FrustrationBaseline | None = None
    languages: LanguageIdentifier | None = None


class Analyzer:
    """One encoder pass for a batch of messages, then every cheap head on the same pass.

    Negativity comes either from a head on the embedding or, by default, from the sentiment branch that
    the encoder runs inside the same pass (`encode_with_sentences`). Messages of two sentences or more also
    get each sentence's vector from that pass, which the human-request and case heads read as well.
    """

    def __init__(
        self,
        encoder: Encoder,
        negative: ProbabilityHead | Branch,
        human_request: ProbabilityHead,
        intents: IntentRanker,
        top_k: int = 3,
        deployment: DeploymentHeads = DeploymentHeads(),
    ) -> None:
        # The sentiment branch this analyzer's pass runs, if negativity comes from one; else the head that reads it.
        self.branch: Branch | None = negative if isinstance(negative, Branch) else None
        self._negative: ProbabilityHead | None = None if isinstance(negative, Branch) else negative
        if self.branch is not None and not isinstance(encoder, SentencePass):
            raise MissingFeatures(f"the sentiment branch forks off the pass, which {type(encoder).__name__} cannot run")
        self.encoder = encoder
        self._human_request = human_request
        self._intents = intents
        self._top_k = top_k
        self.deployment = deployment

    def analyze(self, texts: Sequence[str]) -> list[TurnAnalysis]:
        spans = [_several(sentence_spans(text)) for text in texts]
        if self.branch is not None:
            assert isinstance(self.encoder, SentencePass)  # checked in __init__; narrows the type
            embeddings, probabilities, sentences = self.encoder.encode_with_sentences(texts, self.branch, spans)
            return self.analyze_embeddings(texts, embeddings, probabilities, sentences, spans)
        # Without a branch (an embedding-only encoder), each sentence costs a pass of its own.
        pieces = [text[start:end] for text, text_spans in zip(texts, spans, strict=False) for start, end in text_spans]
        vectors = self.encoder.encode([*texts, *pieces])
        embeddings, rest = vectors[: len(texts)], vectors[len(texts) :]
        sentences, used = [], 0
        for text_spans in spans:
            sentences.append(rest[used : used + len(text_spans)])
            used += len(text_spans)
        return self.analyze_embeddings(texts, embeddings, None, sentences, spans)

    def analyze_embeddings(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray,
        branch_probabilities: np.ndarray | None = None,
        sentences: Sequence[np.ndarray] | None = None,
        spans: Sequence[Sequence[Span]] | None = None,
    ) -> list[TurnAnalysis]:
        """Every head on an encoder pass already made; `branch_probabilities` is the branch's output when there is
        a branch, `sentences` the pooled vectors of each text's `spans` (none when the text has one sentence)."""
        heads = self.deployment
        frustration: np.ndarray | None = None
        if self.branch is not None:
            if branch_probabilities is None:
                raise MissingFeatures("negativity comes from the sentiment branch: pass its output")
            negative = branch_probabilities[:, self.branch.index("negative")]
            if heads.frustration is not None:
                frustration = heads.frustration.log_odds(embeddings, branch_probabilities)
        else:
            assert self._negative is not None  # __init__ keeps the head whenever there is no branch; narrows the type
            negative = self._negative(embeddings)
        human = self._human_request(embeddings)
        ranked = self._intents.rank(embeddings, k=self._top_k)
        oos = self._intents.out_of_scope(embeddings)
        languages = self._languages(texts, oos)
        # Row 0 of each message's segments is the whole message, then each sentence: the heads that look for one
        # thing take the strongest. Sentences of a word or two ("Ah.", "Thanks!") say too little to resemble a case
        # or a sign. Every segment of the batch goes through each head in one call.
        dim = embeddings.shape[1]
        pieces, vectors, segments = [], [], []
        for i, text in enumerate(texts):
            own_spans = spans[i] if spans is not None else ()
            own = sentences[i] if sentences is not None and own_spans else np.zeros((0, dim), np.float32)
            pieces.append([text, *(text[a:b] for a, b in own_spans)])
            vectors.append(own)
            telling = [0, *(k + 1 for k, piece in enumerate(pieces[i][1:]) if len(piece.split()) >= MIN_SENTENCE_WORDS)]
            segments.append((telling, np.vstack([embeddings[i : i + 1], own]).astype(np.float32)[telling]))
        stacked = np.vstack([rows for _, rows in segments])
        bounds = np.cumsum([0, *(len(rows) for _, rows in segments)])
        case_scores = heads.cases.probabilities(stacked) if heads.cases else None
        sign_scores = heads.signs.probabilities(stacked) if heads.signs else None
        all_sentences = np.vstack(vectors)
        sentence_requests = self._human_request(all_sentences) if len(all_sentences) else np.zeros(0)
        sentence_bounds = np.cumsum([0, *(len(v) for v in vectors)])
        analyses = []
        for i, text in enumerate(texts):
            rows = slice(bounds[i], bounds[i + 1])
            telling, own_segments = segments[i]
            requests = sentence_requests[sentence_bounds[i] : sentence_bounds[i + 1]]
            analyses.append(
                TurnAnalysis(
                    text=text,
                    embedding=embeddings[i],
                    negative=float(negative[i]),
                    human_request=float(human[i]),
                    intents=ranked[i],
                    out_of_scope=float(oos[i]),
                    frustration=_frustration(frustration, i, heads.baseline, ranked[i], float(oos[i])),
                    sentences=tuple(
                        SentenceAnalysis(piece, vector, float(p))
                        for piece, vector, p in zip(pieces[i][1:], vectors[i], requests, strict=False)
                    ),
                    cases=(
                        _case_scores(heads.cases, case_scores[rows], own_segments, [pieces[i][k] for k in telling])
                        if heads.cases is not None and case_scores is not None
                        else ()
                    ),
                    signs=_strongest(heads.signs.classes, sign_scores[rows])
                    if heads.signs and sign_scores is not None
                    else (),
                    language=languages[i].code,
                    language_confidence=languages[i].confidence,
                )
            )
        return analyses

    def _languages(self, texts: Sequence[str], out_of_scope: np.ndarray) -> list[LanguageGuess]:
        """lingua's guess for the messages that may not be in English: those with letters outside ASCII, or far from
        the knowledge base. On the store's train and dev turns every message in another language was one of them
        (out of scope at least 0.3, or not ASCII), while two in three English ones were neither; for those, the
        guess (lingua's share of a message's cost) is skipped and reads as English."""
        languages = self.deployment.languages
        if languages is None:
            return [LanguageGuess(UNDETERMINED, 0.0)] * len(texts)
        return [
            languages.identify(text) if score >= LANGUAGE_CHECK_OUT_OF_SCOPE or not text.isascii() else ASSUMED_ENGLISH
            for text, score in zip(texts, out_of_scope, strict=False)
        ]


LANGUAGE_CHECK_OUT_OF_SCOPE = 0.3
ASSUMED_ENGLISH = LanguageGuess("en", 1.0)
CASE_EVIDENCE = 2  # case types per message whose closest example is looked up for the agent
MIN_SENTENCE_WORDS = 4  # shorter sentences are not read on their own by the case and sign heads


def _frustration(
    log_odds: np.ndarray | None, row: int, baseline: FrustrationBaseline | None, intents: Ranked, out_of_scope: float
) -> float | None:
    """The frustration head's verdict on one message, calibrated to the deployment when a baseline exists."""
    if log_odds is None:
        return None
    if baseline is None:
        return float(1.0 / (1.0 + np.exp(-log_odds[row])))
    return baseline.frustration(float(log_odds[row]), intents, out_of_scope)


def _several(spans: tuple[Span, ...]) -> tuple[Span, ...]:
    """Sentence spans worth reading apart: none when the message is a single sentence."""
    return spans if len(spans) > 1 else ()


def _strongest(classes: tuple[str, ...], probabilities: np.ndarray) -> Ranked:
    """Each class's highest probability over a message's segments (rows), most probable first."""
    best = probabilities.max(axis=0)
    order = np.argsort(-best, kind="stable")
    return tuple((classes[k], float(best[k])) for k in order)


def _case_scores(
    classes: ExampleClasses, probabilities: np.ndarray, segments: np.ndarray, pieces: list[str]
) -> tuple[CaseScore, ...]:
    """`probabilities` (segments, classes) of one message; the closest example is looked up for the top ones."""
    where = probabilities.argmax(axis=0)
    best = probabilities.max(axis=0)
    scores = []
    for rank, k in enumerate(np.argsort(-best, kind="stable")):
        name, segment = classes.classes[k], int(where[k])
        example = classes.closest(name, segments[segment]) if rank < CASE_EVIDENCE else None
        scores.append(
            CaseScore(
                name=name,
                probability=float(best[k]),
                sentence=pieces[segment],
                example=example.text if example else "",
                similarity=example.similarity if example else 0.0,
            )
        )
    return tuple(scores)
