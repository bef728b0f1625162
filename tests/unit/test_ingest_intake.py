"""The intake handler with a stand-in writer: statuses, duplicates, what is written, metrics. No I/O.

The timelines (a resubmission while the first write waits for the broker) run in one event loop, with
the stand-in's gates deciding when the "broker" answers.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry

from schemas.dlq import read_headers
from schemas.events import IndicatorEvent
from schemas.framework import load_framework
from schemas.regions import default_registry
from schemas.validation import TimeLimits
from services.ingest.domain.auth import ALL, Publisher, Scope, hash_key
from services.ingest.domain.dedupe import RecentIds, Seen
from services.ingest.domain.intake import Rules, Status
from services.ingest.metrics import IngestMetrics
from services.ingest.submissions import Intake, Submission
from services.ingest.writer import KafkaUnavailable, Record
from tests.builders import a_kpi_entity, an_event_doc

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
SURABAYA = Publisher(
    id="surabaya",
    name="Surabaya",
    key_id="ba9876543210",
    key_hash=hash_key("s"),
    scope=Scope(regions=("35.78",), indicators=(ALL,)),
    created_at=NOW,
)
A, U, D, R = Status.ACCEPTED, Status.UNAVAILABLE, Status.DUPLICATE, Status.REJECTED


class FakeWriter:
    """Acknowledges the first ``ack`` records of each write (all by default), or is 'down' (sends nothing).

    ``gate``: a write waits for it (the broker is slow). ``lands``: the records it does not acknowledge
    reach the log anyway (the ack was lost), which is what ``settle`` then finds.
    """

    def __init__(self, ack: int | None = None, down: bool = False) -> None:
        self.ack, self.down, self.lands = ack, down, False
        self.ready = True
        self.records: list[Record] = []
        self.writes = 0
        self.gate: asyncio.Event | None = None
        self.settle_gate: asyncio.Event | None = None
        self.settled: list[list[Record]] = []

    async def write(self, records: Sequence[Record]) -> list[bool]:
        if self.down:
            raise KafkaUnavailable("broker down")
        self.writes += 1
        if self.gate is not None:
            await self.gate.wait()
        n = len(records) if self.ack is None else self.ack
        self.records.extend(records if self.lands else records[:n])
        return [i < n for i in range(len(records))]

    async def settle(self, records: Sequence[Record], since_ms: int) -> list[bool]:
        assert since_ms == int(NOW.timestamp() * 1000)
        if self.settle_gate is not None:
            await self.settle_gate.wait()
        self.settled.append(list(records))
        return [r in self.records for r in records]


def _intake(writer: FakeWriter, registry: CollectorRegistry | None = None, wait_timeout: float = 5.0) -> Intake:
    metrics = IngestMetrics(registry or CollectorRegistry())
    return Intake(RULES, writer, RecentIds(1000, 3600.0), metrics, topic="t", dlq_topic="dlq",
                  wait_timeout=wait_timeout, clock=lambda: NOW)  # fmt: skip


def _doc(**overrides: object) -> dict:
    return an_event_doc(event_id=str(uuid.uuid4()), observed_at=NOW.isoformat(), **overrides)


def _run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(scenario())


def _submit(intake: Intake, items: list, pub: Publisher = PUB) -> Submission:
    return asyncio.run(intake.submit(items, pub))


def _statuses(sub: Submission) -> list[Status]:
    return [r.status for r in sub.results]


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition not reached")


def test_accepted_events_are_written_keyed_by_region_with_the_publisher() -> None:
    w = FakeWriter()
    sub = _submit(_intake(w), [_doc(), _doc(region_code="33.01", indicator_id="IPM", unit="index 0-100", value=70.1)])
    assert sub.http_status == 200 and _statuses(sub) == [A, A]
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
    reg = CollectorRegistry()
    w = FakeWriter()
    intake = _intake(w, reg)
    doc = _doc()
    assert _statuses(_submit(intake, [doc])) == [A]
    again = _submit(intake, [doc, doc])  # again, and twice in one request
    assert _statuses(again) == [D, D] and again.http_status == 200 and len(w.records) == 1
    # The same id in different case is the same UUID.
    assert _statuses(_submit(intake, [{**doc, "event_id": doc["event_id"].upper()}])) == [D]
    assert reg.get_sample_value("pantau_ingest_events_duplicate_total", {"source": "http"}) == 3


def test_twice_in_one_request_follows_the_first_one() -> None:
    w = FakeWriter(down=True)
    intake = _intake(w)
    doc = _doc()
    assert _statuses(_submit(intake, [doc, doc])) == [U, U]  # not written: the repeat is no duplicate of anything
    w.down = False
    assert _statuses(_submit(intake, [doc, doc])) == [A, D] and len(w.records) == 1


def test_dedupe_is_per_publisher_and_region() -> None:
    """Surabaya's key reusing Bandung's event id is written; so is Bandung's id in another of its regions."""
    w = FakeWriter()
    intake = _intake(w)
    doc = _doc()  # 32.73
    assert _statuses(_submit(intake, [doc])) == [A]
    assert _statuses(_submit(intake, [{**doc, "region_code": "35.78"}], SURABAYA)) == [A]
    assert _statuses(_submit(intake, [{**doc, "region_code": "33.01"}])) == [A]  # Bandung's key also has 33
    assert _statuses(_submit(intake, [{**doc, "region_code": "35.78"}], SURABAYA)) == [D]
    assert _statuses(_submit(intake, [doc])) == [D]
    written = [(r.key, orjson.loads(r.value)["publisher"]) for r in w.records]
    assert written == [(b"32.73", "bandung"), (b"35.78", "surabaya"), (b"33.01", "bandung")]
    assert {orjson.loads(r.value)["event_id"] for r in w.records} == {doc["event_id"]}


