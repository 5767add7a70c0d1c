"""Language identification with the real lingua detector (rule-based n-gram models, shipped in the package)."""

from __future__ import annotations

import pytest

from models.language import MIN_LETTERS, UNDETERMINED, LanguageGuess, LanguageIdentifier


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Where is my order? It was supposed to arrive last week.", "en"),
        ("¿Dónde está mi pedido? Tenía que llegar la semana pasada.", "es"),
        ("Wo ist meine Bestellung? Sie sollte letzte Woche ankommen.", "de"),
        ("Où est ma commande ? Elle devait arriver la semaine dernière.", "fr"),
    ],
)
def test_whole_sentences_are_identified_with_confidence(identifier: LanguageIdentifier, text: str, code: str) -> None:
    guess = identifier.identify(text)
    assert guess.code == code
    assert 0.6 <= guess.confidence <= 1.0  # the language detector's default bar


@pytest.mark.parametrize("text", ["ok", "hii", "kk", "thx!!", "12345 ?!"])
def test_too_few_letters_give_no_guess(identifier: LanguageIdentifier, text: str) -> None:
    assert sum(ch.isalpha() for ch in text) < MIN_LETTERS
    assert identifier.identify(text) == LanguageGuess(UNDETERMINED, 0.0)


def test_identify_many_keeps_the_order(identifier: LanguageIdentifier) -> None:
    guesses = identifier.identify_many(["ok", "Wo ist meine Bestellung? Sie sollte letzte Woche ankommen."])
    assert [g.code for g in guesses] == ["", "de"]


def test_english_is_always_among_the_languages_and_duplicates_drop() -> None:
    assert LanguageIdentifier(["es", "es"]).languages == ("en", "es")


def test_an_unknown_code_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="'xx'"):
        LanguageIdentifier(["es", "xx"])
