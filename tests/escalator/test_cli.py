import pytest

from escalator.cli import main


@pytest.mark.parametrize("command", [["evaluate-detectors"], ["train", "sentiment"], ["evaluate-entities"]])
def test_data_commands_say_what_they_need_without_data(command, capsys):
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "--data" in err and "shared/data" in err


def test_missing_data_folder_is_named(tmp_path, capsys):
    assert main(["evaluate-detectors", "--data", str(tmp_path / "nope")]) == 2
    assert "nope" in capsys.readouterr().err


def test_bad_config_is_reported_with_the_key(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text("[server]\nport = 'x'\n", encoding="utf-8")
    assert main(["serve", "--config", str(config)]) == 2
    assert "server.port" in capsys.readouterr().err


def test_evaluate_names_the_bad_line(tmp_path, capsys):
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "a", "turns": [], "expected": {"escalate": false}}\n{oops\n', encoding="utf-8")
    assert main(["evaluate", "--conversations", str(path)]) == 2
    assert "line 1" in capsys.readouterr().err


@pytest.mark.slow
def test_detect_prints_every_detector(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ESCALATOR_MODELS__CACHE_DIR", str(tmp_path))
    assert main(["detect", "get me a human now"]) == 0
    out = capsys.readouterr().out
    for name in ("sentiment", "intent_confidence", "explicit_request", "pattern_similarity"):
        assert name in out
    assert "ESCALATE (trigger: explicit_request)" in out
