"""Fast synthetic indicator events (JSON bytes) for benchmarks, tests and the simulator.

Values are drawn inside each indicator's normalisation range so that scores spread over 0-5.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import orjson

from schemas.framework import Framework, Indicator, MinMax, Target, Thresholds


def typical_range(ind: Indicator) -> tuple[float, float]:
    """A plausible range of values for an indicator (inside its physical bounds)."""
    n = ind.normalisation
    if isinstance(n, MinMax):
        lo, hi = n.min, n.max
    elif isinstance(n, Target):
        lo, hi = n.target * 0.3, n.target * 1.5
    else:
        assert isinstance(n, Thresholds)
        lo, hi = min(n.thresholds) * 0.8, max(n.thresholds) * 1.1
    lo, hi = max(lo, ind.bounds.min), min(hi, ind.bounds.max)
    return (lo, hi) if lo < hi else (ind.bounds.min, ind.bounds.max)


def event_bytes(region: str, ind: Indicator, value: float, at: datetime, source: str = "simulator") -> bytes:
    return orjson.dumps({
        "event_id": str(uuid.uuid4()), "region_code": region, "indicator_id": ind.id, "value": value,
        "unit": ind.unit, "observed_at": at.isoformat(), "source": source,
    })  # fmt: skip


def synthetic_events(
    framework: Framework,
    regions: Sequence[str],
    n: int,
    *,
    end: datetime | None = None,
    span: timedelta = timedelta(hours=12),
    seed: int = 1,
) -> Iterator[tuple[bytes, bytes]]:
    """``n`` (key, value) records over ``regions`` with event times spread evenly over ``span``.

    Live indicators get recent readings; statistics get readings dated within the past year.
    """
    rng = random.Random(seed)
    end = end or datetime.now(UTC)
    start = end - span
    inds = framework.indicators
    ranges = {i.id: typical_range(i) for i in inds}
    step = span / max(n, 1)
    for k in range(n):
        region = regions[k % len(regions)]
        ind = inds[rng.randrange(len(inds))]
        lo, hi = ranges[ind.id]
        at = start + step * k if ind.aggregation.method != "latest" else end - timedelta(days=rng.randint(1, 365))
        yield region.encode(), event_bytes(region, ind, round(rng.uniform(lo, hi), 3), at, "bench")
