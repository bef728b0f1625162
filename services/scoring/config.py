"""Settings of the scoring service: built once at start-up, frozen, passed down."""

from __future__ import annotations

import hashlib
import socket
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from schemas.validation import DEFAULT_TIME_LIMITS, TimeLimits
from services.runtime.errors import ErrorPolicy
from services.runtime.settings import ServiceSettings


class ScoringSettings(ServiceSettings):
    model_config = SettingsConfigDict(frozen=True, env_prefix="SCORING_", extra="ignore")

    app_id: str = "pantau-scoring"
    web_port: int = 6066
    store: Literal["rocksdb", "memory"] = "rocksdb"
    data_dir: Path = Field(default_factory=lambda data: data["home"] / "scoring", description="Table state.")
    allowed_lateness: timedelta = timedelta(minutes=5)
    max_future: timedelta = Field(
        default=DEFAULT_TIME_LIMITS.max_future,
        description="observed_at may lie this far ahead of the worker's clock (as at ingest); later is refused.",
    )
    max_age: timedelta = Field(
        default=DEFAULT_TIME_LIMITS.max_age,
        description="observed_at may lie this far before the record's Kafka timestamp (as at ingest).",
    )
    publish_interval: float = Field(
        default=0.1, gt=0, description="At most one RegionScore per region per interval (s), when caught up."
    )
    catchup_publish_interval: float = Field(
        default=1.0, gt=0,
        description="The interval while the worker is behind (catching up a backlog): fewer, fuller scores.",
    )  # fmt: skip
    catchup_after: float = Field(
        default=1.0, gt=0, description="Records older than this (s) when fetched mean the worker is behind."
    )
    persist_interval: float = Field(default=5.0, gt=0, description="Changed region states are written this often (s).")
    staleness_interval: float = Field(default=30.0, gt=0, description="All regions are re-scored this often (s).")
    fetch_max_wait: float = Field(
        default=0.05, gt=0, le=1.5, description="Longest the broker may hold a fetch waiting for data, seconds."
    )
    batch_max: int = Field(default=20_000, gt=0, description="Events applied before state is persisted anyway.")
    error_policy: ErrorPolicy = Field(
        default="dlq",
        description="On an unexpected error with one record: send it to the DLQ and go on, stop the worker "
        "(crash), or log it and go on (skip).",
    )
    commit_interval: float = 1.0
    session_timeout: float = Field(
        default=10.0,
        description="A worker silent this long (s) is dropped from the group; lower = faster failover.",
    )
    static_membership: bool = Field(
        default=True,
        description="Join the group as a static member, so that a restarted worker takes its partitions back "
        "at once instead of after the session timeout.",
    )
    instance_id: str | None = Field(
        default=None,
        description="The static member's name; default: from the host, the web address and the state directory.",
    )

    @property
    def group_instance_id(self) -> str | None:
        """The consumer group's static member name of this worker (None: a dynamic member).

        One worker is one state directory (RocksDB lets one process at a time open it) and one web
        address, which faust writes into the member's assignment and checks when the member takes it
        back. A worker restarted with the same host, address and directory is the same member again.
        """
        if not self.static_membership:
            return None
        if self.instance_id:
            return self.instance_id
        where = f"{self.web_host}:{self.web_port}:{self.data_dir.resolve()}"
        return f"{self.app_id}@{socket.gethostname()}:{hashlib.sha256(where.encode()).hexdigest()[:12]}"

    @property
    def time_limits(self) -> TimeLimits:
        return TimeLimits(max_future=self.max_future, max_age=self.max_age)
