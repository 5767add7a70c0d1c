"""How well the intent model classifies CLINC150 and tells in-scope from out-of-scope queries.

Train on `train`; choose the threshold on `val` + `oos_val` (the one that keeps 95% of in-scope val);
report on `test` + `oos_test`. Beside the headline figures:
- the default threshold (0.5, calibrated without OOS examples) applied unchanged to test,
- Rasa's FallbackClassifier rule (confidence < 0.3 or margin < 0.1) as the floor to beat,
- each out-of-scope component alone, and the per-turn grid behind the detector's defaults,
- a knowledge-base-sized model (40 CLINC intents x 12 examples, no OOS examples), with every other
  CLINC intent and `oos_test` as out of scope, for whether the default transfers,
- Banking77: 50 intents trained, the other 27 held out as unseen; and the CLINC model's view of Banking77,
- how often `consecutive` uncertain turns happen by chance in in-scope conversations (streak maths).

`--tune` instead searches the classifier's hyper-parameters on `val` + `oos_val` only (see `tune`); the
defaults in `models.intent.IntentHyper` are its choice.

    python -m detectors.evaluation.intent --data /path/to/shared/data [--cache var/cache/embeddings] [--tune] \
        [--backend onnx-int8]
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TypedDict

import numpy as np
from sklearn.metrics import roc_auc_score

from detectors.intent_confidence import judge_turn
from detectors.thresholds import IntentConfidenceThresholds
from models import datasets
from models.backends import BACKENDS, offline_pass
from models.embedding_cache import DEFAULT_CACHE_DIR, embed_cached
from models.encoder import Encoder
from models.intent import COMPONENTS, IntentModel

KEEP = 0.95  # share of in-scope queries the chosen threshold must keep


class _NetworkGrid(TypedDict):
    hidden_epochs: tuple[tuple[int, int], ...]
    network_l2: tuple[float, ...]


# The classifier's search grid: the linear model's ridge; the network's size and training length (only
# pairs that keep the knowledge base's start-up fit near 1 s: 512 units x 10 epochs took 1.3 s, x 30 2.5 s),
# weight decay, and weight in the blend.
LINEAR_GRID = {"l2": (3e-6, 1e-5, 3e-5)}
NETWORK_GRID: _NetworkGrid = {"hidden_epochs": ((256, 5), (256, 10), (512, 5)), "network_l2": (1e-3, 3e-3)}
BLEND_WEIGHTS = (0.25, 0.5, 1.0, 2.0)


def auroc(out_scores: np.ndarray, in_scores: np.ndarray) -> float:
    """P(a random out-of-scope query scores above a random in-scope one), ties counted half."""
    labels = np.concatenate([np.ones(len(out_scores)), np.zeros(len(in_scores))])
    return float(roc_auc_score(labels, np.concatenate([out_scores, in_scores])))


def threshold_keeping(in_scope_scores: np.ndarray, keep: float = KEEP) -> float:
    """The lowest threshold (fire when score > it) under which at least `keep` of in-scope scores stay."""
    return float(np.quantile(in_scope_scores, keep, method="higher"))


def separation(in_scores: np.ndarray, out_scores: np.ndarray, threshold: float) -> dict[str, float]:
    """In-scope kept and out-of-scope caught when firing at score >= threshold."""
    return {
        "in_scope_kept": round(float((in_scores < threshold).mean()), 4),
        "oos_recall": round(float((out_scores >= threshold).mean()), 4),
    }


def rasa_rule(model: IntentModel, x: np.ndarray, confidence: float = 0.3, margin: float = 0.1) -> np.ndarray:
    """Rasa's FallbackClassifier: fall back when top < confidence or top - runner-up < margin."""
    probs = np.sort(model.probabilities(x), axis=1)
    falls_back: np.ndarray = (probs[:, -1] < confidence) | (probs[:, -1] - probs[:, -2] < margin)
    return falls_back


def uncertain(model: IntentModel, x: np.ndarray, t: IntentConfidenceThresholds) -> np.ndarray:
    """The detector's per-turn test, run on every row."""
    probs = np.sort(model.probabilities(x), axis=1)
    oos = model.out_of_scope(x)
    return np.array([judge_turn(p[-1], p[-2], o, t).uncertain for p, o in zip(probs, oos, strict=False)])


