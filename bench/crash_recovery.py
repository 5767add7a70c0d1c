"""Crash recovery under load: 100 chats in a closed loop while the server is SIGKILLed 10 times and restarted each
time; then the conversation record is checked in the SQLite database itself.

Each kill comes a random 2 to 8 s after the server answers again (its first reply after the restart), so it lands
while the server works through live messages and the ones the last crash left unanswered. Clients behave as
docs/protocol.md asks: after a drop they resume with conversation_id, resume_token and last_seq, and resend every
unacknowledged message under its original client_msg_id. A chat waits a few seconds (--grace) for an answer, then
asks its next question once the last one is acknowledged, so conversations hold several unanswered messages across a
crash; after --turns questions it waits for every answer and starts a new conversation. After the last restart the
chats stop writing and the bench waits (up to --answer-timeout) for the answers. Checks:

- every acknowledged message is stored exactly once (by client_msg_id), at the seq its ack gave;
- each conversation's seqs run 1..n with no gap, and its last_seq is n;
- every acknowledged customer message has an answer, a later bot, system or agent message (matched oldest question
  first), unless the chat went to a person;
- the answers are in the order of the questions: each bot answer is on the intent of the question it is matched
  with (every question of a conversation is on a different knowledge-base intent, see bench.ws_harness.QUESTIONS);
- no resume was refused once a message of the conversation had been acknowledged, and the clients saw no seq gap
  or repeat.

One JSON document on stdout; the exit code is 1 if a check fails, 2 if the run itself failed.

    .venv/bin/python -m bench.crash_recovery [--chats 100] [--kills 10] [--threads 1] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.ws_harness import (
    ANSWERERS,
    BOT_STATES,
    DEFAULT_SERVER_CMD,
    QUESTIONS,
    REPO,
    ChatClient,
    ConnectionLost,
    Sent,
    Server,
    ServerDied,
    free_port,
    load_average,
    log_problems,
    publish_report,
    raise_open_files_limit,
    time_to_service,
)

START_TIMEOUT_S = 300.0
RECONNECT_S = 600.0  # how long a client keeps trying to resume: longer than any restart
INTENT_OF = {question: intent for intent, questions in QUESTIONS.items() for question in questions}


async def chat(client: ChatClient, stop: asyncio.Event, turns: int, grace: float, records: list[Sent]) -> None:
    """A customer who survives crashes: asks, waits up to `grace` s for the answer (resuming after every drop, which
    resends what was not acknowledged), then asks the next question once the last one is acknowledged. After `turns`
    questions it waits for every answer and starts a new conversation: real chats are short."""
    while not stop.is_set():
        if client.state not in BOT_STATES or client.asked >= turns:
            if client.state in BOT_STATES and not await wait_until(client, lambda: not client.outstanding, stop):
                return
            try:
                await client.new_conversation()
            except ConnectionLost:
                continue  # the server is down: wait_until's reconnect opens the new conversation
        sent = await client.send(client.next_question())
        records.append(sent)
        await wait_until(client, sent.answered.is_set, stop, grace)
        await wait_until(client, sent.acked.is_set, stop)  # one unacknowledged message at a time


async def wait_until(
    client: ChatClient, done: Callable[[], bool], stop: asyncio.Event, seconds: float = float("inf")
) -> bool:
    """Wait until `done()`, resuming after every drop, for at most `seconds` of connected time, or until `stop`."""
    deadline = time.perf_counter() + seconds
    while not done() and not stop.is_set():
        if client.closed.is_set():
            if not await client.reconnect(time.perf_counter() + RECONNECT_S, stop):
                return False
            deadline = time.perf_counter() + seconds  # the time the server was down does not count
        elif time.perf_counter() >= deadline:
            return False
        else:
            await asyncio.sleep(0.2)
    return done()


async def crash_and_restart(server: Server, rng: random.Random, args: argparse.Namespace) -> list[dict[str, Any]]:
    """SIGKILL the server a random few seconds after it answers again, restart it, and time its return."""
    restarts = []
    for n in range(args.kills):
        await asyncio.sleep(rng.uniform(args.min_gap, args.max_gap))
        server.check()  # it must still be alive when we come to kill it
        lived = time.perf_counter() - server.spawned_at
        server.kill()
        server.start()
        back = await time_to_service(server, START_TIMEOUT_S)
        restarts.append({"kill": n + 1, "lived_s": round(lived, 2), **back})
    return restarts


async def settle(clients: list[ChatClient], timeout: float) -> float:
    """Wait until every message sent has been answered, or `timeout`; returns the seconds waited."""
    start = time.perf_counter()
    # A chat stopped while resuming must be connected again to be answered (and to resend what was not acked).
    await asyncio.gather(*(c.reconnect(start + timeout) for c in clients if c.closed.is_set()))
    while time.perf_counter() - start < timeout and any(c.outstanding for c in clients):
        await asyncio.sleep(0.5)
    return time.perf_counter() - start


def check_database(database: Path, records: list[Sent]) -> dict[str, Any]:
    """Read the record back (tables of handoff/records.py) and hold it against what the clients were told."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        messages = db.execute(
            "SELECT conversation_id, seq, client_msg_id, sender, text, analysis FROM messages"
            " ORDER BY conversation_id, seq"
        ).fetchall()
        rows = db.execute("SELECT id, state, last_seq FROM conversations").fetchall()
    conversations = {cid: (state, last_seq) for cid, state, last_seq in rows}
    acked = {r.client_msg_id: r for r in records if r.ack_at is not None}
    copies = Counter(cmid for _, _, cmid, *_ in messages if cmid is not None)
    stored_at = {cmid: (cid, seq) for cid, seq, cmid, *_ in messages if cmid is not None}
    by_conversation: dict[str, list[Row]] = defaultdict(list)
    for cid, *row in messages:
        by_conversation[cid].append(Row(*row))
    gaps = [cid for cid, rows in by_conversation.items() if not numbered_from_one(rows, conversations[cid][1])]
    unanswered, handed_over, out_of_order = [], [], []
    for cid, rows in by_conversation.items():
        waiting, wrong = match_answers(rows)
        (unanswered if conversations[cid][0] in BOT_STATES else handed_over).extend(waiting)
        out_of_order.extend(wrong)
    return {
        "acked": len(acked),
        "stored": sum(1 for cmid in acked if copies[cmid] >= 1),
        "missing": sum(1 for cmid in acked if copies[cmid] == 0),
        "duplicates": sum(1 for count in copies.values() if count > 1),
        "stored_at_another_seq": sum(
            1 for cmid, r in acked.items() if cmid in stored_at and stored_at[cmid] != (r.conversation_id, r.seq)
        ),
        "conversations": len(conversations),
        "conversations_with_seq_gaps": len(gaps),
        "unanswered": sum(1 for cmid in unanswered if cmid in acked),
        "unanswered_but_handed_to_a_person": sum(1 for cmid in handed_over if cmid in acked),
        "answered_out_of_order": sum(1 for cmid in out_of_order if cmid in acked),
        "customer_messages_stored": sum(copies.values()),
    }


