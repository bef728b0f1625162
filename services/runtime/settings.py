"""The settings every Pantau process shares: where Kafka is and how to reach it, where state lives.

Each service's settings class derives from :class:`ServiceSettings` and adds its own knobs under
its prefix (``INGEST_``, ``SCORING_``, ``ALERTS_``). What every process reads the same way has one
name everywhere: ``KAFKA_*`` for the cluster (with SASL and TLS for a real one), ``PANTAU_HOME``
for local state. Settings are built once at start-up, frozen, and passed down; nothing else reads
``os.environ``.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The repository checkout when running from one (``make run``, tests); unused when installed.
REPO_ROOT = Path(__file__).resolve().parents[2]
EMBEDDED_HOST = "127.0.0.1"
EMBEDDED_PORT = 9092
EMBEDDED_CONTROLLER_PORT = 19093
#: The embedded local broker (``pantau kafka up``): every default bootstrap is this one.
DEFAULT_BOOTSTRAP = f"{EMBEDDED_HOST}:{EMBEDDED_PORT}"

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


def default_home() -> Path:
    """``PANTAU_HOME``, else ``.pantau`` in the checkout (when running from one), else in the working directory."""
    if env := os.environ.get("PANTAU_HOME"):
        return Path(env)
    root = REPO_ROOT if (REPO_ROOT / "pyproject.toml").is_file() else Path.cwd()
    return root / ".pantau"


class KafkaConnection(BaseSettings):
    """How to reach the Kafka cluster: the same ``KAFKA_*`` variables for every service and command."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", env_prefix="KAFKA_")

    bootstrap_servers: str = Field(default=DEFAULT_BOOTSTRAP, description="host:port[,host:port...]")
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "PLAIN"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = Field(default=None, description="CA bundle that signed the brokers' certificates.")
    ssl_certfile: Path | None = Field(default=None, description="Client certificate (mutual TLS).")
    ssl_keyfile: Path | None = Field(default=None, description="Key of the client certificate.")

    @model_validator(mode="after")
    def _sasl_has_credentials(self) -> KafkaConnection:
        if self.sasl and not (self.sasl_username and self.sasl_password):
            raise ValueError(f"KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs KAFKA_SASL_USERNAME and "
                             "KAFKA_SASL_PASSWORD")  # fmt: skip
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            raise ValueError("KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE go together (mutual TLS)")
        return self

    @property
    def sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def loopback(self) -> bool:
        """Every bootstrap server is on this machine (the embedded default, a test cluster)."""
        hosts = [s.strip().rsplit(":", 1)[0].strip("[]") for s in self.bootstrap_servers.split(",") if s.strip()]
        return all(h in ("127.0.0.1", "localhost", "::1") for h in hosts)

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context of SSL and SASL_SSL (None for plaintext)."""
        if not self.tls:
            return None
        ctx = ssl.create_default_context(cafile=str(self.ssl_cafile) if self.ssl_cafile else None)
        if self.ssl_certfile and self.ssl_keyfile:
            ctx.load_cert_chain(str(self.ssl_certfile), str(self.ssl_keyfile))
        return ctx

    def kafka_python(self) -> dict[str, Any]:
        """Keyword arguments of kafka-python's clients (KafkaAdminClient, KafkaConsumer, KafkaProducer)."""
        kw: dict[str, Any] = {"bootstrap_servers": self.bootstrap_servers, "security_protocol": self.security_protocol}
        if self.sasl:
            kw |= {"sasl_mechanism": self.sasl_mechanism, "sasl_plain_username": self.sasl_username,
                   "sasl_plain_password": self._password()}  # fmt: skip
        if self.tls:
            kw["ssl_context"] = self.ssl_context()
        return kw

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments of aiokafka's clients: the same names as kafka-python's."""
        return self.kafka_python()

    def faust(self) -> dict[str, Any]:
        """``broker`` and ``broker_credentials`` of a faust App."""
        import faust

        kw: dict[str, Any] = {"broker": ";".join(f"kafka://{s.strip()}" for s in self.bootstrap_servers.split(","))}
        if self.sasl:
            kw["broker_credentials"] = faust.SASLCredentials(
                username=self.sasl_username, password=self._password(), mechanism=self.sasl_mechanism,
                ssl_context=self.ssl_context(),
            )  # fmt: skip
        elif self.tls:
            kw["broker_credentials"] = faust.SSLCredentials(self.ssl_context())
        return kw

    def _password(self) -> str | None:
        return self.sasl_password.get_secret_value() if self.sasl_password else None


class ServiceSettings(BaseSettings):
    """What every service has: the cluster, its topics' prefix, the framework, a web port, its state directory.

    Subclasses set ``env_prefix`` (``INGEST_``...), the default ``web_port`` and their state under ``home``.
    """

    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    topic_prefix: str = Field(default="", description="Prefix of every topic name (isolated environments).")
    framework_file: Path | None = Field(default=None, description="Framework YAML; default: the shipped one.")
    web_host: str = "127.0.0.1"
    web_port: int = 0
    home: Path = Field(
        default_factory=default_home,
        validation_alias="PANTAU_HOME",  # only: an alias "home" would read $HOME
        description="Local state of every Pantau process (PANTAU_HOME).",
    )
    log_level: str = "INFO"
    kafka: KafkaConnection = Field(
        default_factory=KafkaConnection,
        description="The cluster (KAFKA_*); KAFKA_BOOTSTRAP_SERVERS alone is enough for a plaintext one.",
    )

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka.bootstrap_servers

    def topic(self, name: str) -> str:
        return self.topic_prefix + name


Kafka = KafkaConnection | str


def connection(kafka: Kafka) -> KafkaConnection:
    """``kafka`` as a connection: a plain bootstrap string is a plaintext cluster (tests, the embedded broker)."""
    return kafka if isinstance(kafka, KafkaConnection) else KafkaConnection(bootstrap_servers=kafka)
