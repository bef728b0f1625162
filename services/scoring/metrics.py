"""Every metric of the scoring service, on an injectable registry. Base units; bounded labels."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from schemas.scores import RegionScore

# Finer around the 500 ms service level, so that its quantiles are read from counts, not guessed.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0)


class ScoreGauges(Collector):
    """The score gauges, built from the latest published score of each held region at scrape time.

    A worker publishes up to a few thousand scores a second; setting five labelled gauges for each
    cost more than encoding it. At scrape time (every 15 s or so) the ~8k samples are built once.
    A region whose partition moved to another worker drops out of ``latest`` and so its series
    disappear here instead of going stale. Scores without a trustworthy value (insufficient data)
    have no sample: absent, never zero.
    """

    def __init__(self) -> None:
        self.latest: Callable[[], Iterable[RegionScore]] = tuple
        #: region code -> its name (pantau_region_info, which lets Grafana boards search regions by name)
        self.names: Mapping[str, str] = {}

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield from self._families()

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        dim = ["region", "province", "dimension"]
        reg = ["region", "province"]
        return (
            GaugeMetricFamily("pantau_dimension_score",
                              "Dimension score (0-5) of a region; absent when insufficient data.", labels=dim),
            GaugeMetricFamily("pantau_dimension_coverage_ratio",
                              "Share of the dimension's indicator weight with fresh data.", labels=dim),
            GaugeMetricFamily("pantau_maturity_index",
                              "Maturity index (0-5) of a region; absent when insufficient data.", labels=reg),
            GaugeMetricFamily("pantau_maturity_level",
                              "Maturity level 1-5 (Rintisan..Optimum); absent when insufficient data.", labels=reg),
            GaugeMetricFamily("pantau_maturity_coverage_ratio",
                              "Share of the framework's weight with fresh data.", labels=reg),
            GaugeMetricFamily("pantau_region_info",
                              "1 for each region this worker scores; its name, and 'Name (code)' for pickers.",
                              labels=[*reg, "name", "display"]),
        )  # fmt: skip

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families = self._families()
        dim_score, dim_cov, index, level, cov, info = families
        for s in list(self.latest()):
            reg, prov = s.region_code, s.province_code
            for d in s.dimensions:
                dim_cov.add_metric([reg, prov, d.dimension_id], d.coverage)
                if d.score is not None:
                    dim_score.add_metric([reg, prov, d.dimension_id], d.score)
            cov.add_metric([reg, prov], s.coverage)
            name = self.names.get(reg, reg)
            info.add_metric([reg, prov, name, f"{name} ({reg})"], 1.0)
            if s.index is not None:
                index.add_metric([reg, prov], s.index)
            if s.level is not None:
                level.add_metric([reg, prov], s.level)
        yield from families


class ConsumerLag(Collector):
    """Records of the input partitions not yet handled: log end offset minus the next offset to handle.

    Computed at scrape time from what the worker has handled up to this moment (``handled``, set as
    batches are applied) and the partitions' end offsets (``ends``, from the broker every second, and
    raised by the fetches' high watermarks in between), so that the figure is at most a second behind
    the log. Only the partitions assigned now have a series (``assigned``): one that moved to another
    worker disappears here (a stale value would be summed with the new owner's).
    """

    NAME = "pantau_scoring_consumer_lag_messages"

    def __init__(self) -> None:
        #: (topic, partition) pairs this worker is assigned now.
        self.assigned: Callable[[], Iterable[tuple[str, int]]] = tuple
        #: (topic, partition) -> a log end offset (the next offset the broker will write).
        self.ends: dict[tuple[str, int], int] = {}
        #: (topic, partition) -> the next offset to handle (the last handled one + 1).
        self.handled: dict[tuple[str, int], int] = {}

    def raise_end(self, tp: tuple[str, int], end: int | None) -> None:
        if end is not None and end > self.ends.get(tp, -1):
            self.ends[tp] = end

    def forget(self, tps: Iterable[tuple[str, int]]) -> None:
        """Partitions revoked: what was handled there says nothing about their next assignment."""
        for tp in tps:
            self.handled.pop(tp, None)
            self.ends.pop(tp, None)

    def lag(self) -> dict[tuple[str, int], int]:
        out = {}
        for tp in list(self.assigned()):
            end, done = self.ends.get(tp), self.handled.get(tp)
            if end is not None and done is not None:
                out[(tp[0], tp[1])] = max(0, end - done)
        return out

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield self._family()

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(self.NAME, "Log end offset minus the next offset to handle, per input partition.",
                                 labels=["topic", "partition"])  # fmt: skip

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = self._family()
        for (topic, partition), value in sorted(self.lag().items()):
            family.add_metric([topic, str(partition)], value)
        yield family


class ScoringMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        #: Set ``scores.latest`` to what yields the held regions' latest published scores.
        self.scores = ScoreGauges()
        r.register(self.scores)
        self.events = Counter("pantau_scoring_events_total", "Indicator events by outcome.", ["outcome"], registry=r)
        self.invalid = Counter(
            "pantau_scoring_messages_invalid_total",
            "Records sent to the DLQ, by reason.",
            ["reason"],
            registry=r,
        )
        self.latency = Histogram(
            "pantau_event_to_score_latency_seconds",
            "From an event's Kafka timestamp to the publication of a region score that includes it.",
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.record_age = Histogram(
            "pantau_scoring_record_age_seconds",
            "Age (from its Kafka timestamp) of the newest record of each fetched batch when it is applied.",
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.scores_published = Counter(
            "pantau_region_scores_published_total", "RegionScore records published.", registry=r
        )
        #: Set ``consumer_lag.assigned``; the service keeps its offsets current.
        self.consumer_lag = ConsumerLag()
        r.register(self.consumer_lag)
        self.regions = Gauge("pantau_scoring_regions", "Regions whose state this worker holds.", registry=r)
        self.persist_seconds = Histogram(
            "pantau_scoring_persist_seconds", "Time to write changed region states to the table.", registry=r
        )
        for outcome in ("scored", "duplicate", "late", "superseded", "rerouted", "invalid", "error"):
            self.events.labels(outcome)
