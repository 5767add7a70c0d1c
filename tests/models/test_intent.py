"""The intent model on tiny synthetic clusters: ranking, out-of-scope ordering, persistence and the cache."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from models.intent import IntentModel, IntentModelError, load_or_fit

DIM = 16
INTENTS = ("billing", "delivery", "password", "refund")


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def centres() -> dict[str, np.ndarray]:
    # Orthogonal directions keep the clusters apart; a fifth one is left over as "somewhere else".
    basis = np.linalg.qr(np.random.default_rng(7).normal(size=(DIM, DIM)))[0]
    return {name: basis[i] for i, name in enumerate(INTENTS)} | {"elsewhere": basis[len(INTENTS)]}


def cluster(centre: np.ndarray, count: int, seed: int, spread: float = 0.15) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(scale=spread / np.sqrt(DIM), size=(count, DIM))
    return unit(centre + noise).astype(np.float32)


@pytest.fixture(scope="module")
def training(centres) -> tuple[np.ndarray, list[str]]:
    rows = [cluster(centres[name], 12, seed=i) for i, name in enumerate(INTENTS)]
    return np.vstack(rows), [name for name in INTENTS for _ in range(12)]


@pytest.fixture(scope="module")
def model(training) -> IntentModel:
    return IntentModel.fit(*training)


def test_rank_puts_the_nearest_intent_first_with_probabilities_in_order(model, centres) -> None:
    queries = np.vstack([cluster(centres[name], 1, seed=100 + i) for i, name in enumerate(INTENTS)])
    ranked = model.rank(queries, k=3)
    assert [row[0][0] for row in ranked] == list(INTENTS)
    for row in ranked:
        assert len(row) == 3
        probabilities = [p for _, p in row]
        assert probabilities == sorted(probabilities, reverse=True)
        assert 0.5 < probabilities[0] <= 1.0


def test_probabilities_sum_to_one_over_all_intents(model, centres) -> None:
    probabilities = model.probabilities(cluster(centres["refund"], 5, seed=3))
    assert probabilities.shape == (5, len(INTENTS))
    np.testing.assert_allclose(probabilities.sum(1), 1.0, rtol=1e-9)


def test_far_points_score_more_out_of_scope_than_near_ones(model, centres) -> None:
    near = np.vstack([cluster(centres[name], 5, seed=200 + i) for i, name in enumerate(INTENTS)])
    far = cluster(centres["elsewhere"], 20, seed=300)
    near_scores, far_scores = model.out_of_scope(near), model.out_of_scope(far)
    assert near_scores.shape == (20,) and far_scores.shape == (20,)
    assert ((near_scores >= 0.0) & (near_scores <= 1.0)).all() and ((far_scores >= 0.0) & (far_scores <= 1.0)).all()
    assert far_scores.min() > near_scores.max()
    assert far_scores.min() > 0.5  # beyond the calibrated in-scope 95th percentile
    assert np.median(near_scores) < 0.5


def test_a_single_embedding_is_accepted_as_one_row(model, centres) -> None:
    one = cluster(centres["password"], 1, seed=9)[0]
    assert model.rank(one, k=1)[0][0][0] == "password"
    assert model.out_of_scope(one).shape == (1,)


def test_save_and_load_round_trip_gives_the_same_answers(model, centres, tmp_path: Path) -> None:
    path = tmp_path / "nested" / "intent.npz"
    model.save(path)
    loaded = IntentModel.load(path)
    queries = np.vstack([cluster(centres["delivery"], 3, seed=11), cluster(centres["elsewhere"], 3, seed=12)])
    assert loaded.intents == model.intents
    assert loaded.hyper == model.hyper
    assert loaded.rank(queries) == model.rank(queries)
    np.testing.assert_allclose(loaded.out_of_scope(queries), model.out_of_scope(queries))


def test_load_rejects_a_file_that_is_not_an_intent_model(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    np.savez(path, weights=np.zeros(3))
    with pytest.raises(IntentModelError):
        IntentModel.load(path)


def test_fit_needs_two_intents(training) -> None:
    embeddings, _ = training
    with pytest.raises(IntentModelError, match="two intents"):
        IntentModel.fit(embeddings[:5], ["billing"] * 5)


class CountingEncoder:
    """Deterministic fake: the first word picks the cluster, a hash of the whole text the jitter."""

    dim = DIM

    def __init__(self, centres: dict[str, np.ndarray]) -> None:
        self.centres = centres
        self.texts_encoded = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.texts_encoded += len(texts)
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
            rows.append(cluster(self.centres[text.split()[0]], 1, seed=seed)[0])
        return np.vstack(rows)


def knowledge_base() -> list[tuple[str, str]]:
    return [(f"{name} question number {i}", name) for name in INTENTS for i in range(6)]


def test_load_or_fit_trains_once_then_hits_the_cache(centres, tmp_path: Path) -> None:
    encoder = CountingEncoder(centres)
    examples = knowledge_base()
    first = load_or_fit(examples, encoder, tmp_path)
    assert encoder.texts_encoded == len(examples)
    assert len(list(tmp_path.glob("intent-*.npz"))) == 1

    second = load_or_fit(examples, encoder, tmp_path)
    assert encoder.texts_encoded == len(examples)  # nothing re-encoded: the cached model was loaded
    query = encoder.encode(["refund please"])
    assert second.rank(query) == first.rank(query)


def test_load_or_fit_retrains_when_the_examples_or_hyper_parameters_change(centres, tmp_path: Path) -> None:
    encoder = CountingEncoder(centres)
    examples = knowledge_base()
    load_or_fit(examples, encoder, tmp_path)
    load_or_fit(examples + [("billing one more", "billing")], encoder, tmp_path)
    load_or_fit(examples, encoder, tmp_path, knn=3)
    assert encoder.texts_encoded == 3 * len(examples) + 1
    assert len(list(tmp_path.glob("intent-*.npz"))) == 3


def test_an_intent_with_a_single_example_still_trains_and_ranks(training, centres) -> None:
    embeddings, labels = training
    lone = cluster(centres["elsewhere"], 1, seed=42)
    model = IntentModel.fit(np.vstack([embeddings, lone]), labels + ["opening_hours"])
    assert model.rank(lone, k=1)[0][0][0] == "opening_hours"
    assert np.isfinite(model.out_of_scope(lone)).all()
