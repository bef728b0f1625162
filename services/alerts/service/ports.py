"""What the service layer needs from the outside, as plain callables and protocols (bootstrap.py makes them).

- :class:`Received`: a record as the consumer read it (an aiokafka ConsumerRecord, a faust Message,
  a :class:`~services.runtime.errors.FailedRecord` in the tests);
- :data:`Send`: produce a record keyed by region to one topic;
- :data:`Place`: table writes inside go to a partition of the region-keyed topics (a write outside
  an agent's stream must say which: its changelog stays co-partitioned with the records);
- :data:`HeldPartitions`: the partitions this worker holds now.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager

from pydantic import BaseModel

from services.runtime.errors import Received as Received  # the records the service layer reads

Send = Callable[[str, BaseModel], Awaitable[None]]
Place = Callable[[int, str], AbstractContextManager[None]]
HeldPartitions = Callable[[], set[int]]
Clock = Callable[[], float]


def where(record: Received) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"
