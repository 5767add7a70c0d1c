"""Pattern similarity: the escalation bank and the detector, with hand-made unit vectors (no encoder)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from detectors.pattern_similarity import (
    EscalationBank,
    PatternSimilarityDetector,
    SeedFileError,
    conversation_vector,
    read_seed_file,
    should_fire,
    similarity_score,
)
from detectors.thresholds import PatternSimilarityThresholds
from detectors.types import Conversation, Turn
from models.analysis import TurnAnalysis
from tests.fakes import FakeEncoder

STORE_PAST_ESCALATIONS = Path(__file__).resolve().parents[2] / "bot" / "data" / "store" / "past_escalations.jsonl"

DIM = 4
# Four orthogonal directions stand for four topics.
DELIVERY, REFUND, LOGIN, SIZING = np.eye(DIM, dtype=np.float32)


def unit(*components: float) -> np.ndarray:
    vector = np.asarray(components, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def customer(embedding: np.ndarray, text: str = "...") -> Turn:
    analysis = TurnAnalysis(
        text=text, embedding=embedding, negative=0.0, human_request=0.0, intents=(), out_of_scope=0.0
    )
    return Turn(role="customer", text=text, analysis=analysis)


def conversation(*turns: Turn) -> Conversation:
    return Conversation(id="c-1", turns=turns)


def small_bank() -> EscalationBank:
    bank = EscalationBank(dim=DIM)
    bank.add("seed-001", "repeated failed deliveries", [DELIVERY, DELIVERY])
    bank.add("seed-002", "refund refused twice", [REFUND, unit(0.2, 1, 0, 0)])
    return bank


# --- conversation vectors -------------------------------------------------------------------------


def test_conversation_vector_is_the_normalised_mean() -> None:
    vector = conversation_vector([DELIVERY, REFUND])
    np.testing.assert_allclose(vector, unit(1, 1, 0, 0), atol=1e-6)
    assert vector.dtype == np.float32


def test_conversation_vector_rejects_no_turns_and_a_zero_mean() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        conversation_vector(np.zeros((0, DIM), dtype=np.float32))
    with pytest.raises(ValueError, match="zero"):
        conversation_vector([DELIVERY, -DELIVERY])


# --- the bank ---------------------------------------------------------------------------------------


def test_empty_bank_has_no_match() -> None:
    assert EscalationBank(dim=DIM).most_similar(DELIVERY) is None


def test_most_similar_finds_the_closest_past_escalation() -> None:
    match = small_bank().most_similar(unit(0.1, 1, 0, 0))
    assert match is not None
    match_id, summary, similarity = match
    assert (match_id, summary) == ("seed-002", "refund refused twice")
    assert similarity == pytest.approx(float(unit(0.1, 1, 0, 0) @ unit(0.1, 1, 0, 0)), abs=0.01)


def test_add_grows_the_bank_and_replaces_a_known_id() -> None:
    bank = small_bank()
    bank.add("conv-9", "login loop", [LOGIN])
    assert len(bank) == 3
    assert bank.most_similar(LOGIN) == ("conv-9", "login loop", pytest.approx(1.0))

    bank.add("conv-9", "sizing confusion", [SIZING])
    assert len(bank) == 3
    assert bank.most_similar(SIZING) == ("conv-9", "sizing confusion", pytest.approx(1.0))
    assert bank.most_similar(LOGIN).similarity == pytest.approx(0.0, abs=1e-6)


def test_add_rejects_embeddings_of_the_wrong_dimension() -> None:
    with pytest.raises(ValueError, match="dimension"):
        small_bank().add("x", "y", [np.ones(DIM + 1, dtype=np.float32)])


def test_concurrent_adds_all_land() -> None:
    bank = EscalationBank(dim=DIM)

    def add_many(worker: int) -> None:
        for i in range(50):
            bank.add(f"w{worker}-{i}", "s", [unit(worker + 1, i + 1, 1, 1)])

    threads = [threading.Thread(target=add_many, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(bank) == 200
    assert len(set(bank.ids)) == 200


def test_from_seed_file_encodes_every_turn_in_one_pass(tmp_path: Path) -> None:
    seeds = tmp_path / "bank.jsonl"
    lines = [
        {"id": "seed-001", "summary": "repeated failed deliveries", "customer_turns": ["late", "late again"]},
        {"id": "seed-002", "summary": "login loop", "customer_turns": ["cannot log in"]},
    ]
    seeds.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n", encoding="utf-8")
    encoder = FakeEncoder({"late": DELIVERY, "late again": unit(1, 0.2, 0, 0), "cannot log in": LOGIN})

    bank = EscalationBank.from_seed_file(seeds, encoder)

    assert len(encoder.batches) == 1
    assert bank.ids == ("seed-001", "seed-002")
    assert bank.most_similar(LOGIN).id == "seed-002"
    assert bank.most_similar(DELIVERY).id == "seed-001"


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        json.dumps({"id": "seed-1", "summary": "s"}),
        json.dumps({"id": "seed-1", "summary": "s", "customer_turns": []}),
        json.dumps({"id": "seed-1", "summary": "s", "customer_turns": ["ok", "  "]}),
        json.dumps({"id": 7, "summary": "s", "customer_turns": ["ok"]}),
        json.dumps({"id": "seed-0", "summary": "again", "customer_turns": ["ok"]}),
    ],
)
def test_a_malformed_seed_line_is_named(tmp_path: Path, line: str) -> None:
    seeds = tmp_path / "bank.jsonl"
    good = json.dumps({"id": "seed-0", "summary": "s", "customer_turns": ["fine"]})
    seeds.write_text(good + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(SeedFileError, match=r"bank\.jsonl:2"):
        read_seed_file(seeds)


# --- scoring and deciding -----------------------------------------------------------------------


@pytest.mark.parametrize(("cosine", "score"), [(0.86, 0.86), (-0.3, 0.0), (1.0000001, 1.0), (0.0, 0.0)])
def test_similarity_score_clips_the_cosine_to_0_1(cosine: float, score: float) -> None:
    assert similarity_score(cosine) == pytest.approx(score)


@pytest.mark.parametrize(
    ("score", "window", "fired"),
    [(0.80, 2, True), (0.79, 3, False), (0.95, 1, False), (0.95, 3, True)],
)
def test_should_fire_needs_the_threshold_and_enough_turns(score: float, window: int, fired: bool) -> None:
    thresholds = PatternSimilarityThresholds(threshold=0.8, window=3, min_turns=2)
    assert should_fire(score, window, thresholds) is fired


def test_thresholds_refuse_a_window_too_small_to_ever_fire() -> None:
    with pytest.raises(ValueError, match="min_turns"):
        PatternSimilarityThresholds(window=1, min_turns=2)
    assert PatternSimilarityThresholds(window=1, min_turns=1).window == 1


# --- the detector -------------------------------------------------------------------------------


def test_fires_on_a_conversation_like_a_past_escalation() -> None:
    detector = PatternSimilarityDetector(small_bank())
    convo = conversation(customer(DELIVERY), Turn("bot", "Sorry!"), customer(unit(1, 0.1, 0, 0)))

    signal = detector.detect(convo, PatternSimilarityThresholds(threshold=0.8))

    assert signal.detector == "pattern_similarity"
    assert signal.fired
    assert signal.score == pytest.approx(0.9988, abs=1e-3)
    assert signal.reason == "Resembles a past escalation (1.00): repeated failed deliveries"
    assert signal.evidence == {
        "window": 2,
        "match_id": "seed-001",
        "summary": "repeated failed deliveries",
        "similarity": pytest.approx(0.9988, abs=1e-3),
    }


def test_only_the_recent_window_counts() -> None:
    detector = PatternSimilarityDetector(small_bank())
    # An old delivery complaint, then three sizing questions: the window of 3 sees only sizing.
    convo = conversation(customer(DELIVERY), customer(SIZING), customer(SIZING), customer(SIZING))

    narrow = detector.detect(convo, PatternSimilarityThresholds(threshold=0.5, window=3))
    wide = detector.detect(convo, PatternSimilarityThresholds(threshold=0.5, window=4))

    assert not narrow.fired and narrow.score == pytest.approx(0.0, abs=1e-6)
    assert narrow.evidence["window"] == 3
    assert narrow.reason.startswith("Closest to a past escalation")
    assert wide.evidence["window"] == 4
    assert wide.score == pytest.approx(float(unit(1, 0, 0, 3) @ DELIVERY), abs=1e-4)


def test_a_single_turn_cannot_fire_even_when_identical() -> None:
    signal = PatternSimilarityDetector(small_bank()).detect(
        conversation(customer(DELIVERY)), PatternSimilarityThresholds(threshold=0.8, min_turns=2)
    )
    assert signal.score == pytest.approx(1.0)
    assert not signal.fired


def test_empty_bank_never_fires() -> None:
    detector = PatternSimilarityDetector(EscalationBank(dim=DIM))
    signal = detector.detect(conversation(customer(DELIVERY), customer(DELIVERY)), PatternSimilarityThresholds())
    assert (signal.score, signal.fired) == (0.0, False)
    assert signal.reason == "No past escalations to compare with."


def test_no_analysed_customer_turn_scores_zero() -> None:
    detector = PatternSimilarityDetector(small_bank())
    signal = detector.detect(conversation(Turn("bot", "Hi! How can I help?")), PatternSimilarityThresholds())
    assert (signal.score, signal.fired, signal.evidence["window"]) == (0.0, False, 0)


def test_an_added_escalation_is_seen_by_the_next_detect() -> None:
    bank = small_bank()
    detector = PatternSimilarityDetector(bank)
    convo = conversation(customer(LOGIN), customer(LOGIN))
    thresholds = PatternSimilarityThresholds(threshold=0.8)

    assert not detector.detect(convo, thresholds).fired
    bank.add("conv-42", "locked out after password reset", [LOGIN, unit(0.1, 0, 1, 0)])
    after = detector.detect(convo, thresholds)

    assert after.fired
    assert after.evidence["match_id"] == "conv-42"


# --- with the real encoder and the packaged seed bank -----------------------------------------


@pytest.mark.slow
def test_real_encoder_recognises_a_seed_story_and_ignores_a_happy_path() -> None:
    from models.encoder import SentenceEncoder

    encoder = SentenceEncoder(threads=1)
    bank = EscalationBank.from_seed_file(STORE_PAST_ESCALATIONS, encoder)
    detector = PatternSimilarityDetector(bank)
    thresholds = PatternSimilarityThresholds()  # the measured defaults

    def live(texts: list[str]) -> Conversation:
        turns = [customer(embedding, text) for text, embedding in zip(texts, encoder.encode(texts), strict=False)]
        return conversation(*turns)

    # seed-011 retold in other words: charged twice for one order.
    double_charge = live(
        [
            "you took payment twice for one order",
            "my account only shows a single order but my bank shows two charges",
            "I need that extra charge refunded immediately, I can't afford it",
        ]
    )
    # A happy-path order-status chat: the hardest of the measured negatives for this bank.
    order_status = live(["Hi, where is my order?", "It's order 48213, placed on Monday", "Great, thanks for checking!"])

    assert len(bank) >= 40
    matched = detector.detect(double_charge, thresholds)
    assert matched.fired, matched.reason
    assert matched.evidence["match_id"] == "seed-011"
    assert matched.reason.startswith("Resembles a past escalation (")
    calm = detector.detect(order_status, thresholds)
    assert not calm.fired, calm.reason
    assert calm.score < thresholds.threshold - 0.05
