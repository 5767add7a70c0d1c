"""The thresholds schema: one section per detector, validated by pydantic, loaded from the config file.

Defaults here are the measured choices documented in the README; the config file overrides them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True


class SentimentThresholds(_Section):
    message: float = Field(0.9, ge=0, le=1, description="Fire on one message at least this negative.")
    trend: float = Field(0.6, ge=0, le=1, description="Fire when the smoothed negativity reaches this.")
    smoothing: float = Field(0.5, gt=0, le=1, description="Weight of the newest turn in the moving average.")
    min_turns: int = Field(2, ge=1, description="Customer turns needed before the trend can fire.")


class IntentConfidenceThresholds(_Section):
    confidence: float = Field(0.3, ge=0, le=1, description="Uncertain when the top intent is below this.")
    margin: float = Field(0.1, ge=0, le=1, description="Torn when the top two intents are closer than this.")
    out_of_scope: float = Field(0.5, ge=0, le=1, description="Out of scope when the distance score reaches this.")
    consecutive: int = Field(2, ge=1, description="Uncertain customer turns in a row before firing.")


class ExplicitRequestThresholds(_Section):
    threshold: float = Field(0.5, ge=0, le=1, description="Fire when P(asks for a person) reaches this.")


class PatternSimilarityThresholds(_Section):
    threshold: float = Field(0.8, ge=0, le=1, description="Fire when similarity to a past escalation reaches this.")
    window: int = Field(3, ge=1, description="Recent customer turns compared with the bank.")


class Thresholds(BaseModel):
    """Every detector's section; the keys are the detectors' names in the registry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sentiment: SentimentThresholds = SentimentThresholds()
    intent_confidence: IntentConfidenceThresholds = IntentConfidenceThresholds()
    explicit_request: ExplicitRequestThresholds = ExplicitRequestThresholds()
    pattern_similarity: PatternSimilarityThresholds = PatternSimilarityThresholds()
