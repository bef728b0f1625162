"""The framework's indicators as the notifications name them: by name and unit in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.framework import Framework
from services.alerts.notify import messages as m

Language = Literal["id", "en"]


class IndicatorName(BaseModel):
    """What a reader is told about one indicator: ``name`` (English), ``name_id`` (Indonesian), ``unit``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    name_id: str | None = None
    unit: str | None = None


class Catalogue(BaseModel):
    """Indicator id -> its names and unit. An indicator it does not know is named by its id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    indicators: dict[str, IndicatorName] = Field(default_factory=dict)

    @classmethod
    def from_framework(cls, framework: Framework) -> Catalogue:
        return cls(indicators={i.id: IndicatorName(name=i.name, name_id=i.name_id, unit=i.unit)
                               for i in framework.indicators})  # fmt: skip

    @classmethod
    def from_names(cls, names: Mapping[str, str]) -> Catalogue:
        """From a plain id -> name mapping (the older ``indicator_names``): one name for both languages."""
        return cls(indicators={k: IndicatorName(name=v) for k, v in names.items()})

    def name(self, indicator_id: str, lang: Language) -> str:
        """``name_id`` for Indonesian readers (``name`` when the framework has none), ``name`` for English."""
        entry = self.indicators.get(indicator_id)
        if entry is None:
            return indicator_id
        return (entry.name_id or entry.name) if lang == "id" else entry.name

    def unit(self, indicator_id: str, lang: Language) -> str | None:
        entry = self.indicators.get(indicator_id)
        if entry is None or not entry.unit:
            return None
        return m.UNITS[lang].get(entry.unit, entry.unit)

    def label(self, indicator_id: str, lang: Language) -> str:
        """``Ketersediaan layanan publik daring [persen]``: the name, and the unit it is measured in."""
        unit = self.unit(indicator_id, lang)
        name = self.name(indicator_id, lang)
        return f"{name} [{unit}]" if unit else name
