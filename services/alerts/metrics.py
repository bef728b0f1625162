"""Every metric of the alerts evaluation, on an injectable registry (notify/metrics.py has the channels')."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class AlertsMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.firing = Gauge("pantau_alerts_firing", "Alerts firing now.", ["kind", "severity", "province"], registry=r)
        self.region_firing = Gauge(
            "pantau_region_alerts_firing", "1 for each alert firing now, per region (absent when none).",
            ["region", "province", "kind", "target", "severity"], registry=r,
        )  # fmt: skip
        self.transitions = Counter(
            "pantau_alert_transitions_total", "Alert lifecycle transitions written.", ["kind", "state"], registry=r
        )
        self.milestone_target = Gauge(
            "pantau_milestone_target", "Target of the next milestone (0-5).",
            ["region", "province", "dimension"], registry=r,
        )  # fmt: skip
        self.milestone_expected = Gauge(
            "pantau_milestone_expected_score", "Today's value on the region's interpolated milestone path (0-5).",
            ["region", "province", "dimension"], registry=r,
        )  # fmt: skip
        self.milestone_gap = Gauge(
            "pantau_milestone_gap", "Expected minus current score (positive: behind the path).",
            ["region", "province", "dimension"], registry=r,
        )  # fmt: skip
        self.masterplans_adopted = Gauge(
            "pantau_programme_masterplans_adopted", "Regions with an adopted smart-city masterplan.", registry=r
        )
        self.masterplans_target = Gauge(
            "pantau_programme_masterplans_target", "The national goal: masterplans in this many regions by 2029.",
            registry=r,
        )  # fmt: skip
        self.scores = Counter("pantau_alerts_scores_total", "Region scores evaluated.", registry=r)
        self.redeliveries = Counter(
            "pantau_alerts_redeliveries",
            "Later deliveries of notifications whose retries had failed: delivered, failed again, or abandoned.",
            ["result"], registry=r,
        )  # fmt: skip
        self.undelivered = Gauge(
            "pantau_alerts_undelivered_notifications",
            "Notifications (alert and level) that some destination has not received yet; delivered again later.",
            registry=r,
        )  # fmt: skip
        for result in ("delivered", "failed", "abandoned"):
            self.redeliveries.labels(result)
        self.invalid = Counter(
            "pantau_alerts_messages_invalid_total", "Records that could not be read, by reason.", ["reason"], registry=r
        )
        self.consumer_lag = Gauge(
            "pantau_alerts_consumer_lag_messages", "High watermark minus position, per input partition.",
            ["topic", "partition"], registry=r,
        )  # fmt: skip
