"""What the bot knows about languages it does not speak: short notices, ways to ask for a person, ways to say yes.

The sentence encoder understands English only, so a request for a person in Spanish ("quiero hablar con una
persona") means nothing to the human-request head. These phrases, shipped as data for two dozen languages
(`detectors/data/languages.yaml`), let the explicit-request detector hear such requests, let the bot answer a
customer it cannot serve in their own language, and let it take "sí" as a yes to its offer of a person.

Matching is on a normalised text: lower case, accents removed, punctuation turned to spaces, so "Quiero hablar
con una persona!" holds the phrase "hablar con una persona". Phrases in scripts without spaces (Japanese,
Chinese) match as substrings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

LANGUAGES_PATH = Path(__file__).resolve().parent / "data" / "languages.yaml"
_NOT_A_WORD = re.compile(r"[^\w]+")
AFFIRMATIVE_MAX_WORDS = 6  # "yes please, go ahead and connect me" is a yes; a longer message is something else
# After a yes, these turn it into something else: "sure, but not now", "ok but where is my order", "sí, pero no".
_BUT = frozenset(
    {
        "but",
        "not",
        "no",
        "nope",
        "later",
        "first",
        "wait",
        "where",
        "what",
        "how",
        "when",
        "why",
        "pero",
        "mais",
        "pas",
        "aber",
        "nicht",
        "ma",
        "maar",
        "niet",
        "mas",
        "nao",
        "nein",
        "non",
    }
)


class LanguageDataError(ValueError):
    """The languages file is malformed; the message says where."""


@dataclass(frozen=True, slots=True)
class LanguageData:
    code: str  # ISO 639-1
    name: str  # in English: "Spanish"
    notice: str  # "I can only chat in {languages}; would you like a person?", in this language
    notice_nobody: str  # the same when nobody from the team is available
    handing_over: str  # "I'm passing you to a person", in this language
    language_names: Mapping[str, str]  # names of other languages, in this language: {"en": "inglés"}
    request_phrases: tuple[str, ...]  # normalised
    affirmatives: tuple[str, ...]  # normalised

    def names_of(self, codes: tuple[str, ...]) -> str:
        """The languages `codes`, named in this language and joined for a sentence ("inglés", "inglés / español")."""
        return " / ".join(self.language_names.get(code, code) for code in codes)


def normalise(text: str) -> str:
    """Lower case, accents removed, every run of punctuation or space turned into one space."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NOT_A_WORD.sub(" ", bare).split())


@lru_cache(maxsize=4)
def load_languages(path: Path = LANGUAGES_PATH) -> dict[str, LanguageData]:
    """Every language in the file, by code; English holds only the affirmatives the bot's offers accept."""
    data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, dict):
        raise LanguageDataError(f"{path}: expected a mapping from language codes to their data")
    languages = {}
    for code, entry in data.items():
        try:
            languages[code] = LanguageData(
                code=code,
                name=str(entry["name"]),
                notice=str(entry.get("notice", "")),
                notice_nobody=str(entry.get("notice_nobody", "")),
                handing_over=str(entry.get("handing_over", "")),
                language_names=dict(entry.get("language_names") or {}),
                request_phrases=tuple(normalise(p) for p in entry.get("request_phrases") or ()),
                affirmatives=tuple(normalise(p) for p in entry.get("affirmatives") or ()),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise LanguageDataError(f"{path}: language {code!r}: {error}") from None
    return languages


def request_phrase(text: str, code: str, languages: Mapping[str, LanguageData] | None = None) -> str | None:
    """The phrase of language `code` asking for a person that `text` contains, if any."""
    language = (languages or load_languages()).get(code)
    if language is None:
        return None
    padded = f" {normalise(text)} "
    for phrase in language.request_phrases:
        if (f" {phrase} " in padded) if " " in phrase or phrase.isascii() else (phrase in padded):
            return phrase
    return None


def is_affirmative(text: str, codes: tuple[str, ...], languages: Mapping[str, LanguageData] | None = None) -> bool:
    """Whether a short reply says yes in any of the languages `codes` ("yes please", "sí, claro", "oui")."""
    words = normalise(text).split()
    if not words or len(words) > AFFIRMATIVE_MAX_WORDS or "?" in text:
        return False
    table = languages or load_languages()
    for code in codes:
        for phrase in table[code].affirmatives if code in table else ():
            size = len(phrase.split())
            if " ".join(words[:size]) == phrase and not _BUT & set(words[size:]):
                return True
    return False
