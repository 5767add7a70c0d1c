"""How soon a handed-over chat needs a person: urgent, high, normal or low, with the reasons in plain words.

The level starts from the detector that triggered the handoff (`trigger_levels`), then rises, never falls:
- security, fraud or legal wording anywhere in the customer's messages -> urgent;
- the most negative message at `urgent_negative` -> urgent, at `high_negative` -> at least high;
- a VIP flag in the customer's attributes -> one step up, and at least high.

Keyword matching is case-insensitive and whole-word ("sue" is not in "issue"). A phrase right after a negation
("not fraud", "wasn't hacked", "no lawyer") is not counted: the negation must be one of the two words before it,
so "I'm not sure, but I think I was hacked" still counts. Erring towards urgent is the safe side.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from detectors.text import NEGATIONS


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return _LEVELS.index(self)

    def raised(self) -> Priority:
        """One step up (urgent stays urgent)."""
        return _LEVELS[min(self.rank + 1, len(_LEVELS) - 1)]


_LEVELS = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
# Most urgent first: the order of the queue and of the SLA table.
PRIORITIES: tuple[str, ...] = tuple(level.value for level in reversed(_LEVELS))


def raise_priority(priority: str) -> str:
    """One step more urgent (urgent stays urgent)."""
    return Priority(priority).raised().value


DEFAULT_URGENT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "Security/fraud": (
        "fraud",
        "fraudulent",
        "unauthorized charge",
        "unauthorised charge",
        "unauthorized transaction",
        "unauthorised transaction",
        "didn't authorize",
        "did not authorize",
        "stolen",
        "hacked",
        "identity theft",
        "scam",
        "scammed",
        "phishing",
        "account compromised",
        "data breach",
        "data leak",
    ),
    # "sue" alone would match the name Sue; the phrases around it are what a threat sounds like.
    "Legal": (
        "lawyer",
        "attorney",
        "legal action",
        "lawsuit",
        "sue you",
        "sue your",
        "suing",
        "small claims",
        "chargeback",
        "police",
        "consumer protection",
    ),
}
# The detectors in plain words, for the agent reading the reasons.
TRIGGER_WORDS = {
    "explicit_request": "Asked for a person",
    "sentiment": "Frustrated",
    "intent_confidence": "The bot could not understand",
    "pattern_similarity": "Looks like a case that needs a person",
    "stuck": "The bot was not helping",
    "language": "Writes in a language the bot does not speak",
}
DEFAULT_TRIGGER_LEVELS: dict[str, Priority] = {
    "explicit_request": Priority.NORMAL,
    "sentiment": Priority.HIGH,
    "intent_confidence": Priority.NORMAL,
    "pattern_similarity": Priority.NORMAL,
    "stuck": Priority.HIGH,
    "language": Priority.NORMAL,
}


class PriorityRules(BaseModel):
    """The `[handoff.priority]` section of the config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    urgent_negative: float = Field(
        default=0.9, ge=0, le=1, description="A message at least this negative makes it urgent."
    )
    high_negative: float = Field(default=0.7, ge=0, le=1, description="A message at least this negative makes it high.")
    urgent_keywords: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: dict(DEFAULT_URGENT_KEYWORDS),
        description="Category (as the agent reads it) -> phrases that make a chat urgent.",
    )
    trigger_levels: dict[str, Priority] = Field(
        default_factory=lambda: dict(DEFAULT_TRIGGER_LEVELS), description="Starting level per triggering detector."
    )
    default_level: Priority = Field(default=Priority.NORMAL, description="Starting level for any other or no trigger.")
    vip_attribute: str = Field(default="vip", min_length=1, description="Customer attribute that marks a VIP.")

    @model_validator(mode="after")
    def _negative_bars_in_order(self) -> PriorityRules:
        if self.high_negative > self.urgent_negative:
            raise ValueError(f"high_negative ({self.high_negative}) is above urgent_negative ({self.urgent_negative})")
        return self


def assign_priority(
    trigger: str | None,
    max_negative: float,
    texts: Sequence[str],
    customer: Mapping[str, object],
    rules: PriorityRules,
    case: tuple[str, Priority] | None = None,
) -> tuple[Priority, list[str]]:
    """The level for a handed-over chat and, in order, the reasons for it.

    `max_negative`: the highest P(negative) over the customer's messages; `texts`: those messages;
    `customer`: the customer frame as a dict (its `attributes` hold the VIP flag; a bare attributes dict works too);
    `case`: the deployment case type recognised (its words, "an injury", and the level the deployment gives it).
    """
    level = rules.trigger_levels.get(trigger, rules.default_level) if trigger else rules.default_level
    reasons = [f"{TRIGGER_WORDS.get(trigger, 'Handed over')}: starts at {level}" if trigger else f"Starts at {level}"]

    if case is not None:
        label, case_level = case
        if case_level.rank > level.rank:
            level = case_level
        reasons.append(f"A case about {label}: {case_level}")

    wording = urgent_wording(texts, rules.urgent_keywords)
    if wording:
        level = Priority.URGENT
        reasons.extend(f"{category} wording: '{phrase}'" for category, phrase in wording)

    if max_negative >= rules.urgent_negative:
        level = Priority.URGENT
        reasons.append(f"Very negative sentiment ({max_negative:.2f})")
    elif max_negative >= rules.high_negative:
        level = max(level, Priority.HIGH, key=lambda p: p.rank)
        reasons.append(f"Negative sentiment ({max_negative:.2f})")

    if is_vip(customer, rules.vip_attribute):
        raised = max(level.raised(), Priority.HIGH, key=lambda p: p.rank)
        reasons.append(f"VIP customer: {level} -> {raised}" if raised != level else f"VIP customer (already {level})")
        level = raised
    return level, reasons


def urgent_wording(texts: Sequence[str], keywords: Mapping[str, Sequence[str]]) -> list[tuple[str, str]]:
    """(category, phrase as typed) for each keyword phrase found un-negated, first mention of each phrase only."""
    found: list[tuple[str, str]] = []
    for category, phrases in keywords.items():
        for phrase in phrases:
            pattern = _phrase_pattern(phrase)
            for text in texts:
                text = text.replace("\u2019", "'")  # curly apostrophes from phones: "didn’t"
                match = next((m for m in pattern.finditer(text) if not _negated(text, m.start())), None)
                if match:
                    found.append((category, match.group()))
                    break
    return found


_WORDS = re.compile(r"[a-z']+")


def _negated(text: str, start: int) -> bool:
    before = _WORDS.findall(text[:start].casefold())[-2:]
    return any(word in NEGATIONS or word.endswith("n't") for word in before)


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    words = phrase.split()
    return re.compile(r"(?<![\w'])" + r"\s+".join(map(re.escape, words)) + r"(?![\w'])", re.IGNORECASE)


_FALSE_WORDS = frozenset({"", "0", "false", "no", "n", "off", "none", "null"})


def is_vip(customer: Mapping[str, object], attribute: str) -> bool:
    """Whether the customer's attributes flag them as a VIP (true, "yes", 1, ...; false, "no", 0 and "" are not)."""
    attributes = customer.get("attributes")
    source = attributes if isinstance(attributes, Mapping) else customer
    flag = source.get(attribute)
    if isinstance(flag, str):
        return flag.strip().casefold() not in _FALSE_WORDS
    return bool(flag)
