"""The checks an indicator event must pass before it is used, in one place for every service. Pure.

A schema-valid ``IndicatorEvent`` can still be unusable: its region or indicator may be unknown, its
unit may not be the indicator's, its value may be physically impossible, or its ``observed_at`` may
lie too far in the future or the past. ``check_event`` says which, with a stable reason code (used in
HTTP answers, dead-letter headers and metric labels), the field at fault and an English message.

Every door applies the same checks: ingest (HTTP, the raw topic, CSV) and the scoring service, which
reads ``indicator-events`` where Kafka-native publishers write directly. ``validate_event_json`` and
``validate_event_document`` are the strict decoding they share, ``dead_letter_reason`` the reason a
record is dead-lettered with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from pydantic import ValidationError

from schemas.events import IndicatorEvent
from schemas.framework import Framework

# The reason codes (stable: never renamed) are registered in schemas/reasons.py.
from schemas.reasons import (
    INVALID_VALUE,
    KEY_MISMATCH,
    MISSING_FIELD,
    NOT_FINITE,
    OBSERVED_IN_FUTURE,
    OBSERVED_TOO_OLD,
    OUT_OF_BOUNDS,
    SCHEMA_CODES,
    SCHEMA_INVALID,
    UNDECODABLE,
    UNIT_MISMATCH,
    UNKNOWN_FIELD,
    UNKNOWN_INDICATOR,
    UNKNOWN_REGION,
)
from schemas.regions import RegionRegistry

_SCHEMA_CODES = SCHEMA_CODES

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


#: The documented limits (docs/ingest.md, docs/scoring.md): 5 minutes of clock skew, 10 years of history.
DEFAULT_TIME_LIMITS = TimeLimits(max_future=timedelta(minutes=5), max_age=timedelta(days=3650))


def validate_event_document(doc: dict[str, Any]) -> IndicatorEvent | list[Problem]:
    """The event of a decoded JSON document, validated strictly, or every problem found with it.

    Strict JSON mode: what the contract (and the JSON Schema published from it) says is accepted, and
    nothing is coerced: ``"21.5"`` is not a number, ``true`` is not one either.
    """
    try:
        return IndicatorEvent.model_validate_json(orjson.dumps(doc), strict=True)
    except ValidationError as exc:
        return problems_from_validation_error(exc)
    except orjson.JSONEncodeError as exc:  # e.g. an integer beyond 64 bits inside attributes
        return [Problem(INVALID_VALUE, "(item)", str(exc))]


def validate_event_json(data: bytes) -> IndicatorEvent | list[Problem]:
    """The event of a record's JSON value (``validate_event_document`` after decoding), or its problems."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return [Problem(UNDECODABLE, "(record)", f"not JSON: {exc}")]
    if not isinstance(doc, dict):
        return [Problem(INVALID_VALUE, "(record)", "an event is a JSON object")]
    return validate_event_document(doc)


def dead_letter_reason(problem: Problem) -> str:
    """The dead-letter reason of a problem: field-level schema codes fold into ``schema_invalid``."""
    return SCHEMA_INVALID if problem.code in _SCHEMA_CODES else problem.code


def check_event(
    event: IndicatorEvent,
    registry: RegionRegistry,
    framework: Framework,
    *,
    key: str | bytes | None = None,
    keyed: bool = False,
    now: datetime | None = None,
    limits: TimeLimits | None = None,
    arrived: datetime | None = None,
) -> Problem | None:
    """The first problem that makes ``event`` unusable under ``registry`` and ``framework``, or None.

    ``key`` is the Kafka key the event came with, when ``keyed`` (or when a key is given): it must be
    the region code (topics are keyed by region), so no key (None) and an empty key are mismatches too.
    The time checks run only when both ``now`` and ``limits`` are given. ``observed_at`` may lie at
    most ``limits.max_future`` ahead of ``now`` (the checker's own clock) and at most
    ``limits.max_age`` before ``arrived`` (when the event reached Kafka; default ``now``), so that a
    replay of the log years later refuses no more than the first pass did.
    """
    region = event.region_code
    if region not in registry:
        return Problem(UNKNOWN_REGION, "region_code", f"{region!r} is not in registry {registry.version}")
    if keyed or key is not None:
        text = key.decode(errors="replace") if isinstance(key, bytes) else key
        if text != region:
            what = "the record has no key" if text is None else f"differs from the record key {text!r}"
            return Problem(KEY_MISMATCH, "region_code", f"{region!r} {what}")
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
        since = now if arrived is None else arrived
        if at < since - limits.max_age:
            return Problem(
                OBSERVED_TOO_OLD, "observed_at",
                f"{at.isoformat()} is more than {_human(limits.max_age)} before {since.isoformat()}",
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
