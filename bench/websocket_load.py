"""Load on a real server process, driven from outside over the customer websocket (docs/protocol.md).

One JSON document on stdout: the raw encoder's and the live pass's messages/s at batch 32 (measured in a subprocess
before the server starts, so nothing competes), then, against a server on a fresh SQLite database:

- light: 20 chats, each sending a message every ~2 s (jittered), open loop, for 30 s;
- saturation: 100 chats in a closed loop (each sends its next message once the last is answered), 60 s after a
  10 s warm-up, with the ratios of the answered rate to the live pass and to the raw encoder;
- idle: resident memory per idle connection (1000 connections that said hello and got welcome);
- restart: after a graceful stop, seconds from spawning the server again to /healthz, /readyz (if present), and the
  first ack of a customer message and its reply.

The load generator shares the machine with the server: the report gives the CPU each used, and the load average.

    .venv/bin/python -m bench.websocket_load [--scenarios light,saturation,idle,restart] [--seconds 60]
        [--chats 100] [--idle-connections 1000] [--threads 1] [--json FILE]

An older checkout, with the same venv (the server runs with the checkout as its working directory and PYTHONPATH):

    .venv/bin/python -m bench.websocket_load --cwd /work/baseline \\
        --server-cmd '{python} -m bot.cli serve --config {config} --port {port}'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.ws_harness import (
    BOT_STATES,
    DEFAULT_SERVER_CMD,
    REPO,
    ChatClient,
    ConnectionLost,
    Sent,
    Server,
    ServerDied,
    free_port,
    latency_ms,
    load_average,
    log_problems,
    log_size,
    publish_report,
    raise_open_files_limit,
    time_to_service,
)

SCENARIOS = ("light", "saturation", "idle", "restart")
START_TIMEOUT_S = 300.0  # a first start may export the ONNX pass (about a minute), on a busy machine
OPEN_BATCH = 100  # connections opened at once: fast, without a thundering herd on the server's accept queue


# --- Reference rates, in a subprocess -------------------------------------------------------------------------------


def reference_rates(threads: int, seconds: float) -> dict[str, Any]:
    """The raw encoder's and the live pass's messages/s at batch 32, measured by this checkout's code in a child
    process: its models are gone, memory and threads with them, before the server starts."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", OPENBLAS_NUM_THREADS="1")
    command = [sys.executable, "-m", "bench.websocket_load", "--references-only", "--threads", str(threads),
               "--reference-seconds", str(seconds)]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"measuring the reference rates failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout))


def measure_references(threads: int, seconds: float) -> dict[str, Any]:
    """Built the way bench.pipeline_throughput builds them: the service's own wiring, cache and backend."""
    from bench.encoder_throughput import measure
    from escalator.analysis import build_analysis
    from escalator.settings import Settings
    from models.config import ModelSettings
    from models.encoder import SentenceEncoder

    settings = Settings(models=ModelSettings(torch_threads=threads))
    encoder = SentenceEncoder(threads=threads)
    analyzer = build_analysis(settings, encoder=encoder, live=True).analyzer
    live_pass, branch = analyzer.encoder, analyzer.branch
    run_pass = live_pass.encode_with_branch  # type: ignore[attr-defined]
    raw = measure(lambda texts: encoder.encode(texts, batch_size=32), 32, seconds)
    live = measure(lambda texts: run_pass(texts, branch), 32, seconds)
    return {
        "threads": threads,
        "backend": settings.models.backend,
        "live_pass": type(live_pass).__name__,
        "raw_encoder_batch32_per_s": raw["messages_per_s"],
        "live_pass_batch32_per_s": live["messages_per_s"],
    }


# --- The chats ------------------------------------------------------------------------------------------------------


async def open_clients(url: str, count: int, seed: int) -> list[ChatClient]:
    """`count` customers, each with a new conversation, opened in parallel batches."""
    clients = [ChatClient(url, random.Random(seed + n)) for n in range(count)]
    for first in range(0, count, OPEN_BATCH):
        await asyncio.gather(*(client.connect() for client in clients[first : first + OPEN_BATCH]))
    return clients


async def close_clients(clients: list[ChatClient]) -> None:
    for first in range(0, len(clients), OPEN_BATCH):
        await asyncio.gather(*(client.close() for client in clients[first : first + OPEN_BATCH]))


