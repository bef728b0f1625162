"""Base configuration shared by every contract on the wire."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

#: Kemendagri code of a kabupaten/kota, ``PP.KK`` (for example ``32.73``, Kota Bandung).
RegionCode = Annotated[str, StringConstraints(pattern=r"^\d{2}\.\d{2}$")]
#: Kemendagri code of a province, ``PP``.
ProvinceCode = Annotated[str, StringConstraints(pattern=r"^\d{2}$")]
#: Identifier of an indicator in a framework, e.g. ``ENV_PM25``.
IndicatorId = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")]
#: Identifier of a dimension or an element, e.g. ``governance`` or ``public_services``.
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
#: A score on the programme's 0-5 scale.
Score = Annotated[float, Field(ge=0.0, le=5.0, allow_inf_nan=False)]
#: A share between 0 and 1 (coverage of indicator weight, for example).
Ratio = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class Contract(BaseModel):
    """A message or definition exchanged between services: immutable and strict about its fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


def province_of(region_code: str) -> str:
    """The province code of a region code (``32.73`` -> ``32``)."""
    return region_code.split(".", 1)[0]
