"""Every detector on hostile text: long, repetitive, odd Unicode, the request words in every arrangement. A detector
that raises is reported by the suite as a failed signal (and the bot would answer instead of a person), so no
detector may fail on any text a customer can send."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detectors.pattern_similarity import EscalationBank
from detectors.registry import DetectorSuite
from detectors.thresholds import Thresholds
from detectors.types import Conversation, Turn
from tests.fakes import DIM, analysis

MAX_TEXT = 2000  # [server] max_text_chars: nothing longer reaches the detectors
WORDS = ["I", "want", "to", "talk", "a", "human", "person", "agent", "manager", "not", "no", "again", "still",
         "broken", "refund", "lawyer", "hurt", "please", "now", "!!!", "??", "😡", "ça", "hablar", "humano", "İ"]  # fmt: skip

words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=400).map(" ".join)
runs = st.builds(lambda word, n, head: head + word * n, st.sampled_from(["a", "ab", "human", "😡", " ", "."]),
                 st.integers(1, 1200), st.sampled_from(["", "I want to talk to a human ", "not "]))  # fmt: skip
anything = st.text(st.characters(codec="utf-8"), max_size=MAX_TEXT)
texts = st.one_of(words, runs, anything).map(lambda text: text[:MAX_TEXT])


def conversation_of(messages: list[str]) -> Conversation:
    turns: list[Turn] = []
    for n, text in enumerate(messages):
        if n:
            turns.append(Turn("bot", "Here is what I found.", intent="track_order"))
        turns.append(Turn("customer", text, analysis(text, human_request=0.5, frustration=0.5, out_of_scope=0.5)))
    return Conversation("fuzz", tuple(turns))


SUITE = DetectorSuite.build(EscalationBank(dim=DIM))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(texts, min_size=1, max_size=5))
def test_no_detector_fails_on_any_text(messages: list[str]) -> None:
    decision = SUITE.run(conversation_of(messages), Thresholds())
    failed = [signal for signal in decision.signals if "failed" in signal.reason]
    assert not failed, failed
    assert all(math.isfinite(score) for score in decision.scores.values())
