"""The framework: what is measured, how it is normalised to 0-5, and how it rolls up.

A framework is data (a versioned YAML file), not code: the draft Komdigi regulation of 2026 replaces
the ``branding`` dimension with ``mobility``, and history can be re-scored under a new version.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from schemas.common import Contract, IndicatorId, Score, Slug

DEFAULT_FRAMEWORK_PATH = Path(__file__).parent / "data" / "framework-pp59-2022.yaml"

Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class Direction(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


class MinMax(Contract):
    """Linear between ``min`` (score 0 when higher is better) and ``max`` (score 5), clipped."""

    method: Literal["min_max"]
    min: Finite
    max: Finite

    @model_validator(mode="after")
    def _ordered(self) -> MinMax:
        if not self.min < self.max:
            raise ValueError(f"inverted bounds: min ({self.min}) must be below max ({self.max})")
        return self


class Target(Contract):
    """Attainment of a target as U4SSC reports it: value/target (or target/value), capped at 1, x5."""

    method: Literal["target"]
    target: Positive


class Thresholds(Contract):
    """Level thresholds as ITU-T Y.4904 uses them: the score is the number of thresholds met (0-5).

    The five thresholds are listed from level 1 to level 5: ascending when higher is better,
    descending when lower is better.
    """

    method: Literal["thresholds"]
    thresholds: Annotated[list[Finite], Field(min_length=5, max_length=5)]


Normalisation = Annotated[MinMax | Target | Thresholds, Field(discriminator="method")]


class Aggregation(Contract):
    """How readings inside the rolling event-time window combine into the indicator's value."""

    method: Literal["latest", "mean", "sum", "min", "max"]
    window: timedelta | None = Field(default=None, description="ISO 8601 duration; required for mean/sum/min/max.")

    @model_validator(mode="after")
    def _window_when_needed(self) -> Aggregation:
        if self.method != "latest" and self.window is None:
            raise ValueError(f"aggregation '{self.method}' needs a window (ISO 8601, e.g. P1D)")
        if self.window is not None and self.window <= timedelta(0):
            raise ValueError("window must be positive")
        return self


class PhysicalBounds(Contract):
    """Values outside these are physically impossible and rejected at ingest."""

    min: Finite
    max: Finite

    @model_validator(mode="after")
    def _ordered(self) -> PhysicalBounds:
        if not self.min < self.max:
            raise ValueError(f"inverted bounds: min ({self.min}) must be below max ({self.max})")
        return self


class Indicator(Contract):
    id: IndicatorId
    name: str
    name_id: str | None = Field(default=None, description="Name in Bahasa Indonesia.")
    unit: str
    direction: Direction
    weight: Positive = 1.0
    bounds: PhysicalBounds
    normalisation: Normalisation
    aggregation: Aggregation
    validity: timedelta = Field(description="Age (ISO 8601) after which a reading is stale.")
    kind: Literal["statistic", "live", "administrative"] = "live"
    source: str = Field(description="Where the figures come from.")
    # Filled in by the loader from the enclosing dimension and element.
    dimension: Slug = ""
    element: Slug = ""

    @field_validator("validity")
    @classmethod
    def _positive_validity(cls, v: timedelta) -> timedelta:
        if v <= timedelta(0):
            raise ValueError("validity must be positive")
        return v

    @cached_property
    def window_us(self) -> int | None:
        """The aggregation window in whole microseconds (None for 'latest'): used per event."""
        w = self.aggregation.window
        return None if w is None else w // timedelta(microseconds=1)

    @cached_property
    def validity_us(self) -> int:
        return self.validity // timedelta(microseconds=1)

    @model_validator(mode="after")
    def _consistent(self) -> Indicator:
        n = self.normalisation
        if isinstance(n, Thresholds):
            t = n.thresholds
            ascending = all(a < b for a, b in pairwise(t))
            descending = all(a > b for a, b in pairwise(t))
            if self.direction is Direction.HIGHER_IS_BETTER and not ascending:
                raise ValueError("thresholds must ascend strictly when higher is better")
            if self.direction is Direction.LOWER_IS_BETTER and not descending:
                raise ValueError("thresholds must descend strictly when lower is better")
        return self


class Element(Contract):
    id: Slug
    name: str
    name_id: str | None = None
    weight: Positive = 1.0
    indicators: list[Indicator]

    @field_validator("indicators")
    @classmethod
    def _not_empty(cls, v: list[Indicator]) -> list[Indicator]:
        if not v:
            raise ValueError("an element needs at least one indicator")
        return v


