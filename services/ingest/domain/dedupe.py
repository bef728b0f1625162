"""A bounded memory of recently written event ids, so that a resubmitted event is not written twice.

Its reach, on purpose: one process, since it started, at most ``capacity`` ids, each for at most
``window`` seconds after it was written. Beyond that a resubmission is written again, and the
scoring service (which dedupes on ``event_id`` within its allowed lateness) absorbs it: Kafka is
at-least-once anyway, so every consumer must be idempotent.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from enum import StrEnum


class Seen(StrEnum):
    NEW = "new"
    PENDING = "pending"  # being written by a request in flight
    WRITTEN = "written"


class RecentIds:
    def __init__(self, capacity: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = capacity
        self.window = window
        self.clock = clock
        self._written: OrderedDict[str, float] = OrderedDict()  # id -> when written, oldest first
        self._pending: set[str] = set()

    def __len__(self) -> int:
        return len(self._written)

    def status(self, event_id: str) -> Seen:
        if event_id in self._pending:
            return Seen.PENDING
        at = self._written.get(event_id)
        if at is not None and self.clock() - at <= self.window:
            return Seen.WRITTEN
        return Seen.NEW

    def reserve(self, event_id: str) -> bool:
        """Mark ``event_id`` as being written; False when it is written or pending already."""
        if self.status(event_id) is not Seen.NEW:
            return False
        self._pending.add(event_id)
        return True

    def confirm(self, event_id: str) -> None:
        """The broker acknowledged it: remember it (evicting the oldest beyond capacity or window)."""
        self._pending.discard(event_id)
        now = self.clock()
        self._written[event_id] = now
        self._written.move_to_end(event_id)
        while self._written:
            oldest, at = next(iter(self._written.items()))
            if len(self._written) <= self.capacity and now - at <= self.window:
                break
            del self._written[oldest]

    def release(self, event_id: str) -> None:
        """It was not written after all (the broker did not acknowledge): a resubmission is new."""
        self._pending.discard(event_id)
