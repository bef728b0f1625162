"""The faust seam (services/runtime/faust_seam.py): what it relies on in faust, and that batch-routed partitions
are not reported as stalled by faust's stream monitor while stalls are still reported."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from time import monotonic
from types import SimpleNamespace
from typing import Any

import faust
import pytest
from faust.sensors.monitor import Monitor
from faust.transport import consumer as faust_consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP

from services.runtime import faust_seam

ROUTED = TP("indicator-events", 3)
OTHER = TP("masterplan-milestones", 3)


def test_faust_is_the_version_the_seam_was_measured_on() -> None:
    assert faust.__version__ == faust_seam.FAUST_VERSION


def test_faust_still_has_what_the_seam_touches() -> None:
    # The fetch it wraps, and the consumer's offset bookkeeping it writes (ack_offsets, the read offset, gaps).
    assert callable(faust_seam._original_wait_next_records)
    assert faust_seam._original_wait_next_records is faust_consumer.Consumer._wait_next_records or (
        faust_consumer.Consumer._wait_next_records is faust_seam._wait_next_records
    )
    assert callable(faust_consumer.Consumer._add_gap)
    init = faust_consumer.Consumer.__init__.__code__.co_names
    for name in ("_read_offset", "_committed_offset", "_acked", "_acked_index", "_waiting_for_ack"):
        assert name in init, name
    # The lock faust's own acks take (Consumer.ack), which ack_offsets takes too.
    assert "ack_lock" in faust_consumer.Consumer.ack.__code__.co_names
    assert faust_consumer.ack_lock is faust_seam.ack_lock
    # The producer faust starts, whose aiokafka client the scoring service sends batches with.
    from faust.transport.drivers.aiokafka import Producer

    assert callable(Producer._ensure_producer)
    assert faust_consumer.Consumer._n_acked == 0
    # The monitor's record of when a partition's stream last processed an event.
    assert Monitor().stream_inbound_time == {}


def fake_consumer(committed: int | None = None) -> Any:
    return SimpleNamespace(_committed_offset=defaultdict(lambda: committed), _acked_index=defaultdict(set),
                           _acked=defaultdict(list), _n_acked=0, _waiting_for_ack=None)  # fmt: skip


def test_ack_offsets_acknowledges_a_range_once_from_the_committed_offset() -> None:
    consumer = fake_consumer(committed=12)
    faust_seam.ack_offsets(consumer, ROUTED, 10, 15)  # 10 and 11 are below the committed offset
    faust_seam.ack_offsets(consumer, ROUTED, 14, 16)  # 14 and 15 again: counted once
    assert consumer._acked[ROUTED] == [12, 13, 14, 15, 16]
    assert consumer._acked_index[ROUTED] == {12, 13, 14, 15, 16}
    assert consumer._n_acked == 5


def test_ack_offsets_waits_for_faust_s_ack_lock() -> None:
    import threading

    consumer, held, order = fake_consumer(), threading.Event(), []

    def faust_thread_acking() -> None:
        with faust_seam.ack_lock:
            held.set()
            threading.Event().wait(0.2)
            order.append("faust released the lock")

    t = threading.Thread(target=faust_thread_acking)
    t.start()
    held.wait(5)
    faust_seam.ack_offsets(consumer, ROUTED, 0, 3)
    order.append("range acknowledged")
    t.join()
    assert order == ["faust released the lock", "range acknowledged"]


def test_no_module_but_the_seam_touches_faust_s_private_api() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    private = re.compile(r"faust\.transport\.consumer|faust\.transport\.drivers|ack_lock|stream_inbound_time|"
                         r"(?<!\w)_(current_event|wait_next_records|create_worker_consumer|committed_offset|"
                         r"acked_index|fetch_max_wait_ms|group_instance_id|ensure_producer)\b")  # fmt: skip
    seam = root / "services" / "runtime" / "faust_seam.py"
    offenders = [f"{p.relative_to(root)}:{n}" for top in ("services", "schemas", "pantau")
                 for p in (root / top).rglob("*.py") if p != seam
                 for n, line in enumerate(p.read_text().splitlines(), 1) if private.search(line)]  # fmt: skip
    assert not offenders, "faust's private API outside services/runtime/faust_seam.py: " + ", ".join(offenders)


class FakeApp:
    def __init__(self) -> None:
        self.monitor = Monitor()
        self.topics = SimpleNamespace(acks_enabled_for=lambda _topic: True)
        self.consumer_generation_id = 7


def stream_check(app: FakeApp, tp: TP, now: float, *, highwater: int = 120, position: int = 100) -> list[str]:
    """What faust's own livelock check (``AIOKafkaConsumerThread.verify_event_path``) logs for ``tp``,
    6 minutes after the worker started, with records between ``position`` and ``highwater``."""
    logged: list[str] = []

    def log(msg: str, *args: Any) -> None:
        logged.append(msg % args)

    state = SimpleNamespace(highwater=highwater, position=position)
    assignment = SimpleNamespace(state_value=lambda _tp: state)
    kafka = SimpleNamespace(_fetcher=SimpleNamespace(_subscriptions=SimpleNamespace(
        subscription=SimpleNamespace(assignment=assignment))))  # fmt: skip
    thread = SimpleNamespace(
        consumer=SimpleNamespace(app=app),
        time_started=now - 360.0,
        tp_stream_timeout_secs=300.0,
        tp_commit_timeout_secs=300.0,
        tp_last_committed_at={tp: now},
        _verify_aiokafka_event_path=lambda _now, _tp: False,
        _ensure_consumer=lambda: kafka,
        _log_slow_processing_stream=log,
        _log_slow_processing_commit=log,
        log=SimpleNamespace(error=log),
    )
    AIOKafkaConsumerThread.verify_event_path(thread, now, tp)  # type: ignore[arg-type]
    return logged


def fetch_through_the_seam(
    app: FakeApp, monkeypatch: pytest.MonkeyPatch, records: dict[TP, list[Any]], callback: Any
) -> tuple[Any, Any]:
    async def fetched(_self: Any, _timeout: float) -> tuple[dict[TP, list[Any]], set[TP]]:
        return records, set(records)

    monkeypatch.setattr(faust_seam, "_original_wait_next_records", fetched)
    monkeypatch.setitem(faust_seam._batch_routes, ROUTED.topic, callback)
    consumer = SimpleNamespace(app=app, _read_offset=defaultdict(lambda: None))
    rest, _active = asyncio.run(faust_seam._wait_next_records(consumer, 1.0))
    return consumer, rest


def test_an_unrouted_partition_is_what_faust_reports_as_never_processed() -> None:
    # The false alarm of issue 10 item 9: records fetched for a partition no stream ever sees.
    [line] = stream_check(FakeApp(), ROUTED, monotonic())
    assert line.startswith(f"Stream has not started processing {ROUTED!r} (started ")


def test_a_handled_batch_marks_its_partition_processed(monkeypatch: pytest.MonkeyPatch) -> None:
    app, seen = FakeApp(), []

    async def handle(tp: TP, batch: list[Any]) -> None:
        seen.append((tp, [r.offset for r in batch]))

    records = {ROUTED: [SimpleNamespace(offset=100), SimpleNamespace(offset=101)], OTHER: [SimpleNamespace(offset=5)]}
    consumer, rest = fetch_through_the_seam(app, monkeypatch, records, handle)
    assert seen == [(ROUTED, [100, 101])]
    assert list(rest) == [OTHER]  # faust's own streams get the rest
    assert consumer._read_offset[ROUTED] == 101
    assert set(app.monitor.stream_inbound_time) == {ROUTED}
    assert stream_check(app, ROUTED, monotonic()) == []


def test_a_batch_cut_short_by_a_rebalance_marks_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    app = FakeApp()

    async def rebalanced(_tp: TP, _batch: list[Any]) -> None:
        app.consumer_generation_id += 1

    consumer, _ = fetch_through_the_seam(app, monkeypatch, {ROUTED: [SimpleNamespace(offset=100)]}, rebalanced)
    assert consumer._read_offset[ROUTED] is None
    assert app.monitor.stream_inbound_time == {}


def test_a_batch_path_that_stops_is_still_reported() -> None:
    app = FakeApp()
    now = monotonic()
    app.monitor.stream_inbound_time[ROUTED] = now - 301.0  # the last batch was handled 301 s ago
    [line] = stream_check(app, ROUTED, now)
    assert line.startswith(f"Stream stopped processing, or is slow for {ROUTED!r} (last inbound ")
    assert stream_check(app, ROUTED, now, highwater=100) == []  # nothing waiting: nothing to report


def test_consumer_changes_install_once_and_the_last_of_a_kind_wins() -> None:
    from faust.transport.drivers import aiokafka as faust_aiokafka

    faust_seam.set_fetch_max_wait(0.2)
    wrapped = faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer
    faust_seam.set_fetch_max_wait(0.05)
    faust_seam.set_group_instance_id(None)
    # Calling again does not wrap the wrapper again; the later fetch wait replaces the earlier one.
    assert faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer is wrapped

    class Consumer:
        _fetch_max_wait_ms = 1500
        _group_instance_id = "x"

    consumer = Consumer()
    for apply in faust_seam._consumer_changes.values():
        apply(consumer)
    assert consumer._fetch_max_wait_ms == 50 and consumer._group_instance_id is None
