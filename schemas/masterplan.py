"""Masterplans: per-region milestones to 2029, and the region's place in the programme."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from schemas.common import Contract, RegionCode, Score, Slug

#: A milestone target is set for a dimension id or for the overall ``index``.
TargetKey = Slug


class Milestone(Contract):
    due: dt.date
    label: Annotated[str, Field(max_length=120)] = ""
    targets: dict[TargetKey, Score] = Field(description="Target score per dimension and/or 'index'.")

    @field_validator("targets")
    @classmethod
    def _some_target(cls, v: dict[str, float]) -> dict[str, float]:
        if not v:
            raise ValueError("a milestone needs at least one target")
        return v


class ProgrammeStatus(Contract):
    """Where the region stands in the Gerakan Menuju 100 Smart City programme."""

    cohort_year: Annotated[int, Field(ge=2017, le=2035)] | None = None
    masterplan_adopted: bool = False
    adopted_on: dt.date | None = None

    @model_validator(mode="after")
    def _adopted_date(self) -> ProgrammeStatus:
        if self.adopted_on is not None and not self.masterplan_adopted:
            raise ValueError("adopted_on is set but masterplan_adopted is false")
        return self


class Masterplan(Contract):
    """The plan for one region (``basis='region'``) or the national default applied to it."""

    schema_version: Literal[1] = 1
    region_code: RegionCode
    plan_id: Annotated[str, Field(min_length=1, max_length=64)]
    basis: Literal["national_default", "region"]
    framework_id: Slug
    programme: ProgrammeStatus = ProgrammeStatus()
    milestones: Annotated[list[Milestone], Field(min_length=1)]

    @field_validator("milestones")
    @classmethod
    def _ordered(cls, v: list[Milestone]) -> list[Milestone]:
        dues = [m.due for m in v]
        if len(set(dues)) != len(dues):
            raise ValueError("two milestones share a due date")
        return sorted(v, key=lambda m: m.due)
