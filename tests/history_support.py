"""Builders of the contracts the history writer follows (valid by default, with overrides)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.alerts import AlertEvent
from schemas.masterplan import Masterplan
from schemas.scores import RegionScore


def a_region_score(**overrides: Any) -> RegionScore:
    """Kota Bandung under pp59@2022.1: one dimension of one element (enough for the rows to be checked)."""
    fields: dict[str, Any] = {
        "region_code": "32.73",
        "province_code": "32",
        "framework": "pp59@2022.1",
        "evaluated_at": dt.datetime(2026, 5, 20, 3, 7, 42, tzinfo=dt.UTC),
        "index": 3.2,
        "level": 4,
        "level_name": "Terpadu dan Terukur",
        "coverage": 0.9,
        "status": "ok",
        "dimensions": [
            {
                "dimension_id": "governance", "score": 3.2, "coverage": 0.9, "status": "ok",
                "elements": [{"element_id": "public_services", "score": 3.2, "coverage": 0.9, "status": "ok"}],
            }
        ],
        "indicators": [],
        "events_applied": 7,
    }  # fmt: skip
    fields.update(overrides)
    return RegionScore.model_validate(fields)


def an_alert_event(**overrides: Any) -> AlertEvent:
    fields: dict[str, Any] = {
        "alert_id": "a" * 24,
        "transition_id": "t" * 24,
        "region_code": "32.73",
        "province_code": "32",
        "kind": "behind_trajectory",
        "target": "index",
        "state": "firing",
        "severity": "warning",
        "at": dt.datetime(2026, 5, 20, 3, 8, tzinfo=dt.UTC),
        "current": 2.1,
        "expected": 2.6,
        "gap": 0.5,
        "summary": "Kota Bandung is 0.50 behind its path to 2029",
    }
    fields.update(overrides)
    return AlertEvent.model_validate(fields)


def a_masterplan(**overrides: Any) -> Masterplan:
    fields: dict[str, Any] = {
        "region_code": "32.73",
        "plan_id": "bandung-2029",
        "basis": "region",
        "framework_id": "pp59",
        "milestones": [
            {"due": "2027-12-31", "targets": {"index": 3.0}},
            {"due": "2029-12-31", "targets": {"index": 3.5, "governance": 3.8}},
        ],
    }
    fields.update(overrides)
    return Masterplan.model_validate(fields)
