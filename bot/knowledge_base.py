"""The deployment's knowledge base: intents with example questions and answers, read from YAML or TOML."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import yaml


class KnowledgeBaseError(ValueError):
    """The knowledge-base file is missing or malformed; the message says where."""


@dataclass(frozen=True, slots=True)
class Intent:
    name: str
    topic: str
    examples: tuple[str, ...]
    answer: str


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    name: str
    intents: tuple[Intent, ...]
    products: tuple[str, ...] = ()

    def examples(self) -> list[tuple[str, str]]:
        """(example question, intent name) pairs, for training the intent classifier."""
        return [(example, intent.name) for intent in self.intents for example in intent.examples]

    def intent(self, name: str) -> Intent:
        for intent in self.intents:
            if intent.name == name:
                return intent
        raise LookupError(f"the knowledge base has no intent {name!r}")


def load_knowledge_base(path: Path) -> KnowledgeBase:
    """Read and check a knowledge-base file (.yaml, .yml or .toml)."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as error:
        raise KnowledgeBaseError(f"cannot read knowledge base {path}: {error}") from None
    try:
        data = tomllib.loads(raw) if path.suffix == ".toml" else yaml.safe_load(raw)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        raise KnowledgeBaseError(f"cannot parse knowledge base {path}: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("intents"), list) or not data["intents"]:
        raise KnowledgeBaseError(f"{path}: expected a mapping with a non-empty 'intents' list")
    intents = tuple(_intent(path, i, entry) for i, entry in enumerate(data["intents"]))
    names = [intent.name for intent in intents]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise KnowledgeBaseError(f"{path}: duplicate intent names {duplicates}")
    products = tuple(str(p) for p in data.get("products") or ())
    return KnowledgeBase(name=str(data.get("name") or "our store"), intents=intents, products=products)


def _intent(path: Path, index: int, entry: object) -> Intent:
    where = f"{path}: intents[{index}]"
    if not isinstance(entry, dict):
        raise KnowledgeBaseError(f"{where}: expected a mapping")
    name, answer, examples = entry.get("name"), entry.get("answer"), entry.get("examples")
    if not isinstance(name, str) or not name.strip():
        raise KnowledgeBaseError(f"{where}: 'name' must be a non-empty string")
    if not isinstance(answer, str) or not answer.strip():
        raise KnowledgeBaseError(f"{where} ({name}): 'answer' must be a non-empty string")
    if not isinstance(examples, list) or not examples or not all(isinstance(e, str) and e.strip() for e in examples):
        raise KnowledgeBaseError(f"{where} ({name}): 'examples' must be a non-empty list of strings")
    return Intent(
        name=name.strip(),
        topic=str(entry.get("topic") or "general"),
        examples=tuple(e.strip() for e in examples),
        answer=answer.strip(),
    )
