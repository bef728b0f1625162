"""The Gerakan Menuju Smart City programme: published totals, the regions known by name, the 2029 target.

Two kinds of figures, never mixed up:

- **assisted**: the kab/kota the programme assisted, as Kominfo publishes them per cohort year and
  cumulatively (25 + 50 + 25 = 100 by 2019, ... 251 by 2024; ``gerakan_smart_city_cohort_totals.csv``);
- **known by name**: the regions a public page names as a cohort's participant
  (``gerakan_smart_city_cohorts.csv``): complete lists for some cohorts, partial for others, so the
  named regions are a subset of the assisted and never their total.

Where sources disagree on a year's figure, every figure is kept; the one used is the row that gives
both the cohort size and the cumulative count (``FIGURE_USED``).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, model_validator

from schemas.common import Contract, RegionCode
from schemas.regions import DATA_DIR

COHORTS_FILE = DATA_DIR / "gerakan_smart_city_cohorts.csv"
TOTALS_FILE = DATA_DIR / "gerakan_smart_city_cohort_totals.csv"
#: Why a year's figure is the one used when sources disagree.
FIGURE_USED = (
    "the figure used is the one published with both the cohort size and the cumulative count, which "
    "continues Kominfo's series 25, 75, 100, 141, 191, 241, 251 (251 assisted 2017-2024: Bisnis.com, 25 Feb 2024)"
)
#: Per-region status in the programme (a label of ``pantau_region_programme``).
RegionProgramme = Literal["masterplan_adopted", "cohort_member", "not_named"]

Year = Annotated[int, Field(ge=2017, le=2035)]


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


class NamedParticipant(Contract):
    """A region that a public page names as a participant of a cohort (a row of the cohorts file)."""

    line: int
    cohort_year: Year
    region_code: RegionCode
    region_name: str
    complete: bool = Field(description="The file names the whole cohort (complete), not a part of it.")
    source: str


class PublishedFigure(Contract):
    """A row of the totals file: a cohort's size and/or the cumulative count, or a target."""

    line: int
    year: Year
    cohort_size: Annotated[int, Field(ge=0)] | None
    cumulative_assisted: Annotated[int, Field(ge=0)] | None
    target: bool
    source: str


class Conflict(Contract):
    """Two published figures for the same thing: the one used and another."""

    year: Year
    field: Literal["cohort_size", "cumulative_assisted"]
    used: int
    other: int
    source_used: str
    source_other: str


class Cohort(Contract):
    """One cohort year: the published figures used, and the regions known by name."""

    year: Year
    cohort_size: int | None
    cumulative_assisted: int | None
    named: int
    named_complete: bool
    source: str


class Programme(Contract):
    """The programme's figures from the two files of ``schemas/data``."""

    cohorts: list[Cohort]
    conflicts: list[Conflict]
    targets: list[PublishedFigure]
    participants: list[NamedParticipant]

    @property
    def target(self) -> PublishedFigure:
        """The latest target (263 masterplans by 2029)."""
        return max(self.targets, key=lambda t: t.year)

    @property
    def assisted(self) -> Cohort:
        """The latest cohort with a published cumulative count (251 by 2024)."""
        return max((c for c in self.cohorts if c.cumulative_assisted is not None), key=lambda c: c.year)

    @property
    def named_regions(self) -> dict[str, list[int]]:
        """Region code -> the cohort years that name it (a region may be named in two)."""
        out: dict[str, list[int]] = {}
        for p in sorted(self.participants, key=lambda p: (p.region_code, p.cohort_year)):
            out.setdefault(p.region_code, []).append(p.cohort_year)
        return out


def _rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(enumerate(csv.DictReader(f), start=2))


def _int(value: str) -> int | None:
    return int(value) if value.strip() else None


def _figures(path: Path) -> list[PublishedFigure]:
    out = []
    for line, row in _rows(path):
        try:
            out.append(PublishedFigure(line=line, year=int(row["year"]), cohort_size=_int(row["cohort_size"]),
                                       cumulative_assisted=_int(row["cumulative_assisted"]),
                                       target=row["source"].startswith("TARGET"), source=row["source"]))  # fmt: skip
        except (KeyError, ValueError, ValidationError) as exc:
            raise ValueError(f"{path}:{line}: {exc}") from None
    return out


def _participants(path: Path) -> list[NamedParticipant]:
    out = []
    for line, row in _rows(path):
        try:
            out.append(NamedParticipant(line=line, cohort_year=int(row["cohort_year"]),
                                        region_code=row["region_code"], region_name=row["region_name"],
                                        complete=row["completeness"].startswith("complete"),
                                        source=row["source"]))  # fmt: skip
        except (KeyError, ValueError, ValidationError) as exc:
            raise ValueError(f"{path}:{line}: {exc}") from None
    return out


def _used(rows: list[PublishedFigure]) -> PublishedFigure:
    both = [r for r in rows if r.cohort_size is not None and r.cumulative_assisted is not None]
    return (both or rows)[0]


