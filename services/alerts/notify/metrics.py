"""Metrics of the notification layer, on an injectable registry (dashboards and rules use these names)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

CHANNELS = ("webhook", "email", "alertmanager")
OUTCOMES = ("sent", "failed", "retried")
#: From the alert transition to delivery: seconds when all is well, minutes to hours after an outage.
DELIVERY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14400.0)


class NotifyMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.notifications = Counter(
            "pantau_notifications",
            "Notification deliveries by channel and outcome (retried: an attempt failed and another follows).",
            ["channel", "outcome"],
            registry=r,
        )
        self.delivery_seconds = Histogram(
            "pantau_notification_delivery_seconds",
            "From the alert transition's time to the successful delivery of its notification.",
            ["channel"],
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.attempts = Counter(
            "pantau_notification_attempts", "Delivery attempts (each HTTP request or SMTP session).", ["channel"],
            registry=r,
        )  # fmt: skip
        for channel in CHANNELS:
            self.attempts.labels(channel)
            self.delivery_seconds.labels(channel)
            for outcome in OUTCOMES:
                self.notifications.labels(channel, outcome)
