"""The rows of the history store, mapped from the contracts (schemas/scores.py, alerts.py, masterplan.py).

Each row knows the record it was written from (:class:`Source`) and its natural key, the primary key of
its table: a replay of the same record maps to the same row, and the store upserts on that key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, Literal

from schemas.alerts import AlertEvent
from schemas.masterplan import Masterplan
from schemas.scores import RegionScore
from services.history.domain.downsampling import EPOCH, Downsampling, closing_day, fine_slot, keeps_fine

Resolution = Literal["fine", "day"]


class BadRecord(ValueError):
    """A record its contract lets through that still cannot be stored (a framework key without '@')."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where a row came from: the record's topic, partition, offset and Kafka timestamp (ms; -1: none)."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int = -1

    def supersedes(self, other: Source) -> bool:
        """True when this record comes after ``other`` in the log (another partition: taken as later)."""
        return self.partition != other.partition or self.offset > other.offset


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    """One ``score_snapshots`` row: a RegionScore at one resolution."""

    region_code: str
    province_code: str
    framework_id: str
    framework_version: str
    resolution: Resolution
    at: datetime
    day: date | None
    index: float | None
    level: int | None
    level_name: str | None
    coverage: float
    status: str
    dimensions: list[dict[str, Any]]
    events_applied: int
    source: Source

    TABLE: ClassVar[str] = "score_snapshots"

    @property
    def key(self) -> tuple[object, ...]:
        """Its natural key: the step's start of a fine snapshot, the local day of a closing one."""
        when: object = self.at if self.resolution == "fine" else self.day
        return (self.TABLE, self.region_code, self.framework_id, self.framework_version, self.resolution, when)

    def values(self) -> dict[str, Any]:
        return {
            "region_code": self.region_code, "province_code": self.province_code,
            "framework_id": self.framework_id, "framework_version": self.framework_version,
            "resolution": self.resolution, "at": self.at, "day": self.day, "index": self.index,
            "level": self.level, "level_name": self.level_name, "coverage": self.coverage, "status": self.status,
            "dimensions": self.dimensions, "events_applied": self.events_applied,
            "source_partition": self.source.partition, "source_offset": self.source.offset,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class TransitionRow:
    """One ``alert_transitions`` row: an AlertEvent, once per transition id."""

    transition_id: str
    alert_id: str
    region_code: str
    province_code: str
    kind: str
    target: str
    state: str
    severity: str
    escalation: str
    at: datetime
    payload: dict[str, Any]
    source: Source

    TABLE: ClassVar[str] = "alert_transitions"

    @property
    def key(self) -> tuple[object, ...]:
        return (self.TABLE, self.transition_id)

    def values(self) -> dict[str, Any]:
        return {
            "transition_id": self.transition_id, "alert_id": self.alert_id, "region_code": self.region_code,
            "province_code": self.province_code, "kind": self.kind, "target": self.target, "state": self.state,
            "severity": self.severity, "escalation": self.escalation, "at": self.at, "payload": self.payload,
            "source_partition": self.source.partition, "source_offset": self.source.offset,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One ``plan_versions`` row: a version (content hash) of a region's plan, first seen at ``received_at``."""

    region_code: str
    plan_id: str
    plan_hash: str
    framework_id: str
    basis: str
    received_at: datetime
    payload: dict[str, Any]
    source: Source

    TABLE: ClassVar[str] = "plan_versions"

    @property
    def key(self) -> tuple[object, ...]:
        return (self.TABLE, self.region_code, self.plan_id, self.plan_hash)

    def values(self) -> dict[str, Any]:
        return {
            "region_code": self.region_code, "plan_id": self.plan_id, "plan_hash": self.plan_hash,
            "framework_id": self.framework_id, "basis": self.basis, "received_at": self.received_at,
            "payload": self.payload, "source_partition": self.source.partition, "source_offset": self.source.offset,
        }  # fmt: skip


Row = SnapshotRow | TransitionRow | PlanRow


def split_framework(key: str) -> tuple[str, str]:
    """``'pp59@2022.1'`` -> ``('pp59', '2022.1')`` (RegionScore.framework is ``id@version``)."""
    framework_id, at, version = key.partition("@")
    if not (framework_id and at and version):
        raise BadRecord(f"framework {key!r} is not 'id@version'")
    return framework_id, version


def snapshot_rows(score: RegionScore, source: Source, downsampling: Downsampling, now: datetime) -> list[SnapshotRow]:
    """The snapshots ``score`` is a candidate for: its step's fine one (unless past the retention at
    ``now``) and its local day's closing one."""
    framework_id, version = split_framework(score.framework)
    common: dict[str, Any] = {
        "region_code": score.region_code, "province_code": score.province_code, "framework_id": framework_id,
        "framework_version": version, "index": score.index, "level": score.level, "level_name": score.level_name,
        "coverage": score.coverage, "status": score.status.value,
        "dimensions": [d.model_dump(mode="json") for d in score.dimensions],
        "events_applied": score.events_applied, "source": source,
    }  # fmt: skip
    day = SnapshotRow(resolution="day", at=score.evaluated_at.astimezone(UTC),
                      day=closing_day(score.evaluated_at, score.region_code), **common)  # fmt: skip
    slot = fine_slot(score.evaluated_at, downsampling.fine_step)
    if not keeps_fine(slot, now, downsampling.fine_retention):
        return [day]
    return [SnapshotRow(resolution="fine", at=slot, day=None, **common), day]


def transition_row(event: AlertEvent, source: Source) -> TransitionRow:
    return TransitionRow(
        transition_id=event.transition_id, alert_id=event.alert_id, region_code=event.region_code,
        province_code=event.province_code, kind=event.kind.value, target=event.target, state=event.state.value,
        severity=event.severity.value, escalation=event.escalation.value, at=event.at.astimezone(UTC),
        payload=event.model_dump(mode="json"), source=source,
    )  # fmt: skip


def plan_hash(plan: Masterplan) -> str:
    """A plan version: the sha256 of its canonical JSON (sorted keys, no spaces), hex."""
    canonical = json.dumps(plan.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def plan_row(plan: Masterplan, source: Source, now: datetime) -> PlanRow:
    """The version row of ``plan``; first seen at its record's Kafka timestamp (``now`` if it has none),
    so that a replay of the topic finds the same time."""
    received = EPOCH + timedelta(milliseconds=source.timestamp_ms) if source.timestamp_ms >= 0 else now
    return PlanRow(
        region_code=plan.region_code, plan_id=plan.plan_id, plan_hash=plan_hash(plan),
        framework_id=plan.framework_id, basis=plan.basis, received_at=received,
        payload=plan.model_dump(mode="json"), source=source,
    )  # fmt: skip
