"""FIWARE NGSI-LD ``KeyPerformanceIndicator`` entities -> indicator-event documents. Pure.

Accepted shapes: a notification (``{"type": "Notification", "data": [entity, ...]}``), one entity, or
a JSON array of entities; each entity normalised (``{"type": "Property", "value": ...}``) or in
key-values form. The Smart Data Models KPI has no region code or indicator id of Pantau's, so the
mapping is a convention (docs/ingest.md):

- ``area``: the region's Kemendagri code (``32.73``);
- ``name``: the framework's indicator id (``ENV_PM25``);
- ``kpiValue``: the value; its ``unitCode`` (UN/CEFACT common code, e.g. ``P1`` for percent) the unit,
  the indicator's own unit when absent;
- event time: ``kpiValue.observedAt``, else the end of ``calculationPeriod.to``, else ``modifiedAt``;
- ``provider`` (else ``organization``) is the source.

The event id is derived from the entity id, the event time and the value, so a notification the
context broker sends again yields the same event (and is recognised as a duplicate downstream).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from schemas.validation import INVALID_VALUE, MISSING_FIELD, Problem

ENTITY_TYPE = "KeyPerformanceIndicator"
NGSI_LD_INVALID = "ngsi_ld_invalid"
NAMESPACE = uuid.UUID("4c1b3f0e-7d0a-5b8e-9a51-6e2f1d9c0a77")
#: UN/CEFACT common codes of the framework's units.
UNIT_CODES = {"P1": "percent", "HUR": "hours", "MIN": "minutes", "GQ": "ug/m3", "KMH": "km/h", "ANN": "years"}


def looks_like_ngsi_ld(doc: object) -> bool:
    """Whether a decoded raw-topic record is NGSI-LD rather than a Pantau event."""
    if isinstance(doc, list):
        return bool(doc) and all(isinstance(d, dict) and "type" in d and "event_id" not in d for d in doc)
    return isinstance(doc, dict) and (doc.get("type") == "Notification" or "@context" in doc or _is_kpi(doc))


def entities(doc: object) -> list[object]:
    """The entities a notification, an entity or an array of entities carries."""
    if isinstance(doc, dict) and doc.get("type") == "Notification":
        data = doc.get("data")
        return list(data) if isinstance(data, list) else [data]
    return list(doc) if isinstance(doc, list) else [doc]


def to_event(entity: object, unit_of: dict[str, str], subscription: str | None = None) -> dict[str, Any] | Problem:
    """The indicator-event document of one KPI entity, or why it cannot be one.

    ``unit_of`` maps indicator ids to their framework unit (the unit assumed when none is stated).
    The document still goes through the same validation as any event.
    """
    if not isinstance(entity, dict):
        return Problem(NGSI_LD_INVALID, "(entity)", "an NGSI-LD entity is a JSON object")
    if not _is_kpi(entity):
        return Problem(NGSI_LD_INVALID, "type", f"expected {ENTITY_TYPE!r}, got {entity.get('type')!r}")
    entity_id = entity.get("id")
    if not isinstance(entity_id, str) or not entity_id:
        return Problem(MISSING_FIELD, "id", "an NGSI-LD entity needs an id")
    region, indicator = _value(entity.get("area")), _value(entity.get("name"))
    if not isinstance(region, str):
        return Problem(MISSING_FIELD, "area", "must hold the region's Kemendagri code, e.g. '32.73'")
    if not isinstance(indicator, str):
        return Problem(MISSING_FIELD, "name", "must hold the framework's indicator id, e.g. 'ENV_PM25'")
    kpi = entity.get("kpiValue")
    value = _value(kpi)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Problem(MISSING_FIELD if value is None else INVALID_VALUE, "kpiValue", "must be a number")
    at = _observed_at(entity)
    if isinstance(at, Problem):
        return at
    unit_code = kpi.get("unitCode") if isinstance(kpi, dict) else None
    if unit_code is not None and not isinstance(unit_code, str):
        return Problem(INVALID_VALUE, "kpiValue.unitCode", "must be a UN/CEFACT common code")
    unit = UNIT_CODES.get(unit_code, unit_code) if unit_code else unit_of.get(indicator, "")
    source = _value(entity.get("provider")) or _value(entity.get("organization")) or "ngsi-ld"
    attributes = {"ngsi-ld.id": entity_id[:256]}
    if subscription:
        attributes["ngsi-ld.subscription"] = subscription[:256]
    return {
        "event_id": str(uuid.uuid5(NAMESPACE, f"{entity_id}|{at.isoformat()}|{value!r}")),
        "region_code": region,
        "indicator_id": indicator,
        "value": value,
        "unit": unit,
        "observed_at": at.isoformat(),
        "source": str(source)[:64],
        "attributes": attributes,
    }


def subscription_of(doc: object) -> str | None:
    sub = doc.get("subscriptionId") if isinstance(doc, dict) else None
    return sub if isinstance(sub, str) else None


def _is_kpi(doc: dict[str, Any]) -> bool:
    t = doc.get("type")
    return isinstance(t, str) and (t == ENTITY_TYPE or t.endswith("/" + ENTITY_TYPE) or t.endswith("#" + ENTITY_TYPE))


def _value(attr: object) -> object:
    """The value of a normalised Property (or the key-values form itself); ``@value`` unwrapped."""
    v = attr.get("value") if isinstance(attr, dict) and "value" in attr else attr
    if isinstance(v, dict) and "@value" in v:
        v = v["@value"]
    return v


def _observed_at(entity: dict[str, Any]) -> datetime | Problem:
    kpi = entity.get("kpiValue")
    candidates = [
        ("kpiValue.observedAt", kpi.get("observedAt") if isinstance(kpi, dict) else None, False),
        ("calculationPeriod.to", _period_end(entity.get("calculationPeriod")), True),
        ("modifiedAt", _value(entity.get("modifiedAt")), False),
    ]
    for where, raw, end_of_day in candidates:
        if raw is None:
            continue
        at = _parse_time(raw, end_of_day)
        if at is None:
            return Problem(INVALID_VALUE, where, f"{raw!r} is not an ISO 8601 date or date-time")
        return at
    return Problem(
        MISSING_FIELD, "kpiValue.observedAt", "no event time: give observedAt, calculationPeriod or modifiedAt"
    )


def _period_end(attr: object) -> object:
    v = _value(attr)
    return _value(v.get("to")) if isinstance(v, dict) else None


def _parse_time(raw: object, end_of_day: bool) -> datetime | None:
    if not isinstance(raw, str):
        return None
    text = raw.strip().removesuffix("Z") if len(raw.strip()) == 11 else raw.strip()  # '2016-07-31Z' (a date)
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime.combine(d, time(), UTC) + (
                timedelta(days=1, microseconds=-1) if end_of_day else timedelta()
            )
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
