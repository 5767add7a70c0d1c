"""Shared fixtures: apps on temporary SQLite files (on the fake analyzer, or on the real models loaded once), the
real packaged encoder, spaCy, and the data sets."""

from __future__ import annotations

import os

# As in the CLI: one BLAS thread, set before numpy is imported anywhere.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def encoder():
    """The real all-MiniLM-L6-v2 from the installed package, loaded once for the whole run."""
    from models.encoder import SentenceEncoder

    return SentenceEncoder(threads=1)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture
def make_settings(tmp_path, model_cache):
    """Settings for a test app: its own SQLite file, the shared model cache, and any overrides."""
    from escalator.settings import Settings

    def make(**overrides):
        sections = {
            "database": {"url": f"sqlite:///{tmp_path / 'escalator.db'}"},
            "models": {"cache_dir": str(model_cache)},
            "handoff": {"password_memory_kib": 64},  # cheap test passwords: argon2's 64 MiB per check is for production
        }
        for section, values in overrides.items():
            sections[section] = {**sections.get(section, {}), **values}
        return Settings(**sections)

    return make


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The public data sets (../shared/data or $ESCALATOR_DATA); tests that need them skip without them."""
    candidates = [os.environ.get("ESCALATOR_DATA"), str(ROOT.parent / "shared" / "data")]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    pytest.skip("the public data sets are not here (set ESCALATOR_DATA or put them in ../shared/data)")


@pytest.fixture(scope="session")
def spacy_nlp():
    """spaCy's small English pipeline from the installed package, loaded once for the whole run."""
    from handoff.entities import load_spacy

    return load_spacy()


@pytest.fixture
def make_app(make_settings):
    """An app on a temporary SQLite file and the fake analyzer (no model loaded, no spaCy); keyword arguments override
    settings sections. The handoff and console rules are tested on it, free of any model's opinion."""
    from escalator.app import create_app
    from tests.fakes import FakeAnalyzer

    def make(**overrides):
        settings = make_settings(**overrides)
        return create_app(settings, analyzer=FakeAnalyzer(settings.bot.knowledge_base), entity_nlp=None)

    return make


@pytest.fixture
def make_real_app(make_settings, encoder, spacy_nlp):
    """An app on a temporary SQLite file with the real models, loaded once per run: for the integration tests."""
    from escalator.app import create_app

    def make(**overrides):
        return create_app(make_settings(**overrides), encoder=encoder, entity_nlp=spacy_nlp)

    return make
