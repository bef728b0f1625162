"""Every metric of the scoring service, on an injectable registry. Base units; bounded labels."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0)


class ScoringMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.dimension_score = Gauge(
            "pantau_dimension_score", "Dimension score (0-5) of a region; absent when insufficient data.",
            ["region", "province", "dimension"], registry=r,
        )  # fmt: skip
        self.dimension_coverage = Gauge(
            "pantau_dimension_coverage_ratio", "Share of the dimension's indicator weight with fresh data.",
            ["region", "province", "dimension"], registry=r,
        )  # fmt: skip
        self.maturity_index = Gauge(
            "pantau_maturity_index", "Maturity index (0-5) of a region; absent when insufficient data.",
            ["region", "province"], registry=r,
        )  # fmt: skip
        self.maturity_level = Gauge(
            "pantau_maturity_level", "Maturity level 1-5 (Rintisan..Optimum); absent when insufficient data.",
            ["region", "province"], registry=r,
        )  # fmt: skip
        self.index_coverage = Gauge(
            "pantau_maturity_coverage_ratio", "Share of the framework's weight with fresh data.",
            ["region", "province"], registry=r,
        )  # fmt: skip
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
        self.consumer_lag = Gauge(
            "pantau_scoring_consumer_lag_messages", "High watermark minus position, per input partition.",
            ["topic", "partition"], registry=r,
        )  # fmt: skip
        self.regions = Gauge("pantau_scoring_regions", "Regions whose state this worker holds.", registry=r)
        self.persist_seconds = Histogram(
            "pantau_scoring_persist_seconds", "Time to write changed region states to the table.", registry=r
        )
        for outcome in ("scored", "duplicate", "late", "superseded", "invalid", "error"):
            self.events.labels(outcome)
