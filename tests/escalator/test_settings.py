from pathlib import Path

import pytest

from bot import config as bot_config
from escalator.settings import ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "escalator.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.server.port == 8000
    assert settings.database.url.startswith("sqlite:///")
    assert settings.bot.knowledge_base == Path(bot_config.__file__).parent / "data" / "store" / "knowledge_base.yaml"
    assert 0 < settings.detectors.explicit_request.threshold < 1


def test_file_in_working_directory_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "[server]\nport = 9100\n")
    assert load_settings().server.port == 9100


def test_file_values_and_environment_overrides(tmp_path, monkeypatch):
    path = write(
        tmp_path,
        "[server]\nport = 9001\nallowed_origins = ['https://shop.example']\n[detectors.sentiment]\ntrend = 0.7\n",
    )
    monkeypatch.setenv("ESCALATOR_SERVER__PORT", "9200")
    monkeypatch.setenv("ESCALATOR_DETECTORS__SENTIMENT__MESSAGE", "0.8")
    settings = load_settings(path)
    assert settings.server.port == 9200  # the environment wins over the file
    assert settings.server.allowed_origins == ["https://shop.example"]
    assert settings.detectors.sentiment.trend == 0.7
    assert settings.detectors.sentiment.message == 0.8


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[server]\nprot = 1\n", "server.prot"),
        ("[server]\nport = 'high'\n", "server.port"),
        ("[detectors.sentiment]\ntrend = 1.5\n", "detectors.sentiment.trend"),
        ("[detectors.telepathy]\nthreshold = 0.5\n", "detectors.telepathy"),
        ("[bot]\nmatch_threshold = -1\n", "bot.match_threshold"),
        ("[models]\nbackend = 'tensorflow'\n", "models.backend"),
    ],
)
def test_invalid_config_names_the_bad_key(tmp_path, text, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_settings(write(tmp_path, text))


def test_unparseable_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot parse"):
        load_settings(write(tmp_path, "[server\nport = 1"))


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_a_knowledge_base_named_in_a_config_file_is_found_beside_it(tmp_path, monkeypatch):
    deployment = tmp_path / "deployment"
    deployment.mkdir()
    (deployment / "escalator.toml").write_text('[bot]\nknowledge_base = "kb.yaml"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="bot.knowledge_base: file not found: .*deployment/kb.yaml"):
        load_settings(deployment / "escalator.toml")  # named before anything starts
    (deployment / "kb.yaml").write_text("intents: []\n", encoding="utf-8")
    assert load_settings(deployment / "escalator.toml").bot.knowledge_base == deployment / "kb.yaml"


def test_a_separate_frame_limit_is_refused_with_the_reason(tmp_path, monkeypatch):
    # The frame limit is derived from max_text_chars; an old config that still sets it must say so, not just fail.
    with pytest.raises(ConfigError, match=r"server: .*max_frame_bytes is no longer a setting.*max_text_chars"):
        load_settings(write(tmp_path, "[server]\nmax_frame_bytes = 16384\n"))
    monkeypatch.setenv("ESCALATOR_SERVER__MAX_FRAME_BYTES", "16384")
    with pytest.raises(ConfigError, match="max_frame_bytes is no longer a setting"):
        load_settings(write(tmp_path, "[server]\nport = 8001\n"))


def test_the_frame_limit_grows_with_the_text_limit(tmp_path):
    settings = load_settings(write(tmp_path, "[server]\nmax_text_chars = 4000\n"))
    assert settings.server.max_frame_bytes == 52 + 12 * (4000 + 128) + 64


def test_the_int8_backend_takes_its_own_threshold_defaults_where_the_configuration_is_silent(tmp_path, monkeypatch):
    from escalator import settings as settings_module

    monkeypatch.setattr(settings_module, "INT8_DEFAULTS", {"sentiment": {"message": 0.7, "trend": 0.6}})
    fp32 = load_settings(write(tmp_path, "[detectors.sentiment]\ntrend = 0.5\n"))
    assert (fp32.detectors.sentiment.message, fp32.detectors.sentiment.trend) == (0.75, 0.5)
    int8 = load_settings(write(tmp_path, "[models]\nbackend = 'onnx-int8'\n[detectors.sentiment]\ntrend = 0.5\n"))
    assert (int8.detectors.sentiment.message, int8.detectors.sentiment.trend) == (0.7, 0.5)  # the file's own value wins
    monkeypatch.setenv("ESCALATOR_MODELS__BACKEND", "onnx-int8")  # named by the environment alone, too
    assert load_settings(write(tmp_path, "[server]\nport = 8001\n")).detectors.sentiment.message == 0.7
