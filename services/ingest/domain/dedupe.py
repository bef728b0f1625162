"""A bounded memory of recently written events, so that a resubmitted event is not written twice.

An event is known by its :data:`DedupeKey`, (publisher, region, event id): an id is unique within
what one key may write, so a publisher cannot suppress another's events by reusing their ids (ids
of CSV imports and NGSI-LD entities are deterministic, hence predictable).

Its reach, on purpose: one process, since it started, at most ``capacity`` keys, each for at most
``window`` seconds after it was written. Beyond that a resubmission is written again, and the
scoring service (which dedupes on ``event_id`` within its allowed lateness) absorbs it: Kafka is
at-least-once anyway, so every consumer must be idempotent.

``WRITTEN`` means the broker acknowledged the write: only then may a resubmission be answered
``duplicate``. ``PENDING`` covers a write in flight and one whose outcome is in doubt; the handler
makes a resubmission wait for it instead of answering.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from enum import StrEnum

#: (publisher id, region code, event id in canonical form).
DedupeKey = tuple[str, str, str]


class Seen(StrEnum):
    NEW = "new"
    PENDING = "pending"  # being written, or written in doubt: its outcome is not known yet
    WRITTEN = "written"  # the broker acknowledged it


class RecentIds:
    def __init__(self, capacity: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = capacity
        self.window = window
        self.clock = clock
        self._written: OrderedDict[DedupeKey, float] = OrderedDict()  # key -> when written, oldest first
        self._pending: set[DedupeKey] = set()

    def __len__(self) -> int:
        return len(self._written)

    def status(self, key: DedupeKey) -> Seen:
        if key in self._pending:
            return Seen.PENDING
        at = self._written.get(key)
        if at is not None and self.clock() - at <= self.window:
            return Seen.WRITTEN
        return Seen.NEW

    def reserve(self, key: DedupeKey) -> bool:
        """Mark ``key`` as being written; False when it is written or pending already."""
        if self.status(key) is not Seen.NEW:
            return False
        self._pending.add(key)
        return True

    def confirm(self, key: DedupeKey) -> None:
        """The broker acknowledged it: remember it (evicting the oldest beyond capacity or window)."""
        self._pending.discard(key)
        now = self.clock()
        self._written[key] = now
        self._written.move_to_end(key)
        while self._written:
            oldest, at = next(iter(self._written.items()))
            if len(self._written) <= self.capacity and now - at <= self.window:
                break
            del self._written[oldest]

    def release(self, key: DedupeKey) -> None:
        """It was not written after all: a resubmission is new."""
        self._pending.discard(key)
