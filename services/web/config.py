"""Settings of the web pages (``WEB_*``): where the services behind them are, who may read them.

The pages read three services over HTTP (docs/decisions/0008-the-public-web-face.md): the history
query API (``WEB_HISTORY_URL``, with ``WEB_HISTORY_API_KEY`` when that API needs a key), the scoring
service (``WEB_SCORING_URL``: a region's indicators now) and the alerts service (``WEB_ALERTS_URL``:
the acknowledge button is forwarded there, where the signed token is checked).

Published scores are public by default. ``WEB_VIEWERS`` (``name:password,...``) restricts every page
but the alert pages (whose links carry their own signed token), the stylesheet and /healthz to those
viewers (HTTP Basic; put TLS in front of it). Built once at start-up, frozen, passed down.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings

WEB_PORT = 8000
Lang = Literal["id", "en"]


class WebSettings(ServiceSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", env_prefix="WEB_")

    web_port: int = Field(default=WEB_PORT, validation_alias="WEB_PORT", description="Port of the pages.")
    history_url: str = Field(default="http://127.0.0.1:6069", description="The history query API.")
    history_api_key: SecretStr | None = Field(default=None, description="Its key, when it needs one.")
    scoring_url: str = Field(default="http://127.0.0.1:6066", description="The scoring service (indicators now).")
    alerts_url: str = Field(default="http://127.0.0.1:6067", description="The alerts service (acknowledgements).")
    language: Lang = Field(default="id", description="Language of a page when the reader has not chosen one.")
    viewers: SecretStr | None = Field(
        default=None, description="name:password,... : only these viewers may read the scores (HTTP Basic)."
    )
    timeout_s: float = Field(default=5.0, gt=0, description="Per request to a service behind the pages.")
    alerts_page_timeout_s: float = Field(
        default=8.0,
        gt=0,
        description="How long an alert's page waits for the alerts service (then it shows the "
        "history's copy, without the escalation).",
    )
    alerts_timeout_s: float = Field(
        default=20.0,
        gt=0,
        description="Per request to the alerts service: an alert's state and its button (a person "
        "waits for the answer; a busy worker may take seconds).",
    )
    cache_s: float = Field(default=30.0, ge=0, description="How long today's figures are reused between pages.")
    past_cache_s: float = Field(default=600.0, ge=0, description="How long figures of a past day are reused.")
    baseline_year: int = Field(default=2024, ge=2000, description="First year of a region's chart.")
    target_year: int = Field(default=2029, ge=2024, description="Last year of a region's chart (the path's end).")

    @field_validator("history_url", "scoring_url", "alerts_url")
    @classmethod
    def _http(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"must be an http:// or https:// URL, not {url!r}")
        return url.rstrip("/")

    @field_validator("viewers")
    @classmethod
    def _pairs(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        for pair in value.get_secret_value().split(","):
            name, sep, password = pair.strip().partition(":")
            if not sep or not name or not password:
                raise ValueError("WEB_VIEWERS must be name:password pairs separated by commas")
        return value

    def viewer_passwords(self) -> dict[str, str]:
        """The viewers allowed when the scores are restricted (empty: public)."""
        if self.viewers is None:
            return {}
        pairs = (p.strip().partition(":") for p in self.viewers.get_secret_value().split(","))
        return {name: password for name, _, password in pairs}
