"""Masterplans: per-region milestones to 2029, and the region's place in the programme."""

from __future__ import annotations

import csv
import datetime as dt
import io
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from schemas.common import Contract, RegionCode, Score, Slug
from schemas.framework import Framework
from schemas.regions import RegionRegistry

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


# ----------------------------------------------------------------------------------- plan files

MASTERPLAN_FORMAT = "pantau-masterplan/1"
DEFAULT_MASTERPLAN_FILE = Path(__file__).parent / "data" / "masterplan-national-2029.yaml"
INDEX_TARGET = "index"
#: The programme's national goal: smart-city masterplans in 263 kabupaten/kota by 2029.
NATIONAL_MASTERPLAN_TARGET = 263
NATIONAL_MASTERPLAN_TARGET_YEAR = 2029


class PlanSpec(Contract):
    plan_id: Annotated[str, Field(min_length=1, max_length=64)]
    milestones: Annotated[list[Milestone], Field(min_length=1)]


class RegionEntry(Contract):
    """A region's own plan (optional: without one the national default applies) and programme status."""

    plan_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    milestones: list[Milestone] | None = None
    programme: ProgrammeStatus = ProgrammeStatus()

    @model_validator(mode="after")
    def _plan_complete(self) -> RegionEntry:
        if (self.plan_id is None) != (self.milestones is None):
            raise ValueError("a region plan needs both plan_id and milestones (or neither)")
        return self


class MasterplanFile(Contract):
    """One YAML plan file: an optional national default and any number of regions."""

    format: Literal["pantau-masterplan/1"]
    framework_id: Slug
    national_default: PlanSpec | None = None
    regions: dict[RegionCode, RegionEntry] = Field(default_factory=dict)


class MasterplanFileError(ValueError):
    """A plan file that cannot be loaded; the message names the file, the region and the field."""


def _where(source: str, loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc]
    if len(parts) >= 2 and parts[0] == "regions":
        return f"{source}: region {parts[1]}: {'.'.join(parts[2:]) or '(entry)'}"
    return f"{source}: {'.'.join(parts) or '(file)'}"


def parse_masterplan_file(doc: object, source: str, framework: Framework, regions: RegionRegistry) -> MasterplanFile:
    """Validate a parsed plan document against the contract, the framework and the region registry."""
    try:
        plan = MasterplanFile.model_validate(doc)
    except ValidationError as exc:
        lines = [f"{_where(source, tuple(e['loc']))}: {e['msg']}" for e in exc.errors()[:20]]
        raise MasterplanFileError("\n".join(lines)) from None
    problems = []
    if plan.framework_id != framework.id:
        problems.append(f"{source}: framework_id: {plan.framework_id!r} is not the loaded framework {framework.id!r}")
    allowed = {d.id for d in framework.dimensions} | {INDEX_TARGET}
    specs: list[tuple[str, list[Milestone]]] = []
    if plan.national_default is not None:
        specs.append(("national_default", plan.national_default.milestones))
    for code, entry in plan.regions.items():
        if code not in regions:
            problems.append(f"{source}: region {code}: not in region registry {regions.version}")
        specs.append((f"region {code}", entry.milestones or []))
    for who, milestones in specs:
        for n, m in enumerate(milestones):
            for key in m.targets:
                if key not in allowed:
                    problems.append(f"{source}: {who}: milestones.{n}.targets.{key}: not a dimension of "
                                    f"{framework.key} nor 'index' (allowed: {', '.join(sorted(allowed))})")  # fmt: skip
    if problems:
        raise MasterplanFileError("\n".join(problems))
    return plan


def load_masterplan_file(path: Path, framework: Framework, regions: RegionRegistry) -> MasterplanFile:
    """A YAML plan file (``format: pantau-masterplan/1``) or a CSV of milestone targets."""
    if path.suffix.lower() == ".csv":
        return parse_masterplan_file(_csv_document(path, framework), str(path), framework, regions)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MasterplanFileError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        raise MasterplanFileError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    return parse_masterplan_file(doc, str(path), framework, regions)


