"""The dead letters of the writer, each sent once per run.

A batch's dead letters are acknowledged by ``history.dlq`` before its transaction commits, so none is lost
if the writer dies between the two. When the transaction fails (the database is down) the batch is read
and prepared again: the letters already acknowledged are not sent again while this process runs. (After
a restart mid-batch they may be: the dead-letter topic is at least once; the rows are exactly once.)
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from schemas.dlq import REASON
from services.history.metrics import HistoryMetrics
from services.history.service.ports import TP, Advance, DeadLetterSink, Letter


class DeadLetters:
    def __init__(self, sink: DeadLetterSink, metrics: HistoryMetrics) -> None:
        self.sink = sink
        self.metrics = metrics
        self._sent: set[tuple[str, int, int]] = set()

    async def send(self, letters: Sequence[Letter]) -> None:
        """Send the letters not yet acknowledged; DeadLettersUnavailable when the topic does not answer."""
        fresh = [letter for letter in letters if letter.origin not in self._sent]
        if not fresh:
            return
        await self.sink.send(fresh)
        for letter in fresh:
            self._sent.add(letter.origin)
            self.metrics.dead_letters.labels(dict(letter.headers)[REASON].decode()).inc()

    def committed(self, advances: Sequence[Advance]) -> None:
        """Their records' offsets are committed: they will not be read again by this process."""
        done = {a.tp: a.next for a in advances}
        self._sent = {o for o in self._sent if not ((o[0], o[1]) in done and o[2] < done[(o[0], o[1])])}

    def forget(self, tps: Collection[TP]) -> None:
        """Partitions revoked: a new owner decides about their records."""
        self._sent = {o for o in self._sent if (o[0], o[1]) not in tps}
