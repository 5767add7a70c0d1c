"""Loading a knowledge base: the deployment's settings, the built-in small talk, case types and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.knowledge_base import CaseType, KnowledgeBaseError, load_knowledge_base

DATA = Path(__file__).resolve().parents[2] / "bot" / "data"
SMALL_TALK = {"greeting", "thanks", "goodbye", "bot_identity", "bot_capabilities"}
TRACK = {"name": "track_order", "topic": "orders", "examples": ["where is my order"], "answer": "Track it at /orders."}


def write_kb(directory: Path, **fields: object) -> Path:
    path = directory / "knowledge_base.yaml"
    path.write_text(yaml.safe_dump({"name": "Test Store", "intents": [TRACK], **fields}), encoding="utf-8")
    return path


def test_reads_the_deployment_settings(tmp_path: Path) -> None:
    kb = load_knowledge_base(
        write_kb(
            tmp_path,
            greeting="  Hi, I'm the Test Store bot.  ",
            languages=["EN", "es"],
            teams={"orders": ["orders", "shipping"], "general": ["small_talk"]},
            products=["Summit Tent", 42],
        )
    )
    assert kb.name == "Test Store"
    assert kb.greeting == "Hi, I'm the Test Store bot."
    assert kb.languages == ("en", "es")
    assert kb.teams == {"orders": ("orders", "shipping"), "general": ("small_talk",)}
    assert kb.products == ("Summit Tent", "42")
    assert kb.intent("track_order").answer == "Track it at /orders."
    assert kb.source == tmp_path / "knowledge_base.yaml"


def test_defaults_without_the_optional_settings(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_kb(tmp_path))
    assert kb.greeting is None and kb.languages == ("en",) and kb.teams is None
    assert kb.case_types == () and kb.not_cases == () and kb.past_escalations is None


def test_built_in_small_talk_is_added_with_the_store_name(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_kb(tmp_path))
    names = {intent.name for intent in kb.intents}
    assert names == {"track_order"} | SMALL_TALK
    assert all(kb.topics[name] == "small_talk" for name in SMALL_TALK)
    assert "Test Store" in kb.intent("greeting").answer
    assert not any("{store}" in intent.answer for intent in kb.intents)
    assert ("hello", "greeting") in kb.examples()


def test_a_knowledge_base_without_a_name_is_our_store(tmp_path: Path) -> None:
    path = tmp_path / "kb.yaml"
    path.write_text(yaml.safe_dump({"intents": [TRACK]}), encoding="utf-8")
    kb = load_knowledge_base(path)
    assert kb.name == "our store" and "our store" in kb.intent("greeting").answer


def test_small_talk_false_adds_none(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_kb(tmp_path, small_talk=False))
    assert [intent.name for intent in kb.intents] == ["track_order"]


def test_the_knowledge_base_own_small_talk_intent_is_kept(tmp_path: Path) -> None:
    thanks = {"name": "thanks", "topic": "small_talk", "examples": ["cheers"], "answer": "Any time!"}
    kb = load_knowledge_base(write_kb(tmp_path, intents=[TRACK, thanks]))
    assert [intent.answer for intent in kb.intents if intent.name == "thanks"] == ["Any time!"]
    assert {intent.name for intent in kb.intents} == {"track_order"} | SMALL_TALK


def test_toml_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "kb.toml"
    path.write_text(
        'name = "Toml Store"\nsmall_talk = false\n[[intents]]\nname = "hours"\nexamples = ["when are you open"]\n'
        'answer = "9 to 5."\n',
        encoding="utf-8",
    )
    kb = load_knowledge_base(path)
    assert kb.name == "Toml Store" and kb.intent("hours").topic == "general"


LEGAL = {"name": "legal", "label": "a legal threat", "priority": "urgent", "examples": ["see you in court"]}


def test_case_types_inline(tmp_path: Path) -> None:
    injury = {"name": "injury_report", "examples": ["I cut my hand on it", " it burned me "]}
    kb = load_knowledge_base(write_kb(tmp_path, case_types=[LEGAL, injury]))
    assert kb.case_types == (
        CaseType("legal", "a legal threat", "urgent", ("see you in court",)),
        CaseType("injury_report", "injury report", "normal", ("I cut my hand on it", "it burned me")),
    )
    assert kb.not_cases == ()


def test_case_types_from_a_file_beside_the_knowledge_base(tmp_path: Path) -> None:
    (tmp_path / "cases.yaml").write_text(
        yaml.safe_dump({"case_types": [LEGAL], "not_cases": ["I'd like to return my court shoes"]}), encoding="utf-8"
    )
    kb = load_knowledge_base(write_kb(tmp_path, case_types="cases.yaml"))
    assert [case.name for case in kb.case_types] == ["legal"]
    assert kb.not_cases == ("I'd like to return my court shoes",)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"case_types": [{**LEGAL, "priority": "critical"}]}, "priority must be one of urgent, high, normal, low"),
        ({"case_types": [LEGAL, LEGAL]}, "duplicate case type names"),
        ({"case_types": [{"label": "no name", "examples": ["x"]}]}, "expected a mapping with a 'name'"),
        ({"case_types": [{"name": "legal", "examples": []}]}, "'examples' must be a non-empty list of strings"),
        ({"case_types": {"legal": ["see you in court"]}}, "expected a list of case types"),
        ({"case_types": "missing.yaml"}, "case_types file"),
        ({"languages": ["english"]}, "'languages' must be a list of two-letter codes"),
        ({"languages": []}, "'languages' must be a list of two-letter codes"),
        ({"teams": {"orders": "orders"}}, "'teams' must map each team to a list of topics"),
        ({"greeting": "   "}, "'greeting' must be a non-empty string"),
        ({"past_escalations": "nowhere.jsonl"}, "past_escalations file"),
        ({"intents": []}, "non-empty 'intents' list"),
        ({"intents": [TRACK, TRACK]}, "duplicate intent names ['track_order']"),
        ({"intents": [{**TRACK, "answer": ""}]}, "'answer' must be a non-empty string"),
    ],
)
def test_malformed_knowledge_bases_raise_a_clear_error(tmp_path: Path, fields: dict, message: str) -> None:
    with pytest.raises(KnowledgeBaseError) as raised:
        load_knowledge_base(write_kb(tmp_path, **fields))
    assert message in str(raised.value)
    assert "knowledge_base.yaml" in str(raised.value)  # says which file


def test_a_missing_case_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match="missing.yaml"):
        load_knowledge_base(write_kb(tmp_path, case_types="missing.yaml"))


def test_an_error_in_the_case_file_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "cases.yaml").write_text(yaml.safe_dump({"case_types": [{**LEGAL, "priority": "p1"}]}), "utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"cases\.yaml\[0\] \(legal\): priority"):
        load_knowledge_base(write_kb(tmp_path, case_types="cases.yaml"))


def test_a_missing_or_unparsable_file_is_a_knowledge_base_error(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match="cannot read"):
        load_knowledge_base(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("intents: [unclosed", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="cannot parse"):
        load_knowledge_base(broken)


def test_past_escalations_resolve_beside_the_knowledge_base(tmp_path: Path) -> None:
    deployment = tmp_path / "deployment"
    deployment.mkdir()
    (deployment / "past.jsonl").write_text("{}\n", encoding="utf-8")
    kb = load_knowledge_base(write_kb(deployment, past_escalations="past.jsonl"))
    assert kb.past_escalations == (deployment / "past.jsonl").resolve()


@pytest.mark.parametrize("deployment", ["store", "banking"])
def test_the_shipped_knowledge_bases_load_with_case_types(deployment: str) -> None:
    kb = load_knowledge_base(DATA / deployment / "knowledge_base.yaml")
    assert kb.case_types and kb.not_cases
    assert all(case.examples for case in kb.case_types)
    assert {intent.name for intent in kb.intents} >= SMALL_TALK
    assert kb.languages == ("en",)


def test_the_shipped_store_names_its_past_escalations() -> None:
    kb = load_knowledge_base(DATA / "store" / "knowledge_base.yaml")
    assert kb.name == "Northwind Outfitters"
    assert kb.past_escalations == (DATA / "store" / "past_escalations.jsonl").resolve()
