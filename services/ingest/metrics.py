"""Every metric of the ingest service, on an injectable registry. Base units; bounded labels.

The names are a contract: dashboards and alert rules in deploy/ are written against them.
Labels are bounded: ``route`` is the route template (or ``unmatched``), ``reason`` a stable code of
schemas/validation.py or of the intake, ``source`` one of http, kafka, csv, ``resolution`` written or
not_written.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

SOURCES = ("http", "kafka", "csv")
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PRODUCE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "pantau_ingest_requests_total", "HTTP requests by route template, method and status.",
            ["route", "method", "status"], registry=r,
        )  # fmt: skip
        self.request_duration = Histogram(
            "pantau_ingest_request_duration_seconds", "HTTP request duration by route template.",
            ["route"], buckets=REQUEST_BUCKETS, registry=r,
        )  # fmt: skip
        self.accepted = Counter(
            "pantau_ingest_events_accepted_total", "Events written to indicator-events (broker acknowledged).",
            ["source"], registry=r,
        )  # fmt: skip
        self.rejected = Counter(
            "pantau_ingest_events_rejected_total", "Events refused, by intake and reason code.",
            ["source", "reason"], registry=r,
        )  # fmt: skip
        self.duplicates = Counter(
            "pantau_ingest_events_duplicate_total", "Events whose event_id was recently accepted (not written again).",
            ["source"], registry=r,
        )  # fmt: skip
        self.invalid = Counter(
            "pantau_ingest_messages_invalid_total",
            "Records sent to the dead-letter topic (raw-topic records, NGSI-LD notifications posted), by reason.",
            ["reason"], registry=r,
        )  # fmt: skip
        self.in_doubt = Counter(
            "pantau_ingest_events_in_doubt_total",
            "Events whose write failed while on the wire, by what reading the topic back found (written or not).",
            ["resolution"], registry=r,
        )  # fmt: skip
        self.produce_latency = Histogram(
            "pantau_ingest_produce_latency_seconds",
            "From handing a request's (or a fetch's) records to the producer to the broker's acks of all of them.",
            buckets=PRODUCE_BUCKETS, registry=r,
        )  # fmt: skip
        self.consumer_lag = Gauge(
            "pantau_ingest_consumer_lag_messages", "Raw-topic validator: high watermark minus position.",
            ["topic", "partition"], registry=r,
        )  # fmt: skip
        self.kafka_up = Gauge(
            "pantau_ingest_kafka_up", "1 when the broker answered the last probe and the producer is usable.",
            registry=r,
        )  # fmt: skip
        for resolution in ("written", "not_written"):
            self.in_doubt.labels(resolution)
        for source in SOURCES:
            self.accepted.labels(source)
            self.duplicates.labels(source)
