"""``pantau simulate``: a live feed for all 514 regions, some of which drift behind their plan.

- Statistics: each region's real BPS baselines (IPM 2024, P0 2024 from schemas/data) once at the
  start, dated at the end of their period; other statistics get a stable per-region value.
- Live indicators: one reading each at the start (full coverage at once), then readings at ``rate``
  events/s spread over the regions, drawn around a stable
  per-region quality (0-1 of each indicator's typical range, in the indicator's good direction).
- Drift: a fraction of regions (or the ones named) cycle through ``cycle`` seconds: steady for the
  first third, then their live readings collapse for a third (their scores fall below the path and
  alerts fire), then recover above where they started (alerts resolve).
"""

from __future__ import annotations

import csv
import random
import signal
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from pantau.feed import typical_range
from schemas.framework import Direction, Framework, Indicator
from services.runtime import logs
from services.runtime.kafka_io import safe_producer
from services.runtime.settings import Kafka

log = logs.get("pantau.simulate")
BPS_FILE = Path(__file__).resolve().parent.parent / "schemas" / "data" / "indicator_observations_bps.csv"


@dataclass(frozen=True)
class Plan:
    regions: Sequence[str]
    drifting: frozenset[str]
    rate: float
    cycle: float
    seed: int = 7


def bps_observations(path: Path = BPS_FILE) -> dict[tuple[str, str], dict[int, float]]:
    """(region, indicator) -> {period (year): value}, every period of the BPS file."""
    out: dict[tuple[str, str], dict[int, float]] = {}
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out.setdefault((row["region_code"], row["indicator_code"]), {})[int(row["period"])] = float(row["value"])
    return out


def bps_baselines(path: Path = BPS_FILE) -> dict[tuple[str, str], tuple[float, datetime]]:
    """(region, indicator) -> (value, end of its period) of the latest period in the BPS file."""
    out: dict[tuple[str, str], tuple[float, datetime]] = {}
    for key, periods in bps_observations(path).items():
        year = max(periods)
        out[key] = (periods[year], datetime(year, 12, 31, tzinfo=UTC))
    return out


def quality_value(ind: Indicator, q: float) -> float:
    """The value at quality ``q`` (0 worst, 1 best) of the indicator's typical range."""
    lo, hi = typical_range(ind)
    q = min(1.0, max(0.0, q))
    return lo + q * (hi - lo) if ind.direction is Direction.HIGHER_IS_BETTER else hi - q * (hi - lo)


def region_quality(region: str, seed: int) -> float:
    """A stable quality per region, most regions near the national path (0.55-0.85)."""
    return random.Random(f"{seed}:{region}").uniform(0.55, 0.85)


def drift_factor(elapsed: float, cycle: float) -> float | None:
    """None while steady; the quality during the collapse (0.05) or the recovery (1.0) thirds."""
    phase = (elapsed % cycle) / cycle
    if phase < 1 / 3:
        return None
    return 0.05 if phase < 2 / 3 else 1.0


def event(region: str, ind: Indicator, value: float, at: datetime) -> bytes:
    return orjson.dumps({
        "event_id": str(uuid.uuid4()), "region_code": region, "indicator_id": ind.id, "value": round(value, 4),
        "unit": ind.unit, "observed_at": at.isoformat(), "source": "pantau-simulate",
    })  # fmt: skip


def statistics(fw: Framework, plan: Plan, now: datetime) -> Iterator[tuple[str, bytes]]:
    """One reading of every statistic for every region: BPS where the repo has it, else stable values."""
    bps = bps_baselines()
    for region in plan.regions:
        q = region_quality(region, plan.seed)
        for ind in fw.indicators:
            if ind.aggregation.method != "latest":
                continue
            real = bps.get((region, ind.id))
            if real is not None:
                yield region, event(region, ind, real[0], real[1])
            else:
                jitter = random.Random(f"{plan.seed}:{region}:{ind.id}").uniform(-0.1, 0.1)
                yield region, event(region, ind, quality_value(ind, q + jitter), now - timedelta(days=30))


def run(fw: Framework, plan: Plan, kafka: Kafka, topic: str, duration: float | None) -> int:
    """Feed ``topic`` until ``duration`` elapses or SIGTERM/SIGINT; return the number of events sent."""
    stop = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    producer = safe_producer(kafka, linger_ms=20)
    sent = 0
    try:
        for region, record in statistics(fw, plan, datetime.now(UTC)):
            producer.send(topic, key=region.encode(), value=record)
            sent += 1
        live = [i for i in fw.indicators if i.aggregation.method != "latest"]
        rng = random.Random(plan.seed)
        # One reading of every live indicator too, so that every region starts with full coverage.
        start = datetime.now(UTC)
        for region in plan.regions:
            q = region_quality(region, plan.seed)
            for ind in live:
                producer.send(topic, key=region.encode(), value=event(region, ind, quality_value(ind, q), start))
                sent += 1
        producer.flush()
        log.info("simulate.baseline", events=sent, regions=len(plan.regions))
        t0 = time.monotonic()
        last_report = t0
        n_live = 0
        while not stop:
            elapsed = time.monotonic() - t0
            if duration is not None and elapsed >= duration:
                break
            now = datetime.now(UTC)
            drift = drift_factor(elapsed, plan.cycle)
            while n_live < int(elapsed * plan.rate):
                region = plan.regions[n_live % len(plan.regions)]
                ind = live[rng.randrange(len(live))]
                q = region_quality(region, plan.seed)
                if drift is not None and region in plan.drifting:
                    q = drift
                value = quality_value(ind, q + rng.uniform(-0.05, 0.05))
                producer.send(topic, key=region.encode(), value=event(region, ind, value, now))
                n_live += 1
            if time.monotonic() - last_report >= 10:
                phase = "steady" if drift is None else ("collapse" if drift < 0.5 else "recovery")
                log.info("simulate.progress", live_events=n_live, rate=round(n_live / max(elapsed, 1e-9)),
                         drifting=len(plan.drifting), phase=phase)  # fmt: skip
                last_report = time.monotonic()
            time.sleep(0.02)
        producer.flush()
        return sent + n_live
    finally:
        producer.close()