def test_a_retry_while_the_first_write_waits_gets_its_outcome_not_a_duplicate() -> None:
    """The race of issue 11: the broker acknowledges the first attempt late; the retry waits and is a duplicate."""

    async def scenario() -> tuple[Submission, Submission, bool, int]:
        w = FakeWriter()
        w.gate = asyncio.Event()
        intake = _intake(w)
        doc = _doc()
        first = asyncio.create_task(intake.submit([doc], PUB))
        await _until(lambda: w.writes == 1)
        retry = asyncio.create_task(intake.submit([doc], PUB))
        await asyncio.sleep(0.05)
        answered_early = retry.done()
        w.gate.set()  # the broker acknowledges
        return await first, await retry, answered_early, len(w.records)

    first, retry, answered_early, written = _run(scenario)
    assert not answered_early  # no 'duplicate' for a write not yet acknowledged
    assert (_statuses(first), _statuses(retry), written) == ([A], [D], 1)


def test_a_retry_while_the_first_write_fails_gets_the_same_503_and_nothing_is_written() -> None:
    """The race of issue 11: the first write is never acknowledged. Both answers are 503; once the topic
    has been read back (the record did not land), the next resubmission is written, once."""

    async def scenario() -> list[Any]:
        reg = CollectorRegistry()
        w = FakeWriter(ack=0)
        w.gate, w.settle_gate = asyncio.Event(), asyncio.Event()
        intake = _intake(w, reg)
        doc = _doc()
        first = asyncio.create_task(intake.submit([doc], PUB))
        await _until(lambda: w.writes == 1)
        retry = asyncio.create_task(intake.submit([doc], PUB))
        await asyncio.sleep(0.05)
        w.gate.set()  # the broker never acknowledged: the writer gives up
        answers = [await first, await retry]
        # In doubt until the writer has looked: a resubmission now waits for that.
        key = ("bandung", "32.73", doc["event_id"])
        in_doubt = intake.dedupe.status(key)
        during = asyncio.create_task(intake.submit([doc], PUB))
        await asyncio.sleep(0.05)
        waited = not during.done()
        w.ack = None
        w.settle_gate.set()  # read back: not in the log
        during_answer = await during
        after = await intake.submit([doc], PUB)
        return [answers, in_doubt, waited, during_answer, after, w, reg, key, intake]

    answers, in_doubt, waited, during, after, w, reg, key, intake = _run(scenario)
    assert [(_statuses(s), s.http_status) for s in answers] == [([U], 503), ([U], 503)]
    assert in_doubt is Seen.PENDING and waited and _statuses(during) == [U]
    assert _statuses(after) == [A] and len(w.records) == 1 and len(w.settled) == 1
    assert intake.dedupe.status(key) is Seen.WRITTEN
    assert reg.get_sample_value("pantau_ingest_events_in_doubt_total", {"resolution": "not_written"}) == 1
    assert reg.get_sample_value("pantau_ingest_events_duplicate_total", {"source": "http"}) == 0


