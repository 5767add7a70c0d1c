"""What the websocket benchmarks (`bench.websocket_load`, `bench.crash_recovery`) share: the server under test as a
child process, a customer-socket client that keeps its conversation across reconnects, the questions the chats
ask, and percentiles.

The client speaks docs/protocol.md and nothing else, so it measures any version of the server that does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import resource
import shlex
import signal
import socket
import subprocess
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SERVER_CMD = "{python} -m escalator.cli serve --config {config} --port {port}"
ANSWERERS = ("bot", "system", "agent")  # senders whose message answers a customer's
BOT_STATES = ("bot", "closed")  # states in which the bot answers (a closed chat goes back to the bot)

# One or two phrasings per knowledge-base intent, all routine questions the store bot answers. A conversation asks
# each intent at most once: asking the same thing twice makes the bot admit it has nothing more, and the stuck
# detector then hands the chat to a person, which is not the load this measures.
QUESTIONS: dict[str, tuple[str, ...]] = {
    "track_order": ("Where is my order?", "Can I track my package online?"),
    "change_order": (
        "Can I change the size on an order I placed this morning?",
        "How do I edit an order I just placed?",
    ),
    "cancel_order": ("How do I cancel an order I just placed?", "Can I still cancel my order from an hour ago?"),
    "shipping_options": ("What shipping options do you have?", "How long does standard shipping take?"),
    "international_shipping": ("Do you ship to Canada?", "Do you deliver to the UK?"),
    "change_delivery_address": (
        "Can I change the delivery address for my order?",
        "I need my parcel sent to a different address, how do I do that?",
    ),
    "return_policy": ("What is your return policy?", "How many days do I have to return something?"),
    "start_return": ("How do I start a return?", "Where do I get a return label?"),
    "exchange_item": ("Can I exchange boots for a bigger size?", "How do I swap a jacket for another colour?"),
    "refund_status": ("Has my refund been processed yet?", "Where can I see the status of my refund?"),
    "refund_timing": ("How long does a refund take?", "When will my refund show up on my card?"),
    "payment_methods": ("Which payment methods do you accept?", "Can I pay with PayPal or Apple Pay?"),
    "promo_code": ("How do I use a promo code?", "Where do I enter a discount code at checkout?"),
    "invoice_receipt": ("Can I get a receipt for my order?", "Where can I download an invoice?"),
    "price_match": ("Do you price match?", "Will you match a lower price from another shop?"),
    "gift_cards": ("Do you sell gift cards?", "How do I check the balance on a gift card?"),
    "create_account": ("How do I create an account?", "Can I sign up for an account on your site?"),
    "password_reset": ("How do I reset my password?", "I forgot my password, how do I get a new one?"),
    "change_email": ("How can I change the email address on my account?", "How do I update my email in my profile?"),
    "unsubscribe_newsletter": (
        "How do I unsubscribe from the newsletter?",
        "Can I stop getting your marketing emails?",
    ),
    "product_sizing": ("What size hiking boot should I get?", "Do your jackets run small or large?"),
    "product_care": ("How do I wash a down jacket?", "How should I clean my hiking boots?"),
    "product_availability": ("Is the Summit 2 Tent in stock?", "When will the Cascade Down Parka be back in stock?"),
    "warranty_repairs": ("Does the Lumen 400 Headlamp have a warranty?", "Do you repair gear under warranty?"),
    "store_locations_hours": ("What are your store opening hours?", "Where are your stores?"),
    "loyalty_program": ("How does the loyalty program work?", "How do I earn reward points?"),
    "sustainability": ("Are your products sustainably made?", "Do you use recycled materials?"),
    "student_military_discount": ("Do you have a student discount?", "Is there a discount for military members?"),
    "bulk_corporate_order": (
        "Can I order 50 fleece hoodies for my company?",
        "Do you offer discounts on bulk orders for a team?",
    ),
    "contact_info": ("How can I contact you by phone?", "What is your customer service phone number?"),
    "product_recommendation": (
        "Can you recommend a sleeping bag for winter camping?",
        "Which backpack would you suggest for a weekend hike?",
    ),
    "gift_wrapping": ("Do you offer gift wrapping?", "Can I add a gift message to my order?"),
    "greeting": ("Hello there", "Hi, good morning"),
    "bot_capabilities": ("What can you help me with?", "What kind of questions can you answer?"),
    "thanks": ("thanks, that helps", "great, thank you"),
}


# --- Figures ------------------------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile with linear interpolation between closest ranks (numpy's default method)."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_ms(seconds: list[float]) -> dict[str, float | int | None]:
    """Count, p50, p99 and max of latencies given in seconds, in milliseconds to 0.1 ms."""
    if not seconds:
        return {"count": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "count": len(seconds),
        "p50_ms": round(1000 * percentile(seconds, 50), 1),
        "p99_ms": round(1000 * percentile(seconds, 99), 1),
        "max_ms": round(1000 * max(seconds), 1),
    }


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` shows them: another process may be using the CPU."""
    return " ".join(Path("/proc/loadavg").read_text(encoding="ascii").split()[:3])