@dataclass(frozen=True, slots=True)
class Row:
    """One stored message, as the checks read it."""

    seq: int
    client_msg_id: str | None
    sender: str
    text: str
    analysis: str | None  # JSON; a bot message's names the intent it answered with


def numbered_from_one(rows: list[Row], last_seq: int) -> bool:
    """The seqs are 1..n with no gap, and the conversation's last_seq is n."""
    return [row.seq for row in rows] == list(range(1, len(rows) + 1)) and last_seq == len(rows)


def match_answers(rows: list[Row]) -> tuple[list[str], list[str]]:
    """Match a conversation's answers to its questions, oldest question first, as the server answers them; return
    the questions left without an answer, and those whose bot answer is on another question's intent (answered out
    of order). An answer without an intent (a system notice, an "I'm not sure") matches without that check."""
    waiting: list[Row] = []
    out_of_order: list[str] = []
    for row in rows:
        if row.sender == "customer" and row.client_msg_id is not None:
            waiting.append(row)
        elif row.sender in ANSWERERS and waiting:
            question = waiting.pop(0)
            answered_intent = answer_intent(row)
            if answered_intent in QUESTIONS and answered_intent != INTENT_OF.get(question.text):
                out_of_order.append(str(question.client_msg_id))
    return [str(row.client_msg_id) for row in waiting], out_of_order


def answer_intent(row: Row) -> str | None:
    """The knowledge-base intent a bot message answered with, from its stored analysis."""
    if row.sender != "bot" or not row.analysis:
        return None
    analysis = json.loads(row.analysis)
    return analysis.get("intent") if isinstance(analysis, dict) else None


