"""The labelled-conversation file format: round trips, one error per kind of bad line, and the shipped sample."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from detectors.tuning.conversations import (
    SAMPLE_PATH,
    TRIGGERS,
    ConversationFormatError,
    Expected,
    LabelledConversation,
    ScriptTurn,
    parse_line,
    read_conversations,
    write_conversations,
)

CORPUS = Path(__file__).resolve().parents[2] / "detectors" / "data" / "conversations"

GOOD = {
    "id": "good-1",
    "turns": [{"role": "customer", "text": "where is my order"}],
    "expected": {"escalate": False, "turn": None, "trigger": None},
}


def line(**changes: object) -> str:
    return json.dumps({**GOOD, **changes})


def expected(**fields: object) -> dict[str, object]:
    return {"escalate": True, "turn": 1, "trigger": "explicit_request", **fields}


def customer(text: str) -> dict[str, str]:
    return {"role": "customer", "text": text}


def write_lines(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "conversations.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    items = [
        LabelledConversation(
            id="mixed",
            turns=(
                ScriptTurn("customer", "hi, my Glacier parka arrived torn"),
                ScriptTurn("bot", "Sorry! Please send a photo."),
                ScriptTurn("customer", "I did — twice. Let me talk to someone 😠"),
                ScriptTurn("agent", "Hi, I'm Sam, I'll take it from here."),
            ),
            expected=Expected(escalate=True, turn=2, trigger="explicit_request"),
        ),
        LabelledConversation("calm", (ScriptTurn("customer", "thanks, bye"),), Expected(escalate=False)),
        LabelledConversation("any", (ScriptTurn("customer", "ugh"),), Expected(escalate=True, turn=1)),
    ]
    path = tmp_path / "out.jsonl"

    assert write_conversations(path, items) == 3
    assert read_conversations(path) == items
    # Non-ASCII is written as itself, one conversation per line.
    text = path.read_text(encoding="utf-8")
    assert "😠" in text and "—" in text
    assert len(text.splitlines()) == 3


def test_parse_line_reads_a_valid_conversation_with_bot_turns() -> None:
    text = json.dumps(
        {
            "id": "c1",
            "turns": [
                customer("where is my order"),
                {"role": "bot", "text": "Track it here."},
                customer("human please"),
            ],
            "expected": expected(turn=2),
        }
    )

    conversation = parse_line(text, 1)

    assert conversation.customer_texts == ("where is my order", "human please")
    assert conversation.has_bot_turns
    # The expected turn counts customer turns only: turn 2 is the third message.
    assert conversation.expected == Expected(True, 2, "explicit_request")


def test_turn_and_trigger_may_be_left_out_when_not_escalating() -> None:
    conversation = parse_line(json.dumps({**GOOD, "expected": {"escalate": False}}), 1)
    assert conversation.expected == Expected(escalate=False, turn=None, trigger=None)
    assert not conversation.has_bot_turns


BAD_LINES = {
    "bad json": ('{"id": "x", "turns": [', "bad JSON"),
    "not an object": ("[1, 2, 3]", "conversation must be a JSON object, got array"),
    "missing id": (json.dumps({"turns": GOOD["turns"], "expected": GOOD["expected"]}), "missing key 'id'"),
    "missing turns": (json.dumps({"id": "x", "expected": GOOD["expected"]}), "missing key 'turns'"),
    "missing expected": (json.dumps({"id": "x", "turns": GOOD["turns"]}), "missing key 'expected'"),
    "missing escalate": (line(expected={"turn": 1}), "'expected': missing key 'escalate'"),
    "missing role": (line(turns=[{"text": "hi"}]), "turn 1: missing key 'role'"),
    "missing text": (line(turns=[{"role": "customer"}]), "turn 1: missing key 'text'"),
    "unknown key": (line(expect={"escalate": False}), "unknown key 'expect'"),
    "unknown turn key": (line(turns=[{**customer("hi"), "speaker": "me"}]), "turn 1: unknown key 'speaker'"),
    "id not a string": (line(id=7), "'id' must be a string, got number 7"),
    "empty id": (line(id="  "), "empty id"),
    "turns not an array": (line(turns="hi"), "'turns' must be an array, got string"),
    "turn not an object": (line(turns=["hi"]), "turn 1 must be a JSON object, got string"),
    "text not a string": (line(turns=[{"role": "customer", "text": 5}]), "turn 1: 'text' must be a string"),
    "unknown role": (line(turns=[customer("hi"), {"role": "user", "text": "hi"}]), "turn 2: unknown role 'user'"),
    "empty text": (line(turns=[customer("hi"), customer("   ")]), "turn 2: empty text"),
    "escalate not a bool": (line(expected=expected(escalate="yes")), "'expected.escalate' must be true or false"),
    "turn a string": (line(expected=expected(turn="1")), "'expected.turn' must be an integer or null"),
    "turn a bool": (line(expected=expected(turn=True)), "'expected.turn' must be an integer or null"),
    "turn a float": (line(expected=expected(turn=1.0)), "'expected.turn' must be an integer or null"),
    "turn past the end": (line(expected=expected(turn=2)), "expected turn 2 is out of range: the conversation has 1"),
    "turn zero": (line(expected=expected(turn=0)), "needs a customer turn >= 1, got 0"),
    "escalation without turn": (line(expected=expected(turn=None)), "needs a customer turn >= 1, got None"),
    "turn when not escalating": (line(expected={"escalate": False, "turn": 1}), "must be null when escalate is false"),
    "trigger when not escalating": (
        line(expected={"escalate": False, "trigger": "sentiment"}),
        "must be null when escalate is false",
    ),
    "unknown trigger": (line(expected=expected(trigger="vibes")), "unknown trigger 'vibes'"),
    "trigger not a string": (line(expected=expected(trigger=3)), "'expected.trigger' must be a detector name"),
    "no turns": (line(turns=[]), "no customer turn"),
    "only bot turns": (line(turns=[{"role": "bot", "text": "Hi!"}]), "no customer turn"),
}


@pytest.mark.parametrize(("text", "problem"), BAD_LINES.values(), ids=BAD_LINES.keys())
def test_each_bad_line_names_the_file_the_line_and_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    # Line 1 is good and line 2 blank, so the bad one is line 3.
    path = write_lines(tmp_path, line(), "", text)

    with pytest.raises(ConversationFormatError) as caught:
        read_conversations(path)

    assert caught.value.line_no == 3
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{path}, line 3: ")


def test_the_format_error_is_a_value_error_and_parse_line_names_the_line() -> None:
    with pytest.raises(ValueError, match=r"^line 42: bad JSON"):
        parse_line("{oops", 42)


def test_unknown_trigger_lists_the_known_detectors() -> None:
    with pytest.raises(ConversationFormatError) as caught:
        parse_line(line(expected=expected(trigger="vibes")), 1)
    for name in TRIGGERS:
        assert name in str(caught.value)


def test_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    path = write_lines(tmp_path, line(id="a"), line(id="b"), line(id="a"))

    with pytest.raises(ConversationFormatError, match=r"line 3: duplicate id 'a' \(first used on line 1\)"):
        read_conversations(path)


def test_blank_lines_are_ignored_but_still_counted(tmp_path: Path) -> None:
    path = write_lines(tmp_path, "", line(id="a"), "   ", "\t", line(id="b"), "", "{broken")

    with pytest.raises(ConversationFormatError) as caught:
        read_conversations(path)
    assert caught.value.line_no == 7

    path = write_lines(tmp_path, "", line(id="a"), "   ", line(id="b"), "")
    assert [c.id for c in read_conversations(path)] == ["a", "b"]


def test_an_empty_file_holds_no_conversations(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("", encoding="utf-8")
    assert read_conversations(path) == []


def test_a_line_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(line().encode() + b"\n" + '{"id": "caf\xe9"}'.encode("latin-1") + b"\n")

    with pytest.raises(ConversationFormatError, match="line 2: not UTF-8"):
        read_conversations(path)


def test_write_refuses_duplicate_ids(tmp_path: Path) -> None:
    item = parse_line(line(), 1)
    path = tmp_path / "out.jsonl"
    with pytest.raises(ValueError, match="duplicate id 'good-1'"):
        write_conversations(path, [item, item])
    assert not path.exists()


def test_the_shipped_sample_parses_and_covers_both_classes_and_every_trigger() -> None:
    conversations = read_conversations(SAMPLE_PATH)

    assert len(conversations) >= 80
    escalating = [c for c in conversations if c.expected.escalate]
    assert 0.4 <= len(escalating) / len(conversations) <= 0.6
    # The sample predates the stuck and language detectors; every detector it was written for appears.
    assert {c.expected.trigger for c in escalating} >= set(TRIGGERS) - {"stuck", "language"}
    assert all(1 <= len(c.customer_texts) <= 6 for c in conversations)


def test_the_sample_holds_each_category_of_hard_negative() -> None:
    # Ids are "<category>-<number>"; a category is either all escalations or all non-escalations.
    conversations = read_conversations(SAMPLE_PATH)
    by_category: dict[str, set[bool]] = {}
    for conversation in conversations:
        by_category.setdefault(conversation.id.rsplit("-", 1)[0], set()).add(conversation.expected.escalate)

    counts = Counter(c.id.rsplit("-", 1)[0] for c in conversations)
    negatives = ("happy", "negation", "reported-speech", "talk-later", "mild-complaint", "other-sense", "one-off-oos")
    positives = ("explicit", "frustration", "anger", "out-of-scope", "bot-failure", "pattern")
    assert all(counts[category] >= 3 for category in negatives + positives)
    assert all(by_category[category] == {False} for category in negatives)
    assert all(by_category[category] == {True} for category in positives)
    assert set(by_category) == set(negatives + positives)


def test_category_and_note_are_read_and_written_back() -> None:
    text = json.dumps(
        {
            "id": "a1-stuck-01",
            "category": "stuck",
            "note": "reset link never arrives",
            "turns": [{"role": "customer", "text": "cant log in"}],
            "expected": {"escalate": False},
        }
    )
    item = parse_line(text, 1)
    assert (item.category, item.note) == ("stuck", "reset link never arrives")
    assert item.to_json()["category"] == "stuck" and parse_line(json.dumps(item.to_json()), 1) == item


def test_a_wrong_type_of_category_is_named() -> None:
    text = json.dumps(
        {"id": "x", "category": 3, "turns": [{"role": "customer", "text": "hi"}], "expected": {"escalate": False}}
    )
    with pytest.raises(ConversationFormatError, match="'category' must be a string"):
        parse_line(text, 1)


@pytest.mark.parametrize("split", ["store-train", "store-dev", "store-test", "banking-dev", "banking-test"])
def test_the_labelled_corpus_parses_with_a_category_on_every_conversation(split: str) -> None:
    conversations = read_conversations(CORPUS / f"{split}.jsonl")
    assert all(c.category for c in conversations)
    escalating = {c.category for c in conversations if c.expected.escalate}
    calm = {c.category for c in conversations if not c.expected.escalate}
    assert not escalating & calm - {"other-language"}  # a category is one label, but for a switch to English


def test_the_store_split_is_large_and_keeps_test_apart() -> None:
    splits = {name: read_conversations(CORPUS / f"store-{name}.jsonl") for name in ("train", "dev", "test")}
    assert sum(len(items) for items in splits.values()) >= 600 and len(splits["test"]) >= 200
    ids = [c.id for items in splits.values() for c in items]
    assert len(ids) == len(set(ids))
