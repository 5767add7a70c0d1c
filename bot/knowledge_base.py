"""The deployment's knowledge base: intents with example questions and answers, read from YAML or TOML, plus
everything else that belongs to one deployment rather than to the code.

    name: Northwind Outfitters
    greeting: "Hi! I'm the {store} assistant, a bot. ..."   # optional; "{store}" is `name`
    languages: [en]                                        # the languages the bot answers in (default: en)
    teams: {orders: [orders, shipping], general: [products]}   # team -> topics it handles (optional)
    products: [Summit 2 Tent, ...]                         # product names, for entity extraction
    intents: [{name, topic, examples, answer}, ...]
    case_types: case_types.yaml                            # situations that go to a person at first mention:
                                                           #   a list, or a file beside this one
    past_escalations: past_escalations.jsonl               # conversations that needed a person (optional)
    small_talk: true                                       # add the built-in greeting/thanks/goodbye/bot intents
                                                           #   this file does not define (default: true)

Relative paths are relative to the knowledge-base file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from handoff.priority import PRIORITIES

SMALL_TALK = Path(__file__).resolve().parent / "data" / "small_talk.yaml"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class KnowledgeBaseError(ValueError):
    """The knowledge-base file is missing or malformed; the message says where."""


@dataclass(frozen=True, slots=True)
class Intent:
    name: str
    topic: str
    examples: tuple[str, ...]
    answer: str


@dataclass(frozen=True, slots=True)
class CaseType:
    """A situation that needs a person as soon as it is mentioned, described by example messages."""

    name: str
    label: str  # completes "Looks like a case about ...", e.g. "an injury"
    priority: str  # urgent, high, normal or low
    examples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    name: str
    intents: tuple[Intent, ...]
    products: tuple[str, ...] = ()
    greeting: str | None = None
    languages: tuple[str, ...] = ("en",)
    teams: dict[str, tuple[str, ...]] | None = None
    case_types: tuple[CaseType, ...] = ()
    not_cases: tuple[str, ...] = ()  # messages that sound like a case type but are ordinary
    past_escalations: Path | None = None
    source: Path | None = field(default=None, compare=False)

    def examples(self) -> list[tuple[str, str]]:
        """(example question, intent name) pairs, for training the intent classifier."""
        return [(example, intent.name) for intent in self.intents for example in intent.examples]

    def intent(self, name: str) -> Intent:
        for intent in self.intents:
            if intent.name == name:
                return intent
        raise LookupError(f"the knowledge base has no intent {name!r}")

    @property
    def topics(self) -> dict[str, str]:
        """Intent name -> topic."""
        return {intent.name: intent.topic for intent in self.intents}


def load_knowledge_base(path: Path) -> KnowledgeBase:
    """Read and check a knowledge-base file (.yaml, .yml or .toml) and the files it names."""
    path = Path(path)
    data = _read(path)
    if not isinstance(data, dict) or not isinstance(data.get("intents"), list) or not data["intents"]:
        raise KnowledgeBaseError(f"{path}: expected a mapping with a non-empty 'intents' list")
    name = str(data.get("name") or "our store")
    intents = tuple(_intent(path, i, entry) for i, entry in enumerate(data["intents"]))
    if data.get("small_talk", True) is not False:
        intents += _built_in_small_talk({intent.name for intent in intents}, name)
    names = [intent.name for intent in intents]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise KnowledgeBaseError(f"{path}: duplicate intent names {duplicates}")
    case_types, not_cases = _case_types(path, data.get("case_types"))
    return KnowledgeBase(
        name=name,
        intents=intents,
        products=tuple(str(p) for p in data.get("products") or ()),
        greeting=_optional_text(path, data, "greeting"),
        languages=_languages(path, data.get("languages", ["en"])),
        teams=_teams(path, data.get("teams")),
        case_types=case_types,
        not_cases=not_cases,
        past_escalations=_beside(path, data.get("past_escalations"), "past_escalations"),
        source=path,
    )


def _read(path: Path) -> Any:
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as error:
        raise KnowledgeBaseError(f"cannot read knowledge base {path}: {error}") from None
    try:
        # libyaml's parser when the wheel has it: a deployment's files run to thousands of lines (about 1 s in pure Python).
        return tomllib.loads(raw) if path.suffix == ".toml" else yaml.load(raw, Loader=_YAML_LOADER)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        raise KnowledgeBaseError(f"cannot parse {path}: {error}") from None


def _intent(path: Path, index: int, entry: object) -> Intent:
    where = f"{path}: intents[{index}]"
    if not isinstance(entry, dict):
        raise KnowledgeBaseError(f"{where}: expected a mapping")
    name, answer, examples = entry.get("name"), entry.get("answer"), entry.get("examples")
    if not isinstance(name, str) or not name.strip():
        raise KnowledgeBaseError(f"{where}: 'name' must be a non-empty string")
    if not isinstance(answer, str) or not answer.strip():
        raise KnowledgeBaseError(f"{where} ({name}): 'answer' must be a non-empty string")
    return Intent(
        name=name.strip(),
        topic=str(entry.get("topic") or "general"),
        examples=_texts(examples, f"{where} ({name}): 'examples'"),
        answer=answer.strip(),
    )


def _built_in_small_talk(defined: set[str], store: str) -> tuple[Intent, ...]:
    """The shipped small-talk intents this knowledge base does not define itself."""
    data = _read(SMALL_TALK)
    return tuple(
        Intent(i.name, i.topic, i.examples, i.answer.replace("{store}", store))
        for i in (_intent(SMALL_TALK, k, entry) for k, entry in enumerate(data["intents"]))
        if i.name not in defined
    )


def _case_types(path: Path, value: object) -> tuple[tuple[CaseType, ...], tuple[str, ...]]:
    """Case types and look-alikes, inline or from a file beside the knowledge base."""
    if value is None:
        return (), ()
    where = f"{path}: case_types"
    if isinstance(value, str):
        source = _beside(path, value, "case_types")
        assert source is not None
        data = _read(source)
        where = str(source)
        if not isinstance(data, dict):
            raise KnowledgeBaseError(f"{source}: expected a mapping with 'case_types' (and optionally 'not_cases')")
        value, ordinary = data.get("case_types"), data.get("not_cases", [])
    else:
        ordinary = []
    if not isinstance(value, list):
        raise KnowledgeBaseError(f"{where}: expected a list of case types or the name of a file holding them")
    cases = []
    for index, entry in enumerate(value):
        here = f"{where}[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
            raise KnowledgeBaseError(f"{here}: expected a mapping with a 'name'")
        priority = str(entry.get("priority", "normal"))
        if priority not in PRIORITIES:
            raise KnowledgeBaseError(f"{here} ({entry['name']}): priority must be one of {', '.join(PRIORITIES)}")
        cases.append(
            CaseType(
                name=entry["name"].strip(),
                label=str(entry.get("label") or entry["name"].replace("_", " ")),
                priority=priority,
                examples=_texts(entry.get("examples"), f"{here} ({entry['name']}): 'examples'"),
            )
        )
    names = [case.name for case in cases]
    if len(set(names)) != len(names):
        raise KnowledgeBaseError(f"{where}: duplicate case type names")
    return tuple(cases), (_texts(ordinary, f"{where}: 'not_cases'") if ordinary else ())


def _texts(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(e, str) and e.strip() for e in value):
        raise KnowledgeBaseError(f"{where} must be a non-empty list of strings")
    return tuple(e.strip() for e in value)


def _optional_text(path: Path, data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise KnowledgeBaseError(f"{path}: '{key}' must be a non-empty string")
    return value.strip() if isinstance(value, str) else None


def _languages(path: Path, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and len(v) == 2 for v in value):
        raise KnowledgeBaseError(f"{path}: 'languages' must be a list of two-letter codes, e.g. [en, es]")
    return tuple(v.lower() for v in value)


def _teams(path: Path, value: object) -> dict[str, tuple[str, ...]] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(t, str) for t in v) for k, v in value.items()
    ):
        raise KnowledgeBaseError(f"{path}: 'teams' must map each team to a list of topics")
    return {team: tuple(topics) for team, topics in value.items()}


def _beside(path: Path, value: object, key: str) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeBaseError(f"{path}: '{key}' must be a file name")
    target = (path.parent / value).resolve()
    if not target.is_file():
        raise KnowledgeBaseError(f"{path}: {key} file {target} not found")
    return target
