"""The command line every head's trainer shares: the data root, where to write the weights, the embedding cache."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from models.embedding_cache import DEFAULT_CACHE_DIR


def trainer_parser(description: str | None, out: Path) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the shared data root")
    parser.add_argument("--out", type=Path, default=out, help="where to write the weights (default: the shipped file)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE_DIR, help="embedding cache directory")
    return parser


def run_trainer(
    train: Callable[..., dict[str, Any]], description: str | None, out: Path, argv: Sequence[str] | None = None
) -> int:
    """Parse the shared arguments, train, and print the trainer's report as JSON."""
    args = trainer_parser(description, out).parse_args(argv)
    print(json.dumps(train(args.data, out=args.out, cache_dir=args.cache), indent=2))
    return 0
