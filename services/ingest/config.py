"""Settings of the ingest service: built once at start-up, frozen, passed down (environment prefix INGEST_)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from limits import parse_many
from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import SettingsConfigDict

from schemas.validation import TimeLimits
from services.runtime.errors import ErrorPolicy
from services.runtime.ratelimit import RateSpec
from services.runtime.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(frozen=True, env_prefix="INGEST_", extra="ignore", populate_by_name=True)

    # INGEST_HOST and INGEST_PORT, as documented since the first release.
    web_host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("INGEST_HOST", "host", "web_host"))
    web_port: int = Field(default=8080, validation_alias=AliasChoices("INGEST_PORT", "port", "web_port"))
    publishers_file: Path = Field(
        default_factory=lambda data: data["home"] / "ingest" / "publishers.yaml",
        description="Publishers and the hashes of their keys (written by 'pantau publishers add').",
    )
    # ---- what an event may be
    max_future: timedelta = Field(
        default=timedelta(minutes=5), description="observed_at may lie this far ahead of arrival (clock skew)."
    )
    max_age: timedelta = Field(
        default=timedelta(days=3650), description="observed_at may lie this far before arrival (history imports)."
    )
    # ---- what a request may be
    max_body_bytes: int = Field(default=1_048_576, gt=0, description="Largest request body (413 above).")
    max_batch: int = Field(default=500, gt=0, description="Most events in one request (422 above).")
    rate_limit: RateSpec = Field(
        default="2000/second;60000/minute",
        description="Events each API key may send, in the 'limits' notation (a batch of n costs n).",
    )
    # ---- slow and greedy clients (services/runtime/http_guard.py)
    header_timeout: float = Field(
        default=10.0, gt=0, description="A request's line and headers must arrive within this many seconds (408)."
    )
    body_timeout: float = Field(
        default=30.0, gt=0, description="A request's body must arrive within this many seconds of its headers (408)."
    )
    keep_alive_timeout: int = Field(default=5, ge=1, description="An idle keep-alive connection is closed after (s).")
    max_head_bytes: int = Field(default=65_536, gt=0, description="Largest request line and headers (431 above).")
    max_connections: int = Field(default=1000, gt=0, description="Open connections; a new one beyond is refused (503).")
    # ---- duplicates
    dedupe_capacity: int = Field(default=200_000, gt=0, description="Event ids remembered (most recent first).")
    dedupe_window: timedelta = Field(default=timedelta(hours=24), description="How long an event id is remembered.")
    # ---- Kafka
    produce_timeout: float = Field(default=5.0, gt=0, description="Longest wait for the broker's ack (s) before 503.")
    probe_interval: float = Field(default=1.0, gt=0, description="How often the broker's reachability is checked (s).")
    retry_after: int = Field(default=5, gt=0, description="Retry-After (s) of a 503 answer.")
    linger_ms: int = Field(
        default=0, ge=0, description="Producer linger (ms); concurrent requests batch while one is in flight."
    )
    # ---- the raw-topic validator
    validator: bool = Field(default=True, description="Run the raw-topic validator in the same process.")
    validator_group: str = "pantau-ingest-validator"
    validator_max_records: int = Field(default=2000, gt=0, description="Records handled per fetch.")
    error_policy: ErrorPolicy = Field(
        default="dlq",
        description="When the validator fails on a raw record (a bug): send it to the DLQ as internal_error and go "
        "on, stop the validator (crash), or log it and go on (skip).",
    )

    @model_validator(mode="after")
    def _batch_fits_rate(self) -> IngestSettings:
        smallest = min(item.amount for item in parse_many(self.rate_limit))
        if smallest < self.max_batch:
            raise ValueError(
                f"rate_limit {self.rate_limit!r} allows fewer events ({smallest}) than a full batch ({self.max_batch})"
            )
        return self

    @property
    def host(self) -> str:
        return self.web_host

    @property
    def port(self) -> int:
        return self.web_port

    @property
    def time_limits(self) -> TimeLimits:
        return TimeLimits(max_future=self.max_future, max_age=self.max_age)