def read_programme(cohorts_file: Path = COHORTS_FILE, totals_file: Path = TOTALS_FILE) -> Programme:
    """The programme's figures; errors name the file and the line."""
    figures, participants = _figures(totals_file), _participants(cohorts_file)
    counts = [f for f in figures if not f.target]
    years = sorted({f.year for f in counts} | {p.cohort_year for p in participants})
    cohorts: list[Cohort] = []
    conflicts: list[Conflict] = []
    for year in years:
        rows = [f for f in counts if f.year == year]
        named = [p for p in participants if p.cohort_year == year]
        used = _used(rows) if rows else None
        for other in (r for r in rows if r is not used):
            for field in ("cohort_size", "cumulative_assisted"):
                mine, theirs = getattr(used, field), getattr(other, field)
                if theirs is not None and theirs != mine:
                    conflicts.append(Conflict(year=year, field=field, used=mine, other=theirs,
                                              source_used=used.source if used else "",
                                              source_other=other.source))  # fmt: skip
        cohorts.append(Cohort(year=year, cohort_size=used.cohort_size if used else None,
                              cumulative_assisted=used.cumulative_assisted if used else None,
                              named=len(named), named_complete=bool(named) and all(p.complete for p in named),
                              source=used.source if used else ""))  # fmt: skip
    return Programme(cohorts=cohorts, conflicts=conflicts, targets=[f for f in figures if f.target],
                     participants=participants)  # fmt: skip


@lru_cache(maxsize=1)
def default_programme() -> Programme:
    """The shipped figures, read once per process."""
    return read_programme()


def reference_status(programme: Programme | None = None) -> dict[str, ProgrammeStatus]:
    """The programme status of each region known by name: its first cohort, masterplan adopted.

    Assumption (the sources do not give adoption dates): the programme has each participant draft its
    masterplan in its cohort year, so a named participant counts as adopted, without a date.
    """
    programme = programme or default_programme()
    return {code: ProgrammeStatus(cohort_year=years[0], masterplan_adopted=True)
            for code, years in programme.named_regions.items()}  # fmt: skip


def region_status(status: ProgrammeStatus) -> RegionProgramme:
    """What a region's record says of it: adopted, in a cohort without adoption, or not named at all
    (which does not mean it was not assisted: the published lists are partial)."""
    if status.masterplan_adopted:
        return "masterplan_adopted"
    return "cohort_member" if status.cohort_year is not None else "not_named"


def first_url(source: str) -> str:
    """The first address a source cell cites (the whole cell when it has none)."""
    m = re.search(r"https?://\S+", source)
    return m[0] if m else source


def plan_counts(plans: Mapping[str, ProgrammeStatus]) -> tuple[dict[str, int], dict[str, int]]:
    """What the plans record (region code -> status): regions per status, adopted masterplans per province."""
    by_status: dict[str, int] = {}
    by_province: dict[str, int] = {}
    for code, status in sorted(plans.items()):
        s = region_status(status)
        by_status[s] = by_status.get(s, 0) + 1
        if status.masterplan_adopted:
            by_province[code[:2]] = by_province.get(code[:2], 0) + 1
    return by_status, by_province


def summary(programme: Programme, plans: Mapping[str, ProgrammeStatus]) -> dict[str, object]:
    """The figures ``pantau programme status --json`` prints: published, named, and what the plans record.

    ``plans`` is the programme status of every region with a plan (on the topic or from files).
    """
    target, assisted = programme.target, programme.assisted
    assert assisted.cumulative_assisted is not None and target.cumulative_assisted is not None
    named = programme.named_regions
    by_status, by_province = plan_counts(plans)
    return {
        "target": {"regions": target.cumulative_assisted, "by": target.year, "source": target.source},
        "assisted": {
            "regions": assisted.cumulative_assisted, "through": assisted.year, "source": assisted.source,
            "share_of_target": assisted.cumulative_assisted / target.cumulative_assisted,
            "to_go": max(0, target.cumulative_assisted - assisted.cumulative_assisted),
        },
        "named": {
            "regions": len(named), "cohort_places": len(programme.participants),
            "in_two_cohorts": {code: years for code, years in named.items() if len(years) > 1},
            "note": "regions a public source names: a subset of the assisted, not the total",
        },
        "by_cohort": [c.model_dump() for c in programme.cohorts],
        "conflicts": {"figure_used": FIGURE_USED, "figures": [c.model_dump() for c in programme.conflicts]},
        "other_targets": [{"regions": t.cumulative_assisted, "by": t.year, "source": t.source}
                          for t in programme.targets if t is not target],
        "plans": {"regions_with_plan": len(plans), "masterplan_adopted": by_status.get("masterplan_adopted", 0),
                  "by_status": by_status, "adopted_by_province": by_province},
    }  # fmt: skip