def test_a_write_in_doubt_that_landed_makes_the_resubmission_a_duplicate() -> None:
    async def scenario() -> tuple[list[Status], list[Status], int, CollectorRegistry]:
        reg = CollectorRegistry()
        w = FakeWriter(ack=0)
        w.lands = True  # appended, but the ack was lost
        intake = _intake(w, reg)
        doc = _doc()
        first = await intake.submit([doc], PUB)
        await _until(lambda: len(w.settled) == 1)
        await asyncio.sleep(0)
        w.ack = None
        again = await intake.submit([doc], PUB)
        return _statuses(first), _statuses(again), len(w.records), reg

    first, again, written, reg = _run(scenario)
    assert (first, again, written) == ([U], [D], 1)
    assert reg.get_sample_value("pantau_ingest_events_in_doubt_total", {"resolution": "written"}) == 1


def test_while_kafka_is_known_down_a_retry_of_a_write_in_doubt_is_answered_at_once() -> None:
    async def scenario() -> tuple[list[Status], float]:
        w = FakeWriter(ack=0)
        w.settle_gate = asyncio.Event()  # the broker does not come back during the test
        intake = _intake(w, wait_timeout=30.0)
        doc = _doc()
        await intake.submit([doc], PUB)
        w.ready = False  # the writer has noticed
        t0 = asyncio.get_running_loop().time()
        retry = await asyncio.wait_for(intake.submit([doc], PUB), 1.0)
        elapsed = asyncio.get_running_loop().time() - t0
        await intake.close()
        return _statuses(retry), elapsed

    statuses, elapsed = _run(scenario)
    assert statuses == [U] and elapsed < 0.5


def test_a_retry_waits_at_most_its_timeout() -> None:
    async def scenario() -> tuple[list[Status], list[Status], int]:
        w = FakeWriter()
        w.gate = asyncio.Event()
        intake = _intake(w, wait_timeout=0.05)
        doc = _doc()
        first = asyncio.create_task(intake.submit([doc], PUB))
        await _until(lambda: w.writes == 1)
        retry = await intake.submit([doc], PUB)  # the broker is slower than the retry's patience
        w.gate.set()
        return _statuses(await first), _statuses(retry), len(w.records)

    assert _run(scenario) == ([A], [U], 1)


def test_kafka_down_is_503_nothing_written_and_the_ids_are_free_again() -> None:
    w = FakeWriter(down=True)
    intake = _intake(w)
    docs = [_doc(), _doc()]
    sub = _submit(intake, docs)
    assert sub.http_status == 503 and _statuses(sub) == [U, U]
    assert intake.dedupe.status(("bandung", "32.73", docs[0]["event_id"])) is Seen.NEW
    assert w.settled == []  # nothing was sent: nothing to look for
    w.down = False
    assert _submit(intake, docs).http_status == 200 and len(w.records) == 2


def test_a_partial_ack_reports_which_items_were_written() -> None:
    async def scenario() -> tuple[Submission, Submission, int]:
        w = FakeWriter(ack=1)
        intake = _intake(w)
        docs = [_doc(), _doc()]
        sub = await intake.submit(docs, PUB)
        await _until(lambda: len(w.settled) == 1)  # the second was read back: not there
        await asyncio.sleep(0)
        w.ack = None
        again = await intake.submit(docs, PUB)  # sending the whole batch again writes only what was missing
        return sub, again, len(w.records)

    sub, again, written = _run(scenario)
    assert sub.http_status == 503 and _statuses(sub) == [A, U]
    assert _statuses(again) == [D, A] and written == 2


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
    a, b, c = (("p", "32.73", i) for i in "abc")
    for k in (a, b, c):
        assert ids.reserve(k)
        ids.confirm(k)
    assert (ids.status(a), ids.status(b), ids.status(c)) == (Seen.NEW, Seen.WRITTEN, Seen.WRITTEN)
    t[0] = 10.0
    assert ids.status(b) is Seen.WRITTEN  # exactly the window: still remembered
    t[0] = 10.5
    assert ids.status(b) is Seen.NEW and ids.reserve(b) and ids.status(b) is Seen.PENDING
    assert not ids.reserve(b)
    ids.release(b)
    assert ids.status(b) is Seen.NEW


def test_records_are_the_contract_json() -> None:
    w = FakeWriter()
    _submit(_intake(w), [_doc(attributes={"station": "dago"})])
    body = orjson.loads(w.records[0].value)
    assert body["attributes"] == {"station": "dago"} and body["schema_version"] == 1 and body["publisher"] == "bandung"


# ------------------------------------------------------------------------------ NGSI-LD over HTTP


