"""The raw-topic handler and the NGSI-LD adapter: what a record yields, and why a record is dead-lettered.

Times are worked out by hand: WIB is UTC+7 (Java, Sumatra), WITA UTC+8 (Bali, Sulawesi), WIT UTC+9
(Maluku, Papua); the validator's clock says 09:00Z on 27 November 2026 unless a test sets another.
"""

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
from services.ingest.raw_topic import RawOutcome, RawValidator
from tests.builders import a_kpi_entity, an_event_doc

FW = load_framework()
RULES = Rules(default_registry(), FW, TimeLimits(timedelta(minutes=5), timedelta(days=3650)))
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
UNITS = {i.id: i.unit for i in FW.indicators}


def _handle(value: bytes | None, key: bytes | None = None, now: datetime = NOW) -> RawOutcome:
    return RawValidator(RULES, dlq_topic="dlq", clock=lambda: now).handle(key, value, "raw", 3, 42)


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
        # The validator's clock says 09:00; 09:10 is more than 5 minutes ahead.
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
    # The Smart Data Models example shape: key-values, period 'to' a date -> 00:00 of that day in the
    # region's zone (33.01 Cilacap, Central Java: WIB), as a CSV period's last day.
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
        "2024-12-31T00:00:00+07:00",
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
    assert [p.code for p in out.rejected] == ["unknown_region"]
    empty = _handle(orjson.dumps({"type": "Notification", "data": []}))
    assert empty.reason == "ngsi_ld_invalid" and empty.events == []


def test_a_stated_unit_that_is_not_the_indicators_is_refused() -> None:
    entity = a_kpi_entity(
        kpiValue={"type": "Property", "value": 21.5, "unitCode": "P1", "observedAt": "2026-11-27T08:00:00Z"}
    )
    out = _handle(orjson.dumps(entity))
    assert out.reason == "unit_mismatch" and out.events == []


def test_an_unknown_kpi_name_is_unknown_indicator_not_a_schema_problem() -> None:
    """F1: the adapter has no unit to assume for an indicator the framework lacks; that is the problem."""
    note = {"type": "Notification", "data": [a_kpi_entity(), a_kpi_entity(name={"type": "Property", "value": "NOPE"})]}
    out = _handle(orjson.dumps(note))
    assert out.reason == "unknown_indicator" and len(out.events) == 1 and out.dead_letter is not None
    assert read_headers(out.dead_letter.headers)["pantau.dlq.detail"] == (
        "entity[1] name: 'NOPE' is not an indicator id of the framework"
    )
    # Without unitCode too (the case that read 'unit: String should have at least 1 character').
    kv = {"id": "urn:x:1", "type": "KeyPerformanceIndicator", "name": "NOPE", "area": "32.73", "kpiValue": 1.0,
          "calculationPeriod": {"from": "2026-11-26", "to": "2026-11-26"}}  # fmt: skip
    assert _handle(orjson.dumps(kv)).reason == "unknown_indicator"


def _daily(region: str, day: str, indicator: str = "ENV_PM25", value: float = 30.0) -> bytes:
    """A key-values daily KPI, as the Smart Data Models example writes it: a calculationPeriod of one day."""
    return orjson.dumps({"id": f"urn:ngsi-ld:KeyPerformanceIndicator:{region}-{day}", "type": "KeyPerformanceIndicator",
                         "name": indicator, "area": region, "kpiValue": value,
                         "calculationPeriod": {"from": day, "to": day}})  # fmt: skip


@pytest.mark.parametrize(
    ("region", "zone", "arrival", "observed"),
    [
        # Kota Bandung (32, West Java), WIB: 01:31 WIB on 2 December is 18:31Z on 1 December.
        ("32.73", "WIB", datetime(2026, 12, 1, 18, 31, tzinfo=UTC), "2026-12-01T00:00:00+07:00"),
        # Kota Denpasar (51, Bali), WITA: 00:10 WITA on 2 December is 16:10Z on 1 December.
        ("51.71", "WITA", datetime(2026, 12, 1, 16, 10, tzinfo=UTC), "2026-12-01T00:00:00+08:00"),
        # Kota Jayapura (91, Papua), WIT: 00:01 WIT on 2 December is 15:01Z on 1 December.
        ("91.71", "WIT", datetime(2026, 12, 1, 15, 1, tzinfo=UTC), "2026-12-01T00:00:00+09:00"),
    ],
)
def test_a_daily_kpi_is_the_regions_own_day(region: str, zone: str, arrival: datetime, observed: str) -> None:
    """F2: yesterday's daily KPI sent just after local midnight is accepted and dated 00:00 local.

    Read as a UTC day (the old way) it was stamped 23:59:59.999Z on 1 December, 5.5, 7.8 and 9.0 hours
    ahead of these arrivals: refused as observed_in_future."""
    out = _handle(_daily(region, "2026-12-01"), now=arrival)
    assert out.dead_letter is None, read_headers(out.dead_letter.headers)
    (ev,) = out.events
    offset = {"WIB": 7, "WITA": 8, "WIT": 9}[zone]
    assert ev.observed_at.isoformat() == observed and ev.observed_at.utcoffset() == timedelta(hours=offset)


