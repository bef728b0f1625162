"""Masterplans: per-region milestones to 2029, and the region's place in the programme."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Mapping
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import yaml
from pydantic import Field, TypeAdapter, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from schemas.common import Contract, RegionCode, Score, Slug
from schemas.framework import Framework
from schemas.programme import ProgrammeStatus as ProgrammeStatus  # re-exported: a plan holds one
from schemas.programme import reference_status
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


def _distinct_dues(milestones: list[Milestone]) -> list[Milestone]:
    """Milestones in due order; two with the same due date are an error (which one would hold?)."""
    first: dict[dt.date, int] = {}
    for n, m in enumerate(milestones):
        if m.due in first:
            raise ValueError(f"two milestones share a due date ({m.due}: milestones {first[m.due]} and {n})")
        first[m.due] = n
    return sorted(milestones, key=lambda m: m.due)


class Masterplan(Contract):
    """The plan for one region (``basis='region'``) or the national default applied to it."""

    schema_version: Literal[1] = 1
    region_code: RegionCode
    plan_id: Annotated[str, Field(min_length=1, max_length=64)]
    basis: Literal["national_default", "region"]
    framework_id: Slug
    programme: ProgrammeStatus = ProgrammeStatus()
    milestones: Annotated[list[Milestone], Field(min_length=1)]

    _ordered = field_validator("milestones")(_distinct_dues)


# ----------------------------------------------------------------------------------- plan files

MASTERPLAN_FORMAT = "pantau-masterplan/1"
DEFAULT_MASTERPLAN_FILE = Path(__file__).parent / "data" / "masterplan-national-2029.yaml"
INDEX_TARGET = "index"
#: The programme's national goal: smart-city masterplans in 263 kabupaten/kota by 2029 (the TARGET row
#: of schemas/data/gerakan_smart_city_cohort_totals.csv; schemas/programme.py reads the published figures).
NATIONAL_MASTERPLAN_TARGET = 263
NATIONAL_MASTERPLAN_TARGET_YEAR = 2029


class PlanSpec(Contract):
    plan_id: Annotated[str, Field(min_length=1, max_length=64)]
    milestones: Annotated[list[Milestone], Field(min_length=1)]

    _ordered = field_validator("milestones")(_distinct_dues)


class RegionEntry(Contract):
    """A region's own plan (optional: without one the national default applies) and programme status.

    ``programme`` changes only the fields it states; the others stay as they were (or as the reference
    data has them, schemas/programme.py).
    """

    plan_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    milestones: list[Milestone] | None = None
    programme: ProgrammeStatus | None = None

    _ordered = field_validator("milestones")(lambda v: None if v is None else _distinct_dues(v))

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
    """A plan file that cannot be loaded; each line of the message names the file, the line, the region
    and the field."""


#: Where a value of the document came from: (line, field name as the file's reader knows it, or None).
Locator = Callable[[tuple[int | str, ...]], tuple[int | None, str | None]]
Loc = tuple[int | str, ...]
MAX_PROBLEMS = 20


def _nowhere(loc: Loc) -> tuple[int | None, str | None]:
    return None, None


def _problem(source: str, loc: Loc, msg: str, locate: Locator) -> str:
    """``file:line: region R: field: message`` (the line and the region where there are some)."""
    line, field = locate(loc)
    where = f"{source}:{line}" if line else source
    parts = [str(p) for p in loc]
    if len(parts) >= 2 and parts[0] == "regions":
        who, rest = f" region {parts[1]}:", parts[2:]
    elif parts[:1] == ["national_default"]:
        who, rest = " national_default:", parts[1:]
    else:
        who, rest = "", parts
    if field is None:
        field = "region_code" if rest == ["[key]"] else ".".join(p for p in rest if p != "[key]")
    return f"{where}:{who} {field or ('(entry)' if who else '(file)')}: {msg}"


def _message(error: ErrorDetails) -> str:
    value = error.get("input")
    if error["loc"][:1] == ("regions",) and error["loc"][-1:] == ("[key]",) and not isinstance(value, str):
        return f'a region code is quoted text ("32.70"); unquoted, YAML reads it as the number {value!r}'
    msg = error["msg"].removeprefix("Value error, ")
    if isinstance(value, str | int | float | dt.date) and not isinstance(value, bool) and str(value) not in msg:
        msg += f" (got {value!r})"
    return msg


def _raise(source: str, problems: list[tuple[Loc, str]], locate: Locator) -> NoReturn:
    """The problems, in the order of their lines, as one error."""
    problems = sorted(problems, key=lambda p: locate(p[0])[0] or 0)
    lines = [_problem(source, loc, msg, locate) for loc, msg in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        lines.append(f"{source}: ... and {len(problems) - MAX_PROBLEMS} more")
    raise MasterplanFileError("\n".join(lines))


def parse_masterplan_file(
    doc: object, source: str, framework: Framework, regions: RegionRegistry, locate: Locator = _nowhere
) -> MasterplanFile:
    """Validate a parsed plan document against the contract, the framework and the region registry.

    ``locate`` tells the line (and the file's own name of the field) of a value, for the messages.
    """
    if doc is None:
        raise MasterplanFileError(f"{source}: the file is empty (a plan file starts 'format: {MASTERPLAN_FORMAT}')")
    plan, problems = _validate(doc, framework, regions)
    if plan is None or problems:
        _raise(source, problems, locate)
    return plan


def _validate(
    doc: object, framework: Framework, regions: RegionRegistry
) -> tuple[MasterplanFile | None, list[tuple[Loc, str]]]:
    """The file's plans and its problems: the contract's and those of its references (at once)."""
    problems = _references(doc, framework, regions)
    try:
        plan = MasterplanFile.model_validate(doc)
    except ValidationError as exc:
        return None, [(tuple(e["loc"]), _message(e)) for e in exc.errors()] + problems
    if plan.national_default is None and not plan.regions:
        problems.append(((), "the file sets no national_default and no region"))
    return plan, problems


_REGION_CODE: TypeAdapter[str] = TypeAdapter(RegionCode)
_SLUG: TypeAdapter[str] = TypeAdapter(Slug)


def _valid(adapter: TypeAdapter[str], value: object) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


def _references(doc: object, framework: Framework, regions: RegionRegistry) -> list[tuple[Loc, str]]:
    """What the contract cannot know: the loaded framework, its dimensions, the region registry. Read from
    the raw document, so that these are reported with the contract's own problems; a value the contract
    rejects anyway (not a region code, not an id) is left to the contract."""
    if not isinstance(doc, dict):
        return []
    problems: list[tuple[Loc, str]] = []
    if isinstance(doc.get("framework_id"), str) and doc["framework_id"] != framework.id:
        problems.append((("framework_id",), f"{doc['framework_id']!r} is not the loaded framework {framework.id!r}"))
    specs: list[tuple[Loc, object]] = []
    if isinstance(doc.get("national_default"), dict):
        specs.append((("national_default",), doc["national_default"].get("milestones")))
    for code, entry in doc["regions"].items() if isinstance(doc.get("regions"), dict) else ():
        if _valid(_REGION_CODE, code) and code not in regions:
            problems.append((("regions", code, "[key]"), f"not in region registry {regions.version}"))
        if isinstance(entry, dict):
            specs.append((("regions", str(code)), entry.get("milestones")))
    allowed = {d.id for d in framework.dimensions} | {INDEX_TARGET}
    for who, milestones in specs:
        for n, m in enumerate(milestones if isinstance(milestones, list) else []):
            targets = m.get("targets") if isinstance(m, dict) else None
            for key in targets if isinstance(targets, dict) else ():
                if _valid(_SLUG, key) and key not in allowed:
                    problems.append(((*who, "milestones", n, "targets", key, "[key]"),
                                     f"{key!r} is not a dimension of {framework.key} nor 'index' "
                                     f"(allowed: {', '.join(sorted(allowed))})"))  # fmt: skip
    return problems


def load_masterplan_file(path: Path, framework: Framework, regions: RegionRegistry) -> MasterplanFile:
    """A YAML plan file (``format: pantau-masterplan/1``) or a CSV of milestone targets.

    Whatever the file holds, the only error raised is a :class:`MasterplanFileError`, which names the
    file and the line of every problem found (a CSV's unreadable rows and the others' validation at once).
    """
    text = _read_text(path)
    if path.suffix.lower() != ".csv":
        doc, locate = _yaml_document(text, str(path))
        return parse_masterplan_file(doc, str(path), framework, regions, locate)
    csv_plans = _csv_plans(text, str(path))
    doc = csv_plans.document(framework)
    plan, problems = _validate(doc, framework, regions) if csv_plans.plans else (None, [])
    problems = csv_plans.problems + problems
    if plan is None or problems:
        _raise(str(path), problems, csv_plans.locate)
    return plan


def _read_text(path: Path) -> str:
    """The file's text (UTF-8, with or without a byte-order mark)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MasterplanFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise MasterplanFileError(f"{path}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x}): save the file as "
                                  "UTF-8 (in Excel: 'CSV UTF-8')") from None  # fmt: skip


