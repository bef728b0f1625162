"""Platform settings shared by the CLI: where Kafka is, and where local state lives.

Built once at start-up (``PlatformSettings()``) and passed down. Nothing else reads ``os.environ``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
EMBEDDED_HOST = "127.0.0.1"
EMBEDDED_PORT = 9092
EMBEDDED_CONTROLLER_PORT = 19093


class PlatformSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", env_prefix="")

    kafka_bootstrap_servers: str | None = Field(
        default=None,
        validation_alias="KAFKA_BOOTSTRAP_SERVERS",
        description="An existing cluster to use instead of the embedded local broker.",
    )
    home: Path = Field(
        default=REPO_ROOT / ".pantau",
        validation_alias="PANTAU_HOME",
        description="Local state: Kafka jars, data and logs, service state.",
    )
    log_format: str = Field(default="auto", validation_alias="PANTAU_LOG_FORMAT")
    log_level: str = Field(default="INFO", validation_alias="PANTAU_LOG_LEVEL")

    @property
    def external_kafka(self) -> bool:
        return bool(self.kafka_bootstrap_servers)

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap_servers or f"{EMBEDDED_HOST}:{EMBEDDED_PORT}"
