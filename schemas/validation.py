"""The checks an indicator event must pass before it is used, in one place for every service. Pure.

A schema-valid ``IndicatorEvent`` can still be unusable: its region or indicator may be unknown, its
unit may not be the indicator's, its value may be physically impossible, or its ``observed_at`` may
lie too far in the future or the past. ``check_event`` says which, with a stable reason code (used in
HTTP answers, dead-letter headers and metric labels), the field at fault and an English message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError

from schemas.events import IndicatorEvent
from schemas.framework import Framework
from schemas.regions import RegionRegistry

# Stable reason codes. Clients and dashboards match on them: never rename one, only add.
UNDECODABLE = "undecodable"  # not JSON at all
UNKNOWN_FIELD = "unknown_field"
MISSING_FIELD = "missing_field"
NOT_FINITE = "not_finite"
INVALID_VALUE = "invalid_value"  # wrong type, pattern, length...
UNKNOWN_REGION = "unknown_region"
KEY_MISMATCH = "key_mismatch"
UNKNOWN_INDICATOR = "unknown_indicator"
UNIT_MISMATCH = "unit_mismatch"
OUT_OF_BOUNDS = "out_of_bounds"
OBSERVED_IN_FUTURE = "observed_in_future"
OBSERVED_TOO_OLD = "observed_too_old"

#: pydantic error types that have a code of their own; every other type is ``invalid_value``.
_PYDANTIC_CODES = {
    "json_invalid": UNDECODABLE,
    "extra_forbidden": UNKNOWN_FIELD,
    "missing": MISSING_FIELD,
    "finite_number": NOT_FINITE,
}


@dataclass(frozen=True, slots=True)
class Problem:
    """Why an event cannot be used: a stable ``code``, the ``field`` at fault, an English ``message``."""

    code: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class TimeLimits:
    """How far ``observed_at`` may lie ahead of (clock skew) or behind the time of arrival."""

    max_future: timedelta
    max_age: timedelta


def check_event(
    event: IndicatorEvent,
    registry: RegionRegistry,
    framework: Framework,
    *,
    key: str | None = None,
    now: datetime | None = None,
    limits: TimeLimits | None = None,
) -> Problem | None:
    """The first problem that makes ``event`` unusable under ``registry`` and ``framework``, or None.

    ``key``, when given, is the Kafka key the event came with: it must be its region code (topics are
    keyed by region). The time checks run only when both ``now`` and ``limits`` are given: the scoring
    service replays history and judges lateness by event time, so it leaves them out.
    """
    region = event.region_code
    if region not in registry:
        return Problem(UNKNOWN_REGION, "region_code", f"{region!r} is not in registry {registry.version}")
    if key is not None and key != region:
        return Problem(KEY_MISMATCH, "region_code", f"{region!r} differs from the record key {key!r}")
    ind = framework.indicator_map.get(event.indicator_id)
    if ind is None:
        return Problem(UNKNOWN_INDICATOR, "indicator_id", f"{event.indicator_id!r} is not in {framework.key}")
    if event.unit != ind.unit:
        return Problem(UNIT_MISMATCH, "unit", f"{event.unit!r}, {ind.id} is measured in {ind.unit!r}")
    if not ind.bounds.min <= event.value <= ind.bounds.max:
        return Problem(
            OUT_OF_BOUNDS, "value", f"{event.value} is outside {ind.id}'s bounds [{ind.bounds.min}, {ind.bounds.max}]"
        )
    if now is not None and limits is not None:
        at = event.observed_at
        if at > now + limits.max_future:
            return Problem(
                OBSERVED_IN_FUTURE, "observed_at",
                f"{at.isoformat()} is more than {_human(limits.max_future)} ahead of {now.isoformat()}",
            )  # fmt: skip
        if at < now - limits.max_age:
            return Problem(
                OBSERVED_TOO_OLD, "observed_at",
                f"{at.isoformat()} is more than {_human(limits.max_age)} before {now.isoformat()}",
            )  # fmt: skip
    return None


def problems_from_validation_error(exc: ValidationError, prefix: str = "") -> list[Problem]:
    """One Problem per pydantic error, with its dotted field path (``prefix`` goes before it)."""
    out = []
    for e in exc.errors(include_url=False):
        loc = ".".join(str(x) for x in e["loc"])
        field = f"{prefix}.{loc}" if prefix and loc else (prefix or loc or "(body)")
        code = _PYDANTIC_CODES.get(e["type"], INVALID_VALUE)
        message = e["msg"]
        if code == UNKNOWN_FIELD:
            message = "unknown field; the contract forbids fields it does not define"
        out.append(Problem(code, field, message))
    return out


def _human(d: timedelta) -> str:
    s = int(d.total_seconds())
    for unit, size in (("days", 86_400), ("hours", 3_600), ("minutes", 60)):
        if s >= size and s % size == 0:
            return f"{s // size} {unit}"
    return f"{s} seconds"
