"""Which language a customer writes in, offline, with lingua (rule-based n-gram models shipped in the package).

The sentence encoder only understands English, so everything downstream needs to know when a message is not in
English at all. lingua scores every configured language; short messages ("ok", "thx") carry too little text to
tell, so the answer comes with lingua's confidence and callers decide how sure is sure enough.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

# The languages the shipped notices cover (detectors/data/languages.yaml), English first.
DEFAULT_LANGUAGES: tuple[str, ...] = (
    "en", "es", "fr", "de", "pt", "it", "nl", "pl", "sv", "da", "nb", "fi", "tr", "ru", "uk", "cs", "ro", "el",
    "ja", "zh", "ko", "ar", "he", "hi", "id", "vi",
)  # fmt: skip
UNDETERMINED = ""
MIN_LETTERS = 6  # "hii", "kk" and "ok" carry too little text for any guess (lingua called "hii" Finnish)


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """The most likely language (ISO 639-1, lower case, or "" when lingua cannot tell) and its confidence, 0..1."""

    code: str
    confidence: float


class LanguageIdentifier:
    """lingua's detector over a fixed set of languages; its models load on first use or in `preload`."""

    def __init__(self, languages: Sequence[str] = DEFAULT_LANGUAGES) -> None:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        chosen = []
        for code in dict.fromkeys(["en", *languages]):
            try:
                chosen.append(Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())))
            except (AttributeError, ValueError):
                raise ValueError(f"unknown language code {code!r} (ISO 639-1, e.g. 'es')") from None
        self.languages = tuple(language.iso_code_639_1.name.lower() for language in chosen)
        self._detector = LanguageDetectorBuilder.from_languages(*chosen).build()
        self._loaded = threading.Event()

    def preload(self) -> None:
        """Load every language's model now (about 3 s), so the first customer message does not wait for it."""
        self._detector.compute_language_confidence_values("warm up")
        self._loaded.set()

    def identify(self, text: str) -> LanguageGuess:
        if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
            return LanguageGuess(UNDETERMINED, 0.0)
        values = self._detector.compute_language_confidence_values(text)
        if not values or values[0].value <= 0.0:
            return LanguageGuess(UNDETERMINED, 0.0)
        best = values[0]
        return LanguageGuess(best.language.iso_code_639_1.name.lower(), float(best.value))

    def identify_many(self, texts: Sequence[str]) -> list[LanguageGuess]:
        return [self.identify(text) for text in texts]
