"""The request schema of the HTTP API, built from the contract, the region registry and the framework.

The OpenAPI document says as exactly as JSON Schema can what is accepted, so that a client (or
schemathesis) that follows it is not refused: the region code is one of the registry's, each
indicator fixes its unit and the physical bounds of its value, ``publisher`` is absent (the service
sets it) and no other field is allowed. What JSON Schema cannot say, the time window of
``observed_at`` (it moves with the clock), is declared twice: in words in the description, and
machine-readable in the extension ``x-pantau-window`` (``{"max_future": "PT5M", "max_age": "P3650D"}``,
RFC 3339 durations relative to arrival); the 422 answers name the codes it yields
(``observed_in_future``, ``observed_too_old``). Fuzzers draw date-times from that window
(tests/integration/test_ingest_schemathesis.py reads it from the document).
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.openapi.models import OpenAPI

from schemas.events import MAX_ATTRIBUTES, IndicatorEvent
from schemas.framework import Framework
from schemas.regions import RegionRegistry
from services.ingest.domain.ngsi_ld import ENTITY_TYPE, UNIT_CODES

EVENT_IN = "IndicatorEventIn"
NOTIFICATION = "NgsiLdNotification"
NDJSON = "application/x-ndjson"
NGSI_LD_MEDIA = ("application/json", "application/ld+json")
WINDOW = "x-pantau-window"


def window(max_future: str, max_age: str) -> dict[str, str]:
    """The ``x-pantau-window`` extension: how far an event time may lie ahead of and before arrival."""
    return {"max_future": max_future, "max_age": max_age}


def event_in_schema(framework: Framework, registry: RegionRegistry, *, max_future: str, max_age: str) -> dict[str, Any]:
    """JSON Schema of one submitted event (the IndicatorEvent contract without ``publisher``)."""
    base = copy.deepcopy(IndicatorEvent.model_json_schema())
    props = base["properties"]
    del props["publisher"]
    props["region_code"] = {**props["region_code"], "enum": sorted(registry.regions)}
    props["indicator_id"] = {**props["indicator_id"], "enum": [i.id for i in framework.indicators]}
    props["attributes"] = {**props["attributes"], "additionalProperties": False, "maxProperties": MAX_ATTRIBUTES}
    props["observed_at"]["description"] = (
        f"Event time with a time zone; at most {max_future} ahead of arrival and at most {max_age} before it "
        "(else 'observed_in_future' or 'observed_too_old')."
    )
    props["observed_at"][WINDOW] = window(max_future, max_age)
    base["title"] = EVENT_IN
    base["description"] = (
        "One reading of one indicator for one region. The unit must be the indicator's and the value within its "
        "physical bounds (GET /v1/framework). 'publisher' is set by the service from the API key."
    )
    base["oneOf"] = [
        {
            "title": ind.id,
            "properties": {
                "indicator_id": {"const": ind.id},
                "unit": {"const": ind.unit},
                "value": {"minimum": ind.bounds.min, "maximum": ind.bounds.max},
            },
        }
        for ind in framework.indicators
    ]
    return base


def events_body(max_batch: int) -> dict[str, Any]:
    """The requestBody of POST /v1/events: one event or a batch of them."""
    ref = {"$ref": f"#/components/schemas/{EVENT_IN}"}
    batch = {"type": "array", "items": ref, "minItems": 1, "maxItems": max_batch}
    return {
        "required": True,
        "content": {"application/json": {"schema": {"oneOf": [ref, batch]}}},
    }


def ndjson_body(max_batch: int) -> dict[str, Any]:
    """The requestBody of POST /v1/events/ndjson: one event per line (the schema is the list of lines)."""
    ref = {"$ref": f"#/components/schemas/{EVENT_IN}"}
    return {
        "required": True,
        "description": "One JSON event per line (newline-delimited JSON); blank lines are ignored.",
        "content": {NDJSON: {"schema": {"type": "array", "items": ref, "minItems": 1, "maxItems": max_batch}}},
    }


def notification_schema(
    framework: Framework, registry: RegionRegistry, *, max_batch: int, max_future: str, max_age: str
) -> dict[str, Any]:
    """JSON Schema of an NGSI-LD Notification of ``KeyPerformanceIndicator`` entities (normalised form).

    As for events, a schema-valid notification is accepted: ``area`` is a region code, ``name`` an
    indicator id, ``kpiValue`` a Property within the indicator's bounds, in its unit (``unitCode``
    optional) and observed within the window. Other attributes are allowed and ignored.
    """
    regions, indicators = sorted(registry.regions), [i.id for i in framework.indicators]

    def text_property(values: list[str], what: str) -> dict[str, Any]:
        prop = {"type": "object", "required": ["value"], "properties": {"value": {"enum": values}}}
        return {"description": f"{what} A Property ('type' is not checked) or the value itself.",
                "anyOf": [prop, {"enum": values}]}  # fmt: skip

    observed = {
        "type": "string",
        "format": "date-time",
        WINDOW: window(max_future, max_age),
        "description": f"When it was true; at most {max_future} ahead of arrival, {max_age} before.",
    }
    entity = {
        "type": "object",
        "title": ENTITY_TYPE,
        "description": (
            "A Smart Data Models KeyPerformanceIndicator. Also accepted, not described here: key-values or concise "
            "forms, attribute names expanded to URIs, calculationPeriod or modifiedAt as the event time "
            "(docs/ingest.md)."
        ),
        "required": ["id", "type", "name", "area", "kpiValue"],
        "properties": {
            "id": {"type": "string", "minLength": 1},
            "type": {"const": ENTITY_TYPE},
            "name": text_property(indicators, "The framework's indicator id."),
            "area": text_property(regions, "The region's Kemendagri code."),
            "kpiValue": {
                "type": "object",
                "required": ["value", "observedAt"],
                "description": "A Property ('type' is not checked).",
                "properties": {"value": {"type": "number"}, "unitCode": {"type": "string"}, "observedAt": observed},
            },
        },
        "oneOf": [
            {
                "title": ind.id,
                "properties": {
                    "name": {"anyOf": [{"type": "object", "properties": {"value": {"const": ind.id}},
                                        "required": ["value"]}, {"const": ind.id}]},
                    "kpiValue": {"properties": {
                        "value": {"minimum": ind.bounds.min, "maximum": ind.bounds.max},
                        "unitCode": {"enum": sorted({c for c, u in UNIT_CODES.items() if u == ind.unit} | {ind.unit})},
                    }},
                },
            }
            for ind in framework.indicators
        ],
    }  # fmt: skip
    return {
        "type": "object",
        "title": NOTIFICATION,
        "description": "What an NGSI-LD context broker (Orion-LD) POSTs for a subscription.",
        "required": ["type", "data"],
        "properties": {
            "id": {"description": "urn:ngsi-ld:Notification:... (not checked)"},
            "type": {"const": "Notification"},
            "subscriptionId": {"description": "Kept on each event as attributes.ngsi-ld.subscription when a string."},
            "notifiedAt": {"description": "Not used: event time is the entity's."},
            "data": {"type": "array", "minItems": 1, "maxItems": max_batch, "items": entity},
        },
    }


def notification_body() -> dict[str, Any]:
    """The requestBody of POST /v1/ngsi-ld/notify (application/json or application/ld+json)."""
    ref = {"$ref": f"#/components/schemas/{NOTIFICATION}"}
    return {"required": True, "content": {media: {"schema": ref} for media in NGSI_LD_MEDIA}}


def with_limits(
    doc: dict[str, Any],
    framework: Framework,
    registry: RegionRegistry,
    *,
    max_batch: int,
    max_future: str,
    max_age: str,
) -> dict[str, Any]:
    """``doc``, the routes' document, completed with what the settings decide (the routes are the same for all).

    The request bodies of the event routes (at most ``max_batch`` events), the time window in their
    422 descriptions (``{max_future}`` and ``{max_age}`` there), put in FastAPI's order as a route's
    ``openapi_extra`` would be; then the request schemas of this framework and registry.
    """
    for path, body in (("/v1/events", events_body(max_batch)), ("/v1/events/ndjson", ndjson_body(max_batch))):
        operation = doc["paths"][path]["post"]
        invalid = operation["responses"]["422"]
        invalid["description"] = invalid["description"].format(max_future=max_future, max_age=max_age)
        operation["requestBody"] = body
    doc = jsonable_encoder(OpenAPI(**doc), by_alias=True, exclude_none=True)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas[EVENT_IN] = event_in_schema(framework, registry, max_future=max_future, max_age=max_age)
    schemas[NOTIFICATION] = notification_schema(framework, registry, max_batch=max_batch, max_future=max_future,
                                                max_age=max_age)  # fmt: skip
    return doc
