"""The scoring service's cycle (services/scoring/service.py) on fake ports: a batch applied, dead
letters and re-routed records settled before the offsets they stand for are acknowledged, and the
shared processing-error policy (services/runtime/errors.py) as scoring uses it: dlq, crash, skip."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.structs import ConsumerRecord, TopicPartition
from prometheus_client import CollectorRegistry

from schemas.dlq import dlq_headers, read_headers
from schemas.framework import load_framework
from schemas.regions import default_registry
from schemas.scores import RegionScore
from services.runtime.errors import ProcessingStopped
from services.runtime.faust_app import partition_of
from services.scoring.adapters import value_left_out
from services.scoring.config import ScoringSettings
from services.scoring.metrics import ScoringMetrics
from services.scoring.scorer import Scorer
from services.scoring.service import ScoringService, Sent, Unsendable
from tests.builders import an_indicator_event

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TOPIC = "indicator-events"
REGION = "32.73"
HOME = partition_of(REGION)  # the partition that owns 32.73's key (5 of 12)
TP = TopicPartition(TOPIC, HOME)


def _done(error: BaseException | None = None) -> Sent:
    sent: Sent = asyncio.get_running_loop().create_future()
    if error is None:
        sent.set_result(None)
    else:
        sent.set_exception(error)
    return sent


class FakeRuntime:
    def __init__(self) -> None:
        self.acked: list[tuple[Any, int, int]] = []
        self.crashed: list[BaseException] = []

    async def acquire(self) -> None:
        return None

    def generation(self) -> int:
        return 1

    def partition_count(self) -> int | None:
        return 12

    def highwater(self, tp: Any) -> int | None:
        return None

    async def highwaters(self, tps: list[Any]) -> dict[Any, int]:
        return {}

    async def position(self, tp: Any) -> int | None:
        return None

    def ack(self, tp: Any, first: int, last: int) -> None:
        self.acked.append((tp, first, last))

    async def crash(self, exc: BaseException) -> None:
        self.crashed.append(exc)


class FakeOutput:
    def __init__(self) -> None:
        self.dead: list[tuple[bytes | None, bytes | None, dict[str, str]]] = []
        self.rerouted: list[tuple[int, int]] = []  # (source offset, partition)
        self.published: list[RegionScore] = []
        self.refuse_reroute = False
        self.fail_sends = False

    async def dead_letter(self, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> Sent:
        self.dead.append((key, value, read_headers(headers)))
        return _done(RuntimeError("broker said no") if self.fail_sends else None)

    async def reroute(self, record: Any, partition: int) -> Sent:
        if self.refuse_reroute:
            raise Unsendable(MessageSizeTooLargeError())
        self.rerouted.append((record.offset, partition))
        return _done()

    async def scores(self, scores: list[RegionScore]) -> None:
        self.published.extend(scores)

    async def wait_until_ebb(self) -> None:
        return None

    async def flush(self) -> None:
        return None


class FakeStore:
    def __init__(self) -> None:
        self.data: dict[str, tuple[int, bytes]] = {}

    def load(self, region: str) -> bytes | None:
        return self.data[region][1] if region in self.data else None

    def holds(self, region: str) -> bool:
        return region in self.data

    def regions(self) -> list[str]:
        return list(self.data)

    def write(self, region: str, partition: int, data: bytes) -> None:
        self.data[region] = (partition, data)


class World:
    def __init__(self, **settings: Any) -> None:
        self.metrics = ScoringMetrics(CollectorRegistry())
        self.store = FakeStore()
        self.scorer = Scorer(load_framework(), default_registry(), self.metrics, lateness_us=300_000_000,
                             publish_interval=0.0, load=self.store.load, clock=NOW.timestamp)  # fmt: skip
        self.runtime, self.output = FakeRuntime(), FakeOutput()
        self.service = ScoringService(ScoringSettings(**settings), self.scorer, self.metrics, runtime=self.runtime,
                                      output=self.output, store=self.store, source_topic=TOPIC)  # fmt: skip

    def events(self, outcome: str) -> float | None:
        return self.metrics.registry.get_sample_value("pantau_scoring_events_total", {"outcome": outcome})

    def invalid(self, reason: str) -> float | None:
        return self.metrics.registry.get_sample_value("pantau_scoring_messages_invalid_total", {"reason": reason})

    def fail_at(self, offset: int) -> None:
        """The Scorer raises (a bug) for the record at ``offset``."""
        real = self.scorer.apply_record

        def flaky(key: bytes | None, value: bytes | None, partition: int, at: int, timestamp_s: float) -> Any:
            if at == offset:
                raise RuntimeError("a bug")
            return real(key, value, partition, at, timestamp_s)

        self.scorer.apply_record = flaky  # type: ignore[method-assign]

    def cycle(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        async def go() -> None:
            await self.service.intake(TP, records)
            await self.service.persist(force=True)
            await self.service.publish_due()

        run(go)


def run(step: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(step())


def record(offset: int, value: bytes | None = None, *, key: bytes | None = REGION.encode(), partition: int = HOME,
           minutes: int = 0) -> ConsumerRecord[bytes, bytes]:  # fmt: skip
    if value is None:
        at = NOW - timedelta(hours=1) + timedelta(minutes=minutes)
        value = an_indicator_event(region_code=REGION, observed_at=at).model_dump_json().encode()
    return ConsumerRecord(TOPIC, partition, offset, int(NOW.timestamp() * 1000), 0, key, value, None, 0, 0,
                          [("trace", b"1")])  # fmt: skip


def test_a_batch_is_applied_persisted_acknowledged_and_published() -> None:
    w = World()
    w.cycle([record(10), record(11, minutes=1), record(12, minutes=2)])
    assert w.events("scored") == 3 and w.scorer.processed == 3
    assert set(w.store.data) == {REGION} and w.store.data[REGION][0] == HOME  # written on the owner's partition
    assert w.runtime.acked == [(TP, 10, 12)]
    [score] = w.output.published
    assert score.region_code == REGION and score.events_applied == 3
    assert w.metrics.consumer_lag.handled == {TP: 13}


def test_dead_letters_and_reroutes_are_settled_before_the_offsets_they_stand_for() -> None:
    w = World()
    other = "36.02"  # owned by partition 4: on 5 it is re-routed
    misrouted = an_indicator_event(region_code=other).model_dump_json().encode()
    w.cycle([record(10), record(11, b"{not json"), record(12, misrouted, key=other.encode()), record(13, b"[1]")])
    assert [(h["pantau.dlq.reason"], h["pantau.dlq.source.offset"]) for _, _, h in w.output.dead] == [
        ("undecodable", "11"), ("schema_invalid", "13")]  # fmt: skip
    assert w.output.dead[0][1] == b"{not json"  # the record as received
    assert w.output.rerouted == [(12, partition_of(other))]
    assert (w.events("scored"), w.events("invalid"), w.events("rerouted")) == (1, 2, 1)
    assert w.invalid("undecodable") == 1 and w.invalid("schema_invalid") == 1
    assert w.runtime.acked == [(TP, 10, 13)] and w.service.outbox == []


def test_a_late_reading_is_counted_and_dead_lettered_late() -> None:
    w = World()
    late = record(11, minutes=-70)  # older than the series' newest (record 10) by more than 5 minutes
    w.cycle([record(10), late])
    [(_, value, headers)] = w.output.dead
    assert (headers["pantau.dlq.reason"], headers["pantau.dlq.source.offset"], value) == ("late", "11", late.value)
    assert headers["pantau.dlq.detail"] == "observed_at older than the series watermark minus 0:05:00"
    assert (w.events("scored"), w.events("late"), w.invalid("late")) == (1, 1, 1)
    assert w.runtime.acked == [(TP, 10, 11)]


def test_a_failed_send_stops_the_worker_and_acknowledges_nothing() -> None:
    w = World()
    w.output.fail_sends = True
    w.cycle([record(10), record(11, b"{not json")])
    assert w.runtime.acked == []
    assert [repr(e) for e in w.runtime.crashed] == ["RuntimeError('broker said no')"]


def test_a_record_that_cannot_be_rerouted_is_dead_lettered_wrong_partition() -> None:
    w = World()
    w.output.refuse_reroute = True
    other = "36.02"
    w.cycle([record(10, an_indicator_event(region_code=other).model_dump_json().encode(), key=other.encode())])
    [(_, _, headers)] = w.output.dead
    assert headers["pantau.dlq.reason"] == "wrong_partition"
    assert headers["pantau.dlq.detail"] == ("key b'36.02' belongs to partition 4; it could not be produced there: "
                                            "MessageSizeTooLargeError()")  # fmt: skip
    assert w.events("rerouted") == 0 and w.runtime.acked == [(TP, 10, 10)]


def test_error_policy_dlq_dead_letters_the_record_and_goes_on() -> None:
    w = World(error_policy="dlq")
    w.fail_at(11)
    records = [record(10), record(11, minutes=1), record(12, minutes=2)]
    w.cycle(records)
    [(key, value, headers)] = w.output.dead
    assert (key, value) == (REGION.encode(), records[1].value)  # the record as received
    assert headers["pantau.dlq.reason"] == "internal_error"
    assert headers["pantau.dlq.detail"] == "RuntimeError('a bug')"
    where = [headers[f"pantau.dlq.{k}"] for k in ("source.topic", "source.partition", "source.offset", "service")]
    assert where == [TOPIC, str(HOME), "11", "scoring"]
    assert (w.events("error"), w.events("scored"), w.invalid("internal_error")) == (1, 2, 1)
    assert w.runtime.acked == [(TP, 10, 12)] and w.runtime.crashed == []


def test_error_policy_skip_logs_counts_and_goes_on_without_a_dead_letter() -> None:
    w = World(error_policy="skip")
    w.fail_at(11)
    w.cycle([record(10), record(11, minutes=1), record(12, minutes=2)])
    assert w.output.dead == [] and w.runtime.crashed == []
    assert (w.events("error"), w.events("scored")) == (1, 2)
    assert not w.invalid("internal_error")
    assert w.runtime.acked == [(TP, 10, 12)]  # the skipped record is acknowledged with the rest
    assert w.output.published[0].events_applied == 2


def test_error_policy_crash_stops_the_worker_at_the_record() -> None:
    w = World(error_policy="crash")
    w.fail_at(11)
    w.cycle([record(10), record(11, minutes=1), record(12, minutes=2)])
    [stopped] = w.runtime.crashed
    assert isinstance(stopped, ProcessingStopped) and f"{TOPIC}[{HOME}]@11" in str(stopped)
    assert w.output.dead == [] and w.events("error") == 1
    assert w.events("scored") == 1  # the record after it was not applied
    assert w.runtime.acked == []  # nor is anything of the batch acknowledged


def test_a_dead_letter_whose_value_cannot_be_sent_says_so_in_its_detail() -> None:
    fields = {"reason": "internal_error", "topic": TOPIC, "partition": 3, "offset": 7, "service": "scoring"}
    exc = MessageSizeTooLargeError()
    for detail in ("RuntimeError('a bug')", "x" * 1200):
        got = value_left_out(dlq_headers(detail=detail, **fields), exc)  # type: ignore[arg-type]
        want = dlq_headers(detail=f"{detail} (value left out: {exc!r})", **fields)  # type: ignore[arg-type]
        assert [h for h in got if h[0] != "pantau.dlq.at"] == [h for h in want if h[0] != "pantau.dlq.at"]
