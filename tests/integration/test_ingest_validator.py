"""The raw-topic validator against the real broker: poison to the DLQ with reasons, good records flow."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import orjson
from kafka import KafkaProducer

from schemas.dlq import read_headers
from schemas.events import IndicatorEvent
from services.runtime.topics import admin_client
from tests.builders import a_kpi_entity, an_event_doc
from tests.integration.helpers import metric, produce, read_all, wait_for
from tests.integration.test_ingest_support import StartIngest, start_ingest

__all__ = ["start_ingest"]

NOW = datetime.now(UTC).replace(microsecond=0).isoformat()


def _doc(**overrides: object) -> bytes:
    return orjson.dumps(an_event_doc(**{"event_id": str(uuid.uuid4()), "observed_at": NOW, **overrides}))


def test_poison_records_go_to_the_dlq_while_good_ones_flow(start_ingest: StartIngest) -> None:
    ing = start_ingest()
    raw, out, dlq = ing.topic("indicator-events.raw"), ing.topic("indicator-events"), ing.topic("indicator-events.dlq")
    kpi = a_kpi_entity(kpiValue={"type": "Property", "value": 42.0, "unitCode": "GQ", "observedAt": NOW})
    notification = {
        "id": "urn:ngsi-ld:Notification:1",
        "type": "Notification",
        "subscriptionId": "urn:sub:7",
        "data": [
            kpi,
            a_kpi_entity(
                id="urn:x:2",
                area={"type": "Property", "value": "35.78"},
                kpiValue={"type": "Property", "value": 9.0, "observedAt": NOW},
            ),
        ],
    }
    good = [
        (b"anything", _doc(region_code="33.74", value=1.0)),  # re-keyed by region on the way out
        (None, orjson.dumps(notification)),  # two good KPI entities
    ]
    poison = {
        "undecodable": (b"k1", b"\x00\xffnot json"),
        "schema_invalid": (b"k2", orjson.dumps({"event_id": "nope", "value": "x"})),
        "ngsi_ld_invalid": (b"k3", orjson.dumps(a_kpi_entity(area=None))),
        "out_of_bounds": (b"k4", _doc(value=-5.0)),
        "unit_mismatch": (
            b"k5",
            orjson.dumps(
                a_kpi_entity(kpiValue={"type": "Property", "value": 1.0, "unitCode": "P1", "observedAt": NOW})
            ),
        ),
        "empty_value": (b"k6", None),
    }
    produce(ing.bootstrap, raw, [good[0], *poison.values(), good[1]])  # type: ignore[list-item]
    after = _doc(region_code="31.71", value=2.0)
    produce(ing.bootstrap, raw, [(None, after)])

    events = wait_for("4 valid events", lambda: (r := read_all(ing.bootstrap, out)) and len(r) >= 4 and r, timeout=90)
    got = sorted((r.key, IndicatorEvent.model_validate_json(r.value).value) for r in events)
    assert got == [(b"31.71", 2.0), (b"32.73", 42.0), (b"33.74", 1.0), (b"35.78", 9.0)]

    dead = wait_for("6 dead letters", lambda: (r := read_all(ing.bootstrap, dlq)) and len(r) >= 6 and r, timeout=30)
    by_reason = {read_headers(r.headers)["pantau.dlq.reason"]: r for r in dead}
    assert set(by_reason) == set(poison)
    for reason, (key, value) in poison.items():
        rec = by_reason[reason]
        h = read_headers(rec.headers)
        assert (rec.key, rec.value) == (key, value or b"")
        assert h["pantau.dlq.source.topic"] == raw and h["pantau.dlq.service"] == "ingest" and h["pantau.dlq.detail"]
        assert int(h["pantau.dlq.source.offset"]) >= 0 and 0 <= int(h["pantau.dlq.source.partition"]) < 12
    assert "event_id" in read_headers(by_reason["schema_invalid"].headers)["pantau.dlq.detail"]

    text = ing.metrics()
    for reason in poison:
        assert metric(text, "pantau_ingest_messages_invalid_total", reason=reason) == 1, reason
    assert metric(text, "pantau_ingest_events_accepted_total", source="kafka") == 4
    assert metric(text, "pantau_ingest_events_rejected_total", source="kafka", reason="undecodable") == 1

    # Offsets are committed once the output is acknowledged: the group has consumed the whole raw topic.
    def committed_all() -> bool:
        admin = admin_client(ing.bootstrap)
        try:
            group = ing.prefix + "pantau-ingest-validator"
            offsets = admin.list_group_offsets(group).get(group, {})
        finally:
            admin.close()
        return sum(o.offset for tp, o in offsets.items() if tp.topic == raw) == len(good) + len(poison) + 1

    wait_for("the validator's offsets to cover the raw topic", committed_all, timeout=30)
    assert 'pantau_ingest_consumer_lag_messages{partition="' in ing.metrics()
    assert ing.proc.alive()


def test_a_record_stamped_ahead_does_not_carry_a_future_event_through(start_ingest: StartIngest) -> None:
    """Issue 11 D2: the validator judges observed_at by its own clock, not by the record's CreateTime. A
    record stamped 50 minutes ahead (the broker allows up to an hour) with observed_at 54 minutes ahead
    is dead-lettered; one stamped in the past with observed_at now is accepted."""
    ing = start_ingest()
    raw, out, dlq = ing.topic("indicator-events.raw"), ing.topic("indicator-events"), ing.topic("indicator-events.dlq")
    now = datetime.now(UTC).replace(microsecond=0)
    ahead = _doc(observed_at=(now + timedelta(minutes=54)).isoformat(), value=3.0)
    fine = _doc(observed_at=now.isoformat(), value=4.0)
    producer = KafkaProducer(bootstrap_servers=ing.bootstrap, acks="all")
    producer.send(raw, key=b"32.73", value=ahead, timestamp_ms=int((now + timedelta(minutes=50)).timestamp() * 1000))
    producer.send(raw, key=b"32.73", value=fine, timestamp_ms=int((now - timedelta(days=2)).timestamp() * 1000))
    producer.flush()
    producer.close()
    dead = wait_for("1 dead letter", lambda: read_all(ing.bootstrap, dlq), timeout=90)
    assert [read_headers(r.headers)["pantau.dlq.reason"] for r in dead] == ["observed_in_future"]
    assert dead[0].value == ahead
    events = wait_for("1 event", lambda: read_all(ing.bootstrap, out), timeout=30)
    assert [IndicatorEvent.model_validate_json(r.value).value for r in events] == [4.0]
