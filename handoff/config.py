"""The handoff section of the configuration: teams, agents, offers, SLAs and business hours."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from handoff.priority import PRIORITIES, PriorityRules


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    """Where the conversation record lives: SQLite by default, PostgreSQL in production."""

    url: str = "sqlite:///var/escalator.db"


class AgentConfig(_Section):
    """An agent defined in the config file; passwords are set through the API or the console."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    display_name: str = Field(min_length=1, max_length=128)
    role: str = Field(default="agent", pattern="^(agent|supervisor|admin)$")
    teams: list[str] = []
    skills: list[str] = []
    max_chats: int = Field(default=3, ge=1, le=50)


class BusinessHours(_Section):
    """When people are at work. Outside these hours a handoff becomes an offline ticket."""

    timezone: str = "UTC"
    days: list[int] = Field(default=[0, 1, 2, 3, 4, 5, 6], description="0 = Monday")
    open: str = Field(default="00:00", pattern=r"^\d{2}:\d{2}$")
    close: str = Field(default="24:00", pattern=r"^\d{2}:\d{2}$")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class HandoffSettings(_Section):
    # Functional routing: a team handles the knowledge-base topics listed for it. Unset, the knowledge base's own
    # `teams` apply (see `with_teams`); a deployment that names none has one team, `default_team`.
    teams: dict[str, list[str]] | None = None
    default_team: str = "general"
    agents: list[AgentConfig] = []
    offer_timeout_s: float = Field(
        default=30.0, gt=0, description="An offer not accepted in time moves to the next agent."
    )
    # Time to first agent response, per priority.
    sla_s: dict[str, float] = {"urgent": 60.0, "high": 180.0, "normal": 600.0, "low": 1800.0}
    sla_at_risk: float = Field(default=0.7, gt=0, lt=1, description="Fraction of the SLA after which it is at risk.")
    default_handle_s: float = Field(
        default=300.0, gt=0, description="Handling time assumed before any chat was resolved."
    )
    business_hours: BusinessHours = BusinessHours()
    session_hours: float = Field(default=12.0, gt=0, description="How long an agent's login lasts.")
    # argon2id's memory per password check (argon2-cffi's default, 64 MiB). Lower only where passwords are cheap to
    # guess anyway (tests), never in production.
    password_memory_kib: int = Field(default=65536, ge=8, description="Memory of one password hash, in KiB.")
    priority: PriorityRules = PriorityRules()
    dispatch_interval_s: float = Field(
        default=1.0, gt=0, description="How often offers, timeouts and SLAs are checked."
    )

    def with_teams(self, deployment_teams: dict[str, tuple[str, ...]] | None) -> HandoffSettings:
        """These settings with the teams filled in: the config's own, else the deployment's, else one default team."""
        if self.teams is not None:
            return self
        teams = {team: list(topics) for team, topics in (deployment_teams or {}).items()} or {self.default_team: []}
        return self.model_copy(update={"teams": teams})

    @field_validator("sla_s")
    @classmethod
    def _every_priority(cls, value: dict[str, float]) -> dict[str, float]:
        missing = [p for p in PRIORITIES if p not in value]
        if missing:
            raise ValueError(f"missing SLA for {', '.join(missing)}")
        return value
