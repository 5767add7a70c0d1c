"""The shipped data on languages the bot does not speak: normalising, request phrases and ways to say yes."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.languages import (
    LANGUAGES_PATH,
    LanguageData,
    LanguageDataError,
    is_affirmative,
    load_languages,
    normalise,
    request_phrase,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Quiero hablar con una PERSONA!", "quiero hablar con una persona"),
        ("¿Sí, claro?", "si claro"),
        ("  Ça   va... très-bien  ", "ca va tres bien"),
        ("Weiß ich nicht", "weiss ich nicht"),  # case folding turns ß into ss
        ("!!!", ""),
    ],
)
def test_normalise_lowers_strips_accents_and_turns_punctuation_to_single_spaces(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_the_shipped_file_covers_the_main_european_languages() -> None:
    table = load_languages()
    for code in ("es", "fr", "de", "pt", "it", "nl"):
        data = table[code]
        assert data.code == code and data.name
        assert "{languages}" in data.notice and "{languages}" in data.notice_nobody
        assert data.handing_over
        assert data.request_phrases and data.affirmatives
        assert all(phrase == normalise(phrase) for phrase in data.request_phrases + data.affirmatives)
    assert table["es"].name == "Spanish"


def test_english_holds_affirmatives_only() -> None:
    english = load_languages()["en"]
    assert "yes please" in english.affirmatives
    assert english.request_phrases == () and english.notice == ""


def test_a_file_that_is_not_a_mapping_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "languages.yaml"
    path.write_text("- es\n- fr\n", encoding="utf-8")
    with pytest.raises(LanguageDataError, match="mapping"):
        load_languages(path)


def test_a_language_without_a_name_is_rejected_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "languages.yaml"
    path.write_text("xx:\n  notice: hello\n", encoding="utf-8")
    with pytest.raises(LanguageDataError, match="'xx'"):
        load_languages(path)


def test_phrases_are_normalised_on_load(tmp_path: Path) -> None:
    path = tmp_path / "languages.yaml"
    path.write_text(
        'es:\n  name: Spanish\n  request_phrases: ["Hablar con ALGUIÉN"]\n  affirmatives: ["Sí!"]\n', "utf-8"
    )
    spanish = load_languages(path)["es"]
    assert spanish.request_phrases == ("hablar con alguien",) and spanish.affirmatives == ("si",)
    assert spanish.notice == "" and spanish.language_names == {}


def test_request_phrase_finds_a_spanish_request() -> None:
    assert request_phrase("Hola, ¡quiero hablar con una persona!", "es") == "hablar con una persona"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("where is my order", "es"),
        ("where is my order", "en"),  # English has no phrases: the head hears English requests
        ("quiero hablar con una persona", "xx"),  # an unknown language
        ("la personalidad de un humanista", "es"),  # "un humano" is not inside "un humanista"
    ],
)
def test_request_phrase_finds_nothing_without_a_phrase(text: str, code: str) -> None:
    assert request_phrase(text, code) is None


def test_request_phrase_uses_the_table_it_is_given() -> None:
    table = {"es": LanguageData("es", "Spanish", "", "", "", {}, ("hola amigo",), ())}
    assert request_phrase("¡Hola, amigo!", "es", table) == "hola amigo"
    assert request_phrase("quiero hablar con una persona", "es", table) is None


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("yes please", ("en",)),
        ("Yes please!", ("en",)),
        ("sí, claro", ("en", "es")),
        ("oui", ("en", "fr")),
        ("ja bitte", ("en", "de")),
    ],
)
def test_short_yeses_are_affirmative(text: str, codes: tuple[str, ...]) -> None:
    assert is_affirmative(text, codes)


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("no thanks", ("en",)),
        ("yes please connect me to someone right now", ("en",)),  # eight words: something else
        ("sí, claro", ("en",)),  # Spanish is not among the languages asked about
        ("", ("en",)),
        ("yes", ("zz",)),
        ("yesterday", ("en",)),  # whole words only
    ],
)
def test_other_replies_are_not_affirmative(text: str, codes: tuple[str, ...]) -> None:
    assert not is_affirmative(text, codes)


def test_names_of_joins_the_names_in_the_language_and_keeps_unknown_codes() -> None:
    spanish = load_languages()["es"]
    assert spanish.names_of(("en",)) == "inglés"
    assert spanish.names_of(("en", "fr")) == "inglés / francés"
    assert spanish.names_of(("en", "zz")) == "inglés / zz"


def test_the_default_path_is_the_shipped_file() -> None:
    assert load_languages() == load_languages(LANGUAGES_PATH)