def false_alarm_probability(per_turn: float, consecutive: int, turns: int) -> float:
    """P(at least `consecutive` uncertain turns in a row within `turns` independent in-scope turns)."""
    # State = length of the current uncertain run (< consecutive); absorbing once it reaches `consecutive`.
    state = np.zeros(consecutive)
    state[0] = 1.0
    fired = 0.0
    for _ in range(turns):
        nxt = np.zeros(consecutive)
        nxt[0] = state.sum() * (1 - per_turn)
        nxt[1:] = state[:-1] * per_turn
        fired += state[-1] * per_turn
        state = nxt
    return float(fired)


def _split(data: datasets.Splits, name: str, encoder: Encoder, cache: Path | None) -> tuple[np.ndarray, list[str]]:
    pairs = data[name]
    return embed_cached(encoder, [t for t, _ in pairs], cache), [label for _, label in pairs]


def evaluate(data_root: Path, encoder: Encoder, cache_dir: Path | None = DEFAULT_CACHE_DIR) -> dict[str, object]:
    """Every figure in the module docstring, as one JSON-ready dict."""
    clinc = datasets.load_clinc150(data_root)
    xs = {name: _split(clinc, name, encoder, cache_dir) for name in clinc}
    x_train, y_train = xs["train"]
    x_val, _ = xs["val"]
    x_test, y_test = xs["test"]
    started = time.perf_counter()
    model = IntentModel.fit(x_train, y_train)
    fit_seconds = time.perf_counter() - started

    predicted = np.array(model.intents)[model.probabilities(x_test).argmax(1)]
    s_val, s_oos_val = model.out_of_scope(x_val), model.out_of_scope(xs["oos_val"][0])
    s_test, s_oos_test = model.out_of_scope(x_test), model.out_of_scope(xs["oos_test"][0])
    chosen = threshold_keeping(s_val)
    at_chosen = separation(s_test, s_oos_test, np.nextafter(chosen, 1.0))
    result: dict[str, object] = {
        "in_scope_accuracy": round(float((predicted == np.array(y_test)).mean()), 4),
        "oos_recall_at_95": at_chosen["oos_recall"],
        "auroc": round(auroc(s_oos_test, s_test), 4),
        "val_threshold": round(chosen, 4),
        "test_in_scope_kept_at_val_threshold": at_chosen["in_scope_kept"],
        "val_auroc": round(auroc(s_oos_val, s_val), 4),
        "default_threshold_0.5_on_test": separation(s_test, s_oos_test, 0.5),
        "fit_seconds": round(fit_seconds, 1),
        "temperature": round(model.temperature, 3),
    }

    components: dict[str, object] = {}
    raw = {name: model.raw_scores(xs[name][0]) for name in ("val", "oos_val", "test", "oos_test")}
    for j, component in enumerate(COMPONENTS):
        chosen_j = threshold_keeping(raw["val"][:, j])
        components[component] = {
            "oos_recall_at_95": separation(raw["test"][:, j], raw["oos_test"][:, j], np.nextafter(chosen_j, np.inf))[
                "oos_recall"
            ],
            "auroc": round(auroc(raw["oos_test"][:, j], raw["test"][:, j]), 4),
        }
    probs_val, probs_test = model.probabilities(x_val), model.probabilities(x_test)
    probs_oos_test = model.probabilities(xs["oos_test"][0])
    msp_threshold = threshold_keeping(-probs_val.max(1))
    components["max_probability"] = {
        "oos_recall_at_95": round(float((-probs_oos_test.max(1) > msp_threshold).mean()), 4),
        "auroc": round(auroc(-probs_oos_test.max(1), -probs_test.max(1)), 4),
    }
    result["components"] = components

    result["rasa_fallback_0.3_0.1"] = {
        "in_scope_flagged": round(float(rasa_rule(model, x_test).mean()), 4),
        "oos_recall": round(float(rasa_rule(model, xs["oos_test"][0]).mean()), 4),
    }
    result["per_turn_grid_val"] = _per_turn_grid(model, x_val, xs["oos_val"][0])
    defaults = IntentConfidenceThresholds()
    flag_in = float(uncertain(model, x_test, defaults).mean())
    flag_out = float(uncertain(model, xs["oos_test"][0], defaults).mean())
    result["detector_defaults_on_test"] = {
        "thresholds": defaults.model_dump(),
        "in_scope_turns_flagged": round(flag_in, 4),
        "oos_turns_flagged": round(flag_out, 4),
        "streaks": {
            f"consecutive={n}": {
                "false_alarm_in_8_in_scope_turns": round(false_alarm_probability(flag_in, n, 8), 4),
                "caught_within_n_oos_turns": round(flag_out**n, 4),
            }
            for n in (1, 2, 3)
        },
    }
    result["kb_scale"] = [_kb_scale(xs, seed) for seed in (0, 1, 2)]
    result["banking77"] = _banking77(data_root, encoder, cache_dir, model)
    return result