def _notification(*entities: dict) -> dict:
    return {"id": "urn:ngsi-ld:Notification:7", "type": "Notification", "subscriptionId": "urn:ngsi-ld:Subscription:3",
            "notifiedAt": "2026-11-27T08:59:00.000Z", "data": list(entities)}  # fmt: skip


def _kpi(n: int, **overrides: object) -> dict:
    value = {"type": "Property", "value": 20.0 + n, "unitCode": "GQ", "observedAt": "2026-11-27T08:00:00Z"}
    return a_kpi_entity(**{"id": f"urn:ngsi-ld:KeyPerformanceIndicator:{n}", "kpiValue": value, **overrides})


def _notify(intake: Intake, doc: dict, pub: Publisher = PUB) -> Submission:
    return asyncio.run(intake.notify(doc, orjson.dumps(doc), pub))


def test_a_notification_writes_its_good_entities_and_dead_letters_the_bad_one() -> None:
    reg = CollectorRegistry()
    w = FakeWriter()
    doc = _notification(_kpi(1), _kpi(2, name={"type": "Property", "value": "NO_SUCH_KPI"}), _kpi(3))
    sub = asyncio.run(_intake(w, reg).notify(doc, orjson.dumps(doc), PUB))
    assert sub.http_status == 207 and _statuses(sub) == [A, R, A]
    assert [(r.entity_id, r.reason) for r in sub.results][1] == ("urn:ngsi-ld:KeyPerformanceIndicator:2",
                                                                 "unknown_indicator")  # fmt: skip
    events, dead = w.records[:2], w.records[2]
    assert [IndicatorEvent.model_validate_json(r.value).value for r in events] == [21.0, 23.0]
    assert all(IndicatorEvent.model_validate_json(r.value).publisher == "bandung" for r in events)
    assert (dead.topic, dead.key, dead.value) == ("dlq", None, orjson.dumps(doc))
    h = read_headers(dead.headers)
    assert h["pantau.dlq.reason"] == "unknown_indicator" and h["pantau.dlq.publisher"] == "bandung"
    assert h["pantau.dlq.detail"].startswith("entity[1] name: 'NO_SUCH_KPI' is not an indicator id")
    assert h["pantau.dlq.source.topic"] == "http:POST /v1/ngsi-ld/notify"
    assert reg.get_sample_value("pantau_ingest_messages_invalid_total", {"reason": "unknown_indicator"}) == 1
    assert reg.get_sample_value("pantau_ingest_events_accepted_total", {"source": "http"}) == 2


def test_a_notification_sent_again_is_duplicates_and_a_second_dead_letter() -> None:
    w = FakeWriter()
    intake = _intake(w)
    doc = _notification(_kpi(1), _kpi(2, area={"type": "Property", "value": "33.99"}))
    assert _statuses(_notify(intake, doc)) == [A, R]
    again = _notify(intake, doc)
    assert _statuses(again) == [D, R] and again.http_status == 207
    assert [r.topic for r in w.records] == ["t", "dlq", "dlq"]


def test_a_notification_of_bad_entities_only_is_422_and_all_dead_lettered() -> None:
    w = FakeWriter()
    sub = _notify(_intake(w), _notification(_kpi(1, kpiValue=None), _kpi(2, type="AirQualityObserved")))
    assert sub.http_status == 422 and [r.reason for r in sub.results] == ["ngsi_ld_invalid", "ngsi_ld_invalid"]
    assert [r.topic for r in w.records] == ["dlq"]


def test_a_dead_letter_not_acknowledged_makes_the_bad_entity_unavailable() -> None:
    async def scenario() -> tuple[Submission, int]:
        w = FakeWriter(ack=1)  # the event lands, the dead letter is not acknowledged
        doc = _notification(
            _kpi(1), _kpi(2, kpiValue={"type": "Property", "value": -3.0, "observedAt": NOW.isoformat()})
        )
        sub = await _intake(w).notify(doc, orjson.dumps(doc), PUB)
        return sub, len(w.records)

    sub, written = _run(scenario)
    assert sub.http_status == 503 and _statuses(sub) == [A, U] and written == 1


def test_an_entity_outside_the_keys_scope_refuses_the_notification() -> None:
    w = FakeWriter()
    sub = _notify(_intake(w), _notification(_kpi(1), _kpi(2, area={"type": "Property", "value": "35.78"})))
    assert sub.http_status == 403 and w.records == []
    assert [(r.index, r.entity_id, r.errors[0].code) for r in sub.results] == [
        (1, "urn:ngsi-ld:KeyPerformanceIndicator:2", "out_of_scope")
    ]
