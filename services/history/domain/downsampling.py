"""Which score snapshots are kept: a fine one per region per step for a recent window, and one closing
snapshot per region per local day for ever.

- **Fine**: time is cut into steps of ``fine_step`` counted from the UNIX epoch in UTC (a step divides a
  day, so with Indonesia's whole-hour zones, WIB +7, WITA +8, WIT +9, the steps also start on the local
  clock's boundaries: 5-minute steps start at :00, :05...). A score falls in the step that contains its
  ``evaluated_at``; the last score of a step is the step's snapshot, stored at the step's start.
- **Day**: the region's own calendar day (schemas/timezones.py: a kab/kota keeps its province's zone),
  not Jakarta's: a Papuan region's day closes at 24:00 WIT, two hours before Sumatra's. The last score of
  that day is its closing snapshot, stored at its ``evaluated_at``.
- **Retention**: a fine snapshot is kept while its step starts no earlier than ``now - fine_retention``;
  older ones are pruned, and not written again by a replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from schemas.timezones import local_day

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
_US = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Downsampling:
    fine_step: timedelta = timedelta(minutes=5)
    fine_retention: timedelta = timedelta(days=30)

    def __post_init__(self) -> None:
        if self.fine_step < timedelta(seconds=1) or DAY % self.fine_step:
            raise ValueError(f"the fine step must be at least a second and divide a day, not {self.fine_step}")
        if self.fine_retention <= timedelta(0):
            raise ValueError(f"the fine retention must be positive, not {self.fine_retention}")


def fine_slot(at: datetime, step: timedelta) -> datetime:
    """The start (UTC) of the step that contains ``at``: steps count from the epoch, [start, start + step)."""
    if at.tzinfo is None:
        raise ValueError("a score's time must carry its zone")
    micros = (at - EPOCH) // _US
    return EPOCH + (micros - micros % (step // _US)) * _US


def closing_day(at: datetime, region_code: str) -> date:
    """The region's local calendar day at ``at`` (the day whose closing snapshot a score may be)."""
    return local_day(at, region_code)


def fine_cutoff(now: datetime, retention: timedelta) -> datetime:
    """Fine snapshots whose step starts before this are past the retention."""
    return now - retention


def keeps_fine(slot: datetime, now: datetime, retention: timedelta) -> bool:
    """True while the step starting at ``slot`` is within the retention window at ``now``."""
    return slot >= fine_cutoff(now, retention)