def publish_report(report: dict[str, Any], json_path: Path | None) -> None:
    """Close the report with the load average, print it as JSON, and write it to `json_path` if one was given."""
    report["load_average_at_end"] = load_average()
    text = json.dumps(report, indent=2)
    print(text)
    if json_path:
        json_path.write_text(text + "\n", encoding="utf-8")


def raise_open_files_limit() -> int:
    """Raise this process's soft limit of open files to the hard one; the server spawned afterwards inherits it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


# --- The server under test ------------------------------------------------------------------------------------------


class ServerDied(RuntimeError):
    """The server process exited while the benchmark needed it."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Raised so that the bench measures the service, not its flood control: all the load comes from one address.
RAISED_LIMITS: dict[str, float] = {"rate_burst": 1000, "rate_per_second": 1000.0, "new_conversations_per_minute": 10**6}


class Server:
    """One server process at a time, started from a command template on a fresh SQLite database and a generated
    config file in `folder`, with its output appended to one log file there."""

    def __init__(self, template: str, python: str, cwd: Path, folder: Path, port: int, threads: int) -> None:
        self.config, self.database, self.log = folder / "escalator.toml", folder / "escalator.db", folder / "server.log"
        self.threads = threads
        self.limits = dict(RAISED_LIMITS)
        self.args = shlex.split(
            template.format(python=shlex.quote(python), config=shlex.quote(str(self.config)), port=port)
        )
        self.cwd = cwd
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.url = f"ws://127.0.0.1:{port}/ws/chat"
        self.process: subprocess.Popen[bytes] | None = None
        self.spawned_at = 0.0
        self.starts = 0
        self.log_offset = 0  # where the current start's output begins in the log

    def write_config(self) -> None:
        """Only sections every version of the server knows ([server], [database], [models]), so an older checkout
        reads it too; a limit it does not know is dropped by `first_start`."""
        limits = "".join(f"{key} = {value!r}\n" for key, value in self.limits.items())
        self.config.write_text(
            f'[server]\n{limits}\n[database]\nurl = "sqlite:///{self.database}"\n\n'
            f"[models]\ntorch_threads = {self.threads}\n",
            encoding="utf-8",
        )

    async def first_start(self, timeout: float) -> float:
        """Write the config, start, and wait for /healthz (seconds since spawn). A version that refuses one of the
        raised limits as an unknown key (an older one) is started again without it."""
        while True:
            self.write_config()
            self.start()
            try:
                return await self.wait_healthy(timeout)
            except ServerDied:
                output = self.log.read_bytes()[self.log_offset :].decode("utf-8", errors="replace")
                unknown = [k for k in self.limits if re.search(rf"server\.{k}: Extra inputs are not permitted", output)]
                if not unknown:
                    raise
                for key in unknown:
                    del self.limits[key]

    def start(self) -> float:
        """Spawn the server; returns the spawn time (time.perf_counter)."""
        # PYTHONPATH: the checkout under test, not the packages the venv installed from this one.
        env = dict(
            os.environ, PYTHONPATH=str(self.cwd), PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1", OPENBLAS_NUM_THREADS="1"
        )
        self.starts += 1
        self.log_offset = log_size(self.log)
        with self.log.open("ab") as log:
            log.write(f"\n===== bench: start {self.starts}: {shlex.join(self.args)} (cwd {self.cwd})\n".encode())
            log.flush()
            # Its own session, so that a SIGKILL reaches anything it started, and Ctrl-C of the bench does not.
            self.process = subprocess.Popen(
                self.args,
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        self.spawned_at = time.perf_counter()
        return self.spawned_at

    @property
    def pid(self) -> int:
        assert self.process is not None, "the server was never started"
        return self.process.pid

    def check(self) -> None:
        """Raise ServerDied, with the end of its log, if the process is gone."""
        if self.process is None or self.process.poll() is None:
            return
        raise ServerDied(f"the server exited with code {self.process.returncode}; its log: {self.log}\n{self.tail()}")

    def tail(self, lines: int = 25) -> str:
        return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    async def wait_healthy(self, timeout: float) -> float:
        """Poll GET /healthz until it answers 200; returns seconds since spawn."""
        status = await first_status(self, "/healthz", timeout, accept={200})
        if status is None:
            raise TimeoutError(f"the server did not answer /healthz within {timeout:.0f} s; its log: {self.log}")
        return status[1]

    def rss_kib(self) -> int:
        """Resident set size of the server process, from /proc (Linux)."""
        for line in Path(f"/proc/{self.pid}/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS in /proc status")

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text(encoding="ascii").rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime and stime, fields 14 and 15

    def stop(self, grace: float = 20.0) -> dict[str, float | int | bool]:
        """SIGTERM, then SIGKILL after `grace` seconds; returns how long it took and how it ended."""
        if self.process is None or self.process.poll() is not None:
            return {"already_exited": True}
        start = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        killed = False
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill()
            killed = True
        return {"stop_s": round(time.perf_counter() - start, 2), "exit_code": self.process.returncode, "killed": killed}

    def kill(self) -> None:
        """SIGKILL the whole process group (a crash), and reap it."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)


def log_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def log_problems(path: Path, since: int = 0, keep: int = 5) -> dict[str, object]:
    """Warnings, errors and tracebacks the server logged after byte `since`: their counts and the first few."""
    with path.open("rb") as log:
        log.seek(since)
        lines = log.read().decode("utf-8", errors="replace").splitlines()
    counts: Counter[str] = Counter()
    first: list[str] = []
    for line in lines:
        kind = next((k for k in ("Traceback", "ERROR", "CRITICAL", "WARNING") if k in line), None)
        if kind is None:
            continue
        counts[kind] += 1
        if len(first) < keep and line.strip() not in first:
            first.append(line.strip()[:300])
    return {"counts": dict(counts), "first": first}


async def first_status(
    server: Server, path: str, timeout: float, accept: set[int], every: float = 0.05
) -> tuple[int, float] | None:
    """Poll GET `path` until it answers with a status in `accept`; (status, seconds since spawn), None on timeout."""
    deadline = time.perf_counter() + timeout
    async with httpx.AsyncClient(base_url=server.base, timeout=2.0, trust_env=False) as client:
        while time.perf_counter() < deadline:
            server.check()
            try:
                response = await client.get(path)
            except httpx.HTTPError:  # not listening yet, or busy starting
                response = None
            if response is not None and response.status_code in accept:
                return response.status_code, time.perf_counter() - server.spawned_at
            await asyncio.sleep(every)
    return None


async def time_to_first_ack(server: Server, timeout: float, every: float = 0.05) -> dict[str, float | None]:
    """Connect, hello, send one message, in a tight loop until it is acknowledged; seconds from spawn to the ack
    and on to its reply (which may wait for the models to load)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        server.check()
        client = ChatClient(server.url, random.Random(0), open_timeout=2.0)
        try:
            await client.connect()
            sent = await client.send("Where is my order?")
            if await client.wait_for(sent.acked, 10.0):
                answered = await client.wait_for(sent.answered, deadline - time.perf_counter())
                return {
                    "to_first_ack_s": round((sent.ack_at or 0.0) - server.spawned_at, 2),
                    "to_first_reply_s": round((sent.reply_at or 0.0) - server.spawned_at, 2) if answered else None,
                }
        except ConnectionLost:
            pass
        finally:
            await client.close()
        await asyncio.sleep(every)
    return {"to_first_ack_s": None, "to_first_reply_s": None}


async def time_to_service(server: Server, timeout: float) -> dict[str, float | str | None]:
    """Seconds from spawn to /healthz, to /readyz ("not present" in a version without it) and to the first ack and
    reply of a customer message, polled together."""
    ack, health, ready = await asyncio.gather(
        time_to_first_ack(server, timeout),
        first_status(server, "/healthz", timeout, accept={200}),
        first_status(server, "/readyz", timeout, accept={200, 404}),  # 503 while the models load
    )
    readyz: float | str | None = None
    if ready is not None:
        readyz = "not present" if ready[0] == 404 else round(ready[1], 2)
    return {"to_healthz_s": round(health[1], 2) if health else None, "to_readyz_s": readyz, **ack}


# --- The customer socket ------------------------------------------------------------------------------------------


class ConnectionLost(Exception):
    """The socket closed, or could not be opened in time."""


@dataclass(slots=True, eq=False)
class Sent:
    """One customer message and what became of it; times are time.perf_counter()."""

    client_msg_id: str
    text: str
    sent_at: float
    ack_at: float | None = None
    seq: int | None = None  # from the ack, or from the server's echo of the message
    reply_at: float | None = None
    reply_sender: str | None = None
    conversation_id: str | None = None
    resent: int = 0
    retrying: bool = False  # refused with retry_after: it goes out again then
    acked: asyncio.Event = field(default_factory=asyncio.Event)
    answered: asyncio.Event = field(default_factory=asyncio.Event)


class ChatClient:
    """One customer: a conversation over a socket that can drop and be resumed.

    A reply is the first `bot`, `system` or `agent` message whose seq is after the message's own, matched oldest
    message first, because the server answers a conversation's messages in the order they came.
    """

    def __init__(self, url: str, rng: random.Random, open_timeout: float = 30.0) -> None:
        self.url = url
        self.rng = rng
        self.open_timeout = open_timeout
        self.conversation_id: str | None = None
        self.resume_token: str | None = None
        self.last_seq = 0
        self.state = "bot"
        self.asked = 0  # messages sent in this conversation
        self.acked_here = 0  # messages acknowledged in this conversation
        self.outstanding: list[Sent] = []  # sent and not answered yet, oldest first
        self.counts: Counter[str] = Counter()  # errors by code, drops, resumes refused, seq gaps and repeats
        self._by_id: dict[str, Sent] = {}
        self._intents: list[str] = []
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._retries: set[asyncio.Task[None]] = set()
        self._ready = asyncio.Event()  # the opening frames (welcome, catch-up, state) are in
        self.closed = asyncio.Event()
        self.closed.set()
        self._closing = False

    # Opening and closing

    async def connect(self, fresh: bool = False) -> None:
        """Open the socket and say hello, resuming the conversation unless `fresh`; return once the server's
        opening frames are in, after resending every message it has not acknowledged (under its original id)."""
        if fresh:
            self.conversation_id, self.resume_token, self.last_seq = None, None, 0
            self.outstanding, self._by_id, self._intents, self.asked, self.acked_here = [], {}, [], 0, 0
        try:
            ws = await connect(
                self.url, compression=None, open_timeout=self.open_timeout, ping_interval=None, close_timeout=2,
                proxy=None,
            )  # fmt: skip
        except (OSError, TimeoutError, WebSocketException) as error:
            raise ConnectionLost(f"cannot connect: {error!r}") from None
        self._ws, self._closing = ws, False
        self._ready.clear()
        self.closed.clear()
        self._reader = asyncio.create_task(self._read(ws))
        hello = {"type": "hello", "conversation_id": self.conversation_id, "resume_token": self.resume_token,
                 "last_seq": self.last_seq}  # fmt: skip
        await self._send_frame(hello)
        if not await self.wait_for(self._ready, self.open_timeout):
            await self.close()
            raise ConnectionLost("no welcome and state in time")
        for sent in self.outstanding:
            if sent.ack_at is None:
                sent.resent += 1
                await self._send_frame({"type": "message", "client_msg_id": sent.client_msg_id, "text": sent.text})

    async def reconnect(self, deadline: float, stop: asyncio.Event | None = None) -> bool:
        """Resume the conversation, retrying with a jittered pause, until `deadline` (perf_counter) or `stop`."""
        pause = 0.2
        while time.perf_counter() < deadline and not (stop and stop.is_set()):
            try:
                await self.connect()
                self.counts["reconnects"] += 1
                return True
            except ConnectionLost:
                # Jittered, so a hundred clients do not knock in step while the server is starting.
                await asyncio.sleep(pause * self.rng.uniform(0.5, 1.5))
                pause = min(1.0, pause * 1.5)
        return False

    async def new_conversation(self) -> None:
        await self.close()
        await self.connect(fresh=True)

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            with contextlib.suppress(Exception):  # closing a socket that is already gone is fine
                await asyncio.wait_for(self._ws.close(), 5)
        for task in [self._reader, *self._retries]:
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in [self._reader, *self._retries] if t is not None), return_exceptions=True)
        self._retries.clear()
        self._ws = self._reader = None
        self.closed.set()

    # Sending and waiting

    def next_question(self) -> str:
        """A question on an intent this conversation has not asked about yet."""
        if not self._intents:
            self._intents = self.rng.sample(list(QUESTIONS), len(QUESTIONS))
        return self.rng.choice(QUESTIONS[self._intents.pop()])

    async def send(self, text: str) -> Sent:
        """Send a message; if the socket is down, it stays outstanding and goes out again at the reconnect."""
        sent = Sent(uuid.uuid4().hex, text, time.perf_counter(), conversation_id=self.conversation_id)
        self.outstanding.append(sent)
        self._by_id[sent.client_msg_id] = sent
        self.asked += 1
        with contextlib.suppress(ConnectionLost):
            await self._send_frame({"type": "message", "client_msg_id": sent.client_msg_id, "text": text})
        return sent

    async def wait_for(self, event: asyncio.Event, timeout: float) -> bool:
        """True once `event` is set, False after `timeout`; ConnectionLost if the socket closes first."""
        if event.is_set():
            return True
        if self.closed.is_set():
            raise ConnectionLost("the socket is closed")
        waiters = {asyncio.ensure_future(event.wait()), asyncio.ensure_future(self.closed.wait())}
        _, pending = await asyncio.wait(waiters, timeout=max(0.0, timeout), return_when=asyncio.FIRST_COMPLETED)
        for waiter in pending:
            waiter.cancel()
        if event.is_set():
            return True
        if self.closed.is_set():
            raise ConnectionLost("the socket closed")
        return False

    async def _send_frame(self, frame: dict[str, object]) -> None:
        if self._ws is None:
            raise ConnectionLost("not connected")
        try:
            await self._ws.send(json.dumps(frame))
        except ConnectionClosed:
            raise ConnectionLost("the socket closed") from None

    # Receiving

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                self._on_frame(json.loads(raw))
        except ConnectionClosed:
            pass
        finally:
            if not self._closing:
                self.counts["drops"] += 1
            if self._ws is ws:
                self.closed.set()

    def _on_frame(self, frame: dict[str, object]) -> None:
        kind = frame.get("type")
        if kind == "message":
            self._on_message(frame)
        elif kind == "ack":
            sent = self._by_id.get(str(frame.get("client_msg_id")))
            if sent is not None and sent.ack_at is None:
                sent.ack_at = time.perf_counter()
                sent.seq = int(frame["seq"])  # type: ignore[call-overload]
                self.acked_here += 1
                sent.acked.set()
        elif kind == "welcome":
            self._on_welcome(frame)
        elif kind == "state":
            self.state = str(frame.get("state"))
            self._ready.set()  # the state frame closes the opening sequence
        elif kind == "error":
            self._on_error(frame)

    def _on_welcome(self, frame: dict[str, object]) -> None:
        if self.conversation_id is not None and not frame.get("resumed"):
            # A new conversation instead of ours. Expected if none of our messages was stored yet (the server may
            # create a conversation only with its first message): the unacknowledged ones go to the new one.
            # Acknowledged messages still unanswered will never be answered here: a failure.
            acked = [s for s in self.outstanding if s.ack_at is not None]
            self.counts["resume_refused" if acked or self.acked_here else "resume_refused_before_first_ack"] += 1
            self.outstanding = [s for s in self.outstanding if s.ack_at is None]
            self._by_id = {s.client_msg_id: s for s in self.outstanding}
            self.last_seq, self.acked_here = 0, 0
        self.conversation_id = str(frame["conversation_id"])
        self.resume_token = str(frame["resume_token"])
        for sent in self.outstanding:
            sent.conversation_id = self.conversation_id

    def _on_error(self, frame: dict[str, object]) -> None:
        """Count it; a refusal with `retry_after` (rate_limited, busy...) stored nothing: send it again then."""
        self.counts[f"error_{frame.get('code')}"] += 1
        retry_after = frame.get("retry_after")
        if not isinstance(retry_after, int | float):
            return
        # A refusal names its message; a bare rate_limited refers to the oldest message not yet acknowledged,
        # because the server answers a connection's frames in order.
        sent = self._by_id.get(str(frame.get("client_msg_id"))) or next(
            (s for s in self.outstanding if s.ack_at is None and not s.retrying), None
        )
        if sent is None or sent.ack_at is not None or sent.retrying:
            return
        sent.retrying = True
        task = asyncio.create_task(self._resend_later(sent, float(retry_after)))
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    async def _resend_later(self, sent: Sent, delay: float) -> None:
        await asyncio.sleep(delay)
        sent.retrying = False
        if sent.ack_at is None and sent in self.outstanding:
            sent.resent += 1
            with contextlib.suppress(ConnectionLost):  # the reconnect resends it
                await self._send_frame({"type": "message", "client_msg_id": sent.client_msg_id, "text": sent.text})

    def _on_message(self, frame: dict[str, object]) -> None:
        seq = int(frame["seq"])  # type: ignore[call-overload]
        if seq <= self.last_seq:
            self.counts["repeated_seqs"] += 1  # the protocol promises none; a client would ignore it
            return
        if seq != self.last_seq + 1:
            self.counts["seq_gaps"] += 1
        self.last_seq = seq
        sender = frame.get("sender")
        if sender == "customer":
            sent = self._by_id.get(str(frame.get("client_msg_id")))
            if sent is not None and sent.seq is None:
                sent.seq = seq
        elif sender in ANSWERERS:
            for sent in self.outstanding:
                if sent.seq is not None and sent.seq < seq:
                    sent.reply_at, sent.reply_sender = time.perf_counter(), str(sender)
                    sent.answered.set()
                    self.outstanding.remove(sent)
                    del self._by_id[sent.client_msg_id]
                    break
