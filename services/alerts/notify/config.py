"""Settings of the notification layer: built once at start-up, frozen, passed down."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Language = Literal["id", "en"]


class NotifySettings(BaseSettings):
    """Every knob of the channels (``ALERTS_*`` in the environment). A channel without its settings is off."""

    model_config = SettingsConfigDict(frozen=True, env_prefix="ALERTS_", extra="ignore")

    contacts_file: Path | None = Field(default=None, description="Contacts directory (YAML); none: nobody to notify.")
    language: Language = Field(default="id", description="Language of offices that do not name one.")
    public_url: str = Field(default="http://127.0.0.1:6067", description="Base of acknowledge and alert links.")
    pages_url: str | None = Field(
        default=None, description="The public web pages (pantau web run); set: notifications link to the region's card."
    )
    runbook_url: str = Field(
        default="{public_url}/runbooks/{kind}", description="Runbook of each alert kind ({public_url}, {kind})."
    )
    ack_secret: SecretStr | None = Field(
        default=None,
        description="Signs acknowledge tokens; every worker needs the same. Unset: the embedded default keeps one in "
        "PANTAU_HOME (ack-secret); against an external cluster the worker refuses to start.",
    )
    ack_ttl: timedelta = Field(default=timedelta(days=7), description="How long an acknowledge link stays valid.")

    # Retries of every channel: full jitter, exponential, capped.
    retries: int = Field(default=5, ge=0, description="Retries after the first attempt (webhook, email, Alertmanager).")
    retry_base: float = Field(default=0.5, gt=0, description="First backoff ceiling (s); doubles per retry.")
    retry_max_wait: float = Field(default=30.0, gt=0, description="Largest wait between two attempts (s).")

    webhook_timeout: float = Field(default=5.0, gt=0, description="Per-attempt timeout of a webhook POST (s).")

    smtp_host: str | None = Field(default=None, description="SMTP server; none: no email.")
    smtp_port: int | None = Field(default=None, description="Default 465 with smtp_ssl, else 25.")
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: Literal["auto", "always", "never"] = Field(
        default="auto", description="auto: STARTTLS when the server offers it."
    )
    smtp_ssl: bool = Field(default=False, description="Implicit TLS from the first byte (port 465).")
    smtp_ca_file: Path | None = Field(default=None, description="CA bundle to verify the server's certificate.")
    smtp_from: str = "Pantau Kota Cerdas <pantau@localhost>"
    smtp_timeout: float = Field(default=15.0, gt=0, description="Per-attempt timeout of one SMTP delivery (s).")

    alertmanager_url: str | None = Field(default=None, description="Alertmanager base URL; none: no push.")
    alertmanager_timeout: float = Field(default=5.0, gt=0)
    alertmanager_resend_ttl: timedelta = Field(
        default=timedelta(hours=1),
        description="endsAt of a firing alert is now + this: re-push firing alerts more often than that.",
    )
