"""Push alerts to Prometheus Alertmanager's v2 API, so operations get its routing, grouping and silences.

The labels identify the alert (one per region, target and kind), so every push of the same alert
updates it. A firing alert is sent with ``endsAt`` a while ahead: Alertmanager resolves it by itself
unless it is pushed again before then (as Prometheus re-sends its own alerts). A resolved alert is
sent with ``endsAt`` at the time it resolved.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from schemas.alerts import AlertEvent, AlertState
from services.alerts.notify import transport


def alertname(kind: str) -> str:
    """``behind_trajectory`` -> ``PantauBehindTrajectory``."""
    return "Pantau" + "".join(part.capitalize() for part in kind.split("_"))


def _rfc3339(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def am_alert(
    alert: AlertEvent,
    *,
    summary: str,
    description: str,
    runbook_url: str,
    generator_url: str,
    now: datetime,
    resend_ttl: timedelta,
    extra_annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One postableAlert of the v2 API."""
    resolved = alert.state == AlertState.RESOLVED
    return {
        "labels": {
            "alertname": alertname(alert.kind),
            "region": alert.region_code,
            "province": alert.province_code,
            "target": alert.target,
            "kind": str(alert.kind),
            "severity": str(alert.severity),
        },
        "annotations": {
            "summary": summary,
            "description": description,
            "runbook_url": runbook_url,
            "alert_id": alert.alert_id,
            **(extra_annotations or {}),
        },
        "startsAt": _rfc3339(alert.at),
        "endsAt": _rfc3339(alert.at if resolved else max(now, alert.at) + resend_ttl),
        "generatorURL": generator_url,
    }


def generator_url(public_url: str, alert_id: str) -> str:
    return f"{public_url.rstrip('/')}/alerts/{quote(alert_id, safe='')}"


class AlertmanagerSender:
    def __init__(self, client: httpx.AsyncClient, base_url: str, timeout: float) -> None:
        self.client = client
        self.url = base_url.rstrip("/") + "/api/v2/alerts"
        self.timeout = timeout

    async def push(self, alerts: Iterable[dict[str, Any]]) -> int:
        body = orjson.dumps(list(alerts))
        return await transport.post(self.client, self.url, body, {"content-type": "application/json"}, self.timeout)