@pytest.mark.parametrize(
    ("region", "at_23_54_local"),
    [
        # 23:54 local on 30 November; 1 December begins at 17:00Z (WIB), 16:00Z (WITA), 15:00Z (WIT).
        ("32.73", datetime(2026, 11, 30, 16, 54, tzinfo=UTC)),
        ("51.71", datetime(2026, 11, 30, 15, 54, tzinfo=UTC)),
        ("91.71", datetime(2026, 11, 30, 14, 54, tzinfo=UTC)),
    ],
)
def test_a_daily_kpi_for_a_local_day_not_begun_is_in_the_future(region: str, at_23_54_local: datetime) -> None:
    # At 23:54 local, 00:00 on 1 December is 6 minutes ahead: more than the 5 allowed.
    early = _handle(_daily(region, "2026-12-01"), now=at_23_54_local)
    assert early.reason == "observed_in_future" and early.events == []
    # At 23:55 local it is exactly 5 minutes ahead: accepted (the limit is inclusive).
    ok = _handle(_daily(region, "2026-12-01"), now=at_23_54_local + timedelta(minutes=1))
    assert ok.dead_letter is None and len(ok.events) == 1


def test_date_times_keep_their_instant_and_a_zoneless_one_is_utc() -> None:
    at = {"type": "Property", "value": 21.5, "unitCode": "GQ", "observedAt": "2026-11-27T08:00:00+07:00"}
    assert ngsi_ld.to_event(a_kpi_entity(kpiValue=at), UNITS)["observed_at"] == "2026-11-27T08:00:00+07:00"  # type: ignore[index]
    naive = {**at, "observedAt": "2026-11-27T08:00:00"}  # NGSI-LD DateTimes are UTC
    assert ngsi_ld.to_event(a_kpi_entity(kpiValue=naive), UNITS)["observed_at"] == "2026-11-27T08:00:00+00:00"  # type: ignore[index]
    utc_day = {**at, "observedAt": "2026-11-26Z"}  # a date that names its zone
    assert ngsi_ld.to_event(a_kpi_entity(kpiValue=utc_day), UNITS)["observed_at"] == "2026-11-26T00:00:00+00:00"  # type: ignore[index]


def test_expanded_attribute_names_are_read_by_their_short_name() -> None:
    sdm = "https://smartdatamodels.org/dataModel.KeyPerformanceIndicator/"
    entity = {"id": "urn:x:9", "type": sdm + "KeyPerformanceIndicator",
              sdm + "name": {"type": "Property", "value": "ENV_PM25"},
              "https://uri.etsi.org/ngsi-ld/default-context/area": {"type": "Property", "value": "32.73"},
              sdm + "kpiValue": {"type": "Property", "value": 12.0, "observedAt": "2026-11-27T08:00:00Z"}}  # fmt: skip
    doc = ngsi_ld.to_event(entity, UNITS)
    assert isinstance(doc, dict)
    assert (doc["region_code"], doc["indicator_id"], doc["value"]) == ("32.73", "ENV_PM25", 12.0)


def test_the_validator_judges_time_by_its_own_clock_not_the_records_timestamp() -> None:
    """D2: a record stamped 50 minutes ahead with observed_at 54 minutes ahead is refused (was accepted)."""
    value = orjson.dumps(an_event_doc(observed_at=(NOW + timedelta(minutes=54)).isoformat()))
    out = _handle(value)  # whatever the record's CreateTime says: the handler is not even told it
    assert out.reason == "observed_in_future" and out.events == []
    assert _handle(orjson.dumps(an_event_doc(observed_at=(NOW + timedelta(minutes=5)).isoformat()))).events
