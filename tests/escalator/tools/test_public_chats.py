"""The two-question chats of `escalator evaluate-public-chats`, built without a model."""

from __future__ import annotations

from detectors.tuning.conversations import Expected
from escalator.tools.public_chats import two_question_chats


def test_chats_pair_distinct_questions_without_reuse_and_the_same_every_run() -> None:
    texts = [f"question {i}" for i in range(11)] + ["question 3"]  # a duplicate is asked once
    chats = two_question_chats(texts, "pairs", Expected(escalate=True, turn=2), count=100)
    assert len(chats) == 5  # 11 distinct questions make 5 pairs
    used = [turn.text for chat in chats for turn in chat.turns]
    assert len(used) == len(set(used)) == 10
    assert all(chat.category == "pairs" and chat.expected.turn == 2 for chat in chats)
    assert chats == two_question_chats(texts, "pairs", Expected(escalate=True, turn=2), count=100)
    assert [c.id for c in two_question_chats(texts, "pairs", Expected(escalate=False), count=2)] == [
        "pairs-0001",
        "pairs-0002",
    ]
