"""Per-region scoring state and how one reading changes it (docs/scoring.md).

``apply_reading`` changes the state it is given and returns the outcome; callers that want a copy
take one first (``RegionState.copy``). Keeping it in place is what lets one worker sustain tens of
thousands of events per second.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from schemas.events import IndicatorEvent
from schemas.framework import Indicator

MICRO = 1_000_000
BUCKETS_PER_WINDOW = 24
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Outcome(enum.StrEnum):
    SCORED = "scored"
    DUPLICATE = "duplicate"
    LATE = "late"
    SUPERSEDED = "superseded"


def to_micros(t: datetime | timedelta) -> int:
    """Exact integer microseconds of an aware datetime (since the epoch) or of a duration."""
    d = t - _EPOCH if isinstance(t, datetime) else t
    return (d.days * 86_400 + d.seconds) * MICRO + d.microseconds


def from_micros(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


@dataclass(frozen=True, slots=True)
class Reading:
    """What scoring needs of an event: its id (hex), indicator, event time (us) and value."""

    event_id: str
    indicator_id: str
    ts: int
    value: float


def reading_from_event(ev: IndicatorEvent) -> Reading:
    return Reading(ev.event_id.hex, ev.indicator_id, to_micros(ev.observed_at), ev.value)


@dataclass(slots=True)
class Bucket:
    count: int
    total: int  # sum of values in micro-units: exact, so arrival order does not matter
    lo: float
    hi: float
    newest: int  # newest observed_at in the bucket (us)


@dataclass(slots=True)
class Series:
    watermark: int | None = None
    latest: tuple[int, str, float] | None = None  # (ts, event_id, value), 'latest' aggregation
    buckets: dict[int, Bucket] = field(default_factory=dict)  # bucket start (us) -> aggregate
    recent: dict[str, int] = field(default_factory=dict)  # event_id -> ts, within lateness
    # Bumped on every accepted reading, so that derived values can be cached. Not part of the state.
    version: int = field(default=0, compare=False)

    def copy(self) -> Series:
        return Series(
            self.watermark,
            self.latest,
            {k: Bucket(b.count, b.total, b.lo, b.hi, b.newest) for k, b in self.buckets.items()},
            dict(self.recent),
        )


@dataclass(slots=True)
class RegionState:
    series: dict[str, Series] = field(default_factory=dict)
    offsets: dict[int, int] = field(default_factory=dict)  # source partition -> last offset seen
    applied: int = 0  # events that changed the state
    # Indicators changed since a cached evaluation last looked (score_region with a ScoreCache);
    # not persisted: a restored state starts with an empty cache, which looks at everything.
    touched: set[str] = field(default_factory=set, compare=False, repr=False)

    def copy(self) -> RegionState:
        return RegionState({k: s.copy() for k, s in self.series.items()}, dict(self.offsets), self.applied)


def bucket_width(window_us: int) -> int:
    return max(1, window_us // BUCKETS_PER_WINDOW)


def apply_reading(
    state: RegionState,
    reading: Reading,
    indicator: Indicator,
    lateness_us: int,
    source: tuple[int, int] | None = None,
) -> Outcome:
    """Apply one reading to the region state in place; return what happened to it.

    The value must lie within the indicator's physical bounds (ingest and the scoring handler
    reject other values before they get here); a ValueError says so otherwise.

    ``source`` is the (partition, offset) the reading was read from: a record at or below the
    last offset seen on that partition is a redelivery and counts as a duplicate.
    """
    if not indicator.bounds.min <= reading.value <= indicator.bounds.max:
        raise ValueError(
            f"{reading.indicator_id} value {reading.value} is outside its bounds "
            f"[{indicator.bounds.min}, {indicator.bounds.max}]"
        )
    if source is not None:
        partition, offset = source
        if offset <= state.offsets.get(partition, -1):
            return Outcome.DUPLICATE
        state.offsets[partition] = offset
    series = state.series.get(reading.indicator_id)
    if series is None:
        series = state.series[reading.indicator_id] = Series()
    agg = indicator.aggregation
    if agg.method == "latest":
        outcome = _apply_latest(series, reading, lateness_us)
    else:
        assert indicator.window_us is not None
        outcome = _apply_windowed(series, reading, indicator.window_us, lateness_us)
    if outcome is Outcome.SCORED:
        state.applied += 1
        series.version += 1
        state.touched.add(reading.indicator_id)
    return outcome


def _apply_latest(series: Series, r: Reading, lateness_us: int) -> Outcome:
    if r.event_id in series.recent:
        return Outcome.DUPLICATE
    wm = series.watermark
    if wm is not None and r.ts < wm - lateness_us:
        return Outcome.SUPERSEDED  # older than anything that could still matter: not remembered
    cur = series.latest
    if cur is None or (r.ts, r.event_id) > (cur[0], cur[1]):
        series.latest = (r.ts, r.event_id, r.value)
    series.recent[r.event_id] = r.ts
    if wm is None or r.ts > wm:
        series.watermark = wm = r.ts
        floor = wm - lateness_us
        if min(series.recent.values()) < floor:
            series.recent = {e: t for e, t in series.recent.items() if t >= floor}
    return Outcome.SCORED


def _apply_windowed(series: Series, r: Reading, window_us: int, lateness_us: int) -> Outcome:
    if r.event_id in series.recent:
        return Outcome.DUPLICATE
    wm = series.watermark
    if wm is not None and r.ts < wm - lateness_us:
        return Outcome.LATE
    width = bucket_width(window_us)
    start = (r.ts // width) * width
    micro_value = round(r.value * MICRO)
    b = series.buckets.get(start)
    if b is None:
        series.buckets[start] = Bucket(1, micro_value, r.value, r.value, r.ts)
    else:
        b.count += 1
        b.total += micro_value
        if r.value < b.lo:
            b.lo = r.value
        if r.value > b.hi:
            b.hi = r.value
        if r.ts > b.newest:
            b.newest = r.ts
    series.recent[r.event_id] = r.ts
    if wm is None or r.ts > wm:
        series.watermark = wm = r.ts
        _prune(series, wm, window_us, lateness_us, width)
    return Outcome.SCORED


def _prune(series: Series, wm: int, window_us: int, lateness_us: int, width: int) -> None:
    """Forget ids that can only arrive late now, and buckets that no window can cover again."""
    id_floor = wm - lateness_us
    if series.recent and min(series.recent.values()) < id_floor:
        series.recent = {e: t for e, t in series.recent.items() if t >= id_floor}
    bucket_floor = wm - max(window_us, lateness_us) - width
    if series.buckets and min(series.buckets) <= bucket_floor:
        series.buckets = {s: b for s, b in series.buckets.items() if s > bucket_floor}


def window_value(
    series: Series, method: str, window_us: int, at_us: int
) -> tuple[float | None, int | None, int | None]:
    """The aggregate over the buckets starting in (at - window, at], the newest reading time, and
    the next time after ``at_us`` when the set of covered buckets changes (None: never)."""
    lo_bound = at_us - window_us
    change: int | None = None
    count = 0
    total = 0
    mn: float | None = None
    mx: float | None = None
    newest: int | None = None
    for start, b in series.buckets.items():
        # A bucket enters the window at its start and leaves it one window later.
        edge = start if start > at_us else start + window_us
        if edge > at_us and (change is None or edge < change):
            change = edge
        if lo_bound < start <= at_us:
            count += b.count
            total += b.total
            mn = b.lo if mn is None or b.lo < mn else mn
            mx = b.hi if mx is None or b.hi > mx else mx
            newest = b.newest if newest is None or b.newest > newest else newest
    if count == 0:
        return None, None, change
    if method == "mean":
        return total / count / MICRO, newest, change
    if method == "sum":
        return total / MICRO, newest, change
    if method == "min":
        return mn, newest, change
    return mx, newest, change
