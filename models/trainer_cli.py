"""The command line every head's trainer shares: the data root, the pass whose features to train on, where to write
the weights, the embedding cache."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from models.backends import BACKENDS, offline_pass, weights_for
from models.embedding_cache import DEFAULT_CACHE_DIR


def trainer_parser(description: str | None, out: Path) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the shared data root")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="torch",
        help="the pass whose features the head reads: the fp32 one (torch, onnx: the same) or onnx-int8",
    )
    parser.add_argument(
        "--out", type=Path, help=f"where to write the weights (default: the backend's shipped file, {out.name})"
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE_DIR, help="embedding cache directory")
    return parser


def output_path(args: argparse.Namespace, out: Path) -> Path:
    """`--out`, else the shipped file for `--backend` (the int8 twin for onnx-int8)."""
    chosen: Path | None = args.out
    return chosen if chosen is not None else weights_for(out, args.backend)


def run_trainer(
    train: Callable[..., dict[str, Any]], description: str | None, out: Path, argv: Sequence[str] | None = None
) -> int:
    """Parse the shared arguments, train on the chosen backend's pass, and print the trainer's report as JSON."""
    args = trainer_parser(description, out).parse_args(argv)
    encoder, _ = offline_pass(args.backend)
    report = train(args.data, out=output_path(args, out), cache_dir=args.cache, encoder=encoder)
    print(json.dumps({"backend": args.backend, **report}, indent=2))
    return 0
