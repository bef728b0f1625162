"""What the alerts service hands the notification layer, and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.alerts import AlertEvent
from services.alerts.notify.contacts import Level

Channel = Literal["webhook", "email", "alertmanager"]


class Notification(BaseModel):
    """One notification: one level of one alert transition.

    ``id`` is the webhook-id and the root of the email's Message-ID. Derive it from the transition
    (and the level), so that a re-send after a crash carries the same id and receivers can dedupe.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\s]+$")]
    alert: AlertEvent
    level: Level = "region"
    ack_url: str | None = None
    card_url: str | None = Field(default=None, description="The region's card on the web pages.")
    history: list[tuple[AwareDatetime, float]] = Field(default_factory=list, description="Recent scores.")
    path: list[tuple[AwareDatetime, float]] = Field(default_factory=list, description="Milestone path points.")


@dataclass(frozen=True)
class ChannelOutcome:
    """How one destination fared. ``retryable``: a failure that a later delivery may get through."""

    channel: Channel
    destination: str
    outcome: Literal["sent", "failed", "skipped"]
    attempts: int = 0
    error: str | None = None
    retryable: bool = False
    status: int | None = None

    @property
    def key(self) -> str:
        """Names the destination; pass the keys already sent as ``skip`` to a re-delivery."""
        return f"{self.channel}:{self.destination}"


@dataclass(frozen=True)
class DeliveryReport:
    notification_id: str
    level: Level
    #: The contacts entry that answered (``regions.32.73``, ``provinces.32``, ``national``), or None.
    entry: str | None
    outcomes: tuple[ChannelOutcome, ...]

    @property
    def sent(self) -> tuple[ChannelOutcome, ...]:
        return tuple(o for o in self.outcomes if o.outcome == "sent")

    @property
    def failed(self) -> tuple[ChannelOutcome, ...]:
        return tuple(o for o in self.outcomes if o.outcome == "failed")

    @property
    def complete(self) -> bool:
        """Nothing failed (a delivery with no destination at all is complete too: check ``sent``)."""
        return not self.failed