CSV_COLUMNS = ("region_code", "plan_id", "due", "target", "score")


def _csv_document(path: Path, framework: Framework) -> dict[str, object]:
    """CSV bulk format: one row per (region, milestone, target); ``region_code`` 'national' for the default.

    Columns: region_code, plan_id, due (YYYY-MM-DD), target (a dimension id or 'index'), score, and
    optionally label.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise MasterplanFileError(f"{path}: cannot read: {exc.strerror}") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise MasterplanFileError(f"{path}:1: missing column(s) {', '.join(missing)}")
    plans: dict[str, dict[str, object]] = {}
    for line, row in enumerate(reader, start=2):
        region = (row["region_code"] or "").strip()
        try:
            due = dt.date.fromisoformat((row["due"] or "").strip())
            score = float(row["score"])
        except ValueError as exc:
            raise MasterplanFileError(f"{path}:{line}: region {region}: {exc}") from None
        plan = plans.setdefault(region, {"plan_id": row["plan_id"].strip(), "milestones": {}})
        milestones = plan["milestones"]
        assert isinstance(milestones, dict)
        m = milestones.setdefault(due, {"due": due, "label": (row.get("label") or "").strip(), "targets": {}})
        m["targets"][row["target"].strip()] = score
    doc: dict[str, object] = {"format": MASTERPLAN_FORMAT, "framework_id": framework.id, "regions": {}}
    for region, plan in plans.items():
        spec = {"plan_id": plan["plan_id"], "milestones": list(plan["milestones"].values())}  # type: ignore[attr-defined]
        if region == "national":
            doc["national_default"] = spec
        else:
            doc["regions"][region] = spec  # type: ignore[index]
    return doc


def resolve_plans(
    files: list[MasterplanFile], regions: RegionRegistry, current: dict[str, Masterplan] | None = None
) -> dict[str, Masterplan]:
    """The plan of every region after loading ``files`` (in order) over the ``current`` plans.

    A region's own plan overrides the national default; a national default replaces the plans of
    regions that have none of their own. Programme status given in a file replaces the region's.
    """
    out = dict(current or {})
    for f in files:
        if f.national_default is not None:
            for code in regions.regions:
                had = out.get(code)
                if had is None or had.basis == "national_default":
                    programme = had.programme if had is not None else ProgrammeStatus()
                    out[code] = Masterplan(region_code=code, plan_id=f.national_default.plan_id,
                                           basis="national_default", framework_id=f.framework_id,
                                           programme=programme, milestones=f.national_default.milestones)  # fmt: skip
        for code, entry in f.regions.items():
            had = out.get(code)
            if entry.milestones is not None and entry.plan_id is not None:
                out[code] = Masterplan(region_code=code, plan_id=entry.plan_id, basis="region",
                                       framework_id=f.framework_id, programme=entry.programme,
                                       milestones=entry.milestones)  # fmt: skip
            elif had is not None:
                out[code] = had.model_copy(update={"programme": entry.programme})
    return out


def expected_on(plan: Masterplan, target: str, day: dt.date) -> float | None:
    """The value on the plan's path for ``target`` on ``day``: linear between milestones that set it.

    None before the first such milestone (the path starts there); the last target after the last.
    """
    points = [(m.due, m.targets[target]) for m in plan.milestones if target in m.targets]
    if not points or day < points[0][0]:
        return None
    for (d0, v0), (d1, v1) in pairwise(points):
        if d0 <= day <= d1:
            return v0 + (v1 - v0) * (day - d0).days / (d1 - d0).days
    return points[-1][1]


def next_milestone(plan: Masterplan, target: str, day: dt.date) -> Milestone | None:
    """The first milestone due after ``day`` that sets ``target``."""
    return next((m for m in plan.milestones if m.due > day and target in m.targets), None)


def last_milestone(plan: Masterplan, target: str, day: dt.date) -> Milestone | None:
    """The latest milestone due on or before ``day`` that sets ``target``."""
    passed = [m for m in plan.milestones if m.due <= day and target in m.targets]
    return passed[-1] if passed else None
