"""The Scorer: the region states a worker holds, the records applied to them, the scores they give.

No faust and no Kafka here, so it is testable. ``Scorer.apply_record`` takes one record of
``indicator-events`` and says what became of it: an ``Outcome`` (applied, or a duplicate, late,
superseded), a ``Rejection`` (a dead letter, with its reason) or ``Misrouted`` (a valid record on a
partition that does not own its key: the service sends it on to its owner;
docs/decisions/0005-partition-ownership.md). ``Scorer.score_if_changed`` decides whether a region has a
new score to publish. The service (service.py) persists what is unpersisted, publishes what is due
and acknowledges records only after the state that holds them is persisted.

Records get exactly the checks ingest applies (schemas/validation.py): strict types, keys, bounds,
and event times against this worker's own clock. Kafka-native publishers write to the topic
directly, so nothing that arrives here is trusted more than what arrives at ingest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from schemas.framework import Framework
from schemas.reasons import EMPTY_VALUE
from schemas.regions import RegionRegistry
from schemas.scores import RegionScore
from schemas.validation import (
    DEFAULT_TIME_LIMITS,
    Problem,
    TimeLimits,
    check_event,
    dead_letter_reason,
    validate_event_json,
)
from services.scoring.domain import Outcome, RegionState, apply_reading, reading_from_event, score_region
from services.scoring.domain.codec import ScoreEncoder, decode_state, encode_state
from services.scoring.domain.scoring import ScoreCache
from services.scoring.metrics import ScoringMetrics


@dataclass(frozen=True)
class Rejection:
    """A record that cannot be scored: it goes to the DLQ with this reason."""

    reason: str
    detail: str

    @classmethod
    def of(cls, problems: list[Problem]) -> Rejection:
        """The rejection of an event with these problems: the first one's reason, all of them in the detail."""
        return cls(dead_letter_reason(problems[0]), "; ".join(map(str, problems)))


@dataclass(frozen=True)
class Misrouted:
    """A valid record on a partition that does not own its key: it belongs to ``partition``."""

    partition: int


