"""The `escalator` command: serve, chat, and the developers' tools for detectors."""

from __future__ import annotations

import os

# Before numpy loads: its BLAS thrashes with more threads than this 2-core target has to spare
# (a knowledge-base fit took 7.8 s with the default, 0.6 s with one thread).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.config import ServerSettings
from detectors.types import Role
from escalator.settings import DEFAULT_CONFIG_FILE, ConfigError, Settings, load_settings

Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    run: Command = args.run  # each sub-command's parser sets its own
    try:
        return run(args)
    except ConfigError as error:
        print(f"escalator: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="escalator", description=__doc__)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="start the chat service")
    serve.add_argument("--config", type=Path, help="TOML configuration file (default: ./escalator.toml if present)")
    serve.add_argument("--host", help="interface to listen on (overrides [server] host)")
    serve.add_argument("--port", type=int, help="port to listen on (overrides [server] port)")
    serve.set_defaults(run=_serve)

    chat = commands.add_parser("chat", help="chat with a running service from the terminal")
    chat.add_argument("url", nargs="?", default="ws://127.0.0.1:8000/ws/chat", help="the customer websocket URL")
    chat.set_defaults(run=_chat)

    detect = commands.add_parser("detect", help="score one message with every detector")
    detect.add_argument("text", help="the customer message to judge")
    detect.add_argument(
        "--history", type=Path, help="earlier turns, one per line ('bot:' / 'customer:' prefixes optional)"
    )
    detect.add_argument("--config", type=Path, help="TOML configuration file (thresholds, knowledge base)")
    detect.set_defaults(run=_detect)

    train = commands.add_parser("train", help="rebuild a head from the public data sets")
    train.add_argument("head", choices=sorted(TRAINERS), help="which head to train")
    train.add_argument("--data", type=Path, help=DATA_HELP)
    train.add_argument("--out", type=Path, help="where to write the weights (default: the shipped file)")
    train.add_argument(
        "--cache", type=Path, help="cache of encoder outputs (default: the trainer's own under var/cache)"
    )
    train.set_defaults(run=_train)

    evaluate = commands.add_parser("evaluate-detectors", help="measure the detectors on the public data sets")
    evaluate.add_argument("--data", type=Path, help=DATA_HELP)
    evaluate.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    evaluate.add_argument("--cache", type=Path, default=Path("var/cache/embeddings"), help="embedding cache")
    evaluate.add_argument(
        "--config",
        type=Path,
        help="TOML configuration file whose thresholds to measure "
        "(e.g. a suggested.toml from `escalator tune`; default: ./escalator.toml or the built-in ones)",
    )
    evaluate.set_defaults(run=_evaluate_detectors)

    entities = commands.add_parser("evaluate-entities", help="precision and recall of entity extraction per type")
    entities.add_argument("--data", type=Path, help=DATA_HELP)
    entities.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    entities.add_argument("--split", default="test", choices=("train", "dev", "test"))
    entities.set_defaults(run=_evaluate_entities)

    chats = commands.add_parser(
        "evaluate-public-chats", help="replay two-question chats from Banking77 test and CLINC150 oos_test"
    )
    chats.add_argument("--data", type=Path, help=DATA_HELP)
    chats.add_argument(
        "--config", type=Path, help="TOML configuration file (use the banking deployment's for Banking77)"
    )
    chats.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    chats.set_defaults(run=_evaluate_public_chats)

    replay = commands.add_parser("evaluate", help="replay labelled conversations and report precision and recall")
    replay.add_argument("--conversations", type=Path, required=True, help="labelled conversations (JSON Lines)")
    replay.add_argument("--config", type=Path, help="TOML configuration file whose thresholds to use")
    replay.add_argument(
        "--tolerance", type=int, default=1, help="customer turns early or late that still count as on time"
    )
    replay.add_argument("--json", type=Path, help="also write the report to this JSON file")
    replay.set_defaults(run=_evaluate)

    tune = commands.add_parser("tune", help="search detector thresholds on labelled conversations")
    tune.add_argument("--conversations", type=Path, required=True, help="labelled conversations (JSON Lines)")
    tune.add_argument("--config", type=Path, help="TOML configuration file to start from")
    tune.add_argument(
        "--objective",
        default="f1",
        help="what to maximise: f1 | recall@precision>=0.9 | precision@recall>=0.95 | on_time@precision>=0.9",
    )
    tune.add_argument("--out", type=Path, default=Path("var/tune"), help="where to write suggested.toml and the report")
    tune.add_argument("--tolerance", type=int, default=1)
    tune.add_argument(
        "--floors",
        help="per-category floors the search must hold, e.g. 'caught>=0.85,false<=0.1' (conversations need a category)",
    )
    tune.add_argument(
        "--holdout",
        default="0.3",
        help="conversations kept out of the search and reported apart: a share of the file (default 0.3, "
        "drawn within each category), 0 for none, or another labelled conversations file",
    )
    tune.add_argument(
        "--freeze",
        default="",
        help="sections or fields to leave as they are, comma-separated (e.g. 'explicit_request,sentiment.trend')",
    )
    tune.add_argument("--no-progress", action="store_true", help="no progress bar")
    tune.set_defaults(run=_tune)

    export = commands.add_parser("export", help="export resolved conversations with the agents' verdicts")
    export.add_argument("--since", required=True, help="only tickets resolved on or after this date (YYYY-MM-DD)")
    export.add_argument("--out", type=Path, required=True, help="the JSON Lines file to write")
    export.add_argument("--config", type=Path, help="TOML configuration file (for the database URL)")
    export.set_defaults(run=_export)
    return parser


DATA_HELP = "the folder holding the public data sets, one sub-folder per data set"
NEEDED_DATA = {
    "train sentiment": "semeval2017-task4a, sst2, tweeteval-sentiment, tweeteval-emotion",
    "train human-request": "bitext-customer-support, clinc150, banking77",
    "evaluate-detectors": "clinc150, banking77, bitext-customer-support, tweeteval-sentiment, sst2, twitter-airline-sentiment",
    "evaluate-entities": "bitext-customer-support",
    "evaluate-public-chats": "banking77, clinc150",
}
TRAINERS = {"sentiment": "models.train_sentiment", "human-request": "models.train_human_request"}


def _data_root(args: argparse.Namespace, command: str) -> Path | None:
    data: Path | None = args.data  # every --data option has type=Path
    if data is not None and data.is_dir():
        return data
    problem = "needs --data DIR" if data is None else f"cannot find the data folder {data}"
    print(
        f"escalator {command} {problem}: the folder of public data sets with {NEEDED_DATA[command]} "
        "(each in its own sub-folder, e.g. shared/data beside the clone).",
        file=sys.stderr,
    )
    return None


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    server = {
        k: v for k, v in (("host", getattr(args, "host", None)), ("port", getattr(args, "port", None))) if v is not None
    }
    if server:
        overrides["server"] = server
    return load_settings(getattr(args, "config", None), **overrides)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from escalator.app import create_app

    settings = _settings(args)
    config_file = args.config or (DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None)
    base = f"http://{settings.server.host}:{settings.server.port}"
    print(f"Escalator is starting on {base}")
    print(f"  demo page:      {base}/")
    print(f"  agent console:  {base}/console")
    print(f"  API docs:       {base}/docs")
    uvicorn.run(create_app(settings, config_file=config_file), **uvicorn_options(settings.server))
    return 0


def uvicorn_options(server: ServerSettings) -> dict[str, Any]:
    """How `serve` runs uvicorn. Its transport closes a larger frame with 1009 before the app sees it, so its limit
    is the app's own, derived from max_text_chars: every legal message reaches the app. Per-message deflate is off:
    its compression state costs each idle connection far more memory than chat frames of a few hundred bytes save."""
    return {
        "host": server.host,
        "port": server.port,
        "ws_max_size": server.max_frame_bytes,
        "ws_per_message_deflate": False,
        "log_level": "info",
    }


def _detect(args: argparse.Namespace) -> int:
    from detectors.types import Turn
    from escalator.analysis import build_analysis

    analysis = build_analysis(load_settings(args.config))
    earlier = read_history(args.history) if args.history else []
    customer = [text for role, text in earlier if role == "customer"]
    analyses = iter(analysis.analyze_many(customer)) if customer else iter(())
    history = [
        Turn("customer", text, next(analyses)) if role == "customer" else Turn(role, text) for role, text in earlier
    ]
    assessment = analysis.assess("cli", history, args.text)
    a = assessment.analysis
    print(f"message: {args.text!r}")
    print(
        f"heads:   negative={a.negative:.3f}  human_request={a.human_request:.3f}  out_of_scope={a.out_of_scope:.3f}  "
        f"top intents: {', '.join(f'{n} {p:.2f}' for n, p in a.intents)}"
    )
    print(f"{'detector':<20}{'score':>8}{'threshold':>11}  verdict")
    for signal in assessment.decision.signals:
        verdict = "FIRES" if signal.fired else "quiet"
        print(f"{signal.detector:<20}{signal.score:>8.3f}{signal.threshold:>11.3f}  {verdict}: {signal.reason}")
    reply = assessment.reply
    if reply is None:  # the pipeline answers exactly when the decision is not to escalate
        print(f"decision: ESCALATE (trigger: {assessment.decision.trigger})")
    else:
        print(f"decision: the bot answers ({reply.intent or 'unsure'}): {reply.text}")
    return 0


def _train(args: argparse.Namespace) -> int:
    import importlib
    import json

    data = _data_root(args, f"train {args.head}")
    if data is None:
        return 2
    trainer = importlib.import_module(TRAINERS[args.head])
    kwargs = {name: value for name, value in (("cache_dir", args.cache), ("out", args.out)) if value is not None}
    print(json.dumps(trainer.train(data, **kwargs), indent=2))
    return 0


def _evaluate_detectors(args: argparse.Namespace) -> int:
    from escalator.tools.quality import evaluate_detectors, format_quality

    data = _data_root(args, "evaluate-detectors")
    if data is None:
        return 2
    settings = load_settings(args.config)
    print(f"thresholds from {args.config or 'the built-in defaults'}, pass: {settings.models.backend}", flush=True)
    figures = evaluate_detectors(data, args.cache, settings.detectors, settings.models)
    print(format_quality(figures))
    if args.json:
        _write_json(args.json, figures)
    return 0


def _evaluate_entities(args: argparse.Namespace) -> int:
    from handoff.entities import EntityExtractor, load_spacy
    from handoff.evaluate_entities import evaluate, format_table

    data = _data_root(args, "evaluate-entities")
    if data is None:
        return 2
    report = evaluate(data, EntityExtractor(nlp=load_spacy()), split=args.split)
    print(format_table(report))
    if args.json:
        _write_json(args.json, report)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from detectors.tuning.conversations import read_conversations
    from detectors.tuning.metrics import compute, format_report
    from escalator.analysis import build_analysis
    from escalator.tools.replay import Replayer

    try:
        conversations = read_conversations(args.conversations)
    except (OSError, ValueError) as error:
        print(f"escalator evaluate: {error}", file=sys.stderr)
        return 2
    settings = load_settings(args.config)
    replayer = Replayer(build_analysis(settings), conversations)
    report = compute(replayer.replay(settings.detectors), tolerance=args.tolerance)
    print(format_report(report))
    if args.json:
        _write_json(args.json, report.to_json())
    return 0


def _evaluate_public_chats(args: argparse.Namespace) -> int:
    from escalator.analysis import build_analysis
    from escalator.tools.public_chats import evaluate_public_chats, format_public_chats

    data = _data_root(args, "evaluate-public-chats")
    if data is None:
        return 2
    figures = evaluate_public_chats(data, build_analysis(load_settings(args.config)))
    print(format_public_chats(figures))
    if args.json:
        _write_json(args.json, figures)
    return 0


def _tune(args: argparse.Namespace) -> int:
    from detectors.tuning.suggestion import format_tradeoff
    from escalator.tools.tune import run_tune

    try:
        holdout: Path | float = float(args.holdout) if _is_number(args.holdout) else Path(args.holdout)
        result = run_tune(
            args.conversations,
            load_settings(args.config),
            args.objective,
            args.out,
            args.tolerance,
            progress=not args.no_progress,
            floors=args.floors,
            holdout=holdout,
            freeze=[part.strip() for part in args.freeze.split(",") if part.strip()],
        )
    except (ValueError, OSError) as error:  # a bad objective, floors, share or conversations file
        print(f"escalator tune: {error}", file=sys.stderr)
        return 2
    print(format_tradeoff(result))
    print(f"\nreport: {result['paths']['html']}")
    return 0


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _export(args: argparse.Namespace) -> int:
    from datetime import date

    from handoff.export import export_verdicts
    from handoff.store import ConversationStore

    try:
        since = date.fromisoformat(args.since)
    except ValueError:
        print(f"escalator export: --since must be a date like 2026-11-01, not {args.since!r}", file=sys.stderr)
        return 2
    store = ConversationStore(load_settings(args.config).database.url)
    try:
        count = export_verdicts(store, since, args.out)
    finally:
        store.close()
    print(f"exported {count} conversations to {args.out}")
    return 0


def _write_json(path: Path, figures: object) -> None:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def _chat(args: argparse.Namespace) -> int:
    from escalator.tools.terminal_chat import run_terminal_chat

    return run_terminal_chat(args.url)


def read_history(path: Path) -> list[tuple[Role, str]]:
    """A plain-text history: one turn per line, optionally prefixed 'customer:', 'bot:' or 'agent:'."""
    turns: list[tuple[Role, str]] = []
    speakers: tuple[Role, ...] = ("customer", "bot", "agent")
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if not text:
            continue
        role, _, rest = text.partition(":")
        speaker = role.strip().lower()
        if speaker in speakers and rest.strip():
            turns.append((speaker, rest.strip()))
        else:
            turns.append(("customer", text))
    if not turns:
        raise ValueError(f"{path}: no turns found")
    return turns


if __name__ == "__main__":
    raise SystemExit(main())