def tune(data_root: Path, encoder: Encoder, cache_dir: Path | None = DEFAULT_CACHE_DIR) -> dict[str, object]:
    """Choose the classifier's hyper-parameters on CLINC150 `val` + `oos_val`; test is never read.

    The criterion is val log-loss at its best temperature, not val accuracy: the top settings differ by a
    few of 3000 queries (accuracy's standard error is ~0.0035), so accuracy's argmax is noise, while the
    log-loss weighs every query's probability, and those probabilities drive the confidence thresholds.
    The logits are linear + weight x networks, so each half is fitted once with the other switched off
    (`epochs=0` leaves the networks at zero, `iterations=0` the linear model) and every blend is a sum.
    The chosen model is then fitted in full, with and without its networks, for the out-of-scope figures.
    About 5 minutes on one core.
    """
    clinc = datasets.load_clinc150(data_root)
    xs = {name: _split(clinc, name, encoder, cache_dir) for name in ("train", "val", "oos_val")}
    (x_train, y_train), (x_val, y_val) = xs["train"], xs["val"]

    def half(**hyper: object) -> IntentModel:
        return IntentModel.fit(x_train, y_train, **hyper)

    linear = {l2: half(l2=l2, epochs=0) for l2 in LINEAR_GRID["l2"]}
    # The networks at unit weight, so that a blend's `network_weight` is the one IntentModel.fit applies.
    networks = {
        (hidden, epochs, decay): half(iterations=0, hidden=hidden, epochs=epochs, network_l2=decay, network_weight=1.0)
        for (hidden, epochs), decay in itertools.product(NETWORK_GRID["hidden_epochs"], NETWORK_GRID["network_l2"])
    }
    truth = np.searchsorted(linear[LINEAR_GRID["l2"][0]].intents, y_val)
    linear_logits = {key: model.logits(x_val) for key, model in linear.items()}
    network_logits = {key: model.logits(x_val) for key, model in networks.items()}

    def row(setting: dict[str, float], logits: np.ndarray) -> dict[str, float]:
        return {
            **setting,
            "val_log_loss": round(scaled_log_loss(logits, truth), 5),
            "val_accuracy": round(float((logits.argmax(1) == truth).mean()), 4),
        }

    rows = [row({"l2": l2, "network_weight": 0.0}, logits) for l2, logits in linear_logits.items()]
    for (l2, lin), ((hidden, epochs, decay), net), weight in itertools.product(
        linear_logits.items(), network_logits.items(), BLEND_WEIGHTS
    ):
        setting = {"l2": l2, "hidden": hidden, "epochs": epochs, "network_l2": decay, "network_weight": weight}
        rows.append(row(setting, lin + weight * net))
    ranked = sorted(rows, key=lambda r: r["val_log_loss"])  # stable: equals keep grid order
    chosen = {key: value for key, value in ranked[0].items() if not key.startswith("val_")}

    def full_fit_on_val(**hyper: object) -> dict[str, object]:
        started = time.perf_counter()
        model = IntentModel.fit(x_train, y_train, **hyper)
        seconds = time.perf_counter() - started
        s_val, s_oos = model.out_of_scope(x_val), model.out_of_scope(xs["oos_val"][0])
        predicted = np.array(model.intents)[model.probabilities(x_val).argmax(1)]
        return {
            "hyper": asdict(model.hyper),
            "val_accuracy": round(float((predicted == np.array(y_val)).mean()), 4),
            "val_oos_recall_at_95": separation(s_val, s_oos, np.nextafter(threshold_keeping(s_val), 1.0))["oos_recall"],
            "val_auroc": round(auroc(s_oos, s_val), 4),
            "fit_seconds": round(seconds, 1),
        }

    return {
        "chosen": full_fit_on_val(**chosen),
        "chosen_without_networks": full_fit_on_val(**{**chosen, "epochs": 0}),
        "linear_alone": [r for r in rows if r["network_weight"] == 0.0],
        "grid_best_20": ranked[:20],
        "grid_size": len(rows),
    }


def scaled_log_loss(logits: np.ndarray, truth: np.ndarray) -> float:
    """Mean negative log-likelihood of the true class at the best of a grid of softmax temperatures
    (so settings whose logits differ only in scale compare equal)."""
    losses = []
    for temperature in np.geomspace(0.1, 10.0, 81):
        scaled = logits / temperature
        scaled = scaled - scaled.max(1, keepdims=True)
        log_probs = scaled - np.log(np.exp(scaled).sum(1, keepdims=True))
        losses.append(-log_probs[np.arange(len(truth)), truth].mean())
    return float(min(losses))


