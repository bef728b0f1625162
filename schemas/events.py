"""Indicator events: what publishing systems send."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, StringConstraints, field_validator

from schemas.common import Contract, IndicatorId, RegionCode

MAX_ATTRIBUTES = 16
AttributeKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
AttributeValue = Annotated[str, StringConstraints(max_length=256)]


class IndicatorEvent(Contract):
    """One reading of one indicator for one region at one moment of event time.

    ``observed_at`` is when the value was true in the world (event time), not when it was sent.
    ``event_id`` is the idempotency key: the same id sent twice is the same reading.
    """

    schema_version: Literal[1] = 1
    event_id: UUID
    region_code: RegionCode
    indicator_id: IndicatorId
    value: Annotated[float, Field(allow_inf_nan=False)]
    unit: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    observed_at: AwareDatetime
    source: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="The system that measured the value (e.g. 'bps', 'aqms-bandung')."
    )
    publisher: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="The authenticated publisher that sent it; set by ingest."
    )
    attributes: dict[AttributeKey, AttributeValue] = Field(default_factory=dict)

    @field_validator("attributes")
    @classmethod
    def _bounded_attributes(cls, v: dict[str, str]) -> dict[str, str]:
        if len(v) > MAX_ATTRIBUTES:
            raise ValueError(f"at most {MAX_ATTRIBUTES} attributes, got {len(v)}")
        return v
