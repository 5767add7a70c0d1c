"""The server SIGKILLed 10 times under 100 chats (bench.crash_recovery): afterwards the database holds every
acknowledged message exactly once, and every one was answered, in the order the questions came. And, fast, that the
order check finds answers out of order.

Each kill comes 1 to 4 s after the restarted server answers again (the bench's default is 2 to 8 s; shorter here to
keep the test near four minutes, most of which is the server loading its models ten times).
"""

from __future__ import annotations

import asyncio
import json

import pytest

from bench import crash_recovery
from bench.crash_recovery import Row, match_answers


def answer(seq: int, intent: str | None) -> Row:
    return Row(seq, None, "bot", "...", json.dumps({"intent": intent, "confidence": 0.9}))


def test_the_order_check_matches_answers_oldest_question_first_by_intent():
    asked = [
        Row(2, "a", "customer", "Where is my order?", None),
        Row(3, "b", "customer", "Do you ship to Canada?", None),
    ]
    in_order = [*asked, answer(4, "track_order"), answer(5, "international_shipping")]
    assert match_answers(in_order) == ([], [])
    swapped = [*asked, answer(4, "international_shipping"), answer(5, "track_order")]
    assert match_answers(swapped) == ([], ["a", "b"])
    # An answer without an intent (an "I'm not sure", a system notice) answers the oldest question unchecked.
    assert match_answers([*asked, answer(4, None)]) == (["b"], [])


@pytest.mark.slow
@pytest.mark.timeout(900)  # about four minutes, plus the ONNX export when the model cache is cold
def test_every_acknowledged_message_is_stored_once_and_answered_in_order_after_ten_crashes(
    tmp_path, model_cache, monkeypatch
):
    monkeypatch.setenv("ESCALATOR_MODELS__CACHE_DIR", str(model_cache))  # the server inherits it
    args = crash_recovery.parse_args(
        ["--chats", "100", "--kills", "10", "--min-gap", "1", "--max-gap", "4", "--folder", str(tmp_path)]
    )
    report: dict = {}
    asyncio.run(crash_recovery.run(args, report))

    shown = json.dumps({key: report[key] for key in ("restarts", "clients", "database", "checks")}, indent=2)
    assert len(report["restarts"]) == 10, shown
    assert report["database"]["acked"] > 0, shown
    checks = report["checks"]
    assert checks["every_acked_message_stored_once"], shown
    assert checks["every_acked_message_answered"], shown
    assert checks["answers_in_order"], shown
