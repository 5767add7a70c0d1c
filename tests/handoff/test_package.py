"""The handoff package's case type, language and required skills, read off the decision."""

from __future__ import annotations

from datetime import UTC, datetime

from detectors.types import Decision, Signal
from handoff.config import HandoffSettings
from handoff.ownership import Owner
from handoff.package import build_package, case_of, language_of
from handoff.store import ConversationInfo, StoredMessage

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def decision(*signals: Signal) -> Decision:
    fired = [s for s in signals if s.fired]
    return Decision(bool(fired), fired[0].detector if fired else None, tuple(s.reason for s in fired), signals)


INJURY = Signal(
    "pattern_similarity",
    0.91,
    0.75,
    True,
    "Looks like a case about someone hurt by a product: 'it burned my son'",
    {
        "case_type": "injury",
        "case_label": "someone hurt by a product",
        "case_probability": 0.91,
        "sentence": "it burned my son",
        "example": "the stove burned my hand",
    },
)
SPANISH = Signal("language", 1.0, 1.0, True, "Writes in Spanish (2 messages in a row)", {"language": "es", "streak": 2})


def test_the_case_type_comes_from_a_fired_pattern_signal_only() -> None:
    case = case_of(decision(INJURY))
    assert case == {
        "name": "injury",
        "label": "someone hurt by a product",
        "score": 0.91,
        "sentence": "it burned my son",
        "example": "the stove burned my hand",
    }
    quiet = Signal("pattern_similarity", 0.4, 0.75, False, "Closest case type", {"case_type": "injury"})
    assert case_of(decision(quiet)) is None


def test_the_language_comes_from_the_language_or_request_signal_that_fired() -> None:
    assert language_of(decision(SPANISH)) == "es"
    asked = Signal("explicit_request", 1.0, 0.98, True, "Asked for a person in French", {"language": "fr"})
    assert language_of(decision(asked)) == "fr"
    assert language_of(decision(Signal("sentiment", 0.9, 0.8, True, "Very negative"))) is None


def test_the_package_names_the_case_the_language_and_the_skills_it_needs() -> None:
    info = ConversationInfo("c1", Owner.QUEUED, 1, {}, NOW)
    messages = [StoredMessage("c1", 1, "customer", "se me rompió la tienda", NOW)]
    package = build_package(
        info,
        messages,
        decision(INJURY, SPANISH),
        "summary",
        [],
        "urgent",
        ["A case"],
        "general",
        language={"code": "es", "name": "Spanish"},
        required_skills=["lang:es"],
    )
    assert package["schema_version"] == 2
    assert package["case_type"]["name"] == "injury"
    assert package["language"] == {"code": "es", "name": "Spanish"}
    assert package["required_skills"] == ["lang:es"]


def test_teams_come_from_the_config_else_the_deployment_else_one_default_team() -> None:
    deployment = {"cards": ("cards",), "payments": ("payments", "transfers")}
    assert HandoffSettings().with_teams(deployment).teams == {"cards": ["cards"], "payments": ["payments", "transfers"]}
    assert HandoffSettings(teams={"all": ["x"]}).with_teams(deployment).teams == {"all": ["x"]}
    assert HandoffSettings().with_teams(None).teams == {"general": []}
