"""Where the writer reads each assigned partition from: the next offset stored in the database.

The database is the source of truth for offsets (Kafka's committed offsets are informative only). On
assignment each partition is paused, its stored offset read, the consumer sought there (to the beginning
when none is stored) and the partition resumed. If the database cannot be read then, the partition stays
paused (``pending``) and the writer retries until it can: nothing is read from a wrong position.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection, Iterable, Sequence

from services.history.service.ports import TP, Advance, Consumer, DatabaseUnavailable, Store
from services.runtime import logs

log = logs.get("pantau.history")


class Positions:
    def __init__(self, consumer: Consumer, store: Store) -> None:
        self.consumer = consumer
        self.store = store
        #: assigned partition -> its stored next offset (None: nothing stored, read from the beginning)
        self.known: dict[TP, int | None] = {}
        #: assigned partitions whose stored offsets are still to be read (paused meanwhile)
        self.pending: set[TP] = set()
        self._resolving = asyncio.Lock()

    def assigned(self, tps: Collection[TP]) -> None:
        fresh = set(tps) - set(self.known)
        self.consumer.pause(fresh)
        self.pending |= fresh

    def adopt(self) -> None:
        """Assigned partitions neither positioned nor pending (an assignment whose listener failed) are
        treated as newly assigned: paused, and positioned from the database before anything is written."""
        stray = self.consumer.assignment() - set(self.known) - self.pending
        if stray:
            log.warning("history.partitions_adopted", partitions=sorted(stray))
            self.assigned(stray)

    def revoked(self, tps: Collection[TP]) -> None:
        for tp in tps:
            self.known.pop(tp, None)
            self.pending.discard(tp)

    async def resolve(self) -> None:
        """Position the pending partitions; DatabaseUnavailable when their offsets cannot be read."""
        async with self._resolving:  # the rebalance listener and the writer's loop may both try
            self.pending &= self.consumer.assignment()
            if not self.pending:
                return
            pending = sorted(self.pending)
            stored = await asyncio.to_thread(self.store.load_offsets, pending)
            await self._seek(pending, stored)
            self.pending.difference_update(pending)
            self.consumer.resume(pending)
        log.info("history.partitions_positioned", partitions=len(pending), from_database=len(stored))

    async def reload(self, tps: Iterable[TP]) -> None:
        """Another writer moved these partitions' offsets: read them again (pausing them meanwhile)."""
        held = [tp for tp in tps if tp in self.known]
        for tp in held:
            self.known.pop(tp)
        self.assigned(held)
        with contextlib.suppress(DatabaseUnavailable):  # they stay pending; the writer's loop retries
            await self.resolve()

    async def rewind(self, tps: Iterable[TP]) -> None:
        """Read these partitions again from their stored offsets (a batch that was not written)."""
        beginning = []
        for tp in tps:
            if tp not in self.known:
                continue
            offset = self.known[tp]
            if offset is None:
                beginning.append(tp)
            else:
                self.consumer.seek(tp, offset)
        if beginning:
            await self.consumer.seek_to_beginning(beginning)

    def committed(self, advances: Sequence[Advance]) -> None:
        for a in advances:
            if a.tp in self.known:
                self.known[a.tp] = a.next

    async def _seek(self, tps: Sequence[TP], stored: dict[TP, int]) -> None:
        beginning = []
        for tp in tps:
            self.known[tp] = stored.get(tp)
            if tp in stored:
                self.consumer.seek(tp, stored[tp])
            else:
                beginning.append(tp)
        if beginning:
            await self.consumer.seek_to_beginning(beginning)
