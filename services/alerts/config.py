"""Settings of the alerts service (``ALERTS_*``): built once at start-up, frozen, passed down.

The notification channels have their own settings (notify/config.py, the same prefix).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from pantau.config import REPO_ROOT
from services.alerts.domain.rules import Rules


class AlertsSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, env_prefix="ALERTS_", extra="ignore")

    bootstrap_servers: str = Field(default="127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    app_id: str = "pantau-alerts"
    topic_prefix: str = Field(default="", description="Prefix of every topic name (isolated environments).")
    framework_file: Path | None = Field(default=None, description="Framework YAML; default: the shipped one.")
    web_host: str = "127.0.0.1"
    web_port: int = 6067
    store: Literal["rocksdb", "memory"] = "rocksdb"
    data_dir: Path = REPO_ROOT / ".pantau" / "alerts"
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
    log_level: str = "INFO"

    def topic(self, name: str) -> str:
        return self.topic_prefix + name

    def rules(self) -> Rules:
        return Rules(pending_for=self.pending_for, lookback=self.lookback, drop_window=self.drop_window,
                     sample_every=self.sample_every)  # fmt: skip
