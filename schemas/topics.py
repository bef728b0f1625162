"""The topic registry: every topic, its key, value model, partitions and retention, in one place."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.alerts import AckRequest, AlertEvent
from schemas.events import IndicatorEvent
from schemas.masterplan import Masterplan
from schemas.scores import RegionScore

DEFAULT_PARTITIONS = 12
DAY_MS = 24 * 60 * 60 * 1000


class TopicSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str
    key: Literal["region_code"] = "region_code"
    value_model: type[BaseModel] | None = Field(
        description="Pydantic model of the value; None when the value is raw (validated downstream)."
    )
    partitions: int = DEFAULT_PARTITIONS
    cleanup_policy: Literal["delete", "compact"] = "delete"
    retention_ms: int = Field(description="-1 keeps forever.")
    description: str

    def configs(self) -> dict[str, str]:
        """Topic configs as the broker names them; these are what drift is checked on."""
        return {"cleanup.policy": self.cleanup_policy, "retention.ms": str(self.retention_ms)}


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        name="indicator-events.raw",
        value_model=None,
        retention_ms=7 * DAY_MS,
        description="Events as publishers write them straight to Kafka (JSON or NGSI-LD), not yet valid.",
    ),
    TopicSpec(
        name="indicator-events",
        value_model=IndicatorEvent,
        retention_ms=-1,
        description="Validated indicator events: the event log that scores are replayed from.",
    ),
    TopicSpec(
        name="indicator-events.dlq",
        value_model=None,
        retention_ms=30 * DAY_MS,
        description="Records that could not be used, as received, with reason headers.",
    ),
    TopicSpec(
        name="region-scores",
        value_model=RegionScore,
        retention_ms=90 * DAY_MS,
        description="Each region's maturity index, level and dimension scores when they change.",
    ),
    TopicSpec(
        name="masterplan-milestones",
        value_model=Masterplan,
        cleanup_policy="compact",
        retention_ms=-1,
        description="The current plan of every region (latest per key), followed by the services.",
    ),
    TopicSpec(
        name="maturity-alerts",
        value_model=AlertEvent,
        retention_ms=365 * DAY_MS,
        description="Every alert lifecycle transition, with why.",
    ),
    TopicSpec(
        name="alert-acks",
        value_model=AckRequest,
        retention_ms=7 * DAY_MS,
        description="Acknowledge-link clicks received by a worker that does not hold the alert's region.",
    ),
    TopicSpec(
        name="alerts.dlq",
        value_model=None,
        retention_ms=30 * DAY_MS,
        description="Region scores and plans the alerts service could not use, as received, with reason headers.",
    ),
    TopicSpec(
        name="history.dlq",
        value_model=None,
        retention_ms=30 * DAY_MS,
        description="Scores, alert transitions and plans the history writer could not store, as received, with "
        "reason headers.",
    ),
)

BY_NAME: dict[str, TopicSpec] = {t.name: t for t in TOPICS}


def topic(name: str) -> TopicSpec:
    return BY_NAME[name]
