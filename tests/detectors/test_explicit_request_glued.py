"""The explicit-request rule reader on words run together by a missed space ("a bloodyperson"), on real
words one edit from a contact or person word, and on clauses that "when" or a long identity question opens."""

from __future__ import annotations

import pytest

from detectors.explicit_request import (
    decide,
    find_mentions,
    glued_lengths,
    is_contact_verb,
    is_person_word,
    read_request,
)
from detectors.thresholds import ExplicitRequestThresholds


def summary(text: str) -> str:
    reading = read_request(text)
    if reading.vetoed:
        return f"vetoed:{reading.why}"
    if reading.asks:
        return "asks"
    return "mentions" if find_mentions(text) else "none"


@pytest.mark.parametrize(
    ("word", "lengths"),
    [
        ("tosomebody", (2, 8)),
        ("bloodyperson", (6, 6)),
        ("abloodyperson", (1, 6, 6)),
        ("getmeahuman", (3, 2, 1, 5)),
        ("withanagent", (4, 2, 5)),
        ("liveagents", (4, 6)),
        ("ToTheManager", (2, 3, 7)),
        ("arealperson's", (1, 4, 8)),
    ],
)
def test_a_run_of_leads_ending_in_a_person_word_splits_into_its_words(word: str, lengths: tuple[int, ...]) -> None:
    assert glued_lengths(word) == lengths


@pytest.mark.parametrize(
    "word",
    [
        # real words that hold a person word: not a run of leads ending in one
        "personal", "personally", "humanity", "agenda", "reputation", "represents", "salesperson's",
        "spokesperson", "superhuman", "inhuman", "townspeople", "handsome", "another", "together",
        # person words themselves, and runs whose ending is too short or misspelt to trust
        "someone", "agents", "human", "theteam", "torep", "toahumen",
    ],
)  # fmt: skip
def test_real_words_and_person_words_do_not_split(word: str) -> None:
    assert glued_lengths(word) == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I do not know how to speak to a bloodyperson", "asks"),
        ("can i talk toahuman", "asks"),
        ("please connect me with arealperson", "asks"),
        ("getmeahuman", "asks"),
        ("i want to chat with a liveagent now", "asks"),
        # the roles still apply to a glued person word
        ("do not transfer me toahuman", "vetoed:negated"),
        ("I don't need arealperson, just the link", "vetoed:negated"),
        ("the liveagent I spoke to was rude", "vetoed:reported"),
        ("are you arealperson?", "vetoed:identity"),
        ("ok thanks, talk to you later", "vetoed:farewell"),
        # real words holding a person word name nobody
        ("my personal details are wrong", "none"),
        ("I personally think the fee is too high", "none"),
        ("what is on the agenda today", "none"),
        ("who represents me in this claim", "none"),
        ("the salesperson's commission was added to my bill", "none"),
        ("your brand's reputation for humanity", "none"),
        # a compound person noun stays whole: the head decides alone, at its full bar
        ("can I speak to a salesperson", "none"),
    ],
)
def test_rule_reader_on_glued_words(text: str, expected: str) -> None:
    assert summary(text) == expected


def test_glued_request_shows_the_words_as_typed() -> None:
    assert read_request("I do not know how to speak to a bloodyperson").phrase == "speak to a bloodyperson"


def test_glued_request_lowers_the_bar_like_a_spaced_one() -> None:
    thresholds = ExplicitRequestThresholds(threshold=0.98, with_phrase=0.05)
    assert decide(0.06, read_request("how do i speak to a bloodyperson"), thresholds)
    assert not decide(0.06, read_request("the bloodyperson's fault"), thresholds)


@pytest.mark.parametrize("word", ["what", "that", "wait", "watch", "watching", "kind", "being", "cant", "iphone"])
def test_real_words_near_a_contact_verb_are_not_typos_of_one(word: str) -> None:
    assert not is_contact_verb(word)


@pytest.mark.parametrize("word", ["talk", "takl", "speek", "wnat", "talking", "contacting", "need"])
def test_contact_verbs_and_their_typos(word: str) -> None:
    assert is_contact_verb(word)


@pytest.mark.parametrize("word", ["expect", "expects", "employer", "employed", "operations", "exports", "socialists"])
def test_real_words_near_a_person_word_and_their_plurals_are_not_person_words(word: str) -> None:
    assert not is_person_word(word)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # real words no longer pass for contact verbs: "what" for "want", "that" for "chat", "mind" for "find"
        ("what makes humans so curious", "mentions"),
        ("is there a club that a person can join", "mentions"),
        ("never mind about the agent, it works now", "mentions"),
        ("I want to talk to a customer service representative", "asks"),  # while real verbs still lead
        # "when" starts a new clause: the verb before it leads nowhere
        ("I get angry when someone hangs up on me", "mentions"),
        ("when can I talk to someone", "asks"),
        # an identity question may put many filler words between its opener and the person word
        ("am i chatting with an actual live human", "vetoed:identity"),
        ("are you able to connect me to a real live person", "asks"),
    ],
)
def test_rule_reader_on_near_miss_verbs_subordinate_clauses_and_long_identity_questions(
    text: str, expected: str
) -> None:
    assert summary(text) == expected
