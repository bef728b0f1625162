"""What the writer's service layer needs from the outside (bootstrap.py builds the adapters).

- :class:`Store`: the history store (adapters/postgres.py), called from a worker thread;
- :class:`Consumer`: the followed topics in a consumer group, positioned by the service (adapters/kafka.py);
- :class:`DeadLetterSink`: the dead-letter topic ``history.dlq``.

Partitions are plain ``(topic, partition)`` pairs (aiokafka's TopicPartition is one).
The adapters translate their failures into the exceptions below: the service never sees a driver's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.history.domain import Batch, Row
from services.runtime.errors import Received as Consumed

TP = tuple[str, int]


class DatabaseUnavailable(RuntimeError):
    """The transaction did not reach the database (down, unreachable, timed out): nothing was written."""


class RowsRefused(RuntimeError):
    """The database refused a row of the batch (a constraint, a value it cannot store): nothing was written."""


class OffsetsMoved(RuntimeError):
    """Another writer advanced these partitions' offsets meanwhile (a rebalance): nothing was written."""

    def __init__(self, tps: Sequence[TP]) -> None:
        super().__init__(f"offsets moved under this writer: {sorted(tps)}")
        self.tps = list(tps)


class DeadLettersUnavailable(RuntimeError):
    """The dead-letter topic did not acknowledge a record."""


class BrokerUnavailable(RuntimeError):
    """A Kafka client could not start: the cluster cannot be reached."""


@dataclass(frozen=True, slots=True)
class Advance:
    """Move ``tp``'s stored next offset from ``expected`` (None: no row yet) to ``next``."""

    tp: TP
    expected: int | None
    next: int


@dataclass(frozen=True, slots=True)
class Letter:
    """A dead-letter record: the record as received, with the ``pantau.dlq.*`` headers."""

    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    origin: tuple[str, int, int]  # (topic, partition, offset) of the record


class Received(Consumed, Protocol):
    """A record as the consumer read it (aiokafka's ConsumerRecord), with its Kafka timestamp (ms)."""

    @property
    def timestamp(self) -> int: ...


class Store(Protocol):
    def migrate(self) -> str: ...

    def load_offsets(self, tps: Collection[TP]) -> dict[TP, int]:
        """The stored next offsets of those of ``tps`` that have one."""
        ...

    def write(self, batch: Batch, advances: Sequence[Advance]) -> None:
        """Upsert the rows and advance the offsets in one transaction (all or nothing)."""
        ...

    def refused(self, batch: Batch) -> list[Row]:
        """The rows the database refuses, each tried on its own; nothing is kept."""
        ...

    def prune(self, cutoff: datetime) -> int:
        """Delete the fine snapshots whose step starts before ``cutoff``; how many."""
        ...


Listener = Callable[[set[TP]], Awaitable[None]]


class Consumer(Protocol):
    async def start(self, on_assigned: Listener, on_revoked: Listener) -> None: ...

    async def stop(self) -> None: ...

    async def getmany(self, timeout: float, max_records: int) -> Mapping[TP, Sequence[Received]]: ...

    def seek(self, tp: TP, offset: int) -> None: ...

    async def seek_to_beginning(self, tps: Collection[TP]) -> None: ...

    def pause(self, tps: Collection[TP]) -> None: ...

    def resume(self, tps: Collection[TP]) -> None: ...

    def assignment(self) -> set[TP]: ...

    def highwater(self, tp: TP) -> int | None: ...

    async def commit(self, offsets: Mapping[TP, int]) -> None:
        """Also tell Kafka (monitoring only: the database's offsets are the ones the writer follows)."""
        ...


class DeadLetterSink(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, letters: Sequence[Letter]) -> None:
        """Write and wait for the acknowledgements; DeadLettersUnavailable when they do not come."""
        ...