# ----------------------------------------------------------------------------------------- YAML


class _PlanLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses duplicate keys and leaves dates as text (the contract parses
    them, with a message that names the line, instead of PyYAML raising on 2027-13-01)."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[object, object]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, object], int] = {}
            for key, _ in node.value:
                if key.tag == "tag:yaml.org,2002:merge" or not isinstance(key, yaml.ScalarNode):
                    continue
                if (key.tag, key.value) in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key.value!r} (first on line {seen[(key.tag, key.value)]})",
                        key.start_mark,
                    )  # fmt: skip
                seen[(key.tag, key.value)] = key.start_mark.line + 1
        return super().construct_mapping(node, deep)  # type: ignore[arg-type]


_PlanLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _yaml_document(text: str, source: str) -> tuple[object, Locator]:
    loader = _PlanLoader(text)
    try:
        node = loader.get_single_node()
        doc = loader.construct_document(node) if node is not None else None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
        raise MasterplanFileError(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    finally:
        loader.dispose()
    return doc, _yaml_locator(node)


def _same_key(key: yaml.Node, part: int | str) -> bool:
    """Whether a mapping key of the file is the key pydantic names (which YAML may have read as a number)."""
    if str(key.value) == str(part):
        return True
    try:
        return float(key.value) == float(part)
    except (TypeError, ValueError):
        return False


def _yaml_locator(root: yaml.Node | None) -> Locator:
    """The line of the key (or list item) that ``loc`` leads to, as deep as the document goes."""

    def locate(loc: Loc) -> tuple[int | None, str | None]:
        node, line = root, (root.start_mark.line + 1 if root is not None else None)
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                pair = next(((k, v) for k, v in node.value if _same_key(k, part)), None)
                if pair is None:
                    break
                line, node = pair[0].start_mark.line + 1, pair[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        return line, None

    return locate


# ------------------------------------------------------------------------------------------ CSV

CSV_COLUMNS = ("region_code", "plan_id", "due", "target", "score")
CSV_OPTIONAL_COLUMNS = ("label",)
#: Comma, and what Excel writes under a locale whose decimal separator is the comma (Indonesian): ';'.
CSV_DELIMITERS = (",", ";", "\t")
NATIONAL_ROWS = "national"
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")
_EXCEL_CODE = re.compile(r"^\d{1,2}[.,]\d$")


def _delimiter(header: str) -> str:
    """The delimiter that splits the header line into the most known column names (',' on a tie)."""
    known = set(CSV_COLUMNS) | set(CSV_OPTIONAL_COLUMNS)

    def score(d: str) -> int:
        return len({c.strip().lower() for c in next(csv.reader([header], delimiter=d), [])} & known)

    return max(CSV_DELIMITERS, key=score)


def _number(text: str) -> float:
    """A score as written, with a decimal point or (Excel under an Indonesian locale) a decimal comma."""
    return float(text.replace(",", ".") if _DECIMAL_COMMA.match(text) else text)


class _CsvPlans:
    """The rows of a plan CSV gathered into a plan document, with the line of every value."""

    def __init__(self) -> None:
        self.plans: dict[str, dict[str, object]] = {}
        self.milestones: dict[str, dict[dt.date, dict[str, object]]] = {}
        self.lines: dict[Loc, tuple[int, str]] = {}
        self.seen: dict[tuple[str, dt.date, str], tuple[int, float]] = {}
        self.problems: list[tuple[Loc, str]] = []

    def prefix(self, region: str) -> Loc:
        return ("national_default",) if region == NATIONAL_ROWS else ("regions", region)

    def error(self, line: int, field: str, msg: str, region: str = "") -> None:
        loc: Loc = (*self.prefix(region), f"@{line}") if region else (f"@{line}",)
        self.lines[loc] = (line, field)
        self.problems.append((loc, msg))

    def add(self, line: int, cells: dict[str, str]) -> None:
        region = cells["region_code"]
        if region.lower() == NATIONAL_ROWS:
            region = NATIONAL_ROWS
        elif _EXCEL_CODE.match(region):
            self.error(line, "region_code", f"{region!r} is not a region code PP.KK: a spreadsheet may have read "
                                            "the code as a number (format the column as text)")  # fmt: skip
            return
        pre = self.prefix(region)
        plan_id, label = cells["plan_id"], cells.get("label", "")
        try:
            due = dt.date.fromisoformat(cells["due"])
        except ValueError:
            self.error(line, "due", f"{cells['due']!r} is not a date (YYYY-MM-DD)", region)
            return
        try:
            score = _number(cells["score"])
        except ValueError:
            self.error(line, "score", f"{cells['score']!r} is not a number", region)
            return
        plan = self.plans.get(region)
        if plan is None:
            plan = self.plans[region] = {"plan_id": plan_id, "milestones": []}
            self.lines.update({pre: (line, "region_code"), (*pre, "[key]"): (line, "region_code"),
                               (*pre, "plan_id"): (line, "plan_id"), (*pre, "milestones"): (line, "due")})  # fmt: skip
            self.milestones[region] = {}
        elif plan["plan_id"] != plan_id:
            first = self.lines[(*pre, "plan_id")][0]
            self.error(line, "plan_id", f"{plan_id!r}, but line {first} gives this region the plan "
                                        f"{plan['plan_id']!r}: one plan per region", region)  # fmt: skip
            return
        milestone = self.milestones[region].get(due)
        if milestone is None:
            n = len(self.milestones[region])
            milestone = self.milestones[region][due] = {"due": due, "label": label, "targets": {}}
            plan["milestones"].append(milestone)  # type: ignore[attr-defined]
            m: Loc = (*pre, "milestones", n)
            self.lines.update({m: (line, "due"), (*m, "due"): (line, "due"), (*m, "targets"): (line, "target"),
                               (*m, "label"): (line, "label")})  # fmt: skip
        n = plan["milestones"].index(milestone)  # type: ignore[attr-defined]
        m = (*pre, "milestones", n)
        if label and milestone["label"] and label != milestone["label"]:
            first = self.lines[(*m, "label")][0]
            self.error(line, "label", f"{label!r}, but line {first} labels the milestone due {due} "
                                      f"{milestone['label']!r}", region)  # fmt: skip
            return
        if label and not milestone["label"]:
            milestone = self.milestones[region][due] = {**milestone, "label": label}
            plan["milestones"][n] = milestone  # type: ignore[index]
            self.lines[(*m, "label")] = (line, "label")
        target = cells["target"]
        earlier = self.seen.get((region, due, target))
        if earlier is not None:
            what = "repeats it" if earlier[1] == score else f"sets {earlier[1]:g} there, {score:g} here"
            self.error(line, "target", f"{target} due {due} is already set on line {earlier[0]} (this row "
                                       f"{what}): one row per region, due date and target", region)  # fmt: skip
            return
        self.seen[(region, due, target)] = (line, score)
        milestone["targets"][target] = score  # type: ignore[index]
        self.lines.update({(*m, "targets", target): (line, "score"),
                           (*m, "targets", target, "[key]"): (line, "target")})  # fmt: skip

    def locate(self, loc: Loc) -> tuple[int | None, str | None]:
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None, None

    def document(self, framework: Framework) -> dict[str, object]:
        """The plan document of the rows read (``format``, the loaded framework, regions, national default)."""
        doc: dict[str, object] = {"format": MASTERPLAN_FORMAT, "framework_id": framework.id}
        if NATIONAL_ROWS in self.plans:
            doc["national_default"] = self.plans[NATIONAL_ROWS]
        doc["regions"] = {region: plan for region, plan in self.plans.items() if region != NATIONAL_ROWS}
        return doc


def _csv_plans(text: str, source: str) -> _CsvPlans:
    """CSV bulk format: one row per (region, milestone, target); ``region_code`` 'national' for the default.

    Columns: region_code, plan_id, due (YYYY-MM-DD), target (a dimension id or 'index'), score, and
    optionally label, separated by ',' or ';' or tabs (detected from the header), scores with a decimal
    point or comma. Blank rows are skipped; a row that repeats or contradicts another is an error.
    """
    lines = text.splitlines()
    first = next((n for n, row in enumerate(lines) if row.strip()), None)
    if first is None:
        raise MasterplanFileError(f"{source}: the file is empty (expected the header "
                                  f"{','.join(CSV_COLUMNS)}[,label])")  # fmt: skip
    delimiter = _delimiter(lines[first])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    plans = _CsvPlans()
    header: list[str] | None = None
    start = 1
    try:
        for row in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [c.strip().lower() for c in row]
                _check_header(header, source, line, delimiter)
                continue
            cells = [c.strip() for c in row]
            if len(cells) > len(header) and not any(cells[len(header) :]):
                cells = cells[: len(header)]
            if len(cells) > len(header):
                plans.error(line, "(row)", f"{len(cells)} fields, the header has {len(header)} "
                                           f"({delimiter.join(header)})")  # fmt: skip
                continue
            named = dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=True))
            empty = [c for c in CSV_COLUMNS if not named[c]]
            if empty:
                why = (f"missing: the row has {len(cells)} fields, the header {len(header)} ({delimiter.join(header)})"
                       if len(cells) < len(header) else "empty")  # fmt: skip
                plans.error(line, empty[0], why, named["region_code"])
                continue
            plans.add(line, named)
    except csv.Error as exc:
        raise MasterplanFileError(f"{source}:{reader.line_num}: not a readable CSV row: {exc}") from None
    if not plans.plans and not plans.problems:
        raise MasterplanFileError(f"{source}: the file has a header and no plan rows")
    return plans


