"""Schema checks for the store's knowledge base, its held-out paraphrases, case types and past escalations (no model)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KB_PATH = ROOT / "bot" / "data" / "store" / "knowledge_base.yaml"
PARAPHRASES_PATH = ROOT / "tests" / "bot" / "data" / "kb_paraphrases.yaml"
BANK_PATH = ROOT / "bot" / "data" / "store" / "past_escalations.jsonl"
CASES_PATH = ROOT / "bot" / "data" / "store" / "case_types.yaml"

TOPICS = {"orders", "shipping", "returns", "billing", "account", "products", "general", "small_talk"}


def _normalised(text: str) -> str:
    # Case and spacing differences do not make two phrasings different.
    return " ".join(text.lower().split())


@pytest.fixture(scope="module")
def kb() -> dict[str, Any]:
    return yaml.safe_load(KB_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def intents(kb: dict[str, Any]) -> list[dict[str, Any]]:
    return kb["intents"]


@pytest.fixture(scope="module")
def paraphrases() -> list[dict[str, str]]:
    return yaml.safe_load(PARAPHRASES_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def seeds() -> list[dict[str, Any]]:
    lines = BANK_PATH.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_kb_has_exactly_the_documented_top_level_keys(kb: dict[str, Any]) -> None:
    assert set(kb) == {
        "name",
        "greeting",
        "languages",
        "teams",
        "case_types",
        "past_escalations",
        "products",
        "intents",
    }
    assert kb["name"] == "Northwind Outfitters"


def test_every_topic_has_a_team(kb: dict[str, Any]) -> None:
    routed = {topic for topics in kb["teams"].values() for topic in topics}
    assert {intent["topic"] for intent in kb["intents"]} <= routed


def test_case_types_cover_the_high_stakes_kinds_with_many_examples_each() -> None:
    data = yaml.safe_load(CASES_PATH.read_text(encoding="utf-8"))
    kinds = {case["name"]: case for case in data["case_types"]}
    assert {"legal", "injury", "safety", "privacy", "fraud", "harassment", "bereavement", "vulnerable"} <= set(kinds)
    assert all(kinds[k]["priority"] == "urgent" for k in ("legal", "injury", "safety", "bereavement", "vulnerable"))
    assert all(len(case["examples"]) >= 40 for case in kinds.values())
    assert len(data["not_cases"]) >= 100


def test_products_are_20_to_40_unique_names(kb: dict[str, Any]) -> None:
    products = kb["products"]
    assert 20 <= len(products) <= 40
    assert all(isinstance(p, str) and p.strip() for p in products)
    assert len({_normalised(p) for p in products}) == len(products)


def test_at_least_40_intents_with_unique_snake_case_names(intents: list[dict[str, Any]]) -> None:
    names = [intent["name"] for intent in intents]
    assert len(names) >= 40
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name) for name in names)


def test_every_intent_has_exactly_the_documented_fields(intents: list[dict[str, Any]]) -> None:
    assert all(set(intent) == {"name", "topic", "examples", "answer"} for intent in intents)


def test_topics_come_from_the_allowed_set(intents: list[dict[str, Any]]) -> None:
    assert {intent["topic"] for intent in intents} <= TOPICS


def test_each_intent_has_ten_plus_examples_and_an_answer(intents: list[dict[str, Any]]) -> None:
    for intent in intents:
        examples = intent["examples"]
        assert len(examples) >= 10, intent["name"]
        assert all(isinstance(e, str) and e.strip() for e in examples), intent["name"]
        assert isinstance(intent["answer"], str) and intent["answer"].strip(), intent["name"]


def test_no_example_appears_twice(intents: list[dict[str, Any]]) -> None:
    seen: dict[str, str] = {}
    for intent in intents:
        for example in intent["examples"]:
            key = _normalised(example)
            assert key not in seen, f"{example!r} is in both {seen.get(key)} and {intent['name']}"
            seen[key] = intent["name"]


def test_no_intent_asks_for_a_human(intents: list[dict[str, Any]]) -> None:
    # Asking for a person belongs to the explicit-request detector, never to a KB answer.
    assert not [i["name"] for i in intents if re.search(r"human|agent|person|representative", i["name"])]


def test_paraphrase_set_is_large_and_labelled_with_known_intents(
    paraphrases: list[dict[str, str]], intents: list[dict[str, Any]]
) -> None:
    names = {intent["name"] for intent in intents}
    assert len(paraphrases) >= 150
    assert all(set(p) == {"text", "intent"} and p["text"].strip() for p in paraphrases)
    assert {p["intent"] for p in paraphrases} <= names


def test_every_intent_is_covered_by_paraphrases(
    paraphrases: list[dict[str, str]], intents: list[dict[str, Any]]
) -> None:
    covered = {p["intent"] for p in paraphrases}
    assert not {intent["name"] for intent in intents} - covered


def test_no_paraphrase_repeats_a_kb_example(paraphrases: list[dict[str, str]], intents: list[dict[str, Any]]) -> None:
    examples = {_normalised(e) for intent in intents for e in intent["examples"]}
    assert not [p["text"] for p in paraphrases if _normalised(p["text"]) in examples]


def test_paraphrases_are_unique(paraphrases: list[dict[str, str]]) -> None:
    texts = [_normalised(p["text"]) for p in paraphrases]
    assert len(set(texts)) == len(texts)


def test_escalation_bank_has_40_plus_seeds_with_unique_ids(seeds: list[dict[str, Any]]) -> None:
    ids = [seed["id"] for seed in seeds]
    assert len(seeds) >= 40
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"seed-\d{3}", seed_id) for seed_id in ids)


def test_each_seed_has_a_summary_and_two_to_five_turns(seeds: list[dict[str, Any]]) -> None:
    for seed in seeds:
        assert set(seed) == {"id", "summary", "customer_turns"}, seed["id"]
        assert isinstance(seed["summary"], str) and seed["summary"].strip(), seed["id"]
        turns = seed["customer_turns"]
        assert 2 <= len(turns) <= 5, seed["id"]
        assert all(isinstance(t, str) and t.strip() for t in turns), seed["id"]
