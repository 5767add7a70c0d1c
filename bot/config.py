"""The bot's configuration sections: the customer socket's limits ([server]) and the bot's answers ([bot])."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.protocol import max_frame_bytes

STORE_KNOWLEDGE_BASE = Path(__file__).resolve().parent / "data" / "store" / "knowledge_base.yaml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Origins allowed to open the customer websocket, besides the server's own origin.
    allowed_origins: list[str] = []
    # The longest message text, in characters. The frame limit follows from it (`max_frame_bytes`).
    max_text_chars: int = Field(default=2000, ge=1)
    # Token bucket per connection: `rate_burst` frames at once, refilled at `rate_per_second`.
    rate_burst: int = Field(default=8, ge=1)
    rate_per_second: float = Field(default=1.0, gt=0)
    # New conversations one client address may start per minute (a conversation starts at its first message).
    new_conversations_per_minute: int = Field(default=30, ge=1)
    # Past this many messages waiting for an answer, new ones are refused with a "busy" error frame (not stored).
    max_waiting_turns: int = Field(default=1000, ge=1)
    # An answer slower than this shows the customer that the bot is typing.
    typing_after_s: float = Field(default=1.0, gt=0)
    # Threads for blocking reads (the database, files). Writes have their own thread, the models theirs: these
    # only wait on SQLite, so a few are plenty, and more would fight the model pass for two cores.
    io_threads: int = Field(default=4, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _no_separate_frame_limit(cls, data: Any) -> Any:
        # A frame limit set apart from the text limit once cut off legal messages: name the change, not just the key.
        if isinstance(data, dict) and "max_frame_bytes" in data:
            raise ValueError(
                "max_frame_bytes is no longer a setting: the frame limit is derived from max_text_chars "
                "so that every legal message fits; remove it (set max_text_chars instead)"
            )
        return data

    @property
    def max_frame_bytes(self) -> int:
        """The largest websocket frame accepted, in bytes: the app and uvicorn both close larger ones with 1009."""
        return max_frame_bytes(self.max_text_chars)


class BotSettings(_Section):
    knowledge_base: Path = STORE_KNOWLEDGE_BASE
    # Below this top-intent probability the bot says it is unsure instead of answering.
    match_threshold: float = Field(default=0.35, ge=0, le=1)
    # At this out-of-scope score (0.5 = the knowledge base's own 95th percentile) the bot says it cannot help with
    # that and offers a person, instead of giving the nearest answer.
    out_of_scope: float = Field(default=0.5, ge=0, le=1)
    # The first thing a new customer reads: who they are talking to. "{store}" is the knowledge base's name.
    # Unset, the knowledge base's own greeting is used, else a neutral one (bot.responder.DEFAULT_GREETING).
    greeting: str | None = None