def _check_header(header: list[str], source: str, line: int, delimiter: str) -> None:
    known = (*CSV_COLUMNS, *CSV_OPTIONAL_COLUMNS)
    missing = [c for c in CSV_COLUMNS if c not in header]
    unknown = [c for c in header if c not in known]
    twice = sorted({c for c in header if header.count(c) > 1})
    problems = [f"missing column(s) {', '.join(missing)}"] if missing else []
    problems += [f"unknown column(s) {', '.join(repr(c) for c in unknown)}"] if unknown else []
    problems += [f"column(s) named twice: {', '.join(twice)}"] if twice else []
    if problems:
        seen = "tab" if delimiter == "\t" else repr(delimiter)
        raise MasterplanFileError(f"{source}:{line}: header: {'; '.join(problems)} (read with the delimiter "
                                  f"{seen}; expected {','.join(CSV_COLUMNS)}[,label])")  # fmt: skip


def resolve_plans(
    files: list[MasterplanFile],
    regions: RegionRegistry,
    current: dict[str, Masterplan] | None = None,
    reference: Mapping[str, ProgrammeStatus] | None = None,
) -> dict[str, Masterplan]:
    """The plan of every region after loading ``files`` (in order) over the ``current`` plans.

    A region's own plan overrides the national default; a national default replaces the plans of
    regions that have none of their own. A region's programme status changes only where a file states
    it, field by field; a region whose record has no status (the default) takes the one of the
    ``reference`` data (by default the regions the programme's published lists name, schemas/programme.py).
    """
    if reference is None:
        reference = reference_status()
    out = dict(current or {})
    for f in files:
        if f.national_default is not None:
            for code in regions.regions:
                had = out.get(code)
                if had is None or had.basis == "national_default":
                    out[code] = Masterplan(region_code=code, plan_id=f.national_default.plan_id,
                                           basis="national_default", framework_id=f.framework_id,
                                           programme=_programme(code, had, None, reference),
                                           milestones=f.national_default.milestones)  # fmt: skip
        for code, entry in f.regions.items():
            had = out.get(code)
            programme = _programme(code, had, entry.programme, reference)
            if entry.milestones is not None and entry.plan_id is not None:
                out[code] = Masterplan(region_code=code, plan_id=entry.plan_id, basis="region",
                                       framework_id=f.framework_id, programme=programme,
                                       milestones=entry.milestones)  # fmt: skip
            elif had is not None:
                out[code] = had.model_copy(update={"programme": programme})
    return out


def _programme(
    code: str, had: Masterplan | None, stated: ProgrammeStatus | None, reference: Mapping[str, ProgrammeStatus]
) -> ProgrammeStatus:
    """The region's status: what it had (or the reference's), with the fields ``stated`` sets."""
    base = had.programme if had is not None and had.programme != ProgrammeStatus() else None
    base = base or reference.get(code, ProgrammeStatus())
    if stated is None:
        return base
    update = {name: getattr(stated, name) for name in stated.model_fields_set}
    if update.get("masterplan_adopted") is False and "adopted_on" not in update:
        update["adopted_on"] = None  # not adopted: no adoption date either
    return ProgrammeStatus.model_validate({**base.model_dump(), **update})


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
