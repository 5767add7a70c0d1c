"""Sentence spans found by punctuation and line breaks, and their vectors pooled from the message's token states."""

from __future__ import annotations

import numpy as np
import pytest

from models.sentences import pool_spans, sentence_spans


def pieces(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My tent came torn. Can I talk to someone?", ["My tent came torn.", "Can I talk to someone?"]),
        ("It broke! Why? No idea… Help", ["It broke!", "Why?", "No idea…", "Help"]),
        ("first line\nsecond line", ["first line", "second line"]),
        ("first line  \n\n   second line", ["first line", "second line"]),
        ("  Padded.   Next one!  ", ["Padded.", "Next one!"]),
    ],
)
def test_splits_on_sentence_ends_and_line_breaks_and_trims(text: str, expected: list[str]) -> None:
    assert pieces(text) == expected


def test_a_stop_inside_a_word_or_number_is_no_boundary() -> None:
    assert pieces("Order NW-1.5 costs $3.50 at example.com today") == ["Order NW-1.5 costs $3.50 at example.com today"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("That is great. !!", ["That is great. !!"]),
        ("Thanks so much! :)", ["Thanks so much! :)"]),
        ("Done.\nI", ["Done.\nI"]),  # one word character is too little for a sentence of its own
        ("Fine. ok", ["Fine.", "ok"]),  # two are enough
    ],
)
def test_pieces_with_fewer_than_two_word_characters_join_the_sentence_before(text: str, expected: list[str]) -> None:
    assert pieces(text) == expected


def test_a_single_sentence_gives_one_span_covering_it() -> None:
    assert sentence_spans("where is my order") == ((0, 17),)
    assert sentence_spans("  where is my order?  ") == ((2, 20),)


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_empty_text_gives_no_spans(text: str) -> None:
    assert sentence_spans(text) == ()


def test_spans_index_the_original_text() -> None:
    text = "Hi there.\n  Can I talk to someone?"
    spans = sentence_spans(text)
    assert spans == ((0, 9), (12, 34))
    assert text[spans[1][0] : spans[1][1]] == "Can I talk to someone?"


# One message "ab cd", tokenised as [CLS] ab cd [SEP]: the special tokens have empty (0, 0) offsets.
STATES = np.array([[100.0, 100.0], [3.0, 0.0], [0.0, 4.0], [-100.0, 50.0]], dtype=np.float32)
OFFSETS = np.array([[0, 0], [0, 2], [3, 5], [0, 0]])


def test_pool_spans_is_the_normalised_mean_of_the_tokens_inside_each_span() -> None:
    pooled = pool_spans(STATES, OFFSETS, [(0, 2), (3, 5), (0, 5)])
    assert pooled.shape == (3, 2) and pooled.dtype == np.float32
    np.testing.assert_allclose(pooled[0], [1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(pooled[1], [0.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(pooled[2], [0.6, 0.8], atol=1e-6)  # mean (1.5, 2) scaled to unit length
    np.testing.assert_allclose(np.linalg.norm(pooled, axis=1), 1.0, rtol=1e-6)


def test_special_tokens_never_count_even_in_a_span_starting_at_zero() -> None:
    # (0, 0) lies inside (0, 2) by its offsets, but an empty offset marks a special token.
    pooled = pool_spans(STATES, OFFSETS, [(0, 2)])
    np.testing.assert_allclose(pooled[0], [1.0, 0.0], atol=1e-6)


def test_a_token_reaching_past_the_span_is_left_out() -> None:
    pooled = pool_spans(STATES, OFFSETS, [(0, 4)])  # "cd" ends at 5
    np.testing.assert_allclose(pooled[0], [1.0, 0.0], atol=1e-6)


def test_a_span_without_tokens_falls_back_to_the_whole_message_mean() -> None:
    pooled = pool_spans(STATES, OFFSETS, [(40, 60)])  # past truncation
    np.testing.assert_allclose(pooled[0], [0.6, 0.8], atol=1e-6)


def test_no_spans_gives_an_empty_array_of_the_state_width() -> None:
    assert pool_spans(STATES, OFFSETS, []).shape == (0, 2)
