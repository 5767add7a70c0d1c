"""Classes defined by example messages, on hand-made unit vectors: margins, probabilities, the closest example."""

from __future__ import annotations

import numpy as np
import pytest

from models.example_classes import SCALE, ClassExample, ExampleClasses, fit_from_texts
from tests.fakes import FakeEncoder


def at(*degrees: float) -> np.ndarray:
    """Unit vectors in the plane at these angles."""
    radians = np.radians(degrees)
    return np.stack([np.cos(radians), np.sin(radians)], axis=1).astype(np.float32)


def sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


# Cosines with the query at 0 degrees: legal 1, 0.5, 0; ordinary 0.866, -0.5, -1.
LEGAL = (at(0, 60, 90), ("see you in court", "my lawyer will call", "I spoke to a solicitor"))
ORDINARY = at(30, 120, 180)
QUERY = at(0)


def test_margin_is_the_k_nearest_class_mean_minus_the_k_nearest_ordinary_mean() -> None:
    classes = ExampleClasses({"legal": LEGAL}, ORDINARY, neighbours=2)
    expected = (1.0 + 0.5) / 2 - (np.cos(np.radians(30)) + -0.5) / 2
    np.testing.assert_allclose(classes.margins(QUERY), [[expected]], atol=1e-6)


def test_one_neighbour_compares_the_nearest_of_each() -> None:
    classes = ExampleClasses({"legal": LEGAL}, ORDINARY, neighbours=1)
    np.testing.assert_allclose(classes.margins(QUERY), [[1.0 - np.cos(np.radians(30))]], atol=1e-6)


def test_more_neighbours_than_examples_uses_them_all() -> None:
    classes = ExampleClasses({"one": (at(0), ("only",))}, ORDINARY, neighbours=3)
    everything = (np.cos(np.radians(30)) - 0.5 - 1.0) / 3
    np.testing.assert_allclose(classes.margins(QUERY), [[1.0 - everything]], atol=1e-6)


def test_probability_is_a_sigmoid_of_the_margin_over_scale() -> None:
    classes = ExampleClasses({"legal": LEGAL}, ORDINARY, neighbours=1)
    margin = 1.0 - np.cos(np.radians(30))
    np.testing.assert_allclose(classes.probabilities(QUERY), [[sigmoid(margin / SCALE)]], rtol=1e-5)


def test_the_documented_scale_a_margin_of_a_tenth_scores_0_88() -> None:
    ordinary = np.array([[0.9, np.sqrt(1 - 0.81)]], np.float32)  # cosine 0.9 with the query
    classes = ExampleClasses({"legal": (at(0), ("a",))}, ordinary, neighbours=1)
    assert classes.probabilities(at(0))[0, 0] == pytest.approx(0.88, abs=0.005)  # margin 1 - 0.9 = 0.1


def test_equally_close_to_the_class_and_to_ordinary_messages_scores_one_half() -> None:
    classes = ExampleClasses({"legal": (at(10), ("a",))}, at(-10), neighbours=1)
    np.testing.assert_allclose(classes.probabilities(at(0)), [[0.5]], atol=1e-6)


def test_closer_to_ordinary_messages_scores_below_one_half() -> None:
    classes = ExampleClasses({"legal": LEGAL}, ORDINARY, neighbours=1)
    assert classes.probabilities(at(150))[0, 0] < 0.5  # nearest ordinary 120 degrees is closer than legal's 90


def test_one_column_per_class_in_order_and_one_row_per_embedding() -> None:
    classes = ExampleClasses({"legal": (at(0), ("court",)), "injury": (at(90), ("hurt",))}, at(45), neighbours=1)
    assert classes.classes == ("legal", "injury")
    probabilities = classes.probabilities(at(0, 90))
    assert probabilities.shape == (2, 2)
    assert probabilities[0, 0] > 0.5 > probabilities[0, 1]
    assert probabilities[1, 1] > 0.5 > probabilities[1, 0]


def test_a_single_embedding_may_be_one_dimensional() -> None:
    classes = ExampleClasses({"legal": LEGAL}, ORDINARY, neighbours=1)
    np.testing.assert_allclose(classes.margins(QUERY[0]), classes.margins(QUERY))


def test_closest_returns_the_nearest_example_and_its_similarity() -> None:
    classes = ExampleClasses({"legal": LEGAL}, ORDINARY)
    found = classes.closest("legal", at(50)[0])
    assert found.text == "my lawyer will call"
    assert found.similarity == pytest.approx(np.cos(np.radians(10)), abs=1e-6)
    assert isinstance(found, ClassExample)


def test_needs_at_least_one_class() -> None:
    with pytest.raises(ValueError, match="at least one class"):
        ExampleClasses({}, ORDINARY)


@pytest.mark.parametrize(
    "examples",
    [
        (np.zeros((0, 2), np.float32), ()),  # no examples
        (at(0, 10), ("only one text",)),  # vectors and texts disagree
    ],
)
def test_each_class_needs_examples_with_their_embeddings(examples: tuple[np.ndarray, tuple[str, ...]]) -> None:
    with pytest.raises(ValueError, match="'empty'"):
        ExampleClasses({"fine": LEGAL, "empty": examples}, ORDINARY)


def test_needs_ordinary_messages() -> None:
    with pytest.raises(ValueError, match="ordinary messages"):
        ExampleClasses({"legal": LEGAL}, np.zeros((0, 2), np.float32))


def test_fit_from_texts_encodes_everything_in_one_batch_and_keeps_each_text_with_its_vector() -> None:
    angles = {"sue you": 0, "my lawyer": 20, "I fell": 90, "it hurt": 100, "where is it": 45, "refund": 225}
    encoder = FakeEncoder({text: at(angle)[0] for text, angle in angles.items()})
    classes = fit_from_texts(
        encoder, {"legal": ["sue you", "my lawyer"], "injury": ["I fell", "it hurt"]}, ["where is it", "refund"]
    )
    assert encoder.batches == [["sue you", "my lawyer", "I fell", "it hurt", "where is it", "refund"]]
    assert classes.classes == ("legal", "injury")
    assert classes.closest("legal", at(25)[0]).text == "my lawyer"
    injury = classes.closest("injury", at(93)[0])
    assert injury.text == "I fell" and injury.similarity == pytest.approx(np.cos(np.radians(3)), abs=1e-6)
    # The ordinary messages are the last two texts: a query on "where is it" is as close to it as it can be.
    expected = np.mean(np.cos(np.radians([45, 25]))) - np.mean([1.0, np.cos(np.radians(180))])
    np.testing.assert_allclose(classes.margins(at(45))[0, 0], expected, atol=1e-6)
