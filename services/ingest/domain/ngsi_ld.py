"""FIWARE NGSI-LD ``KeyPerformanceIndicator`` entities -> indicator-event documents. Pure.

Accepted shapes: a notification (``{"type": "Notification", "data": [entity, ...]}``), one entity, or
a JSON array of entities; each entity normalised (``{"type": "Property", "value": ...}``), concise or
in key-values form, its attribute names compacted (``kpiValue``) or expanded to URIs (what a context
broker sends when the subscriber's ``@context`` does not define them). The Smart Data Models KPI has
no region code or indicator id of Pantau's, so the mapping is a convention (docs/ingest.md):

- ``area``: the region's Kemendagri code (``32.73``);
- ``name``: the framework's indicator id (``ENV_PM25``);
- ``kpiValue``: the value; its ``unitCode`` (UN/CEFACT common code, e.g. ``P1`` for percent) the unit,
  the indicator's own unit when absent;
- event time: ``kpiValue.observedAt``, else ``calculationPeriod.to``, else ``modifiedAt``. A date
  without a time is that day in the region's own time zone (WIB, WITA or WIT, by province) and is
  dated at its 00:00 local, as a CSV period's last day is; a date-time without a zone is UTC, as
  NGSI-LD writes its DateTimes;
- ``provider`` (else ``organization``) is the source.

The event id is derived from the entity id, the event time and the value, so a notification the
context broker sends again yields the same event (and is recognised as a duplicate).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timezone
from typing import Any

from schemas.events import IndicatorEvent
from schemas.reasons import INVALID_VALUE, MISSING_FIELD, NGSI_LD_INVALID, UNKNOWN_INDICATOR
from schemas.timezones import zone_of_region
from schemas.validation import Problem, dead_letter_reason
from services.ingest.domain.intake import Rules, clip, validate_document

ENTITY_TYPE = "KeyPerformanceIndicator"
NAMESPACE = uuid.UUID("4c1b3f0e-7d0a-5b8e-9a51-6e2f1d9c0a77")
#: UN/CEFACT common codes of the framework's units.
UNIT_CODES = {"P1": "percent", "HUR": "hours", "MIN": "minutes", "GQ": "ug/m3", "KMH": "km/h", "ANN": "years"}
#: Members of an entity that are NGSI-LD's own, never expanded.
_CORE = frozenset({"id", "type", "@context"})


def looks_like_ngsi_ld(doc: object) -> bool:
    """Whether a decoded raw-topic record is NGSI-LD rather than a Pantau event."""
    if isinstance(doc, list):
        return bool(doc) and all(isinstance(d, dict) and "type" in d and "event_id" not in d for d in doc)
    return isinstance(doc, dict) and (doc.get("type") == "Notification" or "@context" in doc or _is_kpi(doc))


def is_notification(doc: object) -> bool:
    return isinstance(doc, dict) and doc.get("type") == "Notification"


def entities(doc: object) -> list[object]:
    """The entities a notification, an entity or an array of entities carries."""
    if is_notification(doc):
        assert isinstance(doc, dict)
        data = doc.get("data")
        return list(data) if isinstance(data, list) else [data]
    return list(doc) if isinstance(doc, list) else [doc]


def subscription_of(doc: object) -> str | None:
    sub = doc.get("subscriptionId") if isinstance(doc, dict) else None
    return sub if isinstance(sub, str) else None


def entity_id_of(entity: object) -> str | None:
    eid = entity.get("id") if isinstance(entity, dict) else None
    return eid if isinstance(eid, str) else None


def claims(entity: object) -> dict[str, object]:
    """The region and indicator an entity claims to write, as event fields (for the scope check)."""
    if not isinstance(entity, dict):
        return {}
    attrs = _compacted(entity)
    return {"region_code": _value(attrs.get("area")), "indicator_id": _value(attrs.get("name"))}


def to_event(entity: object, unit_of: dict[str, str], subscription: str | None = None) -> dict[str, Any] | Problem:
    """The indicator-event document of one KPI entity, or why it cannot be one.

    ``unit_of`` maps the framework's indicator ids to their unit (the unit assumed when none is
    stated); a ``name`` that is none of them is ``unknown_indicator``. The document still goes
    through the same validation as any event.
    """
    if not isinstance(entity, dict):
        return Problem(NGSI_LD_INVALID, "(entity)", "an NGSI-LD entity is a JSON object")
    if not _is_kpi(entity):
        return Problem(NGSI_LD_INVALID, "type", f"expected {ENTITY_TYPE!r}, got {clip(repr(entity.get('type')))}")
    entity_id = entity.get("id")
    if not isinstance(entity_id, str) or not entity_id:
        return Problem(MISSING_FIELD, "id", "an NGSI-LD entity needs an id")
    attrs = _compacted(entity)
    region, indicator = _value(attrs.get("area")), _value(attrs.get("name"))
    if not isinstance(region, str):
        return Problem(MISSING_FIELD, "area", "must hold the region's Kemendagri code, e.g. '32.73'")
    if not isinstance(indicator, str):
        return Problem(MISSING_FIELD, "name", "must hold the framework's indicator id, e.g. 'ENV_PM25'")
    if indicator not in unit_of:
        return Problem(UNKNOWN_INDICATOR, "name", f"{clip(repr(indicator))} is not an indicator id of the framework")
    kpi = attrs.get("kpiValue")
    value = _value(kpi)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Problem(MISSING_FIELD if value is None else INVALID_VALUE, "kpiValue", "must be a number")
    at = _observed_at(attrs, zone_of_region(region))
    if isinstance(at, Problem):
        return at
    unit_code = kpi.get("unitCode") if isinstance(kpi, dict) else None
    if unit_code is not None and not isinstance(unit_code, str):
        return Problem(INVALID_VALUE, "kpiValue.unitCode", "must be a UN/CEFACT common code")
    unit = UNIT_CODES.get(unit_code, unit_code) if unit_code else unit_of[indicator]
    source = _value(attrs.get("provider")) or _value(attrs.get("organization")) or "ngsi-ld"
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


@dataclass(frozen=True)
class EntityRead:
    """What one entity of a notification yields: its event, or its problems and dead-letter reason."""

    index: int
    entity_id: str | None
    event: IndicatorEvent | None
    problems: tuple[Problem, ...] = ()
    reason: str | None = None


def read_entities(doc: object, rules: Rules, now: datetime, publisher: str | None = None) -> list[EntityRead]:
    """Map and validate every entity ``doc`` carries (the same for the raw topic and the HTTP door).

    ``publisher``, when given, is set on the events (the HTTP door's key). An entity the adapter
    cannot map is ``ngsi_ld_invalid`` (``unknown_indicator`` for a ``name`` the framework lacks); a
    mapped one that fails validation has that problem's reason, as any event has.
    """
    sub = subscription_of(doc)
    out = []
    for i, entity in enumerate(entities(doc)):
        eid = entity_id_of(entity)
        converted = to_event(entity, rules.unit_of, sub)
        if isinstance(converted, Problem):
            reason = converted.code if converted.code == UNKNOWN_INDICATOR else NGSI_LD_INVALID
            out.append(EntityRead(i, eid, None, (converted,), reason))
            continue
        if publisher is not None:
            converted["publisher"] = publisher
        result = validate_document(converted, rules, now)
        if isinstance(result, IndicatorEvent):
            out.append(EntityRead(i, eid, result))
        else:
            out.append(EntityRead(i, eid, None, tuple(result), dead_letter_reason(result[0])))
    return out


def dead_letter_of(reads: list[EntityRead]) -> tuple[str, str] | None:
    """(reason, detail) of the dead letter of a notification with bad entities; None when all are good.

    The reason is the first bad entity's; the detail names every bad entity and its problems.
    """
    bad = [r for r in reads if r.event is None]
    if not bad:
        return None
    detail = " | ".join(f"entity[{r.index}] " + "; ".join(map(str, r.problems)) for r in bad)
    assert bad[0].reason is not None
    return bad[0].reason, detail


def _is_kpi(doc: dict[str, Any]) -> bool:
    t = doc.get("type")
    return isinstance(t, str) and (t == ENTITY_TYPE or t.endswith("/" + ENTITY_TYPE) or t.endswith("#" + ENTITY_TYPE))


def _compacted(entity: dict[str, Any]) -> dict[str, Any]:
    """The entity's attributes by short name: ``https://smartdatamodels.org/.../kpiValue`` -> ``kpiValue``.

    A compacted name wins over an expanded one of the same short name.
    """
    out: dict[str, Any] = {}
    for name, attr in entity.items():
        if name in _CORE:
            continue
        short = name.rsplit("/", 1)[-1].rsplit("#", 1)[-1] if ("/" in name or "#" in name) else name
        if short not in out or short == name:
            out[short] = attr
    return out


def _value(attr: object) -> object:
    """The value of a normalised Property (or the key-values form itself); ``@value`` unwrapped."""
    v = attr.get("value") if isinstance(attr, dict) and "value" in attr else attr
    if isinstance(v, dict) and "@value" in v:
        v = v["@value"]
    return v


def _observed_at(attrs: dict[str, Any], zone: timezone) -> datetime | Problem:
    kpi = attrs.get("kpiValue")
    candidates = [
        ("kpiValue.observedAt", kpi.get("observedAt") if isinstance(kpi, dict) else None),
        ("calculationPeriod.to", _period_end(attrs.get("calculationPeriod"))),
        ("modifiedAt", _value(attrs.get("modifiedAt"))),
    ]
    for where, raw in candidates:
        if raw is None:
            continue
        at = _parse_time(raw, zone)
        if at is None:
            return Problem(INVALID_VALUE, where, f"{clip(repr(raw))} is not an ISO 8601 date or date-time")
        return at
    return Problem(
        MISSING_FIELD, "kpiValue.observedAt", "no event time: give observedAt, calculationPeriod or modifiedAt"
    )


def _period_end(attr: object) -> object:
    v = _value(attr)
    return _value(v.get("to")) if isinstance(v, dict) else None


def _parse_time(raw: object, zone: timezone) -> datetime | None:
    """A date-time as it says (UTC when it names no zone); a date as 00:00 of that day in ``zone``.

    ``2016-07-31Z`` (a date with a zone, as XML Schema writes it) is that day in UTC.
    """
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), zone)
        if len(text) == 11 and text.endswith("Z"):
            return datetime.combine(date.fromisoformat(text[:10]), time(), UTC)
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
