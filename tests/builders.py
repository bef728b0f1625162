"""Builders of valid models, with overrides (as cosmicpython's random_refs does)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from schemas.events import IndicatorEvent


def an_indicator_event(**overrides: Any) -> IndicatorEvent:
    fields: dict[str, Any] = {
        "event_id": uuid.uuid4(),
        "region_code": "32.73",
        "indicator_id": "ENV_PM25",
        "value": 21.5,
        "unit": "ug/m3",
        "observed_at": datetime(2026, 11, 27, 8, 0, tzinfo=UTC),
        "source": "aqms-bandung",
    }
    fields.update(overrides)
    return IndicatorEvent(**fields)


def framework_doc(**overrides: Any) -> dict[str, Any]:
    """A small valid framework document (as parsed from YAML) for loader tests."""
    ind = {
        "id": "GOV_UPTIME",
        "name": "Uptime",
        "unit": "percent",
        "direction": "higher_is_better",
        "weight": 1,
        "bounds": {"min": 0, "max": 100},
        "normalisation": {"method": "min_max", "min": 90, "max": 100},
        "aggregation": {"method": "mean", "window": "P1D"},
        "validity": "P2D",
        "source": "test",
    }
    body: dict[str, Any] = {
        "id": "tiny",
        "version": "1",
        "title": "Tiny",
        "minimum_coverage": 0.5,
        "levels": [
            {"level": 1, "name": "Rintisan", "min_score": 0},
            {"level": 2, "name": "Terkelola", "min_score": 1},
            {"level": 3, "name": "Terdefinisi", "min_score": 2},
            {"level": 4, "name": "Terpadu dan Terukur", "min_score": 3},
            {"level": 5, "name": "Optimum", "min_score": 4},
        ],
        "dimensions": [
            {
                "id": "governance",
                "name": "Governance",
                "elements": [{"id": "public_services", "name": "Public services", "indicators": [ind]}],
            }
        ],
    }
    body.update(overrides)
    return {"framework": body}


def an_indicator_doc(
    ind_id: str,
    *,
    norm: dict[str, Any],
    agg: dict[str, Any],
    direction: str = "higher_is_better",
    weight: float = 1,
    validity: str = "P2D",
) -> dict[str, Any]:
    """A valid indicator entry of a framework document (bounds wide enough for any test value)."""
    return {
        "id": ind_id,
        "name": ind_id.lower(),
        "unit": "unit",
        "direction": direction,
        "weight": weight,
        "bounds": {"min": -1e12, "max": 1e12},
        "normalisation": norm,
        "aggregation": agg,
        "validity": validity,
        "source": "test",
    }


def an_event_doc(**overrides: Any) -> dict[str, Any]:
    """A valid indicator event as a publisher sends it (JSON-ready, no ``publisher``)."""
    doc = an_indicator_event().model_dump(mode="json", exclude={"publisher"})
    doc.update(overrides)
    return doc


def a_kpi_entity(**overrides: Any) -> dict[str, Any]:
    """A FIWARE NGSI-LD KeyPerformanceIndicator entity (normalised) as Pantau's adapter maps it."""
    entity: dict[str, Any] = {
        "id": "urn:ngsi-ld:KeyPerformanceIndicator:bandung-pm25",
        "type": "KeyPerformanceIndicator",
        "name": {"type": "Property", "value": "ENV_PM25"},
        "area": {"type": "Property", "value": "32.73"},
        "kpiValue": {"type": "Property", "value": 21.5, "unitCode": "GQ", "observedAt": "2026-11-27T08:00:00Z"},
        "provider": {"type": "Property", "value": "aqms-bandung"},
    }
    entity.update(overrides)
    return entity
