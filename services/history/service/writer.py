"""The history writer: follows ``region-scores``, ``maturity-alerts`` and ``masterplan-milestones`` and writes
each poll's rows in one transaction together with the offsets past it (exactly-once rows).

One poll, one transaction: the rows (upserts on their natural keys) and the partitions' next offsets in
``consumer_offsets``, advanced compare-and-set from the offsets this writer read them from (another writer
that took the partitions meanwhile makes the transaction fail rather than write twice). A writer killed
mid-batch leaves nothing of it; its successor reads from the stored offsets and writes the same rows.

When the transaction cannot reach the database, nothing advances: the partitions are sought back to the
stored offsets, the writer pauses (doubling up to ``HISTORY_RETRY_MAX``), reads the same records again and
retries, for as long as it takes (lag grows, nothing is lost; one warning per outage). The database
refusing a row (a value it cannot store) is a processing error of that row's record.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.history.domain import fine_cutoff
from services.history.metrics import HistoryMetrics
from services.history.service.dead_letters import DeadLetters
from services.history.service.intake import Intake, Prepared
from services.history.service.outage import Outage
from services.history.service.ports import (
    TP,
    BrokerUnavailable,
    Consumer,
    DatabaseUnavailable,
    DeadLettersUnavailable,
    OffsetsMoved,
    Received,
    RowsRefused,
    Store,
)
from services.history.service.positions import Positions
from services.runtime import logs

log = logs.get("pantau.history")

#: Rounds of "the database refused a row: apply the policy to it, write the rest" before giving up on a batch.
REFUSAL_ROUNDS = 3


@dataclass(frozen=True)
class Pacing:
    poll_timeout: float = 0.5
    max_batch: int = 2000
    prune_interval: float = 3600.0
    fine_retention: timedelta = timedelta(days=30)
    retry_initial: float = 0.5
    retry_max: float = 30.0


class HistoryWriter:
    def __init__(
        self,
        *,
        store: Store,
        consumer: Consumer,
        dead_letters: DeadLetters,
        intake: Intake,
        metrics: HistoryMetrics,
        pacing: Pacing,
        clock: Callable[[], datetime],
    ) -> None:
        self.store, self.consumer, self.dead_letters, self.intake = store, consumer, dead_letters, intake
        self.metrics, self.pacing, self.clock = metrics, pacing, clock
        self.positions = Positions(consumer, store)
        up = metrics.database_up.set
        self.database = Outage("database", initial=pacing.retry_initial, cap=pacing.retry_max,
                               on_change=lambda ok: up(1 if ok else 0))  # fmt: skip
        self.kafka = Outage("kafka", initial=pacing.retry_initial, cap=pacing.retry_max)
        self._lock = asyncio.Lock()  # one batch at a time; a rebalance waits for the batch in flight
        self._stopping = asyncio.Event()
        self._next_prune = 0.0
        self._lag_labels: set[tuple[str, str]] = set()
        self.started = False

    # ------------------------------------------------------------------ life

    @property
    def busy(self) -> bool:
        """A batch is being written (records fetched and not yet committed or rewound)."""
        return self._lock.locked()

    def stop(self) -> None:
        """Finish the batch in flight (its transaction commits or not), then close (SIGTERM)."""
        self._stopping.set()

    async def run(self) -> None:
        """Migrate, join the group, and write until :meth:`stop`."""
        if not await self._migrated():
            return
        if not await self._until_started(self.dead_letters.sink.start):
            return
        if not await self._until_started(lambda: self.consumer.start(self._on_assigned, self._on_revoked)):
            await self.dead_letters.sink.stop()
            return
        self.started = True
        log.info("history.started", topics=sorted(self.intake.kinds))
        try:
            while not self._stopping.is_set():
                await self.step()
        finally:
            await self.consumer.stop()
            await self.dead_letters.sink.stop()
            log.info("history.stopped")

    async def _migrated(self) -> bool:
        """The schema at head (services.history.db.migrate), waiting for the database if it is down."""
        while not self._stopping.is_set():
            try:
                revision = await asyncio.to_thread(self.store.migrate)
            except DatabaseUnavailable as exc:
                await self._pause(self.database.failed(exc))
                continue
            self.database.ok()
            log.info("history.schema", revision=revision)
            return True
        return False

    async def _until_started(self, start: Callable[[], Awaitable[None]]) -> bool:
        """``start`` a Kafka client, waiting for the cluster if it cannot be reached; False if stopped first."""
        while not self._stopping.is_set():
            try:
                await start()
            except BrokerUnavailable as exc:
                await self._pause(self.kafka.failed(exc))
                continue
            self.kafka.ok()
            return True
        return False

    async def step(self) -> None:
        """One poll: position new partitions, read, write, and the chores (lag, pruning)."""
        self.positions.adopt()
        if self.positions.pending:
            try:
                await self.positions.resolve()
            except DatabaseUnavailable as exc:  # they stay paused; the poll below keeps the membership alive
                await self._pause(self.database.failed(exc))
        fetched = await self.consumer.getmany(self.pacing.poll_timeout, self.pacing.max_batch)
        if fetched:
            await self.handle(fetched)
        self.refresh_lag()
        await self._prune_if_due()

    # ------------------------------------------------------------------ a batch

    async def handle(self, fetched: Mapping[TP, Sequence[Received]]) -> bool:
        """Write one poll; True when its transaction committed."""
        began = time.perf_counter()
        async with self._lock:
            mine = self._held(fetched)
            if not mine:
                return False
            try:
                prepared = await self.intake.prepare(mine, self.positions.known)
                await self._send_letters(prepared)
                await self._write(prepared)
            except (DatabaseUnavailable, DeadLettersUnavailable, OffsetsMoved) as exc:
                pause: float | None = await self._not_written(mine, exc)
            else:
                pause = None
                self._committed(prepared)
        if pause is not None:
            await self._pause(pause)
            return False
        self.metrics.batch_seconds.observe(time.perf_counter() - began)
        await self.consumer.commit({a.tp: a.next for a in prepared.advances})
        return True

    def _held(self, fetched: Mapping[TP, Sequence[Received]]) -> dict[TP, list[Received]]:
        """The records of partitions this writer holds and has positioned, from their stored offsets on."""
        out: dict[TP, list[Received]] = {}
        for tp, records in fetched.items():
            if tp not in self.positions.known:
                continue  # revoked since the poll, or not yet positioned
            stored = self.positions.known[tp]
            kept = [r for r in records if stored is None or r.offset >= stored]
            if len(kept) < len(records):
                log.warning("history.records_before_stored_offset", topic=tp[0], partition=tp[1], stored=stored,
                            first=records[0].offset, note="skipped: already written")  # fmt: skip
            if kept:
                out[tp] = kept
        return out

    async def _send_letters(self, prepared: Prepared) -> None:
        await self.dead_letters.send(prepared.letters)
        self.kafka.ok()

    async def _write(self, prepared: Prepared) -> None:
        """The transaction; a row the database refuses goes to the error policy and the rest is written."""
        for attempt in range(REFUSAL_ROUNDS + 1):
            try:
                await asyncio.to_thread(self.store.write, prepared.batch, prepared.advances)
                return
            except RowsRefused as exc:
                self.metrics.batches.labels("rows_refused").inc()
                if attempt == REFUSAL_ROUNDS:
                    raise DatabaseUnavailable(f"rows still refused after {attempt} rounds: {exc}") from exc
                await self._refused(prepared, exc)

    async def _refused(self, prepared: Prepared, exc: RowsRefused) -> None:
        rows = await asyncio.to_thread(self.store.refused, prepared.batch)
        if not rows:
            raise DatabaseUnavailable(f"a row was refused, but none is on its own: {exc}") from exc
        tables = {row.source: row.TABLE for row in rows}
        for source, table in tables.items():
            rec = prepared.record_of(source)
            await self.intake.failed(rec, RowsRefused(f"the database refused its {table} row: {exc}"), prepared)
            prepared.outcomes[(self.intake.kinds[rec.topic], "stored")] -= 1
        prepared.batch = prepared.batch.without(set(tables))
        await self._send_letters(prepared)

    def _committed(self, prepared: Prepared) -> None:
        self.database.ok()
        self.positions.committed(prepared.advances)
        self.dead_letters.committed(prepared.advances)
        m = self.metrics
        m.batches.labels("committed").inc()
        for table, n in prepared.batch.counts().items():
            if n:
                m.rows_written.labels(table).inc(n)
        for (topic, outcome), n in prepared.outcomes.items():
            if n > 0:
                m.records.labels(topic, outcome).inc(n)
        for policy, n in prepared.policies.items():
            m.processing_errors.labels(policy).inc(n)

    async def _not_written(self, fetched: Mapping[TP, Sequence[Received]], exc: Exception) -> float:
        """Nothing of the batch was written: read it again from the stored offsets; the pause before that."""
        if isinstance(exc, OffsetsMoved):
            self.metrics.batches.labels("offsets_moved").inc()
            log.warning("history.offsets_moved", partitions=sorted(exc.tps), note="read again from the database")
            await self.positions.reload(exc.tps)
            await self.positions.rewind(tp for tp in fetched if tp not in exc.tps)
            return 0.0
        await self.positions.rewind(fetched)
        if isinstance(exc, DeadLettersUnavailable):
            self.metrics.batches.labels("dead_letters_unavailable").inc()
            return self.kafka.failed(exc)
        self.metrics.batches.labels("database_unavailable").inc()
        return self.database.failed(exc)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    # ------------------------------------------------------------------ the group

    async def _on_assigned(self, tps: set[TP]) -> None:
        self.positions.assigned(tps)
        if self.database.down:
            return  # the loop retries with its pauses; a rebalance does not wait for the outage
        try:
            await self.positions.resolve()
        except DatabaseUnavailable as exc:
            self.database.failed(exc)
        except Exception:  # never fail the listener: the partitions stay paused and pending, the loop retries
            log.exception("history.positioning_failed", partitions=len(tps))

    async def _on_revoked(self, tps: set[TP]) -> None:
        async with self._lock:  # the batch in flight commits (or not) before the partitions go
            self.positions.revoked(tps)
            self.dead_letters.forget(tps)

    # ------------------------------------------------------------------ chores

    def refresh_lag(self) -> None:
        current: set[tuple[str, str]] = set()
        for tp in self.consumer.assignment():
            high = self.consumer.highwater(tp)
            if high is None:
                continue
            stored = self.positions.known.get(tp)
            labels = (tp[0], str(tp[1]))
            self.metrics.lag.labels(*labels).set(max(0, high - (stored or 0)))
            current.add(labels)
        for labels in self._lag_labels - current:
            self.metrics.lag.remove(*labels)
        self._lag_labels = current

    async def _prune_if_due(self) -> None:
        now = time.monotonic()
        if now < self._next_prune:
            return
        cutoff = fine_cutoff(self.clock(), self.pacing.fine_retention)
        try:
            pruned = await asyncio.to_thread(self.store.prune, cutoff)
        except DatabaseUnavailable:
            self._next_prune = now + min(60.0, self.pacing.prune_interval)
            return
        self._next_prune = now + self.pacing.prune_interval
        self.metrics.pruned.inc(pruned)
        if pruned:
            log.info("history.pruned", rows=pruned, before=cutoff.isoformat())

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.started and not self.database.down else "degraded",
            "started": self.started,
            "database_up": not self.database.down,
            "assigned": len(self.positions.known) + len(self.positions.pending),
            "pending": len(self.positions.pending),
        }
