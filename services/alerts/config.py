"""Settings of the alerts service (``ALERTS_*``): built once at start-up, frozen, passed down.

The notification channels have their own settings (notify/config.py, the same prefix).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.alerts.domain.rules import AlertRules
from services.runtime.errors import ErrorPolicy
from services.runtime.settings import ServiceSettings


class AlertsSettings(ServiceSettings):
    model_config = SettingsConfigDict(frozen=True, env_prefix="ALERTS_", extra="ignore")

    app_id: str = "pantau-alerts"
    web_port: int = 6067
    store: Literal["rocksdb", "memory"] = "rocksdb"
    data_dir: Path = Field(default_factory=lambda data: data["home"] / "alerts", description="Table state.")
    error_policy: ErrorPolicy = Field(
        default="dlq",
        description="A score or plan record the worker cannot use: send it to the DLQ and go on, stop the worker "
        "(crash), or log it and go on (skip).",
    )
    pending_for: timedelta = Field(default=timedelta(minutes=10), description="How long a condition holds to fire.")
    lookback: timedelta = Field(default=timedelta(days=30), description="History behind the at_risk trend.")
    drop_window: timedelta = Field(default=timedelta(days=7), description="Window of score_drop.")
    sample_every: timedelta = Field(default=timedelta(hours=1), description="Spacing of kept score history.")
    escalate_after: timedelta = Field(
        default=timedelta(minutes=30), description="Unacknowledged this long: the next level (province, national)."
    )
    redeliver_after: timedelta = Field(
        default=timedelta(minutes=1),
        description="A notification some destination did not get after all retries is sent again after this; "
        "the wait doubles each time, up to an hour.",
    )
    redeliver_for: timedelta = Field(
        default=timedelta(hours=24), description="Stop delivering a notification again after this long (logged)."
    )
    delivery_concurrency: int = Field(
        default=32, ge=1, description="Notification attempts under way at once (one per destination at a time)."
    )
    commit_interval: float = 1.0
    session_timeout: float = 10.0

    def rules(self) -> AlertRules:
        return AlertRules(pending_for=self.pending_for, lookback=self.lookback, drop_window=self.drop_window,
                          sample_every=self.sample_every)  # fmt: skip
