"""The raw-topic handler and the NGSI-LD adapter: what a record yields, and why a record is dead-lettered."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from schemas.dlq import read_headers
from schemas.framework import load_framework
from schemas.regions import default_registry
from schemas.validation import TimeLimits
from services.ingest.domain import ngsi_ld
from services.ingest.domain.intake import Rules
from services.ingest.handlers import RawValidator
from tests.builders import a_kpi_entity, an_event_doc

FW = load_framework()
RULES = Rules(default_registry(), FW, TimeLimits(timedelta(minutes=5), timedelta(days=3650)))
AT_MS = int(datetime(2026, 11, 27, 9, 0, tzinfo=UTC).timestamp() * 1000)
UNITS = {i.id: i.unit for i in FW.indicators}


def _handle(value: bytes | None, key: bytes | None = None) -> object:
    return RawValidator(RULES, dlq_topic="dlq").handle(key, value, "raw", 3, 42, AT_MS)


def test_a_json_event_passes_as_is() -> None:
    out = _handle(orjson.dumps(an_event_doc(publisher="aqms-gateway")))
    assert [e.publisher for e in out.events] == ["aqms-gateway"] and out.dead_letter is None


@pytest.mark.parametrize(
    ("value", "reason", "detail"),
    [
        (None, "empty_value", "record has no value"),
        (b"\xff{", "undecodable", "not JSON"),
        (b"[1, 2]", "schema_invalid", "an event is a JSON object"),
        (orjson.dumps({"event_id": str(uuid.uuid4())}), "schema_invalid", "region_code: Field required"),
        (orjson.dumps(an_event_doc(value=5000.0)), "out_of_bounds", "value: 5000.0 is outside"),
        # The record's own timestamp is 'now': 09:00; 09:10 is more than 5 minutes ahead.
        (orjson.dumps(an_event_doc(observed_at="2026-11-27T09:10:00Z")), "observed_in_future", "observed_at: "),
    ],
)
def test_bad_records_are_dead_lettered_with_reason_and_source(value: bytes | None, reason: str, detail: str) -> None:
    out = _handle(value, key=b"k")
    assert out.events == [] and out.reason == reason and out.dead_letter is not None
    dl = out.dead_letter
    assert (dl.topic, dl.key, dl.value) == ("dlq", b"k", value or b"")
    h = read_headers(dl.headers)
    assert h["pantau.dlq.reason"] == reason and detail in h["pantau.dlq.detail"]
    assert (h["pantau.dlq.source.topic"], h["pantau.dlq.source.partition"], h["pantau.dlq.source.offset"]) == (
        "raw",
        "3",
        "42",
    )
    assert h["pantau.dlq.service"] == "ingest"


def test_a_kpi_entity_maps_to_an_event() -> None:
    doc = ngsi_ld.to_event(a_kpi_entity(), UNITS, "urn:sub:1")
    assert isinstance(doc, dict)
    assert {k: doc[k] for k in ("region_code", "indicator_id", "value", "unit", "observed_at", "source")} == {
        "region_code": "32.73",
        "indicator_id": "ENV_PM25",
        "value": 21.5,
        "unit": "ug/m3",
        "observed_at": "2026-11-27T08:00:00+00:00",
        "source": "aqms-bandung",
    }
    assert doc["attributes"] == {
        "ngsi-ld.id": "urn:ngsi-ld:KeyPerformanceIndicator:bandung-pm25",
        "ngsi-ld.subscription": "urn:sub:1",
    }
    # The same reading sent again is the same event; another value is another.
    assert ngsi_ld.to_event(a_kpi_entity(), UNITS)["event_id"] == doc["event_id"]  # type: ignore[index]
    other = a_kpi_entity(kpiValue={"type": "Property", "value": 22.0, "observedAt": "2026-11-27T08:00:00Z"})
    assert ngsi_ld.to_event(other, UNITS)["event_id"] != doc["event_id"]  # type: ignore[index]


def test_key_values_form_and_calculation_period() -> None:
    # The Smart Data Models example shape: key-values, period 'to' a date -> the end of that day.
    entity = {
        "id": "urn:ngsi-ld:KeyPerformanceIndicator:ipm-2024",
        "type": "KeyPerformanceIndicator",
        "name": "IPM",
        "area": "33.01",
        "kpiValue": 70.25,
        "calculationPeriod": {"from": "2024-01-01", "to": "2024-12-31"},
        "organization": "BPS",
    }
    doc = ngsi_ld.to_event(entity, UNITS)
    assert isinstance(doc, dict)
    assert (doc["unit"], doc["observed_at"], doc["source"]) == (
        "index 0-100",
        "2024-12-31T23:59:59.999999+00:00",
        "BPS",
    )


@pytest.mark.parametrize(
    ("entity", "field"),
    [
        (a_kpi_entity(type="AirQualityObserved"), "type"),
        (a_kpi_entity(area=None), "area"),
        (a_kpi_entity(name={"type": "Property", "value": 7}), "name"),
        (a_kpi_entity(kpiValue={"type": "Property", "value": "high"}), "kpiValue"),
        (a_kpi_entity(kpiValue={"type": "Property", "value": 1.0}), "kpiValue.observedAt"),
        (a_kpi_entity(kpiValue={"type": "Property", "value": 1.0, "observedAt": "yesterday"}), "kpiValue.observedAt"),
    ],
)
def test_bad_kpi_entities_name_the_attribute(entity: dict, field: str) -> None:
    got = ngsi_ld.to_event(entity, UNITS)
    assert not isinstance(got, dict) and got.field == field


def test_a_notification_yields_its_good_entities_and_dead_letters_the_rest() -> None:
    note = {
        "id": "urn:ngsi-ld:Notification:1",
        "type": "Notification",
        "subscriptionId": "urn:sub:1",
        "data": [
            a_kpi_entity(),
            a_kpi_entity(area={"type": "Property", "value": "99.99"}),
            a_kpi_entity(
                id="urn:x:2",
                kpiValue={"type": "Property", "value": 30, "unitCode": "GQ", "observedAt": "2026-11-27T08:30:00Z"},
            ),
        ],
    }
    out = _handle(orjson.dumps(note))
    assert [(e.region_code, e.value) for e in out.events] == [("32.73", 21.5), ("32.73", 30.0)]
    assert out.reason == "unknown_region" and out.dead_letter is not None
    assert "entity[1] region_code: '99.99'" in read_headers(out.dead_letter.headers)["pantau.dlq.detail"]
    empty = _handle(orjson.dumps({"type": "Notification", "data": []}))
    assert empty.reason == "ngsi_ld_invalid" and empty.events == []


def test_a_stated_unit_that_is_not_the_indicators_is_refused() -> None:
    entity = a_kpi_entity(
        kpiValue={"type": "Property", "value": 21.5, "unitCode": "P1", "observedAt": "2026-11-27T08:00:00Z"}
    )
    out = _handle(orjson.dumps(entity))
    assert out.reason == "unit_mismatch" and out.events == []
