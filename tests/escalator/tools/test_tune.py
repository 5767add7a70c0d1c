"""escalator/tools/tune.py: run_tune's files, held-out figures, warnings and frozen fields, on a fake replayer, and
one real tune of the shipped sample."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from detectors.thresholds import Thresholds
from detectors.tuning.conversations import SAMPLE_PATH, write_conversations
from detectors.tuning.suggestion import format_tradeoff
from detectors.tuning.validation import MIN_CALM_CONVERSATIONS
from escalator.settings import Settings, load_settings
from escalator.tools.tune import run_tune
from tests.detectors.tuning.fake_replayer import (
    START,
    FakeReplayer,
    conversation,
    explicit_cases,
)

START_SETTINGS = Settings(detectors=START)

# --- run_tune and its files ----------------------------------------------------------------------------------

SCRIPT_ID = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, FakeReplayer]:
    # A negative that escalates at every threshold stays wrong, so it must show (escaped) in the report.
    cases = explicit_cases() + [(conversation(SCRIPT_ID, False), "explicit_request", 2.0)]
    replayer = FakeReplayer(cases)
    tmp_path = tmp_path_factory.mktemp("tune")
    path = tmp_path / "labelled.jsonl"
    write_conversations(path, replayer.conversations)
    out = tmp_path / "out"
    result = run_tune(path, START_SETTINGS, "recall@precision>=0.8", out, progress=False, replayer=replayer, holdout=0)
    return result, out, replayer


def test_run_tune_writes_every_file(tuned) -> None:
    result, out, _ = tuned
    paths = result["paths"]
    assert Path(paths["precision_recall"]) == out / "precision_recall.png"
    for png in [paths["precision_recall"], *paths["thresholds"].values()]:
        assert Path(png).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "explicit_request.threshold" in paths["thresholds"]
    assert json.loads((out / "tune.json").read_text(encoding="utf-8")) == json.loads(json.dumps(result))


def test_run_tune_reports_current_best_and_changes(tuned) -> None:
    result, _, _ = tuned
    assert result["objective"] == "recall@precision>=0.8"
    assert result["best"]["feasible"] and result["best"]["precision"] >= 0.8
    assert result["best"]["objective"] >= result["current"]["objective"]
    assert result["changed"] == {
        "explicit_request.threshold": {"old": 0.9, "new": result["best_thresholds"]["explicit_request"]["threshold"]}
    }
    assert SCRIPT_ID in [wrong["id"] for wrong in result["wrong"]]


def test_the_report_page_shows_the_figures_and_escapes_text(tuned) -> None:
    result, out, _ = tuned
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "src='precision_recall.png'" in page
    assert "src='thresholds_explicit_request_threshold.png'" in page
    assert "http://" not in page and "https://" not in page  # self-contained
    assert "0.9 → " in page  # old -> new of the changed threshold
    assert "recall@precision&gt;=0.8" in page


def test_the_suggested_toml_loads_as_a_config_alone_and_merged(tuned, tmp_path: Path) -> None:
    result, out, _ = tuned
    snippet = (out / "suggested.toml").read_text(encoding="utf-8")
    assert set(tomllib.loads(snippet)["detectors"]) == set(Thresholds.model_fields)
    best = Thresholds.model_validate(result["best_thresholds"])
    assert load_settings(out / "suggested.toml").detectors == best
    merged = tmp_path / "escalator.toml"
    merged.write_text("[server]\nport = 9001\n\n[bot]\nmatch_threshold = 0.4\n\n" + snippet, encoding="utf-8")
    settings = load_settings(merged)
    assert settings.detectors == best and settings.server.port == 9001
    assert best != START


def test_format_tradeoff_shows_current_best_and_the_change(tuned) -> None:
    result, _, _ = tuned
    text = format_tradeoff(result)
    lines = text.splitlines()
    assert any(line.startswith("current") for line in lines)
    assert any(line.startswith("best") for line in lines)
    assert "explicit_request.threshold 0.9 -> " in text
    assert "recall@precision>=0.8" in text


def test_run_tune_checks_the_objective_before_any_work(tmp_path: Path) -> None:
    replayer = FakeReplayer(explicit_cases())
    path = tmp_path / "labelled.jsonl"
    write_conversations(path, replayer.conversations)
    with pytest.raises(ValueError, match="accepted forms"):
        run_tune(path, Settings(), "precision>=0.9", tmp_path / "out", replayer=replayer)
    assert replayer.replays == 0 and not (tmp_path / "out").exists()


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path: Path, capsys) -> None:
    replayer = FakeReplayer(explicit_cases())
    path = tmp_path / "labelled.jsonl"
    write_conversations(path, replayer.conversations)
    run_tune(path, Settings(), "f1", tmp_path / "out", progress=True, replayer=replayer, plots=False)
    assert capsys.readouterr().err == ""


def test_run_tune_reports_the_figures_on_a_held_out_file(tmp_path: Path) -> None:
    path = tmp_path / "labelled.jsonl"
    write_conversations(path, [case[0] for case in explicit_cases()])
    held_path = tmp_path / "held.jsonl"
    held_cases = [(conversation("held-pos", True), "explicit_request", 0.7)]
    write_conversations(held_path, [case[0] for case in held_cases])
    replayer = FakeReplayer(explicit_cases() + held_cases)
    result = run_tune(
        path, START_SETTINGS, "f1", tmp_path / "out", progress=False, replayer=replayer, holdout=held_path, plots=False
    )
    held = result["held_out"]
    assert held["conversations"] == 1 and held["source"] == str(held_path)
    assert held["current"]["recall"] == 0.0 and held["best"]["recall"] == 1.0  # 0.9 -> below 0.7 catches held-pos
    assert result["conversations"] == len(explicit_cases())  # the search saw only the file


def test_run_tune_warns_about_a_change_resting_on_one_conversation_and_about_few_calm_chats(tmp_path: Path) -> None:
    # At 0.9 only pos-a escalates; anything below 0.85 also catches pos-b and nothing else: one conversation's worth.
    cases = [
        (conversation("pos-a", True), "explicit_request", 0.95),
        (conversation("pos-b", True), "explicit_request", 0.85),
        (conversation("neg-a", False), "explicit_request", 0.3),
    ]
    path = tmp_path / "labelled.jsonl"
    write_conversations(path, [case[0] for case in cases])
    result = run_tune(
        path,
        START_SETTINGS,
        "f1",
        tmp_path / "out",
        progress=False,
        replayer=FakeReplayer(cases),
        holdout=0,
        plots=False,
    )
    warnings = "\n".join(result["warnings"])
    assert f"Only 1 of the 3 conversations should not escalate: with fewer than {MIN_CALM_CONVERSATIONS}" in warnings
    assert "explicit_request.threshold 0.9 -> " in warnings and "rests on 1 conversation (pos-b)" in warnings
    assert "WARNING: Only 1" in (tmp_path / "out" / "suggested.toml").read_text(encoding="utf-8")
    assert "WARNING: explicit_request.threshold" in format_tradeoff(result)


# --- The real sample through the real pipeline ---------------------------------------------------------------


@pytest.mark.slow
def test_tuning_the_shipped_sample_never_makes_the_objective_worse(tmp_path: Path) -> None:
    # No replayer given: run_tune builds the real offline pipeline and analyses the sample itself.
    settings = Settings(models={"cache_dir": str(tmp_path / "cache")})
    result = run_tune(SAMPLE_PATH, settings, "recall@precision>=0.9", tmp_path / "out", progress=False, holdout=0)
    assert result["conversations"] == 108
    assert result["best"]["feasible"]
    assert result["best"]["objective"] >= result["current"]["objective"]
    assert load_settings(Path(result["paths"]["suggested"])).detectors.model_dump() == result["best_thresholds"]


def test_frozen_sections_and_fields_are_left_as_they_are(tmp_path: Path) -> None:
    path = tmp_path / "labelled.jsonl"
    write_conversations(path, [case[0] for case in explicit_cases()])
    result = run_tune(
        path,
        START_SETTINGS,
        "f1",
        tmp_path / "out",
        progress=False,
        replayer=FakeReplayer(explicit_cases()),
        holdout=0,
        freeze=["explicit_request"],
        plots=False,
    )
    assert result["changed"] == {}
    assert "explicit_request.threshold" not in result["sweeps"]
