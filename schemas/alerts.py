"""Alert events: every lifecycle transition written to ``maturity-alerts``."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.common import Contract, IndicatorId, ProvinceCode, RegionCode, Slug


class AlertKind(StrEnum):
    BEHIND_TRAJECTORY = "behind_trajectory"
    MILESTONE_MISSED = "milestone_missed"
    AT_RISK = "at_risk"
    DATA_STALE = "data_stale"
    SCORE_DROP = "score_drop"


class AlertState(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"
    ACKNOWLEDGED = "acknowledged"  # someone followed the acknowledge link: escalation stops


class EscalationLevel(StrEnum):
    REGION = "region"  # the bupati/walikota office
    PROVINCE = "province"
    NATIONAL = "national"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Driver(Contract):
    """An indicator that pulls the score down: how much score it would add at full marks."""

    indicator_id: IndicatorId
    score: float | None
    weight: float
    pull: float = Field(description="Score points the target gains if this indicator reached 5.")


class AlertEvent(Contract):
    """One transition of one alert. ``alert_id`` is stable for the alert; ``transition_id`` per step."""

    schema_version: Literal[1] = 1
    alert_id: str = Field(description="Deterministic: region, target, kind and the episode start.")
    transition_id: str = Field(description="Deterministic per transition; notifications reuse it.")
    region_code: RegionCode
    province_code: ProvinceCode
    kind: AlertKind
    target: Slug = Field(description="A dimension id or 'index'.")
    state: AlertState
    severity: Severity
    previous_severity: Severity | None = Field(
        default=None,
        description="Set on a firing transition that moves the alert to another severity band (the band before).",
    )
    at: AwareDatetime
    current: float | None
    expected: float | None
    gap: float | None = Field(description="expected - current (positive means behind).")
    milestone_due: dt.date | None = None
    escalation: EscalationLevel = Field(
        default=EscalationLevel.REGION, description="Who this transition is addressed to."
    )
    drivers: list[Driver] = Field(default_factory=list)
    remedy: str = Field(default="", description="What it would take to get back on the path.")
    summary: str


class AckRequest(Contract):
    """A click on an acknowledge link, on its way to the worker that holds the alert's region.

    The link may reach any alerts worker (behind a load balancer); the one that received it writes
    this to ``alert-acks``, keyed by region, and the worker holding that region's partition records
    the acknowledgement. The link's token was verified before this was written.
    """

    schema_version: Literal[1] = 1
    alert_id: str
    region_code: RegionCode
    requested_at: AwareDatetime
