"""The bot's configuration sections: the customer socket's limits ([server]) and the bot's answers ([bot])."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

STORE_KNOWLEDGE_BASE = Path(__file__).resolve().parent / "data" / "store" / "knowledge_base.yaml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    # Origins allowed to open the customer websocket, besides the server's own origin.
    allowed_origins: list[str] = []
    max_frame_bytes: int = Field(16 * 1024, ge=256)
    max_text_chars: int = Field(2000, ge=1)
    # Token bucket per connection: `rate_burst` frames at once, refilled at `rate_per_second`.
    rate_burst: int = Field(8, ge=1)
    rate_per_second: float = Field(1.0, gt=0)


class BotSettings(_Section):
    knowledge_base: Path = STORE_KNOWLEDGE_BASE
    # Below this top-intent probability the bot says it is unsure instead of answering.
    match_threshold: float = Field(0.35, ge=0, le=1)
    # At this out-of-scope score (0.5 = the knowledge base's own 95th percentile) the bot says it cannot help with
    # that and offers a person, instead of giving the nearest answer.
    out_of_scope: float = Field(0.5, ge=0, le=1)
    # The first thing a new customer reads: who they are talking to. "{store}" is the knowledge base's name.
    # Unset, the knowledge base's own greeting is used, else a neutral one (bot.responder.DEFAULT_GREETING).
    greeting: str | None = None
