"""The gauges read from the tables: alerts firing now (in total and per region) and the programme."""

from __future__ import annotations

from schemas.alerts import AlertState
from schemas.common import province_of
from services.alerts.metrics import AlertsMetrics
from services.alerts.service.regions import Regions


class Gauges:
    def __init__(self, regions: Regions, metrics: AlertsMetrics) -> None:
        self.regions = regions
        self.metrics = metrics

    def refresh(self) -> None:
        firing: dict[tuple[str, str, str], int] = {}
        per_region: list[tuple[str, str, str, str, str]] = []
        for region, state in self.regions.every_state():
            for track_key, track in state.tracks.items():
                if track.state is AlertState.FIRING:
                    target, kind = track_key.split("/", 1)
                    k = (kind, track.severity.value, province_of(region))
                    firing[k] = firing.get(k, 0) + 1
                    per_region.append((region, province_of(region), kind, target, track.severity.value))
        m = self.metrics
        m.firing.clear()
        for (kind, severity, province), n in firing.items():
            m.firing.labels(kind, severity, province).set(n)
        m.region_firing.clear()
        for labels in per_region:
            m.region_firing.labels(*labels).set(1)
        # The programme: published totals, and each region's status (drives the boards' per-region table).
        m.set_plans(list(self.regions.plans.values()))
