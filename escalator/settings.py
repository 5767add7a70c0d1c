"""Settings: one TOML file plus ESCALATOR_* environment overrides, validated at start-up.

Precedence, highest first: explicit overrides (the CLI's --host and --port), the environment
(``ESCALATOR_SERVER__PORT=9000``), the TOML file (``--config``, else ``escalator.toml`` in the working directory),
the built-in defaults. Each package owns its sections' schema; this module composes them.
"""

from __future__ import annotations

import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.config import BotSettings, ServerSettings
from detectors.thresholds import INT8_DEFAULTS, Thresholds, with_defaults
from handoff.config import DatabaseSettings, HandoffSettings
from models.backends import INT8
from models.config import ModelSettings

DEFAULT_CONFIG_FILE = Path("escalator.toml")
_CONFIG_FILE: ContextVar[Path | None] = ContextVar("config_file", default=None)  # the file load_settings reads


class ConfigError(ValueError):
    """The configuration is invalid; the message names the offending key."""


class Settings(BaseSettings):
    """Everything the service needs to start; `detectors` holds each detector's thresholds."""

    model_config = SettingsConfigDict(env_prefix="ESCALATOR_", env_nested_delimiter="__", extra="forbid", frozen=True)

    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    bot: BotSettings = BotSettings()
    models: ModelSettings = ModelSettings()
    detectors: Thresholds = Thresholds()
    # Candidate thresholds judged on live traffic beside the active ones and only recorded (shadow mode).
    shadow_detectors: Thresholds | None = None
    handoff: HandoffSettings = HandoffSettings()
    # The first admin's password, read once at the first start (ESCALATOR_ADMIN_PASSWORD); generated when unset.
    admin_password: SecretStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _thresholds_of_the_pass(cls, data: Any) -> Any:
        """The int8 pass has threshold defaults of its own: fields the file, the environment or the caller leave out
        of `[detectors.*]` (and of `[shadow_detectors.*]`, when given) take those instead of the fp32 ones."""
        if not isinstance(data, dict) or _backend(data.get("models")) != INT8:
            return data
        data = dict(data)
        data["detectors"] = with_defaults(data.get("detectors") or {}, INT8_DEFAULTS)
        if data.get("shadow_detectors") is not None:
            data["shadow_detectors"] = with_defaults(data["shadow_detectors"], INT8_DEFAULTS)
        return data

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _CONFIG_FILE.get()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)


def _backend(models: object) -> object:
    """The backend named by a `[models]` section, given as values or as a built section."""
    if isinstance(models, ModelSettings):
        return models.backend
    return models.get("backend") if isinstance(models, dict) else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read and validate the configuration; raise ConfigError naming the bad key.

    A relative knowledge-base path in the file is read beside the file, so a deployment's folder works wherever
    the service is started from.
    """
    path = config_file if config_file is not None else (DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None)
    if path is not None and not Path(path).is_file():
        raise ConfigError(f"config file not found: {path}")
    token = _CONFIG_FILE.set(Path(path) if path is not None else None)
    try:
        settings = Settings(**overrides)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"cannot parse config file {path}: {error}") from None
    except ValidationError as error:
        raise ConfigError(_describe(error, path)) from None
    finally:
        _CONFIG_FILE.reset(token)
    knowledge_base = settings.bot.knowledge_base.expanduser()
    if path is not None and not knowledge_base.is_absolute():
        knowledge_base = Path(path).resolve().parent / knowledge_base
        settings = settings.model_copy(
            update={"bot": settings.bot.model_copy(update={"knowledge_base": knowledge_base})}
        )
    if not knowledge_base.is_file():
        where = f" in {path}" if path else ""
        raise ConfigError(f"invalid configuration{where}: bot.knowledge_base: file not found: {knowledge_base}")
    return settings


def validation_problems(error: ValidationError) -> str:
    """Every problem of a pydantic error as "key.path: message", joined: the one format errors are shown in."""
    return "; ".join(f"{'.'.join(str(p) for p in issue['loc'])}: {issue['msg']}" for issue in error.errors())


def _describe(error: ValidationError, path: Path | None) -> str:
    where = f" in {path}" if path else ""
    return f"invalid configuration{where}: {validation_problems(error)}"