def verdict(database: dict[str, Any], clients: dict[str, int]) -> dict[str, bool]:
    """Each check, True when it holds."""
    return {
        "every_acked_message_stored_once": database["missing"] == 0
        and database["duplicates"] == 0
        and database["stored_at_another_seq"] == 0,
        "no_seq_gaps": database["conversations_with_seq_gaps"] == 0,
        "every_acked_message_answered": database["unanswered"] == 0,
        "answers_in_order": database["answered_out_of_order"] == 0,
        "resumes_honoured": clients.get("resume_refused", 0) == 0,
        "clients_saw_no_gap_or_repeat": clients.get("seq_gaps", 0) == 0 and clients.get("repeated_seqs", 0) == 0,
    }


async def run(args: argparse.Namespace, report: dict[str, Any]) -> None:
    rng = random.Random(args.seed)
    folder = args.folder or Path(tempfile.mkdtemp(prefix="escalator-crash-"))
    server = Server(args.server_cmd, args.python, Path(args.cwd), folder, args.port or free_port(), args.threads)
    report["server"] = {
        "command": " ".join(server.args),
        "cwd": str(server.cwd),
        "database": str(server.database),
        "log": str(server.log),
    }
    try:
        await server.first_start(START_TIMEOUT_S)
        report["server"]["first_start"] = await time_to_service(server, START_TIMEOUT_S)
        clients = [ChatClient(server.url, random.Random(args.seed + n)) for n in range(args.chats)]
        for first in range(0, len(clients), 100):
            await asyncio.gather(*(c.connect() for c in clients[first : first + 100]))
        records: list[Sent] = []
        stop = asyncio.Event()
        chats = asyncio.gather(*(chat(c, stop, args.turns, args.grace, records) for c in clients))
        report["restarts"] = await crash_and_restart(server, rng, args)
        await asyncio.sleep(rng.uniform(args.min_gap, args.max_gap))  # some load on the last life, uninterrupted
        stop.set()
        await asyncio.wait_for(chats, args.grace + 30)
        report["waited_for_answers_s"] = round(await settle(clients, args.answer_timeout), 1)
        counts: Counter[str] = Counter()
        for client in clients:
            counts.update(client.counts)
            await client.close()
        report["clients"] = {
            "messages_sent": len(records),
            "resent": sum(r.resent for r in records),
            "answered_seen": sum(1 for r in records if r.reply_at is not None),
            **dict(counts),
        }
    finally:
        report["server"]["final_stop"] = server.stop()
        report["server"]["log_problems"] = log_problems(server.log)
    report["database"] = check_database(server.database, records)
    report["checks"] = verdict(report["database"], report["clients"])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server-cmd", default=DEFAULT_SERVER_CMD, help="command template: {python} {config} {port}")
    parser.add_argument("--python", default=sys.executable, help="the server's interpreter (default: this one)")
    parser.add_argument("--cwd", default=str(REPO), help="the server's working directory (its checkout)")
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--min-gap", type=float, default=2.0, help="fewest seconds of load before a kill")
    parser.add_argument("--max-gap", type=float, default=8.0, help="most seconds of load before a kill")
    parser.add_argument(
        "--grace", type=float, default=5.0, help="seconds a chat waits for an answer before its next question"
    )
    parser.add_argument("--answer-timeout", type=float, default=120.0, help="wait for answers after the last restart")
    parser.add_argument("--turns", type=int, default=12, help="questions per conversation before a new one")
    parser.add_argument("--threads", type=int, default=1, help="the server's [models] torch_threads")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--folder", type=Path, help="for the database, config and log (default: a new temporary one)")
    parser.add_argument("--json", type=Path, help="also write the report to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report: dict[str, Any] = {"load_average_at_start": load_average(), "open_files_limit": raise_open_files_limit()}
    status = 0
    try:
        asyncio.run(run(args, report))
        status = 0 if all(report["checks"].values()) else 1
    except (ServerDied, TimeoutError, ConnectionLost, RuntimeError) as error:
        report["error"] = f"{type(error).__name__}: {error}"
        print(f"crash_recovery: {report['error']}", file=sys.stderr)
        status = 2
    publish_report(report, args.json)
    return status


if __name__ == "__main__":
    sys.exit(main())
