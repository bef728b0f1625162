"""The request schema of the HTTP API, built from the contract, the region registry and the framework.

The OpenAPI document says as exactly as JSON Schema can what is accepted, so that a client (or
schemathesis) that follows it is not refused: the region code is one of the registry's, each
indicator fixes its unit and the physical bounds of its value, ``publisher`` is absent (the service
sets it) and no other field is allowed. What JSON Schema cannot say, the time window of
``observed_at``, is in the description.
"""

from __future__ import annotations

import copy
from typing import Any

from schemas.events import MAX_ATTRIBUTES, IndicatorEvent
from schemas.framework import Framework
from schemas.regions import RegionRegistry

EVENT_IN = "IndicatorEventIn"
NDJSON = "application/x-ndjson"


def event_in_schema(framework: Framework, registry: RegionRegistry, *, max_future: str, max_age: str) -> dict[str, Any]:
    """JSON Schema of one submitted event (the IndicatorEvent contract without ``publisher``)."""
    base = copy.deepcopy(IndicatorEvent.model_json_schema())
    props = base["properties"]
    del props["publisher"]
    props["region_code"] = {**props["region_code"], "enum": sorted(registry.regions)}
    props["indicator_id"] = {**props["indicator_id"], "enum": [i.id for i in framework.indicators]}
    props["attributes"] = {**props["attributes"], "additionalProperties": False, "maxProperties": MAX_ATTRIBUTES}
    props["observed_at"]["description"] = (
        f"Event time with a time zone; at most {max_future} ahead of arrival and at most {max_age} before it."
    )
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
