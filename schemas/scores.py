"""Region scores: what the scoring service publishes to ``region-scores``."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.common import Contract, IndicatorId, ProvinceCode, Ratio, RegionCode, Score, Slug


class ScoreStatus(StrEnum):
    OK = "ok"
    #: Coverage below the framework's minimum: the score is not trusted (missing data is never zero).
    INSUFFICIENT_DATA = "insufficient_data"


class IndicatorScore(Contract):
    indicator_id: IndicatorId
    dimension: Slug
    element: Slug
    weight: float
    value: float | None = Field(description="The rolling aggregate; None when no reading in window.")
    score: Score | None
    observed_at: AwareDatetime | None = Field(description="Event time of the newest reading used.")
    fresh: bool


class ElementScore(Contract):
    element_id: Slug
    score: Score | None
    coverage: Ratio
    status: ScoreStatus


class DimensionScore(Contract):
    dimension_id: Slug
    score: Score | None
    coverage: Ratio
    status: ScoreStatus
    elements: list[ElementScore]


class RegionScore(Contract):
    """A region's maturity under one framework version at one evaluation time."""

    schema_version: Literal[1] = 1
    region_code: RegionCode
    province_code: ProvinceCode
    framework: str = Field(description="Framework key, 'id@version'.")
    evaluated_at: AwareDatetime = Field(description="The time freshness was judged against.")
    index: Score | None
    level: int | None = Field(default=None, ge=1, le=5)
    level_name: str | None = None
    coverage: Ratio
    status: ScoreStatus
    dimensions: list[DimensionScore]
    indicators: list[IndicatorScore]
    events_applied: int = Field(ge=0, description="Distinct events that built this state.")
