"""`escalator evaluate-detectors`: every detector's quality figures on the public data sets, in one table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from detectors.evaluation import explicit_request, intent, sentiment
from detectors.thresholds import Thresholds
from models.backends import HeadWeights, offline_pass
from models.config import ModelSettings

TARGETS = {
    ("intent", "in_scope_accuracy"): 0.955,
    ("intent", "oos_recall_at_95"): 0.90,
    ("intent", "auroc"): 0.98,
    ("explicit_request", "precision"): 0.98,
    ("explicit_request", "recall"): 0.98,
    ("sentiment", "tweeteval_macro_recall"): 0.65,
    ("sentiment", "sst2_accuracy"): 0.85,
    # A regression guard only: airline labels call every complaint negative, while escalation needs frustration.
    ("sentiment", "airline_negative_auroc"): 0.88,
}
MAX_FALSE_ALARMS_PER_1000 = 1.0


def evaluate_detectors(
    data_root: Path, cache_dir: Path | None, thresholds: Thresholds | None = None, models: ModelSettings | None = None
) -> dict[str, Any]:
    """Test-split figures under `thresholds` (a configuration's; the built-in defaults when None), on the pass of
    `models`' backend and the heads trained on it (the int8 pass and its heads for onnx-int8, else torch). The defaults
    were chosen on validation data only. Only the explicit-request figures depend on thresholds: the intent and
    sentiment figures measure the models themselves."""
    thresholds = thresholds or Thresholds()
    models = models or ModelSettings()
    encoder, branch = offline_pass(models.backend, onnx_cache=models.cache_dir / "onnx", threads=models.torch_threads)
    heads = HeadWeights.of(models.backend)
    return {
        "backend": models.backend,
        "intent": intent.evaluate(data_root, encoder, cache_dir),
        "explicit_request": explicit_request.evaluate(
            data_root, encoder, cache_dir, thresholds.explicit_request, heads.human_request
        ),
        "sentiment": sentiment.evaluate(data_root, encoder, branch, cache_dir, baseline=heads.sentiment),
    }


def format_quality(figures: dict[str, Any]) -> str:
    rows = [f"{'detector':<18}{'figure':<28}{'ours':>8}{'target':>9}  {'VADER':>7}", "-" * 74]
    for (section, key), target in TARGETS.items():
        value = figures[section][key]
        vader = figures[section].get("vader", {}).get(key) if section == "sentiment" else None
        mark = "ok" if value >= target else "below"
        vader_text = f"{vader:>7.3f}" if isinstance(vader, float) else ""
        rows.append(f"{section:<18}{key:<28}{value:>8.3f}{target:>9.3f}  {vader_text}  {mark}")
    alarms = figures["explicit_request"]["false_alarms_per_1000"]
    rows.append(
        f"{'explicit_request':<18}{'false_alarms_per_1000':<28}{alarms:>8.3f}{'<= 1.0':>9}  "
        f"{'':>7}  {'ok' if alarms <= MAX_FALSE_ALARMS_PER_1000 else 'above'}"
    )
    return "\n".join(rows)
