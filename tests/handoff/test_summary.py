"""The extractive summary, with hand-written turns and hand-made embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from handoff.summary import MAX_CHARS, is_filler, split_sentences, summarize

CHAT = [
    "Hi there!",
    "ok",
    "My order #12345 never arrived. It was supposed to come last week.",
    "thanks",
    "Can I speak to a human?",
    "I paid $120 for it and I want a refund.",
]


def test_empty_input_gives_an_empty_summary():
    assert summarize([]) == ""
    assert summarize([], embeddings=np.zeros((0, 4), dtype=np.float32)) == ""


def test_only_filler_gives_an_empty_summary():
    assert summarize(["hi", "Hello?", "ok thanks!!", "thank you so much 🙂"]) == ""


@pytest.mark.parametrize("sentence", ["hi", "Hey there!", "ok", "Okay, thanks.", "thank you!", "Good morning", "..."])
def test_filler(sentence):
    assert is_filler(sentence)


@pytest.mark.parametrize("sentence", ["no it never came", "thanks for nothing", "hi, my parcel is lost"])
def test_not_filler(sentence):
    assert not is_filler(sentence)


def test_it_skips_filler_and_the_request_for_a_person_and_keeps_transcript_order():
    summary = summarize(CHAT)
    assert summary == (
        "My order #12345 never arrived. It was supposed to come last week. I paid $120 for it and I want a refund."
    )


def test_it_respects_max_sentences_choosing_the_problem_sentences():
    # Both carry a reference and problem wording; the filler, the aside and the request for a person never win.
    problems = ("My order #12345 never arrived.", "I paid $120 for it and I want a refund.")
    assert summarize(CHAT, max_sentences=1) in problems
    assert summarize(CHAT, max_sentences=2) == "My order #12345 never arrived. I paid $120 for it and I want a refund."


def test_it_caps_the_length():
    turns = [f"Problem number {i}: package {i} was never delivered and nobody answers my emails." for i in range(10)]
    summary = summarize(turns, max_sentences=3)
    assert len(summary) <= MAX_CHARS
    assert summary.count("Problem number") == 3


def test_one_very_long_sentence_is_shortened_at_a_word():
    summary = summarize(["my order " + "never arrived and " * 40 + "I am upset"])
    assert len(summary) <= MAX_CHARS
    assert summary.endswith("…")
    assert summary.startswith("my order never arrived and")


def test_repeated_sentences_appear_once():
    summary = summarize(["My parcel is lost.", "My parcel is lost!", "my parcel is LOST"])
    assert summary == "My parcel is lost."


def test_sentences_without_a_stop_get_one():
    assert summarize(["my jacket zip is broken", "i want a refund for order 4411"]) == (
        "my jacket zip is broken. i want a refund for order 4411."
    )


def test_embeddings_prefer_the_turns_central_to_the_conversation():
    turns = ["The zip on my jacket broke.", "The weather was lovely on the trip.", "The zip keeps breaking."]
    # Hand-made directions: turns 0 and 2 are about the zip, turn 1 is an aside.
    zip_topic, aside = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    embeddings = np.stack([zip_topic, aside, zip_topic]).astype(np.float32)
    with_embeddings = summarize(turns, embeddings=embeddings, max_sentences=2)
    assert with_embeddings == "The zip on my jacket broke. The zip keeps breaking."
    swapped = np.stack([aside, zip_topic, zip_topic]).astype(np.float32)
    assert "weather" in summarize(turns, embeddings=swapped, max_sentences=2)


def test_embeddings_must_match_the_turns():
    with pytest.raises(ValueError, match="2 embeddings for 3"):
        summarize(["a b", "c d", "e f"], embeddings=np.zeros((2, 4), dtype=np.float32))


def test_sentences_split_on_stops_and_new_lines():
    assert split_sentences("It broke. Why?\nOrder 5512!  ") == ["It broke.", "Why?", "Order 5512!"]


def test_filler_turns_do_not_count_towards_centrality():
    turns = ["hi", "thanks", "ok", "The zip broke.", "The zip broke again.", "The weather was not great on the trip."]
    zip_topic, pleasant = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    # The pleasantries point the same way as the aside: averaged in, they would make the aside look central.
    embeddings = np.stack([pleasant, pleasant, pleasant, zip_topic, zip_topic, pleasant]).astype(np.float32)
    summary = summarize(turns, embeddings=embeddings, max_sentences=2)
    assert summary == "The zip broke. The zip broke again."
