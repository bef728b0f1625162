"""Settings of the history store: which PostgreSQL server, built once at start-up, frozen, passed down.

``PANTAU_DATABASE_URL`` (a SQLAlchemy URL, e.g. ``postgresql+psycopg://user:pw@db.example:5432/pantau``;
``postgresql://`` and ``postgres://`` are read as psycopg 3) points every component at an existing server:
managed PostgreSQL or TimescaleDB, and nothing is started. Without it, the embedded default is the local
cluster ``pantau postgres up`` runs (pantau/postgres_local.py): 127.0.0.1:5433, database and user
``pantau``, its generated password kept in ``$PANTAU_HOME/postgres/password`` (0600).

The writer's own knobs are ``HISTORY_*``: its consumer group, the downsampling of score snapshots (a fine
step kept for a recent window, one closing snapshot per region and local day for ever), batch size,
retry pacing, the processing-error policy and its web port (/metrics, /healthz).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from services.runtime.errors import ErrorPolicy
from services.runtime.ratelimit import RateSpec
from services.runtime.settings import EMBEDDED_HOST, ServiceSettings, default_home

#: The embedded cluster's port: off Debian's own default cluster (5432) and every port Pantau uses.
EMBEDDED_POSTGRES_PORT = 5433
EMBEDDED_DATABASE = "pantau"
EMBEDDED_USER = "pantau"
DRIVER = "postgresql+psycopg"
_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg3"}
#: The writer's web port (/metrics, /healthz): after scoring's 6066 and alerts' 6067.
HISTORY_WEB_PORT = 6068
#: The query API's port (read-only: /v1/..., /docs, /metrics).
HISTORY_API_PORT = 6069
_DAY = timedelta(days=1)


class DatabaseNotReady(RuntimeError):
    """The embedded cluster has not been set up yet (no password file): ``pantau postgres up`` first."""


def local_state_dir(home: Path) -> Path:
    """Where the embedded cluster keeps its state (``$PANTAU_HOME/postgres``)."""
    return home / "postgres"


def local_password_file(home: Path) -> Path:
    """The embedded cluster's generated password (mode 0600), written by its first ``up``."""
    return local_state_dir(home) / "password"


def normalise_url(url: str) -> str:
    """``url`` with the psycopg 3 driver named (``postgres://`` and ``postgresql://`` mean it here)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in _SCHEMES:
        raise ValueError(
            f"PANTAU_DATABASE_URL must be a PostgreSQL URL (postgresql+psycopg://user:password@host:port/db), "
            f"not {scheme + sep if sep else 'a value without a scheme'!r}"
        )
    return f"{DRIVER}://{rest}"


def masked(url: str) -> str:
    """``url`` with its password replaced by ``***``: for logs and status lines."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at or ":" not in creds:
        return url
    return f"{scheme}{sep}{creds.split(':', 1)[0]}:***@{host}"


def embedded_url(password: str, port: int = EMBEDDED_POSTGRES_PORT, host: str = EMBEDDED_HOST) -> str:
    return f"{DRIVER}://{EMBEDDED_USER}:{quote(password, safe='')}@{host}:{port}/{EMBEDDED_DATABASE}"


class HistorySettings(ServiceSettings):
    # No populate_by_name: a field's own name must not be read from the environment (HOME, DATABASE_URL).
    model_config = SettingsConfigDict(frozen=True, extra="ignore", env_prefix="HISTORY_")

    home: Path = Field(
        default_factory=default_home,
        validation_alias="PANTAU_HOME",
        description="Local state of every Pantau process (PANTAU_HOME); the embedded cluster lives in postgres/.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        validation_alias="PANTAU_DATABASE_URL",
        description="An existing PostgreSQL server (SQLAlchemy URL); unset: the embedded local cluster.",
    )
    local_port: int = Field(
        default=EMBEDDED_POSTGRES_PORT, ge=1, le=65535, description="Port of the embedded cluster (loopback)."
    )
    web_port: int = Field(default=HISTORY_WEB_PORT, ge=0, le=65535, description="/metrics and /healthz (0: any).")
    group_id: str = Field(
        default="pantau-history", min_length=1,
        description="The writer's consumer group; also its name in consumer_offsets (one row set per group).",
    )  # fmt: skip
    fine_step: timedelta = Field(
        default=timedelta(minutes=5),
        description="One 'fine' score snapshot per region per step (the last score of the step); divides a day.",
    )
    fine_retention: timedelta = Field(
        default=timedelta(days=30), description="Fine snapshots are kept this long; daily closing snapshots for ever."
    )
    prune_interval: float = Field(
        default=3600.0, gt=0, description="Fine snapshots past retention are deleted this often (s)."
    )
    max_batch: int = Field(default=2000, gt=0, description="Records per poll, written in one transaction.")
    poll_timeout: float = Field(default=0.5, gt=0, description="Longest a poll waits for records (s).")
    retry_initial: float = Field(default=0.5, gt=0, description="First pause after a failed transaction (s).")
    retry_max: float = Field(
        default=30.0, gt=0, description="Longest pause between retries while the database is down (s)."
    )
    api_port: int = Field(default=HISTORY_API_PORT, ge=0, le=65535, description="The query API's port (0: any).")
    api_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated keys the query API accepts (X-API-Key); unset: published scores need no key.",
    )
    api_rate_limit: RateSpec = Field(
        default="20/second;600/minute",
        description="Requests each key (or, without a key, each client address) may make, in 'limits' notation.",
    )
    api_max_points: int = Field(default=20_000, gt=0, description="Most periods one series or progress query returns.")
    error_policy: ErrorPolicy = Field(
        default="dlq",
        description="A record the writer fails on (not a contract breach): to history.dlq and go on (dlq), stop the "
        "writer (crash), or log it and go on (skip).",
    )

    @field_validator("fine_step")
    @classmethod
    def _step_divides_a_day(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1) or _DAY % value:
            raise ValueError("HISTORY_FINE_STEP must be at least a second and divide a day evenly (e.g. 5 min, 1 h)")
        return value

    @field_validator("fine_retention")
    @classmethod
    def _retention_positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("HISTORY_FINE_RETENTION must be positive")
        return value

    @property
    def accepted_keys(self) -> frozenset[str]:
        """The query API's keys (empty: no key is needed)."""
        raw = self.api_keys.get_secret_value() if self.api_keys else ""
        return frozenset(k.strip() for k in raw.split(",") if k.strip())

    @field_validator("database_url", mode="before")
    @classmethod
    def _a_postgres_url(cls, value: object) -> object:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if not isinstance(raw, str):
            raise ValueError("PANTAU_DATABASE_URL must be a string")
        return SecretStr(normalise_url(raw.strip()))

    @property
    def external_database(self) -> bool:
        """A server was named (``PANTAU_DATABASE_URL``): the embedded cluster is neither used nor started."""
        return self.database_url is not None

    @property
    def password_file(self) -> Path:
        return local_password_file(self.home)

    def url(self) -> str:
        """The SQLAlchemy URL to connect with (it holds the password: never log it, see ``safe_url``)."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        try:
            password = self.password_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise DatabaseNotReady(
                f"the local PostgreSQL cluster is not set up ({self.password_file} is missing): run "
                "'pantau postgres up', or point Pantau at a server with PANTAU_DATABASE_URL"
            ) from None
        return embedded_url(password, self.local_port)

    @property
    def safe_url(self) -> str:
        """The URL without its password."""
        if self.database_url is not None:
            return masked(self.database_url.get_secret_value())
        return masked(embedded_url("-", self.local_port))