class Scorer:
    def __init__(
        self,
        framework: Framework,
        regions: RegionRegistry,
        metrics: ScoringMetrics,
        *,
        lateness_us: int,
        publish_interval: float,
        load: Callable[[str], bytes | None] = lambda _k: None,
        clock: Callable[[], float] = time.time,
        limits: TimeLimits = DEFAULT_TIME_LIMITS,
        owner: Callable[[str], int] | None = None,
    ) -> None:
        """``owner`` gives the partition that owns a region's key (the murmur2 rule); None checks no
        ownership (an offline replay, where one process reads every partition)."""
        self.framework = framework
        self.indicators = framework.indicator_map
        self.regions = regions
        self.metrics = metrics
        self.lateness_us = lateness_us
        self.publish_interval = publish_interval
        self.load = load
        self.clock = clock
        self.limits = limits
        self.owner = owner
        self._owners: dict[str, int] = {}
        self.states: dict[str, RegionState] = {}
        self.partition_of: dict[str, int] = {}
        self.pending_latency: dict[str, list[float]] = {}  # region -> Kafka timestamps not yet published
        self.dirty: set[str] = set()
        self.unpersisted: set[str] = set()
        self.last_published_at: dict[str, float] = {}
        self.caches: dict[str, ScoreCache] = {}
        self.encoders: dict[str, ScoreEncoder] = {}
        self.latest: dict[str, RegionScore] = {}  # region -> its last published score (the score gauges)
        metrics.scores.latest = self.latest.values
        metrics.scores.names = {code: r.name for code, r in regions.regions.items()}
        self.processed = 0  # records applied, whatever their outcome (cheap progress for /healthz)

    # ------------------------------------------------------------------ records

    def state_for(self, region: str) -> RegionState:
        st = self.states.get(region)
        if st is None:
            raw = self.load(region)
            st = decode_state(raw) if raw is not None else RegionState()
            self.states[region] = st
            self.caches[region] = ScoreCache()
            self.metrics.regions.set(len(self.states))
        return st

    def apply_record(
        self, key: bytes | None, value: bytes | None, partition: int, offset: int, timestamp_s: float
    ) -> Outcome | Rejection | Misrouted:
        """Check and apply one record of ``indicator-events`` (``timestamp_s``: its Kafka timestamp, in
        seconds). Never raises for bad input."""
        self.processed += 1
        if value is None:
            return Rejection(EMPTY_VALUE, "record has no value")
        ev = validate_event_json(value)
        if isinstance(ev, list):
            return Rejection.of(ev)
        problem = check_event(ev, self.regions, self.framework, key=key, keyed=True, limits=self.limits,
                              now=datetime.fromtimestamp(self.clock(), UTC),
                              arrived=datetime.fromtimestamp(timestamp_s, UTC))  # fmt: skip
        if problem is not None:
            return Rejection.of([problem])
        region = ev.region_code
        if self.owner is not None:
            home = self._owners.get(region)
            if home is None:
                home = self._owners[region] = self.owner(region)
            if home != partition:
                return Misrouted(home)
        ind = self.indicators[ev.indicator_id]
        state = self.state_for(region)
        self.partition_of[region] = partition
        before = state.offsets.get(partition)
        outcome = apply_reading(state, reading_from_event(ev), ind, self.lateness_us, (partition, offset))
        if state.offsets.get(partition) != before:
            self.unpersisted.add(region)
        if outcome is Outcome.SCORED:
            self.dirty.add(region)
            self.pending_latency.setdefault(region, []).append(timestamp_s)
        return outcome

    # ------------------------------------------------------------------ persistence

    def take_unpersisted(self) -> Iterator[tuple[str, bytes]]:
        """Encoded states of the regions changed since the last call, encoded one at a time as taken.

        A region changed again while this runs is encoded as it is then, and stays marked for the next
        call: persisting a state newer than the acknowledged offsets is harmless (offsets are in it).
        """
        regions, self.unpersisted = self.unpersisted, set()
        for r in regions:
            state = self.states.get(r)
            if state is not None:  # None: its partition was revoked meanwhile
                yield r, encode_state(state)

    def forget_partitions(self, partitions: set[int]) -> None:
        """Drop cached state of partitions this worker no longer owns (after a rebalance)."""
        for region in [r for r, p in self.partition_of.items() if p in partitions]:
            for d in (self.states, self.partition_of, self.pending_latency, self.last_published_at,
                      self.caches, self.encoders, self.latest):  # fmt: skip
                d.pop(region, None)  # type: ignore[attr-defined,unused-ignore]
            self.dirty.discard(region)
            self.unpersisted.discard(region)
        self.metrics.regions.set(len(self.states))

    # ------------------------------------------------------------------ publication

    def due(self, now: float | None = None, interval: float | None = None) -> list[str]:
        """Dirty regions whose last publication is at least one interval (default: the configured one) old."""
        t = self.clock() if now is None else now
        gap = self.publish_interval if interval is None else interval
        last = self.last_published_at.get
        return [r for r in self.dirty if t - last(r, 0.0) >= gap]

    def score(self, region: str, at: datetime | None = None) -> RegionScore:
        """The region's score now, for a reader (computed apart from the publication's cache)."""
        at = at or datetime.fromtimestamp(self.clock(), UTC)
        return score_region(self.state_for(region), self.framework, region, at)

    def score_if_changed(self, region: str, at: datetime | None = None, force: bool = False) -> RegionScore | None:
        """The region's score to publish, if it changed since the last one this returned (None otherwise).

        What it returns counts as published: the region is no longer dirty, and its latency and score
        gauges are taken from it."""
        now = self.clock()
        at = at or datetime.fromtimestamp(now, UTC)
        state = self.state_for(region)
        cache = self.caches.setdefault(region, ScoreCache())
        score = score_region(state, self.framework, region, at, cache)
        self.dirty.discard(region)
        stamps = self.pending_latency.pop(region, [])
        if not force and not cache.changed:
            return None
        self.last_published_at[region] = now
        for ts in stamps:
            self.metrics.latency.observe(max(0.0, now - ts))
        self.latest[region] = score
        self.metrics.scores_published.inc()
        return score

    def encode(self, score: RegionScore) -> bytes:
        """The JSON of a score this scorer published (reusing the bytes of its unchanged parts)."""
        return self.encoders.setdefault(score.region_code, ScoreEncoder()).encode(score)