async def fresh_conversation_if_due(client: ChatClient, turns: int, reconnect_s: float) -> None:
    """Move to a new conversation after `turns` questions (real chats are short, and every question is on a new
    intent), or when the chat went to a person, who does not answer in a benchmark."""
    handed_over = client.state not in BOT_STATES
    if handed_over or (client.asked >= turns and not client.outstanding):
        try:
            await client.new_conversation()
        except ConnectionLost:
            if not await client.reconnect(time.perf_counter() + reconnect_s):
                raise


async def open_loop_chat(client: ChatClient, interval: float, until: float, turns: int, records: list[Sent]) -> None:
    """A message every `interval` seconds (±25%), answered or not."""
    await asyncio.sleep(client.rng.uniform(0, interval))  # the chats start out of step
    while time.perf_counter() < until:
        if client.closed.is_set() and not await client.reconnect(time.perf_counter() + 30):
            raise ConnectionLost("cannot reconnect within 30 s")
        await fresh_conversation_if_due(client, turns, 30)
        records.append(await client.send(client.next_question()))
        await asyncio.sleep(interval * client.rng.uniform(0.75, 1.25))


async def closed_loop_chat(client: ChatClient, until: float, turns: int, reply_timeout: float,
                           records: list[Sent]) -> None:  # fmt: skip
    """The next message as soon as the last one is answered; one that is not answered in time is given up on."""
    while time.perf_counter() < until:
        await fresh_conversation_if_due(client, turns, reply_timeout)
        sent = await client.send(client.next_question())
        records.append(sent)
        deadline = time.perf_counter() + reply_timeout
        while not sent.answered.is_set() and time.perf_counter() < deadline:
            try:
                await client.wait_for(sent.answered, deadline - time.perf_counter())
            except ConnectionLost:
                await client.reconnect(deadline)  # resends the message if it was not acknowledged
        if not sent.answered.is_set():
            client.state = "unanswered"  # so that the next message starts a new conversation


async def settle(clients: list[ChatClient], timeout: float) -> None:
    """Wait until every message sent has been answered, or `timeout`."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline and any(client.outstanding for client in clients):
        await asyncio.sleep(0.1)


# --- Figures --------------------------------------------------------------------------------------------------------


def window_figures(records: list[Sent], start: float, end: float) -> dict[str, Any]:
    """Rates over [start, end), and the latencies of the messages sent in it (answered after it or not)."""
    span = end - start
    sent = [r for r in records if start <= r.sent_at < end]
    acked_in = sum(1 for r in records if r.ack_at is not None and start <= r.ack_at < end)
    answered_in = sum(1 for r in records if r.reply_at is not None and start <= r.reply_at < end)
    return {
        "window_s": round(span, 1),
        "messages_sent": len(sent),
        "offered_per_s": round(len(sent) / span, 1),
        "acked_per_s": round(acked_in / span, 1),
        "answered_per_s": round(answered_in / span, 1),
        "ack_latency": latency_ms([r.ack_at - r.sent_at for r in sent if r.ack_at is not None]),
        "reply_latency": latency_ms([r.reply_at - r.sent_at for r in sent if r.reply_at is not None]),
        "not_acked": sum(1 for r in sent if r.ack_at is None),
        "unanswered": sum(1 for r in sent if r.reply_at is None),
        "system_replies": sum(1 for r in sent if r.reply_sender == "system"),  # escalation notices
        "conversations": len({r.conversation_id for r in sent}),
    }


def client_counts(clients: list[ChatClient]) -> dict[str, int]:
    """What the clients saw besides answers: drops, reconnects, error frames, seq gaps or repeats."""
    total: Counter[str] = Counter()
    for client in clients:
        total.update(client.counts)
    return dict(sorted(total.items()))


class Usage:
    """CPU used by the server and by this load generator between two moments, in cores."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.wall, self.server_cpu, self.client_cpu = time.perf_counter(), server.cpu_seconds(), time.process_time()

    def cores(self) -> dict[str, float]:
        wall = time.perf_counter() - self.wall
        return {
            "server_cpu_cores": round((self.server.cpu_seconds() - self.server_cpu) / wall, 2),
            "load_generator_cpu_cores": round((time.process_time() - self.client_cpu) / wall, 2),
        }


async def sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.perf_counter()))


# --- Scenarios ------------------------------------------------------------------------------------------------------


