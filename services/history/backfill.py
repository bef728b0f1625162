"""``pantau history backfill``: rebuild the history from the topics, once, then stop.

A backfill is a history writer of its own (its own consumer group and stored offsets, named
``pantau-history-backfill-<id>``) that reads its topics from the beginning to the end offsets they had
when it started, writing exactly what the live writer writes (the same upserts on natural keys, so a
live writer running meanwhile, or a second backfill, changes nothing). When it has caught up it stops,
deletes its stored offsets and leaves the group.

- From the followed topics: the history ``region-scores`` (kept 90 days), ``maturity-alerts`` and
  ``masterplan-milestones`` still hold, e.g. after the database was restored from an older dump.
- From a ``pantau rescore`` output topic (``region-scores.<framework>-<version>``): the scores of a new
  framework version, stored beside the live version's (framework_id and framework_version are part of
  every snapshot's key), so both histories can be compared.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from services.history.bootstrap import History, bootstrap
from services.history.config import HistorySettings
from services.runtime import logs
from services.runtime.kafka_io import end_offsets

log = logs.get("pantau.history.backfill")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BackfillReport:
    consumer: str
    topics: list[str]
    records: int  # records read (the sum of the end offsets: compacted topics may hold fewer)
    rows: dict[str, int]  # table -> rows written (upserts count once per row written)


def backfill(
    settings: HistorySettings,
    *,
    extra_scores: Sequence[str] = (),
    followed: bool = True,
    progress: Progress = lambda done, total: None,
) -> BackfillReport:
    consumer = f"pantau-history-backfill-{uuid.uuid4().hex[:8]}"
    history = bootstrap(settings.model_copy(update={"group_id": consumer, "web_port": 0}),
                        extra_scores=extra_scores, followed=followed)  # fmt: skip
    topics = sorted(history.writer.intake.kinds)
    ends = end_offsets(settings.kafka, topics)
    log.info("history.backfill.start", consumer=consumer, topics=topics, records=sum(ends.values()))
    try:
        asyncio.run(_until_caught_up(history, ends, progress))
    finally:
        history.engine.dispose()
    rows = {table: int(value) for (table,), value in _samples(history, "pantau_history_rows_written_total").items()}
    return BackfillReport(consumer, topics, sum(ends.values()), rows)


async def _until_caught_up(history: History, ends: dict[tuple[str, int], int], progress: Progress) -> None:
    writer = history.writer
    total = sum(ends.values())
    run = asyncio.create_task(writer.run())
    try:
        while not run.done():
            await asyncio.wait({run}, timeout=0.5)
            reached = await _reached(history, ends)
            progress(sum(reached.values()), total)
            if writer.started and all(reached[tp] >= end for tp, end in ends.items()):
                writer.stop()
        await run
    finally:
        if not run.done():
            writer.stop()
            await run
    await asyncio.to_thread(history.store.forget_consumer)


async def _reached(history: History, ends: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
    """How far each partition is written: its stored offset, or past a tail of transaction markers (which
    hold no record to store) the consumer's position once everything before it is stored."""
    known, pending = history.writer.positions.known, history.writer.positions.pending
    out = {}
    for tp, end in ends.items():
        at = known.get(tp) or 0
        if tp in known and tp not in pending and at < end:
            position = await history.topics.position(tp)
            idle = not history.writer.busy
            at = end if idle and position >= end else at
        out[tp] = min(at, end)
    return out


def _samples(history: History, name: str) -> dict[tuple[str, ...], float]:
    out: dict[tuple[str, ...], float] = {}
    for metric in history.metrics.registry.collect():
        for s in metric.samples:
            if s.name == name:
                out[tuple(s.labels.values())] = s.value
    return out
