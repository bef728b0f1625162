"""A record of a followed topic, decoded: the rows it maps to, a dead letter (why), or nothing.

- ``region-scores``: a RegionScore -> its fine and closing snapshots;
- ``maturity-alerts``: an AlertEvent -> its transition;
- ``masterplan-milestones``: a Masterplan -> its version. The topic is compacted: a tombstone deletes a
  region's current plan there, and the history keeps the versions it had, so it maps to nothing.

A record its contract refuses is a dead letter ``schema_invalid``; a tombstone on the two other topics
is ``empty_value`` (schemas/reasons.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ValidationError

from schemas.alerts import AlertEvent
from schemas.masterplan import Masterplan
from schemas.reasons import EMPTY_VALUE, SCHEMA_INVALID
from schemas.scores import RegionScore
from services.history.domain.downsampling import Downsampling
from services.history.domain.rows import BadRecord, Row, Source, plan_row, snapshot_rows, transition_row

SCORES = "region-scores"
ALERTS = "maturity-alerts"
PLANS = "masterplan-milestones"
#: The topics the writer follows (registry names, before any prefix).
TOPICS: tuple[str, ...] = (SCORES, ALERTS, PLANS)
_MODELS: dict[str, type[BaseModel]] = {SCORES: RegionScore, ALERTS: AlertEvent, PLANS: Masterplan}


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """The record cannot be stored: its reason code (schemas/reasons.py) and what was wrong."""

    reason: str
    detail: str


Decoded = list[Row] | DeadLetter


def decode(kind: str, value: bytes | None, source: Source, downsampling: Downsampling, now: datetime) -> Decoded:
    """The rows of a record of topic ``kind`` (one of :data:`TOPICS`), or why it is a dead letter."""
    if kind not in _MODELS:
        raise ValueError(f"the writer does not follow {kind!r}")
    if value is None:
        return [] if kind == PLANS else DeadLetter(EMPTY_VALUE, f"a record without a value (a tombstone) on {kind}")
    try:
        model = _MODELS[kind].model_validate_json(value)
        return _rows(model, source, downsampling, now)
    except ValidationError as exc:
        return DeadLetter(SCHEMA_INVALID, str(exc))
    except BadRecord as exc:
        return DeadLetter(SCHEMA_INVALID, str(exc))


def _rows(model: BaseModel, source: Source, downsampling: Downsampling, now: datetime) -> list[Row]:
    if isinstance(model, RegionScore):
        return [*snapshot_rows(model, source, downsampling, now)]
    if isinstance(model, AlertEvent):
        return [transition_row(model, source)]
    assert isinstance(model, Masterplan)
    return [plan_row(model, source, now)]
