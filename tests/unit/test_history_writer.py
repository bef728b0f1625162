"""The history writer's service layer with fakes for Kafka and the database: one transaction per poll,
what happens when it fails (outage, refused row, another writer), dead letters once, the error policy."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.dlq import REASON, SOURCE_OFFSET
from services.history.domain import Batch, Downsampling, Row
from services.history.metrics import HistoryMetrics
from services.history.service.dead_letters import DeadLetters
from services.history.service.intake import Intake
from services.history.service.outage import Outage
from services.history.service.ports import (
    TP,
    Advance,
    DatabaseUnavailable,
    DeadLettersUnavailable,
    Letter,
    Listener,
    OffsetsMoved,
    Received,
    RowsRefused,
)
from services.history.service.writer import HistoryWriter, Pacing
from services.runtime.errors import ProcessingStopped
from tests.history_support import a_region_score, an_alert_event

SCORES, ALERTS = ("p-region-scores", 0), ("p-maturity-alerts", 0)
NOW = datetime(2026, 5, 25, tzinfo=UTC)


@dataclass
class Rec:
    topic: str
    partition: int
    offset: int
    value: bytes | None
    key: bytes | None = b"32.73"
    timestamp: int = 1_779_246_000_000


class FakeConsumer:
    def __init__(self) -> None:
        self.assigned: set[TP] = set()
        self.seeks: list[tuple[TP, int | str]] = []
        self.paused: set[TP] = set()
        self.commits: list[dict[TP, int]] = []

    async def start(self, on_assigned: Listener, on_revoked: Listener) -> None: ...

    async def stop(self) -> None: ...

    async def getmany(self, timeout: float, max_records: int) -> Mapping[TP, Sequence[Received]]:
        return {}

    def seek(self, tp: TP, offset: int) -> None:
        self.seeks.append((tp, offset))

    async def seek_to_beginning(self, tps: Collection[TP]) -> None:
        self.seeks.extend((tp, "beginning") for tp in tps)

    def pause(self, tps: Collection[TP]) -> None:
        self.paused |= set(tps)

    def resume(self, tps: Collection[TP]) -> None:
        self.paused -= set(tps)

    def assignment(self) -> set[TP]:
        return set(self.assigned)

    def highwater(self, tp: TP) -> int | None:
        return 100

    async def commit(self, offsets: Mapping[TP, int]) -> None:
        self.commits.append(dict(offsets))


@dataclass
class FakeStore:
    offsets: dict[TP, int] = field(default_factory=dict)
    failures: list[Exception] = field(default_factory=list)  # raised by the next writes, in order
    refuse: set[int] = field(default_factory=set)  # source offsets whose rows the database refuses
    written: list[tuple[Batch, list[Advance]]] = field(default_factory=list)
    down: bool = False

    def migrate(self) -> str:
        return "0001"

    def load_offsets(self, tps: Collection[TP]) -> dict[TP, int]:
        if self.down:
            raise DatabaseUnavailable("connection refused")
        return {tp: self.offsets[tp] for tp in tps if tp in self.offsets}

    def write(self, batch: Batch, advances: Sequence[Advance]) -> None:
        if self.failures:
            raise self.failures.pop(0)
        if any(r.source.offset in self.refuse for r in batch.rows()):
            raise RowsRefused("invalid byte sequence")
        for a in advances:
            if self.offsets.get(a.tp) != a.expected:
                raise OffsetsMoved([a.tp])
        self.written.append((batch, list(advances)))
        self.offsets.update({a.tp: a.next for a in advances})

    def refused(self, batch: Batch) -> list[Row]:
        return [r for r in batch.rows() if r.source.offset in self.refuse]

    def prune(self, cutoff: datetime) -> int:
        return 0


class FakeSink:
    def __init__(self) -> None:
        self.sent: list[Letter] = []
        self.fail = 0

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, letters: Sequence[Letter]) -> None:
        if self.fail:
            self.fail -= 1
            raise DeadLettersUnavailable("no broker")
        self.sent.extend(letters)


def writer(store: FakeStore, policy: str = "dlq") -> tuple[HistoryWriter, FakeConsumer, FakeSink]:
    consumer, sink = FakeConsumer(), FakeSink()
    metrics = HistoryMetrics()
    kinds = {SCORES[0]: "region-scores", ALERTS[0]: "maturity-alerts"}
    intake = Intake(kinds, Downsampling(), policy, lambda: NOW)  # type: ignore[arg-type]
    w = HistoryWriter(store=store, consumer=consumer, dead_letters=DeadLetters(sink, metrics), intake=intake,
                      metrics=metrics, pacing=Pacing(retry_initial=0.001, retry_max=0.004),
                      clock=lambda: NOW)  # fmt: skip
    return w, consumer, sink


def score(offset: int, minute: int) -> Rec:
    at = datetime(2026, 5, 20, 3, minute, tzinfo=UTC)
    return Rec(SCORES[0], 0, offset, a_region_score(evaluated_at=at).model_dump_json().encode())


async def assigned(w: HistoryWriter, consumer: FakeConsumer, *tps: TP) -> None:
    consumer.assigned |= set(tps)
    await w._on_assigned(set(tps))


def sample(w: HistoryWriter, name: str, **labels: str) -> float:
    value = w.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_a_poll_is_one_transaction_with_its_offsets() -> None:
    async def run() -> None:
        store = FakeStore(offsets={SCORES: 40})
        w, consumer, _sink = writer(store)
        await assigned(w, consumer, SCORES, ALERTS)
        # positioned from the database: the stored offset, or the beginning when none is stored
        assert sorted(consumer.seeks, key=str) == [(ALERTS, "beginning"), (SCORES, 40)]
        assert consumer.paused == set() and w.positions.known == {SCORES: 40, ALERTS: None}
        alert = Rec(ALERTS[0], 0, 0, an_alert_event().model_dump_json().encode())
        assert await w.handle({SCORES: [score(40, 1), score(41, 3), score(42, 6)], ALERTS: [alert]})
        (batch, advances), = store.written  # fmt: skip
        # 03:01 and 03:03 share the step of 03:00 (the later wins), 03:06 opens the next; one day for all
        assert [(r.at.minute, r.source.offset) for r in batch.fine()] == [(0, 41), (5, 42)]
        assert [r.source.offset for r in batch.daily()] == [42]
        assert advances == [Advance(SCORES, 40, 43), Advance(ALERTS, None, 1)]
        assert w.positions.known == {SCORES: 43, ALERTS: 1}
        assert consumer.commits == [{SCORES: 43, ALERTS: 1}]
        assert sample(w, "pantau_history_rows_written_total", table="score_snapshots") == 3
        assert sample(w, "pantau_history_rows_written_total", table="alert_transitions") == 1
        assert sample(w, "pantau_history_batches_total", outcome="committed") == 1
        assert sample(w, "pantau_history_database_up") == 1

    asyncio.run(run())


def test_a_database_outage_rewinds_pauses_and_retries_until_it_is_back() -> None:
    async def run() -> None:
        store = FakeStore(offsets={SCORES: 40})
        w, consumer, sink = writer(store)
        await assigned(w, consumer, SCORES)
        consumer.seeks.clear()
        bad = Rec(SCORES[0], 0, 41, b"not json")
        records = {SCORES: [score(40, 1), bad]}
        store.failures = [DatabaseUnavailable("server closed the connection")] * 3
        for _attempt in range(3):
            assert not await w.handle(records)
            assert sample(w, "pantau_history_database_up") == 0
        assert consumer.seeks == [(SCORES, 40)] * 3  # each time back to the stored offset
        assert (w.database.down, w.database.retries, w.database.delay) == (True, 3, 0.004)  # doubled, capped
        assert await w.handle(records)
        assert store.offsets == {SCORES: 42} and not w.database.down
        assert len(sink.sent) == 1  # the bad record's dead letter went once, not once per attempt
        assert sample(w, "pantau_history_batches_total", outcome="database_unavailable") == 3
        assert sample(w, "pantau_history_records_total", topic="region-scores", outcome="stored") == 1
        assert sample(w, "pantau_history_dead_letters_total", reason="schema_invalid") == 1

    asyncio.run(run())


def test_partitions_assigned_while_the_database_is_down_wait_paused() -> None:
    async def run() -> None:
        store = FakeStore(offsets={SCORES: 7}, down=True)
        w, consumer, _sink = writer(store)
        await assigned(w, consumer, SCORES)
        assert consumer.paused == {SCORES} and w.positions.pending == {SCORES} and consumer.seeks == []
        await w.step()  # the database still down: a pause, nothing read
        assert w.positions.pending == {SCORES}
        store.down = False
        await w.step()
        assert consumer.paused == set() and consumer.seeks == [(SCORES, 7)] and w.positions.known == {SCORES: 7}

    asyncio.run(run())


def test_offsets_moved_by_another_writer_are_read_again_and_nothing_is_written() -> None:
    async def run() -> None:
        store = FakeStore(offsets={SCORES: 40})
        w, consumer, _sink = writer(store)
        await assigned(w, consumer, SCORES)
        store.offsets[SCORES] = 45  # another writer held the partition meanwhile and wrote 40..44
        consumer.seeks.clear()
        assert not await w.handle({SCORES: [score(40, 1)]})
        assert store.written == [] and consumer.seeks == [(SCORES, 45)] and w.positions.known == {SCORES: 45}
        assert sample(w, "pantau_history_batches_total", outcome="offsets_moved") == 1

    asyncio.run(run())


def test_a_row_the_database_refuses_is_a_processing_error_of_its_record() -> None:
    async def run() -> None:
        store = FakeStore(offsets={SCORES: 40}, refuse={41})
        w, consumer, sink = writer(store)
        await assigned(w, consumer, SCORES)
        assert await w.handle({SCORES: [score(40, 1), score(41, 7)]})
        (batch, advances), = store.written  # fmt: skip
        assert {r.source.offset for r in batch.rows()} == {40} and advances == [Advance(SCORES, 40, 42)]
        (letter,) = sink.sent
        headers = dict(letter.headers)
        assert (headers[REASON], headers[SOURCE_OFFSET]) == (b"internal_error", b"41")
        assert sample(w, "pantau_history_processing_errors_total", policy="dlq") == 1
        assert sample(w, "pantau_history_records_total", topic="region-scores", outcome="stored") == 1
        assert sample(w, "pantau_history_records_total", topic="region-scores", outcome="dead_letter") == 1

    asyncio.run(run())


def test_the_dead_letter_topic_down_writes_nothing_and_retries() -> None:
    async def run() -> None:
        store = FakeStore(offsets={SCORES: 0})
        w, consumer, sink = writer(store)
        await assigned(w, consumer, SCORES)
        sink.fail = 1
        records = {SCORES: [Rec(SCORES[0], 0, 0, None)]}  # a tombstone: empty_value
        assert not await w.handle(records)
        assert store.written == [] and w.kafka.down
        assert await w.handle(records)
        assert [dict(lt.headers)[REASON] for lt in sink.sent] == [b"empty_value"] and store.offsets == {SCORES: 1}

    asyncio.run(run())


@pytest.mark.parametrize("policy", ["crash", "skip"])
def test_the_error_policy_on_a_record_the_mapping_fails_on(policy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr("services.history.service.intake.decode", broken)

    async def run() -> None:
        store = FakeStore(offsets={SCORES: 40})
        w, consumer, sink = writer(store, policy)
        await assigned(w, consumer, SCORES)
        if policy == "crash":
            with pytest.raises(ProcessingStopped):
                await w.handle({SCORES: [score(40, 1)]})
            assert store.written == []
        else:
            assert await w.handle({SCORES: [score(40, 1)]})
            assert len(store.written[0][0]) == 0 and store.offsets == {SCORES: 41} and sink.sent == []

    asyncio.run(run())


def test_an_outage_is_logged_once_and_its_pauses_double_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    lines: list[tuple[str, str]] = []

    class Log:
        def __getattr__(self, level: str) -> Any:
            return lambda event, **_: lines.append((level, event))

    monkeypatch.setattr("services.history.service.outage.log", Log())
    ups: list[bool] = []
    clock = iter([100.0, 112.5]).__next__
    outage = Outage("database", initial=0.5, cap=4.0, on_change=ups.append, clock=clock)
    assert [outage.failed(RuntimeError("down")) for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    outage.ok()
    outage.ok()
    assert [line for line in lines if line[0] != "debug"] == [
        ("warning", "history.database_unavailable"),
        ("info", "history.database_back"),
    ]
    assert ups == [False] * 6 + [True, True]


def test_a_revoked_partitions_records_are_left_to_its_new_owner() -> None:
    async def run() -> None:
        store = FakeStore(offsets={SCORES: 40})
        w, consumer, _sink = writer(store)
        await assigned(w, consumer, SCORES)
        await w._on_revoked({SCORES})
        assert not await w.handle({SCORES: [score(40, 1)]})
        assert store.written == []

    asyncio.run(run())


def test_lag_is_the_log_end_minus_the_stored_offset() -> None:
    async def run() -> None:
        w, consumer, _sink = writer(FakeStore(offsets={SCORES: 40}))
        await assigned(w, consumer, SCORES)
        w.refresh_lag()
        assert sample(w, "pantau_history_consumer_lag_messages", topic=SCORES[0], partition="0") == 60
        consumer.assigned.clear()
        w.refresh_lag()
        assert w.metrics.registry.get_sample_value(
            "pantau_history_consumer_lag_messages", {"topic": SCORES[0], "partition": "0"}
        ) is None  # fmt: skip

    asyncio.run(run())


def test_fine_snapshots_past_the_retention_are_pruned_on_schedule() -> None:
    cutoffs: list[datetime] = []

    class Pruning(FakeStore):
        def prune(self, cutoff: datetime) -> int:
            cutoffs.append(cutoff)
            return 3

    async def run() -> None:
        w, _consumer, _sink = writer(Pruning())
        await w._prune_if_due()
        await w._prune_if_due()  # not due again for an hour
        assert cutoffs == [NOW - timedelta(days=30)]
        assert sample(w, "pantau_history_pruned_rows_total") == 3

    asyncio.run(run())
