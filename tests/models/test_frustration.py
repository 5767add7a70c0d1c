"""Frustration: the per-deployment baseline on hand-written log-odds, and the head on hand-made weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.frustration import (
    SHRINK_EXAMPLES,
    FrustrationBaseline,
    FrustrationHead,
    log_odds,
)


def sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


# Two routine examples on returns sound frustrated (log-odds 2), three on thanks are calm (0): median 0.
ODDS = [2.0, 2.0, 0.0, 0.0, 0.0]
INTENTS = ["returns", "returns", "thanks", "thanks", "thanks"]


def baseline(reference: float = 0.0) -> FrustrationBaseline:
    return FrustrationBaseline.fit(ODDS, INTENTS, reference)


def test_fit_shrinks_each_intent_mean_toward_the_median() -> None:
    fitted = FrustrationBaseline.fit([3.0, 1.0, 1.0, 1.0, 1.0], ["a", "b", "b", "b", "b"], reference=0.5)
    assert fitted.median == 1.0 and fitted.reference == 0.5
    # "a" has one example at 3: (3 + 5 * 1) / (1 + 5), pulled most of the way back to the median.
    assert fitted.baselines["a"] == pytest.approx((3.0 + SHRINK_EXAMPLES * 1.0) / (1 + SHRINK_EXAMPLES))
    assert fitted.baselines["b"] == pytest.approx(1.0)


def test_more_examples_pull_an_intent_further_from_the_median() -> None:
    few = FrustrationBaseline.fit([2.0, 0.0, 0.0, 0.0], ["a", "b", "b", "b"], 0.0).baselines["a"]
    many = FrustrationBaseline.fit([2.0] * 4 + [0.0] * 5, ["a"] * 4 + ["b"] * 5, 0.0).baselines["a"]
    assert 0.0 < few < many < 2.0


@pytest.mark.parametrize(("odds", "intents"), [([1.0], ["a", "b"]), ([], [])])
def test_fit_needs_one_value_per_example(odds: list[float], intents: list[str]) -> None:
    with pytest.raises(ValueError):
        FrustrationBaseline.fit(odds, intents, 0.0)


def test_excess_is_the_topic_baseline_above_the_reference() -> None:
    returns = 4.0 / (2 + SHRINK_EXAMPLES)
    assert baseline().excess([("returns", 1.0)], out_of_scope=0.0) == pytest.approx(returns)
    assert baseline(0.25).excess([("returns", 1.0)], out_of_scope=0.0) == pytest.approx(returns - 0.25)


def test_excess_is_never_negative() -> None:
    assert baseline(reference=5.0).excess([("returns", 1.0)], out_of_scope=0.0) == 0.0
    assert baseline(reference=1.0).excess([("thanks", 1.0)], out_of_scope=0.0) == 0.0


def test_excess_weights_the_intents_by_their_probabilities_and_ignores_unknown_ones() -> None:
    returns = 4.0 / (2 + SHRINK_EXAMPLES)
    fitted = baseline()
    assert fitted.excess([("returns", 0.5), ("thanks", 0.5)], 0.0) == pytest.approx(returns / 2)
    assert fitted.excess([("returns", 0.3), ("thanks", 0.1)], 0.0) == pytest.approx(0.75 * returns)
    assert fitted.excess([("returns", 0.2), ("not_in_kb", 0.8)], 0.0) == pytest.approx(returns)


def test_out_of_scope_uses_the_deployment_median() -> None:
    fitted = FrustrationBaseline.fit([2.0, 2.0, 1.0], ["returns", "returns", "thanks"], reference=0.0)
    assert fitted.median == 2.0
    assert fitted.excess([("thanks", 1.0)], out_of_scope=1.0) == pytest.approx(2.0)
    assert fitted.excess([("thanks", 1.0)], out_of_scope=7.0) == pytest.approx(2.0)  # clipped to 1
    half = 0.5 * fitted.baselines["thanks"] + 0.5 * 2.0
    assert fitted.excess([("thanks", 1.0)], out_of_scope=0.5) == pytest.approx(half)
    assert fitted.excess([("not_in_kb", 1.0)], out_of_scope=0.0) == pytest.approx(2.0)  # no known intent


def test_a_routine_report_on_a_topic_that_sounds_frustrated_is_discounted() -> None:
    fitted = baseline()
    calibrated = fitted.frustration(1.0, [("returns", 0.9), ("thanks", 0.1)], out_of_scope=0.0)
    assert calibrated < sigmoid(1.0)
    assert calibrated == pytest.approx(sigmoid(1.0 - fitted.excess([("returns", 0.9), ("thanks", 0.1)], 0.0)))


def test_a_quiet_topic_never_inflates_frustration() -> None:
    fitted = baseline(reference=1.5)  # "thanks" sits well below the reference
    assert fitted.frustration(-0.5, [("thanks", 1.0)], out_of_scope=0.0) == pytest.approx(sigmoid(-0.5))


def test_log_odds_clips_certain_probabilities() -> None:
    values = log_odds(np.array([0.0, 0.5, 1.0]))
    assert np.all(np.isfinite(values))
    assert values[1] == 0.0 and values[0] == pytest.approx(-values[2])


HEAD = FrustrationHead(weights=np.array([1.0, -1.0, 2.0, 1.0]), bias=0.5, reference=-0.7)


def test_head_log_odds_is_a_linear_map_of_the_embedding_and_the_branch_log_odds() -> None:
    embeddings = np.array([[0.6, 0.8], [1.0, 0.0]])
    branch = np.array([[0.5, 0.9], [0.5, 0.5]])
    # Row 1: 0.6 - 0.8 + 2 * 0 + 1 * log(9) + 0.5; row 2: 1 + 0.5.
    np.testing.assert_allclose(HEAD.log_odds(embeddings, branch), [0.3 + np.log(9.0), 1.5], rtol=1e-5)


def test_head_save_and_load_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "weights" / "frustration.npz"
    HEAD.save(path)
    loaded = FrustrationHead.load(path)
    np.testing.assert_array_equal(loaded.weights, HEAD.weights)
    assert (loaded.bias, loaded.reference) == (0.5, -0.7)
    embeddings, branch = np.array([[0.6, 0.8]]), np.array([[0.2, 0.7]])
    np.testing.assert_array_equal(loaded.log_odds(embeddings, branch), HEAD.log_odds(embeddings, branch))
