"""The intake handler with a stand-in writer: statuses, duplicates, what is written, metrics. No I/O."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from prometheus_client import CollectorRegistry

from schemas.events import IndicatorEvent
from schemas.framework import load_framework
from schemas.regions import default_registry
from schemas.validation import TimeLimits
from services.ingest.domain.auth import ALL, Publisher, Scope, hash_key
from services.ingest.domain.dedupe import RecentIds, Seen
from services.ingest.domain.intake import Rules, Status
from services.ingest.handlers import Intake
from services.ingest.metrics import IngestMetrics
from services.ingest.writer import KafkaUnavailable, Record
from tests.builders import an_event_doc

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
RULES = Rules(default_registry(), load_framework(), TimeLimits(timedelta(minutes=5), timedelta(days=3650)))
PUB = Publisher(
    id="bandung",
    name="Bandung",
    key_id="0123456789ab",
    key_hash=hash_key("k"),
    scope=Scope(regions=("32.73",), provinces=("33",), indicators=(ALL,)),
    created_at=NOW,
)


class FakeWriter:
    """Acknowledges the first ``ack`` records of each write (all by default); or is 'down'."""

    def __init__(self, ack: int | None = None, down: bool = False) -> None:
        self.ack, self.down = ack, down
        self.records: list[Record] = []

    async def write(self, records: Sequence[Record]) -> list[bool]:
        if self.down:
            raise KafkaUnavailable("broker down")
        n = len(records) if self.ack is None else self.ack
        self.records.extend(records[:n])
        return [i < n for i in range(len(records))]


def _intake(writer: FakeWriter, registry: CollectorRegistry | None = None) -> Intake:
    metrics = IngestMetrics(registry or CollectorRegistry())
    return Intake(RULES, writer, RecentIds(1000, 3600.0), metrics, topic="t", clock=lambda: NOW)


def _doc(**overrides: object) -> dict:
    return an_event_doc(event_id=str(uuid.uuid4()), observed_at=NOW.isoformat(), **overrides)


def _submit(intake: Intake, items: list) -> object:
    return asyncio.run(intake.submit(items, PUB))


def test_accepted_events_are_written_keyed_by_region_with_the_publisher() -> None:
    w = FakeWriter()
    sub = _submit(_intake(w), [_doc(), _doc(region_code="33.01", indicator_id="IPM", unit="index 0-100", value=70.1)])
    assert sub.http_status == 200 and [r.status for r in sub.results] == [Status.ACCEPTED, Status.ACCEPTED]
    assert [(r.topic, r.key) for r in w.records] == [("t", b"32.73"), ("t", b"33.01")]
    ev = IndicatorEvent.model_validate_json(w.records[1].value)
    assert (ev.publisher, ev.value, ev.indicator_id) == ("bandung", 70.1, "IPM")


def test_statuses_add_up_to_the_http_status() -> None:
    reg = CollectorRegistry()
    w = FakeWriter()
    intake = _intake(w, reg)
    mixed = _submit(intake, [_doc(), _doc(unit="mg/m3")])
    assert mixed.http_status == 207 and len(w.records) == 1
    assert mixed.results[1].errors[0].code == "unit_mismatch"
    assert _submit(intake, [_doc(value=-1.0), {"nope": 1}]).http_status == 422
    assert len(w.records) == 1
    assert reg.get_sample_value("pantau_ingest_events_accepted_total", {"source": "http"}) == 1
    assert (
        reg.get_sample_value("pantau_ingest_events_rejected_total", {"source": "http", "reason": "out_of_bounds"}) == 1
    )
    assert (
        reg.get_sample_value("pantau_ingest_events_rejected_total", {"source": "http", "reason": "missing_field"}) == 1
    )


def test_a_resubmitted_event_is_a_duplicate_and_not_written_again() -> None:
    w = FakeWriter()
    intake = _intake(w)
    doc = _doc()
    assert _submit(intake, [doc]).results[0].status is Status.ACCEPTED
    again = _submit(intake, [doc, doc])  # again, and twice in one request
    assert [r.status for r in again.results] == [Status.DUPLICATE, Status.DUPLICATE]
    assert again.http_status == 200 and len(w.records) == 1
    # The same id in different case is the same UUID.
    assert _submit(intake, [{**doc, "event_id": doc["event_id"].upper()}]).results[0].status is Status.DUPLICATE


def test_kafka_down_is_503_nothing_written_and_the_ids_are_free_again() -> None:
    w = FakeWriter(down=True)
    intake = _intake(w)
    docs = [_doc(), _doc()]
    sub = _submit(intake, docs)
    assert sub.http_status == 503 and [r.status for r in sub.results] == [Status.UNAVAILABLE] * 2
    assert intake.dedupe.status(docs[0]["event_id"]) is Seen.NEW
    w.down = False
    assert _submit(intake, docs).http_status == 200 and len(w.records) == 2


def test_a_partial_ack_reports_which_items_were_written() -> None:
    w = FakeWriter(ack=1)
    intake = _intake(w)
    docs = [_doc(), _doc()]
    sub = _submit(intake, docs)
    assert sub.http_status == 503
    assert [r.status for r in sub.results] == [Status.ACCEPTED, Status.UNAVAILABLE]
    # Sending the whole batch again writes only what was missing.
    w.ack = None
    again = _submit(intake, docs)
    assert [r.status for r in again.results] == [Status.DUPLICATE, Status.ACCEPTED] and len(w.records) == 2


@pytest.mark.parametrize("field", ["region_code", "indicator_id"])
def test_out_of_scope_refuses_the_whole_request(field: str) -> None:
    w = FakeWriter()
    bad = _doc(region_code="31.71") if field == "region_code" else _doc()
    if field == "indicator_id":
        pub = PUB.model_copy(update={"scope": Scope(regions=("32.73",), indicators=("IPM",))})
        sub = asyncio.run(_intake(w).submit([_doc(indicator_id="IPM", unit="index 0-100", value=70.0), bad], pub))
    else:
        sub = _submit(_intake(w), [_doc(), bad])
    assert sub.http_status == 403 and w.records == []
    assert [(r.index, r.errors[0].field, r.errors[0].code) for r in sub.results] == [(1, field, "out_of_scope")]


def test_dedupe_forgets_by_capacity_and_by_window() -> None:
    t = [0.0]
    ids = RecentIds(capacity=2, window=10.0, clock=lambda: t[0])
    for i in ("a", "b", "c"):
        assert ids.reserve(i)
        ids.confirm(i)
    assert (ids.status("a"), ids.status("b"), ids.status("c")) == (Seen.NEW, Seen.WRITTEN, Seen.WRITTEN)
    t[0] = 10.0
    assert ids.status("b") is Seen.WRITTEN  # exactly the window: still remembered
    t[0] = 10.5
    assert ids.status("b") is Seen.NEW and ids.reserve("b") and ids.status("b") is Seen.PENDING
    assert not ids.reserve("b")
    ids.release("b")
    assert ids.status("b") is Seen.NEW


def test_records_are_the_contract_json() -> None:
    w = FakeWriter()
    _submit(_intake(w), [_doc(attributes={"station": "dago"})])
    body = orjson.loads(w.records[0].value)
    assert body["attributes"] == {"station": "dago"} and body["schema_version"] == 1 and body["publisher"] == "bandung"
