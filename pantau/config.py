"""Settings of the command line: the cluster (or the embedded broker), local state, log output.

Built once at start-up (``PlatformSettings()``) and passed down. The names and defaults are the
runtime's (services/runtime/settings.py): the same ``KAFKA_*`` and ``PANTAU_HOME`` as every service.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.runtime.settings import (
    EMBEDDED_CONTROLLER_PORT,
    EMBEDDED_HOST,
    EMBEDDED_PORT,
    REPO_ROOT,
    KafkaConnection,
    default_home,
)

__all__ = ["EMBEDDED_CONTROLLER_PORT", "EMBEDDED_HOST", "EMBEDDED_PORT", "REPO_ROOT", "PlatformSettings"]


class PlatformSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", env_prefix="")

    home: Path = Field(
        default_factory=default_home,
        validation_alias="PANTAU_HOME",
        description="Local state: Kafka jars, data and logs, service state.",
    )
    log_format: str = Field(default="auto", validation_alias="PANTAU_LOG_FORMAT")
    log_level: str = Field(default="INFO", validation_alias="PANTAU_LOG_LEVEL")
    kafka: KafkaConnection = Field(default_factory=KafkaConnection)

    @property
    def external_kafka(self) -> bool:
        """A cluster was named (``KAFKA_BOOTSTRAP_SERVERS``): the embedded broker is not used."""
        return "bootstrap_servers" in self.kafka.model_fields_set

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka.bootstrap_servers