class Dimension(Contract):
    id: Slug
    name: str
    name_id: str | None = None
    weight: Positive = 1.0
    elements: list[Element]

    @field_validator("elements")
    @classmethod
    def _not_empty(cls, v: list[Element]) -> list[Element]:
        if not v:
            raise ValueError("a dimension needs at least one element")
        return v


class Level(Contract):
    level: Annotated[int, Field(ge=1, le=5)]
    name: str
    min_score: Score


class Framework(Contract):
    """A versioned framework. Indicators know their dimension and element after loading."""

    id: Slug
    version: Annotated[str, Field(min_length=1, max_length=32)]
    title: str
    description: str = ""
    minimum_coverage: Annotated[float, Field(gt=0.0, le=1.0)]
    levels: list[Level]
    dimensions: list[Dimension]

    @model_validator(mode="before")
    @classmethod
    def _stamp_parents(cls, data: Any) -> Any:
        """Copy dimension and element ids onto each indicator so it can be used on its own."""
        if not isinstance(data, dict):
            return data
        for dim in data.get("dimensions") or []:
            if not isinstance(dim, dict):
                continue
            for el in dim.get("elements") or []:
                if not isinstance(el, dict):
                    continue
                for ind in el.get("indicators") or []:
                    if isinstance(ind, dict):
                        ind.setdefault("dimension", dim.get("id"))
                        ind.setdefault("element", el.get("id"))
        return data

    @model_validator(mode="after")
    def _check(self) -> Framework:
        _unique("dimension", [d.id for d in self.dimensions])
        for d in self.dimensions:
            _unique(f"element in dimension '{d.id}'", [e.id for e in d.elements])
        _unique("indicator", [i.id for i in self.indicators])
        levels = [lv.level for lv in self.levels]
        if levels != list(range(1, len(levels) + 1)) or len(levels) != 5:
            raise ValueError("levels must be exactly 1..5 in order")
        mins = [lv.min_score for lv in self.levels]
        if mins[0] != 0.0 or any(a >= b for a, b in pairwise(mins)):
            raise ValueError("level min_score must start at 0 and rise strictly")
        return self

    @cached_property
    def indicators(self) -> list[Indicator]:
        """Every indicator in framework order (computed once; do not modify)."""
        return [i for d in self.dimensions for e in d.elements for i in e.indicators]

    @property
    def key(self) -> str:
        """``id@version``, the name under which scores of this framework are kept."""
        return f"{self.id}@{self.version}"

    def indicator(self, indicator_id: str) -> Indicator:
        return self.indicator_map[indicator_id]

    @cached_property
    def indicator_map(self) -> dict[str, Indicator]:
        """Indicators by id (computed once; do not modify)."""
        return {i.id: i for i in self.indicators}

    def level_for(self, score: float) -> Level:
        """The maturity level whose band holds ``score``."""
        chosen = self.levels[0]
        for lv in self.levels:
            if score >= lv.min_score:
                chosen = lv
        return chosen


def _unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    dups = sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
    if dups:
        raise ValueError(f"duplicate {what} id(s): {', '.join(dups)}")


class FrameworkError(ValueError):
    """A framework file that cannot be used, with the file and the key at fault."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{path}: invalid framework\n" + "\n".join(f"  - {p}" for p in problems))


def _where(loc: tuple[int | str, ...], data: Any) -> str:
    """Turn a pydantic location into a readable key path, naming ids where the list has them."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int) and isinstance(node, list) and 0 <= item < len(node):
            node = node[item]
            ident = node.get("id") if isinstance(node, dict) else None
            parts[-1:] = [f"{parts[-1]}[{ident!r}]" if ident else f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        else:
            if isinstance(node, dict):
                node = node.get(item)
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


def parse_framework(data: Any, path: Path | str = "<memory>") -> Framework:
    """Validate a framework document already read from YAML; errors name the file and the key."""
    if not isinstance(data, dict) or "framework" not in data:
        raise FrameworkError(path, ["top level must be a mapping with a 'framework' key"])
    body = data["framework"]
    try:
        return Framework.model_validate(body)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = _where(tuple(err["loc"]), body)
            problems.append(f"framework.{key}: {err['msg']}")
        raise FrameworkError(path, problems) from None


def load_framework(path: Path | str | None = None) -> Framework:
    """Read and validate a framework YAML file (the shipped PP 59/2022 default when no path)."""
    p = Path(path) if path is not None else DEFAULT_FRAMEWORK_PATH
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise FrameworkError(p, [f"cannot read file: {exc.strerror}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise FrameworkError(p, [f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    return parse_framework(data, p)