def _per_turn_grid(model: IntentModel, x_in: np.ndarray, x_out: np.ndarray) -> list[dict[str, float]]:
    """In-scope flagged vs OOS caught on val for a few confidence/margin pairs at out_of_scope 0.5."""
    rows = []
    for confidence in (0.0, 0.1, 0.2, 0.3):
        for margin in (0.0, 0.05, 0.1):
            t = IntentConfidenceThresholds(confidence=confidence, margin=margin, out_of_scope=0.5)
            rows.append(
                {
                    "confidence": confidence,
                    "margin": margin,
                    "in_scope_flagged": round(float(uncertain(model, x_in, t).mean()), 4),
                    "oos_flagged": round(float(uncertain(model, x_out, t).mean()), 4),
                }
            )
    return rows


def _kb_scale(
    xs: dict[str, tuple[np.ndarray, list[str]]], seed: int, intents: int = 40, per_intent: int = 12
) -> dict[str, object]:
    """A small knowledge base cut from CLINC150 train: do the 0.5 default and the AUROC still hold?"""
    rng = np.random.default_rng(seed)
    x_train, train_labels = xs["train"]
    x_test, test_labels = xs["test"]
    y_train, y_test = np.array(train_labels), np.array(test_labels)
    known = rng.choice(sorted(set(y_train.tolist())), size=intents, replace=False)
    rows = np.concatenate([rng.choice(np.flatnonzero(y_train == c), per_intent, replace=False) for c in known])
    started = time.perf_counter()
    model = IntentModel.fit(x_train[rows], y_train[rows].tolist())
    fit_seconds = time.perf_counter() - started
    inside = np.isin(y_test, known)
    x_out = np.vstack([x_test[~inside], xs["oos_test"][0]])
    s_in, s_out = model.out_of_scope(x_test[inside]), model.out_of_scope(x_out)
    predicted = np.array(model.intents)[model.probabilities(x_test[inside]).argmax(1)]
    return {
        "seed": seed,
        "in_scope_accuracy": round(float((predicted == y_test[inside]).mean()), 4),
        "auroc": round(auroc(s_out, s_in), 4),
        "default_threshold_0.5": separation(s_in, s_out, 0.5),
        "fit_seconds": round(fit_seconds, 2),
    }


def _banking77(
    data_root: Path, encoder: Encoder, cache_dir: Path | None, clinc_model: IntentModel
) -> dict[str, object]:
    """Held-out Banking77 intents as unseen (hard, same-domain OOS), and CLINC's model on Banking77 text."""
    banking = datasets.load_banking77(data_root)
    x_train, train_labels = _split(banking, "train", encoder, cache_dir)
    x_test, test_labels = _split(banking, "test", encoder, cache_dir)
    y_train, y_test = np.array(train_labels), np.array(test_labels)
    labels = sorted(set(y_train.tolist()))
    known = np.random.default_rng(0).choice(labels, size=50, replace=False)
    keep = np.isin(y_train, known)
    model = IntentModel.fit(x_train[keep], y_train[keep].tolist())
    inside = np.isin(y_test, known)
    s_in, s_out = model.out_of_scope(x_test[inside]), model.out_of_scope(x_test[~inside])
    predicted = np.array(model.intents)[model.probabilities(x_test[inside]).argmax(1)]
    return {
        "held_out_intents": {
            "known_intents": 50,
            "in_scope_accuracy": round(float((predicted == y_test[inside]).mean()), 4),
            "auroc": round(auroc(s_out, s_in), 4),
            "default_threshold_0.5": separation(s_in, s_out, 0.5),
        },
        "clinc_model_flags_banking77_test_as_oos": round(float((clinc_model.out_of_scope(x_test) >= 0.5).mean()), 4),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the shared data root (holds clinc150/)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE_DIR, help="embedding cache directory")
    parser.add_argument("--tune", action="store_true", help="search the classifier's hyper-parameters on val instead")
    parser.add_argument("--backend", choices=BACKENDS, default="torch", help="the pass to measure (fp32 or onnx-int8)")
    args = parser.parse_args(argv)
    encoder, _ = offline_pass(args.backend)
    run = tune if args.tune else evaluate
    print(json.dumps(run(args.data, encoder, args.cache), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
