"""Validation of submitted items, one at a time: what is an event, what a key may write. Pure.

An item is validated in JSON mode and strictly (``"21.5"`` is not a number, ``true`` is not one
either), so that what the OpenAPI document promises is exactly what is accepted. ``publisher`` is
set from the API key: a client that sends it is refused (mass assignment).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

import orjson
from pydantic import ValidationError

from schemas.events import IndicatorEvent
from schemas.framework import Framework
from schemas.reasons import INVALID_VALUE, UNDECODABLE, UNKNOWN_FIELD
from schemas.regions import RegionRegistry
from schemas.validation import Problem, TimeLimits, check_event, problems_from_validation_error
from services.ingest.domain.auth import Scope

OUT_OF_SCOPE = "out_of_scope"
SERVICE_FIELDS = ("publisher",)
#: Dead-letter reason of a record that is not an event by the contract's schema.
#: Longest piece of a client's input an answer repeats (an id, a field name, a value in a message).
ECHO_LIMIT = 120


class Status(StrEnum):
    ACCEPTED = "accepted"  # written: the broker acknowledged it
    DUPLICATE = "duplicate"  # the same publisher wrote this event_id for this region (acknowledged): not again
    REJECTED = "rejected"  # invalid: see its errors (an NGSI-LD entity: dead-lettered with its reason)
    UNAVAILABLE = "unavailable"  # valid, but Kafka did not acknowledge it: not written, send it again


@dataclass
class ItemResult:
    index: int
    status: Status
    event_id: str | None = None
    errors: list[Problem] = field(default_factory=list)
    entity_id: str | None = None  # NGSI-LD: the entity the item is
    reason: str | None = None  # NGSI-LD: the dead-letter reason of a rejected entity


@dataclass(frozen=True)
class Rules:
    """What an event is checked against."""

    registry: RegionRegistry
    framework: Framework
    limits: TimeLimits

    @cached_property
    def unit_of(self) -> dict[str, str]:
        """Each indicator id of the framework -> its unit."""
        return {i.id: i.unit for i in self.framework.indicators}


@dataclass(frozen=True)
class Undecodable:
    """An item that is not JSON at all (a line of an NDJSON body), kept in place for its result."""

    error: str


def validate_item(raw: object, rules: Rules, now: datetime, publisher: str | None) -> IndicatorEvent | list[Problem]:
    """The event a submitted item describes, with ``publisher`` set from the key, or its problems."""
    if isinstance(raw, Undecodable):
        return [Problem(UNDECODABLE, "(line)", f"not JSON: {raw.error}")]
    if not isinstance(raw, dict):
        return [Problem(INVALID_VALUE, "(item)", f"an event is a JSON object, got {type(raw).__name__}")]
    problems = [
        Problem(UNKNOWN_FIELD, f, "set by the service from the API key; do not send it")
        for f in SERVICE_FIELDS
        if f in raw
    ]
    data = {k: v for k, v in raw.items() if k not in SERVICE_FIELDS}
    if publisher is not None:
        data["publisher"] = publisher
    result = validate_document(data, rules, now)
    if problems:
        return problems + (result if isinstance(result, list) else [])
    return result


def validate_document(doc: dict[str, Any], rules: Rules, now: datetime) -> IndicatorEvent | list[Problem]:
    """The event of a decoded JSON document (all its fields as sent), or every problem found with it."""
    try:
        event = IndicatorEvent.model_validate_json(orjson.dumps(doc), strict=True)
    except ValidationError as exc:
        return problems_from_validation_error(exc)
    except orjson.JSONEncodeError as exc:  # e.g. an integer beyond 64 bits inside attributes
        return [Problem(INVALID_VALUE, "(item)", str(exc))]
    problem = check_event(event, rules.registry, rules.framework, now=now, limits=rules.limits)
    return [problem] if problem is not None else event


def scope_problems(raw: object, scope: Scope, key_id: str) -> list[Problem]:
    """What the item claims to write that the key may not: checked before, and apart from, validity.

    An out-of-scope item gets no validation feedback: a publisher learns nothing about regions and
    indicators that are not its own.
    """
    if not isinstance(raw, dict):
        return []
    out = []
    region, indicator = raw.get("region_code"), raw.get("indicator_id")
    if isinstance(region, str) and not scope.allows_region(region):
        message = f"key {key_id} may not write region {clip(repr(region))}"
        out.append(Problem(OUT_OF_SCOPE, "region_code", message))
    if isinstance(indicator, str) and not scope.allows_indicator(indicator):
        message = f"key {key_id} may not write indicator {clip(repr(indicator))}"
        out.append(Problem(OUT_OF_SCOPE, "indicator_id", message))
    return out


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    """``text``, or its first ``limit`` characters and how long it was: answers never echo more of the input."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"
