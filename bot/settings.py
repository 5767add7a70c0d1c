"""Settings: one TOML file plus ESCALATOR_* environment overrides, validated at start-up.

Precedence, highest first: environment (``ESCALATOR_SERVER__PORT=9000``), the TOML file (``--config``,
else ``escalator.toml`` in the working directory), the built-in defaults below.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from detectors.thresholds import Thresholds
from handoff.config import HandoffSettings

DEMO_KNOWLEDGE_BASE = Path(__file__).resolve().parent / "data" / "store" / "knowledge_base.yaml"
DEFAULT_CONFIG_FILE = Path("escalator.toml")


class ConfigError(ValueError):
    """The configuration is invalid; the message names the offending key."""


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


class DatabaseSettings(_Section):
    url: str = "sqlite:///var/escalator.db"


class BotSettings(_Section):
    knowledge_base: Path = DEMO_KNOWLEDGE_BASE
    # Below this top-intent probability the bot says it is unsure instead of answering.
    match_threshold: float = Field(0.35, ge=0, le=1)
    # At this out-of-scope score (0.5 = the knowledge base's own 95th percentile) the bot says it cannot help with
    # that and offers a person, instead of giving the nearest answer.
    out_of_scope: float = Field(0.5, ge=0, le=1)
    # The first thing a new customer reads: who they are talking to. "{store}" is the knowledge base's name.
    # Unset, the knowledge base's own greeting is used, else a neutral one (bot.app.DEFAULT_GREETING).
    greeting: str | None = None


class ModelSettings(_Section):
    torch_threads: int = Field(1, ge=1)
    # What runs the live pass: "onnx" (ONNX Runtime for batches of up to 8, exported once and cached) or
    # "torch". Both compute the same graph, to within 1e-5. Offline tools (replay, detect) always use torch.
    backend: Literal["onnx", "torch"] = "onnx"
    max_batch: int = Field(32, ge=1)
    max_wait_ms: float = Field(3.0, ge=0)
    cache_dir: Path = Path("var/cache")


class Settings(BaseSettings):
    """Everything the service needs to start; `detectors` holds each detector's thresholds."""

    model_config = SettingsConfigDict(
        env_prefix="ESCALATOR_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    bot: BotSettings = BotSettings()
    models: ModelSettings = ModelSettings()
    detectors: Thresholds = Thresholds()
    # Candidate thresholds judged on live traffic beside the active ones and only recorded (shadow mode).
    shadow_detectors: Thresholds | None = None
    handoff: HandoffSettings = HandoffSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init arguments; the environment overrides them.
        return (env_settings, init_settings)


def load_settings(config_file: Path | None = None, **overrides: object) -> Settings:
    """Read and validate the configuration; raise ConfigError naming the bad key."""
    path = config_file if config_file is not None else (DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None)
    if path is not None and not Path(path).is_file():
        raise ConfigError(f"config file not found: {path}")
    values: dict[str, object] = {}
    if path is not None:
        try:
            values = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"cannot parse config file {path}: {error}") from None
        _relative_to(values, Path(path).resolve().parent)
    try:
        return Settings(**_deep_merge(values, overrides))
    except ValidationError as error:
        raise ConfigError(_describe(error, path)) from None


def _relative_to(values: dict[str, object], folder: Path) -> None:
    """A knowledge base named in a config file is found beside that file, wherever the service is started."""
    bot = values.get("bot")
    if isinstance(bot, dict) and isinstance(bot.get("knowledge_base"), str):
        kb = Path(bot["knowledge_base"]).expanduser()
        bot["knowledge_base"] = kb if kb.is_absolute() else folder / kb


def _deep_merge(base: dict[str, object], extra: dict[str, object]) -> dict[str, object]:
    merged = dict(base)
    for key, value in extra.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged[key] = _deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def _describe(error: ValidationError, path: Path | None) -> str:
    where = f" in {path}" if path else ""
    problems = "; ".join(
        f"{'.'.join(str(p) for p in issue['loc'])}: {issue['msg']}" for issue in error.errors()
    )
    return f"invalid configuration{where}: {problems}"
