"""Every metric of the alerts evaluation, on an injectable registry (notify/metrics.py has the channels')."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge
from pydantic import ValidationError

from schemas.common import province_of
from schemas.masterplan import Masterplan, ProgrammeStatus
from schemas.programme import Programme, default_programme, region_status


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
            "pantau_programme_masterplans_adopted",
            "Regions whose plan record says their masterplan is adopted: the participants known by name (and "
            "regions whose own file says so), a subset of the published assisted total.", registry=r,
        )  # fmt: skip
        self.masterplans_target = Gauge(
            "pantau_programme_masterplans_target", "The national goal: masterplans in this many regions by 2029.",
            registry=r,
        )  # fmt: skip
        self.assisted = Gauge(
            "pantau_programme_assisted_regions",
            "Kab/kota the programme assisted in each cohort year, as published (the figure used where sources "
            "disagree).", ["cohort_year"], registry=r,
        )  # fmt: skip
        self.assisted_cumulative = Gauge(
            "pantau_programme_assisted_cumulative_regions",
            "Distinct kab/kota assisted from 2017 to the end of each cohort year, as published (251 by 2024).",
            ["cohort_year"], registry=r,
        )  # fmt: skip
        self.named = Gauge(
            "pantau_programme_named_regions",
            "Participants of each cohort that a public source names (complete=false: a partial list).",
            ["cohort_year", "complete"], registry=r,
        )  # fmt: skip
        self.region_programme = Gauge(
            "pantau_region_programme",
            "1 per region with a plan: its cohort year ('none' when not named) and status in the programme "
            "(masterplan_adopted, cohort_member or not_named).", ["region", "province", "cohort_year", "status"],
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
        self.dead_letters = Counter(
            "pantau_alerts_dead_letters_total", "Records written to alerts.dlq, by reason.", ["reason"], registry=r
        )
        self.processing_errors = Counter(
            "pantau_alerts_processing_errors_total",
            "Records whose handling raised, by the error policy applied (dlq, crash, skip).", ["policy"], registry=r,
        )  # fmt: skip
        self.consumer_lag = Gauge(
            "pantau_alerts_consumer_lag_messages", "High watermark minus position, per input partition.",
            ["topic", "partition"], registry=r,
        )  # fmt: skip

    def set_programme(self, plans: Iterable[Mapping[str, Any]], programme: Programme | None = None) -> None:
        """The programme's figures: the published ones (``programme``, default the shipped data) and each
        region's status from its plan record (``plans``: masterplan records as parsed JSON; a record
        without a region or with an unreadable status is left out)."""
        statuses: list[tuple[str, ProgrammeStatus]] = []
        for plan in plans:
            code = str(plan.get("region_code") or "")
            if not code:
                continue
            try:
                statuses.append((code, ProgrammeStatus.model_validate(plan.get("programme") or {})))
            except ValidationError:
                continue
        self._set_programme(statuses, programme)

    def set_plans(self, plans: Iterable[Masterplan], programme: Programme | None = None) -> None:
        """:meth:`set_programme` from the plans themselves."""
        self._set_programme([(plan.region_code, plan.programme) for plan in plans], programme)

    def _set_programme(self, statuses: list[tuple[str, ProgrammeStatus]], programme: Programme | None) -> None:
        programme = programme or default_programme()
        self.masterplans_target.set(programme.target.cumulative_assisted or 0)
        for c in programme.cohorts:
            year = str(c.year)
            if c.cohort_size is not None:
                self.assisted.labels(year).set(c.cohort_size)
            if c.cumulative_assisted is not None:
                self.assisted_cumulative.labels(year).set(c.cumulative_assisted)
            self.named.labels(year, str(c.named_complete).lower()).set(c.named)
        self.region_programme.clear()
        adopted = 0
        for code, status in statuses:
            adopted += status.masterplan_adopted
            self.region_programme.labels(code, province_of(code), str(status.cohort_year or "none"),
                                         region_status(status)).set(1)  # fmt: skip
        self.masterplans_adopted.set(adopted)
