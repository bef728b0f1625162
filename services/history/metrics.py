"""Every metric of the history writer, on an injectable registry. Base units; bounded labels."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class HistoryMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.rows_written = Counter(
            "pantau_history_rows_written_total",
            "Rows upserted in committed transactions, by table (a replayed row counts again; it changes nothing).",
            ["table"], registry=r,
        )  # fmt: skip
        self.batches = Counter(
            "pantau_history_batches_total",
            "Polled batches by outcome: committed, database_unavailable, dead_letters_unavailable, offsets_moved, "
            "rows_refused.",
            ["outcome"], registry=r,
        )  # fmt: skip
        self.records = Counter(
            "pantau_history_records_total",
            "Records read by outcome: stored, ignored (plan tombstones), dead_letter, skipped (error policy).",
            ["topic", "outcome"], registry=r,
        )  # fmt: skip
        self.dead_letters = Counter(
            "pantau_history_dead_letters_total", "Records written to history.dlq, by reason.", ["reason"], registry=r
        )
        self.processing_errors = Counter(
            "pantau_history_processing_errors_total",
            "Records the writer failed on (not a contract breach), by the error policy applied.",
            ["policy"], registry=r,
        )  # fmt: skip
        self.database_up = Gauge(
            "pantau_history_database_up", "1 when the last transaction or check reached the database, else 0.",
            registry=r,
        )  # fmt: skip
        self.lag = Gauge(
            "pantau_history_consumer_lag_messages",
            "Log end offset minus the next offset committed to the database, per assigned input partition.",
            ["topic", "partition"], registry=r,
        )  # fmt: skip
        self.pruned = Counter(
            "pantau_history_pruned_rows_total", "Fine score snapshots deleted past the retention.", registry=r
        )
        self.batch_seconds = Histogram(
            "pantau_history_batch_duration_seconds", "From a poll's records to its committed transaction.",
            buckets=BATCH_BUCKETS, registry=r,
        )  # fmt: skip
