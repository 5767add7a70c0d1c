"""The `escalator` command: serve, chat, and the developers' tools for detectors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Sequence

from bot.settings import ConfigError, Settings, load_settings

Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args)
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
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    server = {k: v for k, v in (("host", getattr(args, "host", None)), ("port", getattr(args, "port", None))) if v is not None}
    if server:
        overrides["server"] = server
    return load_settings(getattr(args, "config", None), **overrides)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.app import create_app

    settings = _settings(args)
    base = f"http://{settings.server.host}:{settings.server.port}"
    print(f"Escalator is starting on {base}")
    print(f"  demo page:      {base}/")
    print(f"  agent console:  {base}/console")
    print(f"  API docs:       {base}/docs")
    uvicorn.run(
        create_app(settings),
        host=settings.server.host,
        port=settings.server.port,
        # The server itself closes a websocket with 1009 when a frame is larger than this.
        ws_max_size=settings.server.max_frame_bytes,
        log_level="info",
    )
    return 0


def _chat(args: argparse.Namespace) -> int:
    from bot.terminal_chat import run_terminal_chat

    return run_terminal_chat(args.url)


if __name__ == "__main__":
    raise SystemExit(main())