async def light(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    clients = await open_clients(server.url, args.light_chats, seed=1000)
    records: list[Sent] = []
    start = time.perf_counter()
    usage = Usage(server)
    until = start + args.light_seconds
    await asyncio.gather(*(open_loop_chat(c, args.light_interval, until, args.turns, records) for c in clients))
    cores = usage.cores()
    await settle(clients, args.reply_timeout)
    # From one interval in (every chat has started) to the last send.
    figures = window_figures(records, start + args.light_interval, until)
    counts = client_counts(clients)
    await close_clients(clients)
    return {"chats": args.light_chats, "interval_s": args.light_interval, **figures, **cores, "client": counts}


async def saturation(
    server: Server, chats: int, references: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    clients = await open_clients(server.url, chats, seed=2000 + chats)
    records: list[Sent] = []
    start = time.perf_counter()
    window = (start + args.warmup, start + args.warmup + args.seconds)
    chats_done = asyncio.gather(
        *(closed_loop_chat(c, window[1], args.turns, args.reply_timeout, records) for c in clients)
    )
    await sleep_until(window[0])
    usage = Usage(server)
    await sleep_until(window[1])
    cores = usage.cores()
    await chats_done  # each finishes its last message: the latencies of the window are complete
    figures = window_figures(records, *window)
    counts = client_counts(clients)
    await close_clients(clients)
    rate = figures["answered_per_s"]
    ratios = {
        "ratio_to_live_pass": round(rate / references["live_pass_batch32_per_s"], 3) if references else None,
        "ratio_to_raw_encoder": round(rate / references["raw_encoder_batch32_per_s"], 3) if references else None,
    }
    return {"chats": chats, "warmup_s": args.warmup, **figures, **ratios, **cores, "client": counts}


async def idle(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    """Resident memory per connection that said hello and got its welcome, then stays quiet."""
    await asyncio.sleep(args.settle)  # let the previous scenario's work finish
    before = server.rss_kib()
    start = time.perf_counter()
    clients = [ChatClient(server.url, random.Random(n)) for n in range(args.idle_connections)]
    failures: Counter[str] = Counter()
    for first in range(0, len(clients), OPEN_BATCH):
        batch = clients[first : first + OPEN_BATCH]
        results = await asyncio.gather(*(client.connect() for client in batch), return_exceptions=True)
        failures.update(type(r).__name__ for r in results if isinstance(r, BaseException))
    opened_s = time.perf_counter() - start
    open_clients_now = [c for c in clients if not c.closed.is_set()]
    await asyncio.sleep(args.settle)
    after = server.rss_kib()
    still_open = sum(1 for c in open_clients_now if not c.closed.is_set())
    await close_clients(clients)
    await asyncio.sleep(args.settle)
    after_close = server.rss_kib()
    return {
        "connections": args.idle_connections,
        "opened": len(open_clients_now),
        "open_failures": dict(failures),
        "still_open_after_settle": still_open,
        "open_s": round(opened_s, 2),
        "rss_before_mib": round(before / 1024, 1),
        "rss_after_mib": round(after / 1024, 1),
        "rss_after_close_mib": round(after_close / 1024, 1),
        "kib_per_connection": round((after - before) / max(1, len(open_clients_now)), 1),
        "client": client_counts(clients),
    }


async def restart(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    """Stop the server, spawn it again on the same database, and time its way back to service."""
    stopped = server.stop()
    server.start()
    return {"previous_stop": stopped, **await time_to_service(server, START_TIMEOUT_S)}


async def guarded(server: Server, scenario: Awaitable[dict[str, Any]], timeout: float) -> dict[str, Any]:
    """Run a scenario, but stop it with ServerDied as soon as the server process exits, and after `timeout`."""

    async def watch() -> None:
        while True:
            server.check()
            await asyncio.sleep(0.5)

    task, watcher = asyncio.ensure_future(scenario), asyncio.ensure_future(watch())
    done, _ = await asyncio.wait({task, watcher}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    watcher.cancel()
    if task in done:
        return task.result()
    task.cancel()
    await asyncio.gather(task, watcher, return_exceptions=True)
    server.check()  # raises ServerDied if that is why
    raise TimeoutError(f"the scenario did not finish within {timeout:.0f} s")


# --- The run --------------------------------------------------------------------------------------------------------


async def run_scenarios(server: Server, references: dict[str, Any], args: argparse.Namespace,
                        report: dict[str, Any]) -> None:  # fmt: skip
    """Each requested scenario in turn, with the load average, the server's memory and its log around it."""
    runs: dict[str, tuple[Callable[[], Awaitable[dict[str, Any]]], float]] = {
        "light": (lambda: light(server, args), args.light_seconds + args.reply_timeout + 120),
        "saturation": (
            lambda: saturation(server, args.chats, references, args),
            args.warmup + args.seconds + args.reply_timeout + 120,
        ),
        "idle": (lambda: idle(server, args), 3 * args.settle + args.idle_connections * 0.5 + 120),
    }
    for name in [s for s in args.scenarios if s != "restart"]:
        make, timeout = runs[name]
        offset, before, load = log_size(server.log), server.rss_kib(), load_average()
        result = await guarded(server, make(), timeout)
        report[name] = {
            "load_average_before": load,
            **result,
            "server_rss_mib": {"before": round(before / 1024, 1), "after": round(server.rss_kib() / 1024, 1)},
            "server_log": log_problems(server.log, offset),
        }
    if "restart" in args.scenarios:
        offset, load = log_size(server.log), load_average()
        result = await asyncio.wait_for(restart(server, args), 2 * START_TIMEOUT_S)
        report["restart"] = {"load_average_before": load, **result, "server_log": log_problems(server.log, offset)}


async def run(args: argparse.Namespace, report: dict[str, Any]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="escalator-wsload-"))
    server = Server(args.server_cmd, args.python, Path(args.cwd), folder, args.port or free_port(), args.threads)
    report["server"] = {
        "command": " ".join(server.args),
        "cwd": str(server.cwd),
        "port": server.port,
        "config": str(server.config),
        "database": str(server.database),
        "log": str(server.log),
    }
    references = report.get("reference") or {}
    try:
        await server.first_start(START_TIMEOUT_S)
        # The scenarios start once the server answers (a new version listens before its models have loaded).
        report["server"]["first_start"] = await time_to_service(server, START_TIMEOUT_S)
        report["server"]["raised_limits"] = server.limits
        report["server"]["rss_after_start_mib"] = round(server.rss_kib() / 1024, 1)
        await run_scenarios(server, references, args, report)
        report["server"]["rss_at_end_mib"] = round(server.rss_kib() / 1024, 1)
    finally:
        report["server"]["final_stop"] = server.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server-cmd", default=DEFAULT_SERVER_CMD, help="command template: {python} {config} {port}")
    parser.add_argument("--python", default=sys.executable, help="the server's interpreter (default: this one)")
    parser.add_argument("--cwd", default=str(REPO), help="the server's working directory (its checkout)")
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated, from " + ",".join(SCENARIOS))
    parser.add_argument("--seconds", type=float, default=60.0, help="saturation: measured seconds")
    parser.add_argument("--warmup", type=float, default=10.0, help="saturation: seconds before measuring")
    parser.add_argument("--chats", type=int, default=100, help="saturation: concurrent chats")
    parser.add_argument("--light-chats", type=int, default=20)
    parser.add_argument("--light-interval", type=float, default=2.0, help="seconds between a chat's messages")
    parser.add_argument("--light-seconds", type=float, default=30.0)
    parser.add_argument("--idle-connections", type=int, default=1000)
    parser.add_argument("--settle", type=float, default=5.0, help="idle: pause before reading the memory")
    parser.add_argument("--turns", type=int, default=12, help="questions per conversation before a new one")
    parser.add_argument("--reply-timeout", type=float, default=60.0, help="a message not answered by then counts "
                        "as unanswered")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1, help="the server's [models] torch_threads")
    parser.add_argument("--reference-seconds", type=float, default=5.0)
    parser.add_argument("--no-references", action="store_true", help="skip the reference rates (no ratios)")
    parser.add_argument("--json", type=Path, help="also write the report to this file")
    parser.add_argument("--references-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.references_only:
        print(json.dumps(measure_references(args.threads, args.reference_seconds)))
        return 0
    report: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "argv": sys.argv[1:],
        "load_average_at_start": load_average(),
        "open_files_limit": raise_open_files_limit(),
    }
    status = 0
    try:
        if not args.no_references:
            report["reference"] = reference_rates(args.threads, args.reference_seconds)
        asyncio.run(run(args, report))
    except (ServerDied, TimeoutError, ConnectionLost, RuntimeError) as error:
        report["error"] = f"{type(error).__name__}: {error}"
        print(f"websocket_load: {report['error']}", file=sys.stderr)
        status = 1
    publish_report(report, args.json)
    return status


if __name__ == "__main__":
    sys.exit(main())
