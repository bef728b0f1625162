"""The view models of the Pantau pages: the history API's bodies in, frozen values for the templates out.

Pure: no I/O, no framework, no words of its own (every label comes from a :class:`Messages`,
services/web/messages.py). The bodies are the plain JSON the history API sends
(services/history/api_models.py: ``RankingBody``, ``SeriesBody``, ``ProgrammeBody``), days as ISO
strings; the reference data (registry, framework, programme, a plan) comes from ``schemas``.

Conventions, as the API's: ``gap`` = path - index, above 0 behind the path; scores 0-5; coverage 0-1.
A trend is flat when the index moved by less than :data:`TREND_FLAT` (changes are rounded to 6
decimals first, so that 3.42 - 3.37 is the 0.05 it is written as, not 0.0500000000000003).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Any, Final, Literal, get_args

from schemas.framework import Framework
from schemas.masterplan import INDEX_TARGET, Masterplan
from schemas.programme import Programme
from schemas.regions import RegionRegistry
from services.web import colours
from services.web.map import MapRegion
from services.web.messages import Messages

Json = Mapping[str, Any]
Measure = Literal["index", "level", "gap", "coverage"]
MEASURES: Final[tuple[Measure, ...]] = get_args(Measure)
Direction = Literal["up", "down", "flat"]

#: A change of the index smaller than this (in absolute value) is shown as flat.
TREND_FLAT: Final = 0.05
ARROWS: Final[Mapping[Direction, str]] = {"up": "▲", "down": "▼", "flat": "▶"}

_L = colours.LEVEL_COLOURS
#: Fills of the index: the bands of the PP 59/2022 levels, in the level colours (darker is more mature).
INDEX_BANDS: Final = ((0.0, _L[1]), (1.0, _L[2]), (2.0, _L[3]), (3.0, _L[4]), (4.0, _L[5]))
#: Fills of the gap, read as the lead (index - path, the gap's negative): far behind is the lightest,
#: on or ahead of the path (lead >= 0, i.e. not behind) the two darkest.
LEAD_BANDS: Final = ((-5.0, _L[1]), (-0.5, _L[2]), (-0.2, _L[3]), (0.0, _L[4]), (0.5, _L[5]))
#: Fills of the coverage (0-1), in fifths.
COVERAGE_BANDS: Final = ((0.0, _L[1]), (0.2, _L[2]), (0.4, _L[3]), (0.6, _L[4]), (0.8, _L[5]))


def region_href(code: str) -> str:
    return f"/wilayah/{code}"


def province_href(code: str) -> str:
    return f"/provinsi/{code}"


def _day(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value[:10])


# ------------------------------------------------------------------------------------- snapshots


@dataclass(frozen=True)
class Snapshot:
    """A closing snapshot of a body (``Snapshot`` of the API), days as dates."""

    day: dt.date
    index: float | None
    level: int | None
    level_name: str | None
    coverage: float
    status: str
    dimensions: Mapping[str, float | None]
    simulated: bool


def snapshot(body: Json | None) -> Snapshot | None:
    """The API's snapshot object read into a :class:`Snapshot` (``None`` stays ``None``)."""
    if body is None:
        return None
    return Snapshot(
        day=dt.date.fromisoformat(body["day"]), index=body.get("index"), level=body.get("level"),
        level_name=body.get("level_name"), coverage=float(body.get("coverage", 0.0)), status=body.get("status", ""),
        dimensions=dict(body.get("dimensions") or {}), simulated=bool(body.get("simulated", False)),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------- search


def fold(text: str) -> str:
    """``text`` for matching: accents taken off (NFKD without combining marks), case folded, every run
    of other characters than letters and digits one space."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.findall(r"[^\W_]+", bare.casefold()))


_CODE = re.compile(r"\d{2}(\.\d{2})?")


def matches(query: str, code: str, name: str) -> bool:
    """Whether a search finds a region. A code (``32.73``) finds that region only, a province code
    (``32``) its regions; any other query finds the names that hold each of its words, accents and case
    aside: ``bandung`` finds Kota Bandung, Kabupaten Bandung and Kabupaten Bandung Barat, ``kota
    bandung`` only the first. An empty query finds everything."""
    q = query.strip()
    if _CODE.fullmatch(q):
        return code.startswith(q)  # every region code is NN.NN: a whole code is a prefix of itself only
    words, folded = fold(q).split(), fold(name)
    return all(w in folded for w in words)


# ---------------------------------------------------------------------------------------- trends


@dataclass(frozen=True)
class Trend:
    """How a region's index moved since an earlier day; ``direction`` None: nothing to compare with."""

    since: dt.date | None
    change: float | None
    direction: Direction | None
    arrow: str
    text: str  # the change, signed: "+0,12"
    title: str  # the same in words, for the tooltip and screen readers
    css: str


def trend(now: float | None, then: float | None, since: dt.date | None, msg: Messages) -> Trend:
    """The change ``now - then`` (rounded to 6 decimals): up or down from :data:`TREND_FLAT` on, flat below."""
    if now is None or then is None or since is None:
        return Trend(since, None, None, "", "", msg("trend.none"), "trend-none")
    change = round(now - then, 6)
    direction: Direction = "flat" if abs(change) < TREND_FLAT else "up" if change > 0 else "down"
    words = msg(f"trend.{direction}", change=msg.number(abs(change)), day=msg.day(since))
    return Trend(since, change, direction, ARROWS[direction], msg.signed(change), words, f"trend-{direction}")


# --------------------------------------------------------------------------------------- ranking


@dataclass(frozen=True)
class RankingRow:
    """A region in the ranking table (and on the map): its standing as of the ranking's day."""

    code: str
    name: str
    type: str
    type_text: str
    province_code: str
    province_name: str
    href: str
    rank: int | None
    national_rank: int | None
    as_of: dt.date | None  # the day of the snapshot; None: never scored
    as_of_text: str
    index: float | None
    index_text: str
    level: int | None
    level_text: str
    level_fill: str
    coverage: float | None
    coverage_text: str
    expected_index: float | None
    gap: float | None
    gap_text: str
    behind: bool | None
    status_text: str
    month: Trend  # since ~30 days before
    year: Trend  # since ~1 year before
    simulated: bool
    search_text: str  # folded name and code, for the search as you type


def _status(index: float | None, behind: bool | None, msg: Messages) -> str:
    if index is None:
        return msg("no_data")
    if behind is None:
        return msg("no_plan")
    return msg("behind_path") if behind else msg("on_path")


def _level_text(level: int | None, name: str | None, msg: Messages) -> str:
    if level is None:
        return msg("no_data")
    return msg("level.named", level=level, name=msg.level_name(name)) if name else msg("level", level=level)


def _indexes(body: Json | None) -> tuple[dict[str, float | None], dt.date | None]:
    if body is None:
        return {}, None
    return {r["region"]["code"]: r["as_of"].get("index") for r in body["regions"]}, _day(body["on"])


def _row(entry: Json, earlier: Sequence[tuple[dict[str, float | None], dt.date | None]], msg: Messages) -> RankingRow:
    region, snap = entry["region"], snapshot(entry["as_of"])
    assert snap is not None
    code, gap = region["code"], entry.get("gap")
    index = snap.index
    month, year = (trend(index, indexes.get(code), on, msg) for indexes, on in earlier)
    return RankingRow(
        code=code, name=region["name"], type=region["type"], type_text=msg(f"type.{region['type']}"),
        province_code=region["province_code"], province_name=region["province_name"], href=region_href(code),
        rank=entry.get("rank"), national_rank=entry.get("national_rank"), as_of=snap.day,
        as_of_text=msg("as_of", day=msg.day(snap.day)),
        index=index, index_text=msg("no_data") if index is None else msg.number(index),
        level=snap.level, level_text=_level_text(snap.level, snap.level_name, msg),
        level_fill=colours.NO_DATA_FILL if snap.level is None else colours.LEVEL_COLOURS[snap.level],
        coverage=snap.coverage, coverage_text=msg.percent(snap.coverage, 0),
        expected_index=entry.get("expected_index"), gap=gap,
        gap_text="" if gap is None else msg.signed(gap), behind=entry.get("behind_plan"),
        status_text=_status(index, entry.get("behind_plan"), msg), month=month, year=year,
        simulated=snap.simulated, search_text=f"{fold(region['name'])} {code}",
    )  # fmt: skip


def _unscored(code: str, registry: RegionRegistry, msg: Messages) -> RankingRow:
    r, none = registry.get(code), trend(None, None, None, msg)
    return RankingRow(
        code=code, name=r.name, type=r.type, type_text=msg(f"type.{r.type}"), province_code=r.province_code,
        province_name=r.province_name, href=region_href(code), rank=None, national_rank=None, as_of=None,
        as_of_text="", index=None, index_text=msg("no_data"), level=None, level_text=msg("no_data"),
        level_fill=colours.NO_DATA_FILL, coverage=None, coverage_text=msg("no_data"), expected_index=None, gap=None,
        gap_text="", behind=None, status_text=msg("no_data"), month=none, year=none, simulated=False,
        search_text=f"{fold(r.name)} {code}",
    )  # fmt: skip


def ranking_rows(
    today: Json, month_ago: Json | None, year_ago: Json | None, msg: Messages, registry: RegionRegistry | None = None
) -> tuple[RankingRow, ...]:
    """The rows of the ranking table: each region of ``today`` (a RankingBody) with its trend against
    the same region's index in ``month_ago`` and ``year_ago`` (RankingBodies as of about 30 days and a
    year before; None, or a region missing from one: no trend). With ``registry``, the regions never
    scored are listed too, without data. Ranked regions first by rank, then the others by code."""
    earlier = [_indexes(month_ago), _indexes(year_ago)]
    rows = [_row(entry, earlier, msg) for entry in today["regions"]]
    if registry is not None:
        seen = {r.code for r in rows}
        rows += [_unscored(code, registry, msg) for code in registry.regions if code not in seen]
    return tuple(sorted(rows, key=lambda r: (r.rank is None, r.rank or 0, r.code)))


@dataclass(frozen=True)
class RankingFilter:
    """The table's filters (None: any) and search (empty: none)."""

    province: str | None = None
    type: str | None = None
    level: int | None = None
    query: str = ""

    def admits(self, row: RankingRow) -> bool:
        return (
            (self.province is None or row.province_code == self.province)
            and (self.type is None or row.type == self.type)
            and (self.level is None or row.level == self.level)
            and matches(self.query, row.code, row.name)
        )


def filter_rows(rows: Iterable[RankingRow], chosen: RankingFilter) -> tuple[RankingRow, ...]:
    """The rows the filters and the search admit, in their order."""
    return tuple(r for r in rows if chosen.admits(r))


# ------------------------------------------------------------------------------------- provinces


@dataclass(frozen=True)
class ProvinceRow:
    """A province in the provinces table, from its regions' ranking rows."""

    code: str
    name: str
    href: str
    regions: int  # kab/kota in the registry
    scored: int  # of those, with a snapshot
    mean_index: float | None  # over those with an index
    mean_text: str
    levels: tuple[int, ...]  # regions at levels 1..5
    without_level: int  # regions without a level (no data, or too little for an index)
    behind: int  # regions behind their masterplan path


def province_row(code: str, rows: Iterable[RankingRow], registry: RegionRegistry, msg: Messages) -> ProvinceRow:
    """The aggregates of province ``code`` over ``rows`` (those of other provinces are left out)."""
    mine = [r for r in rows if r.province_code == code]
    indexes = [r.index for r in mine if r.index is not None]
    mean = round(fmean(indexes), 6) if indexes else None
    levels = tuple(sum(r.level == level for r in mine) for level in range(1, 6))
    return ProvinceRow(
        code=code, name=registry.provinces[code].name, href=province_href(code),
        regions=len(registry.in_province(code)), scored=sum(r.as_of is not None for r in mine), mean_index=mean,
        mean_text=msg("no_data") if mean is None else msg.number(mean), levels=levels,
        without_level=len(registry.in_province(code)) - sum(levels), behind=sum(r.behind is True for r in mine),
    )  # fmt: skip


def province_rows(rows: Sequence[RankingRow], registry: RegionRegistry, msg: Messages) -> tuple[ProvinceRow, ...]:
    """Every province of the registry, by code."""
    return tuple(province_row(code, rows, registry, msg) for code in sorted(registry.provinces))


# ------------------------------------------------------------------------------------------- map


def fill(row: RankingRow, measure: Measure) -> str:
    """The fill of a region on the map coloured by ``measure``; without that figure, the no-data grey."""
    if measure == "level":
        return row.level_fill
    if measure == "coverage":
        return colours.NO_DATA_FILL if row.coverage is None else colours.colour_for(row.coverage, COVERAGE_BANDS)
    if measure == "index":
        return colours.NO_DATA_FILL if row.index is None else colours.colour_for(row.index, INDEX_BANDS)
    return colours.NO_DATA_FILL if row.gap is None else colours.colour_for(-row.gap, LEAD_BANDS)


def _value_text(row: RankingRow, measure: Measure, msg: Messages) -> str | None:
    if measure == "coverage":
        return None if row.coverage is None else msg("value.coverage", value=row.coverage_text)
    if row.index is None:
        return None
    if measure == "index":
        return msg("value.index", value=row.index_text)
    if measure == "level":
        return row.level_text
    if row.gap is None:
        return msg("no_plan")
    return gap_in_words(row.gap, msg)


def gap_in_words(gap: float, msg: Messages) -> str:
    """``0,91 poin di depan jalur``: the gap (path - index) as a reader says it, never a bare signed number."""
    if round(gap, 2) == 0:
        return msg("value.gap.on")
    return msg("value.gap.behind" if gap > 0 else "value.gap.ahead", value=msg.number(abs(gap)))


def map_label(row: RankingRow, measure: Measure, msg: Messages) -> str:
    """The tooltip of a region: ``Kota Bandung: indeks 3,42 dari 5, per 31 Desember 2025``."""
    value = _value_text(row, measure, msg)
    if value is None or row.as_of is None:
        return msg("map.no_data", name=row.name)
    return msg("map.label", name=row.name, value=value, as_of=row.as_of_text)


def map_regions(rows: Iterable[RankingRow], measure: Measure, msg: Messages) -> dict[str, MapRegion]:
    """The entries of services/web/map.py ``render_map`` for ``rows``, coloured by ``measure``."""
    return {r.code: MapRegion(fill(r, measure), map_label(r, measure, msg), r.href, r.level) for r in rows}


def map_missing(registry: RegionRegistry, msg: Messages) -> Callable[[str], MapRegion]:
    """``render_map``'s ``missing``: a region without a row, drawn as no data."""

    def missing(code: str) -> MapRegion:
        return MapRegion(colours.NO_DATA_FILL, msg("map.no_data", name=registry.get(code).name), region_href(code))

    return missing


@dataclass(frozen=True)
class LegendEntry:
    fill: str
    text: str


def legend(measure: Measure, framework: Framework, msg: Messages) -> tuple[LegendEntry, ...]:
    """The map's legend for ``measure``: a chip per band, then no data."""
    n = msg.number
    if measure == "level":
        out = [LegendEntry(colours.LEVEL_COLOURS[lv.level], _level_text(lv.level, lv.name, msg))
               for lv in framework.levels]  # fmt: skip
    elif measure == "gap":
        bounds = [b for b, _ in LEAD_BANDS]
        out = [LegendEntry(LEAD_BANDS[0][1], msg("legend.lead.below", value=n(-bounds[1])))]
        out += [LegendEntry(c, msg("legend.lead", low=msg.signed(lo), high=msg.signed(hi)))
                for (lo, c), hi in zip(LEAD_BANDS[1:-1], bounds[2:], strict=True)]  # fmt: skip
        out.append(LegendEntry(LEAD_BANDS[-1][1], msg("legend.lead.top", value=n(bounds[-1]))))
    else:

        def whole_percent(share: float) -> str:
            return msg.percent(share, 0)

        bands, key, text = (
            (INDEX_BANDS, "legend.index", n)
            if measure == "index"
            else (COVERAGE_BANDS, "legend.coverage", whole_percent)
        )
        his = [b for b, _ in bands[1:]]
        out = [LegendEntry(c, msg(key, low=text(lo), high=text(hi))) for (lo, c), hi in zip(bands, his, strict=False)]
        out.append(LegendEntry(bands[-1][1], msg(f"{key}.top", low=text(bands[-1][0]))))
    return (*out, LegendEntry(colours.NO_DATA_FILL, msg("no_data")))


# ------------------------------------------------------------------------------------- programme


@dataclass(frozen=True)
class CohortRow:
    year: int
    cohort_size: int | None  # assisted that year, as published
    cumulative_assisted: int | None
    named: int  # of them, known by name
    named_complete: bool


@dataclass(frozen=True)
class ProgrammeProgress:
    """The programme toward its goal: kab/kota assisted (published) and known by name, never mixed."""

    target: int  # 263
    target_year: int  # 2029
    assisted: int  # cumulative through ``assisted_through``
    assisted_through: int
    share: float  # assisted / target
    share_text: str
    to_go: int
    named_regions: int  # distinct regions a source names as a participant
    cohorts: tuple[CohortRow, ...]


def programme_progress(programme: Programme, msg: Messages) -> ProgrammeProgress:
    """The programme's published figures (schemas/programme.py) for the national page."""
    target, assisted = programme.target, programme.assisted
    assert target.cumulative_assisted is not None and assisted.cumulative_assisted is not None
    share = assisted.cumulative_assisted / target.cumulative_assisted
    return ProgrammeProgress(
        target=target.cumulative_assisted, target_year=target.year, assisted=assisted.cumulative_assisted,
        assisted_through=assisted.year, share=share, share_text=msg.percent(share),
        to_go=max(0, target.cumulative_assisted - assisted.cumulative_assisted),
        named_regions=len(programme.named_regions),
        cohorts=tuple(CohortRow(c.year, c.cohort_size, c.cumulative_assisted, c.named, c.named_complete)
                      for c in programme.cohorts),
    )  # fmt: skip


@dataclass(frozen=True)
class LevelChangeRow:
    level: int
    text: str
    fill: str
    start: int
    end: int
    change: int
    change_text: str  # "+3", "-2", "0"


@dataclass(frozen=True)
class LevelChange:
    """The level distribution on the last month of the year in the body, against its first month."""

    year: int
    start: dt.date
    end: dt.date
    start_text: str
    end_text: str
    rows: tuple[LevelChangeRow, ...]
    scored_start: int
    scored_end: int
    without_level_start: int  # scored, but too little data for an index
    without_level_end: int


def level_change(body: Json, year: int, framework: Framework, msg: Messages) -> LevelChange | None:
    """From a ProgrammeBody by month: regions per level on the ``until`` of the first and of the last
    point of ``year``, and the difference. None when the body has no point in that year."""
    points = sorted((p for p in body["points"] if dt.date.fromisoformat(p["until"]).year == year),
                    key=lambda p: p["until"])  # fmt: skip
    if not points:
        return None
    first, last = points[0], points[-1]

    def count(point: Json, level: int) -> int:
        return int(point["levels"].get(str(level), 0))

    rows = tuple(
        LevelChangeRow(lv.level, _level_text(lv.level, lv.name, msg), colours.LEVEL_COLOURS[lv.level],
                       count(first, lv.level), count(last, lv.level),
                       count(last, lv.level) - count(first, lv.level),
                       msg.signed(count(last, lv.level) - count(first, lv.level), 0))
        for lv in framework.levels
    )  # fmt: skip
    start, end = dt.date.fromisoformat(first["until"]), dt.date.fromisoformat(last["until"])
    return LevelChange(
        year=year, start=start, end=end, start_text=msg.day(start), end_text=msg.day(end), rows=rows,
        scored_start=first["regions_scored"], scored_end=last["regions_scored"],
        without_level_start=first["regions_scored"] - sum(r.start for r in rows),
        without_level_end=last["regions_scored"] - sum(r.end for r in rows),
    )  # fmt: skip


# ----------------------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class NationalPage:
    on: dt.date
    on_text: str
    programme: ProgrammeProgress
    levels: LevelChange | None
    rows: tuple[RankingRow, ...]  # after the filters
    total: int  # rows before the filters
    chosen: RankingFilter
    all_rows: tuple[RankingRow, ...]  # before the filters (the page hides those the filters leave out)

    def shown(self) -> frozenset[str]:
        """The codes of the rows the filters admit."""
        return frozenset(r.code for r in self.rows)

    provinces: tuple[ProvinceRow, ...]
    measure: Measure
    map: Mapping[str, MapRegion]  # every region, whatever the filters
    legend: tuple[LegendEntry, ...]


def national_page(
    *,
    today: Json,
    month_ago: Json | None,
    year_ago: Json | None,
    progress: Json,
    programme: Programme,
    registry: RegionRegistry,
    framework: Framework,
    msg: Messages,
    chosen: RankingFilter = RankingFilter(),
    measure: Measure = "index",
) -> NationalPage:
    """Beranda: the programme, the levels over the ranking's year, the table, the provinces, the map."""
    on = dt.date.fromisoformat(today["on"])
    rows = ranking_rows(today, month_ago, year_ago, msg, registry)
    return NationalPage(
        on=on, on_text=msg.day(on), programme=programme_progress(programme, msg),
        levels=level_change(progress, on.year, framework, msg), rows=filter_rows(rows, chosen), total=len(rows),
        chosen=chosen, all_rows=rows, provinces=province_rows(rows, registry, msg), measure=measure,
        map=map_regions(rows, measure, msg), legend=legend(measure, framework, msg),
    )  # fmt: skip


@dataclass(frozen=True)
class ProvincePage:
    summary: ProvinceRow
    rows: tuple[RankingRow, ...]  # its regions, after the filters
    map: Mapping[str, MapRegion]  # its regions only: render_map with the province's geometry
    all_rows: tuple[RankingRow, ...] = ()  # its regions before the filters

    def shown(self) -> frozenset[str]:
        return frozenset(r.code for r in self.rows)


def province_page(
    code: str,
    rows: Sequence[RankingRow],
    registry: RegionRegistry,
    msg: Messages,
    chosen: RankingFilter = RankingFilter(),
    measure: Measure = "index",
) -> ProvincePage:
    """A province's regions from the national rows (``ranking_rows`` with the registry)."""
    mine = [r for r in rows if r.province_code == code]
    return ProvincePage(province_row(code, mine, registry, msg),
                        filter_rows(mine, RankingFilter(code, chosen.type, chosen.level, chosen.query)),
                        map_regions(mine, measure, msg), tuple(mine))  # fmt: skip


# ----------------------------------------------------------------------------------- region card


@dataclass(frozen=True)
class ChartPoint:
    x: dt.date  # the period's last day
    y: float


@dataclass(frozen=True)
class MilestoneMark:
    due: dt.date
    due_text: str
    label: str
    index: float | None  # the milestone's index target, if it sets one
    index_text: str


@dataclass(frozen=True)
class DimensionRow:
    id: str
    name: str
    score: float | None
    score_text: str
    expected: float | None  # the path's value for the dimension, where the plan sets one
    expected_text: str
    behind: bool | None


@dataclass(frozen=True)
class RegionCard:
    code: str
    name: str
    type_text: str
    province_code: str
    province_name: str
    province_href: str
    framework: str
    start: dt.date  # the chart's x range: the query's days
    end: dt.date
    history: tuple[ChartPoint, ...]  # closing index per period with one
    path: tuple[ChartPoint, ...]  # the masterplan path's index per period with a plan
    milestones: tuple[MilestoneMark, ...]
    latest: Snapshot | None  # the last period's closing snapshot
    index_text: str
    level_text: str
    level_fill: str
    coverage_text: str
    as_of_text: str
    gap: float | None  # of the last period with a snapshot, as the API gives it
    gap_text: str
    behind: bool | None
    status_text: str
    dimensions: tuple[DimensionRow, ...]
    cohorts: tuple[int, ...]  # the programme's cohort years that name the region
    gap_words: str = ""  # the gap said in words: "0,91 poin di depan jalur"


def region_card(
    series: Json, framework: Framework, msg: Messages, plan: Masterplan | None = None,
    programme: Programme | None = None,
) -> RegionCard:  # fmt: skip
    """A region's card from its SeriesBody (by month, baseline to 2029-12-31): the chart's history and
    path, the plan's milestones, the latest figures and the dimensions in framework order (Indonesian
    names in Indonesian when the framework has them; a dimension of the snapshot unknown to the
    framework comes last, by its id). Periods without data have no history point but keep their path."""
    region, points = series["region"], series["points"]
    history, path = [], []
    latest: Snapshot | None = None
    latest_point: Json | None = None
    for p in points:
        x, closing = dt.date.fromisoformat(p["last"]), snapshot(p.get("closing"))
        expected = p.get("expected") or {}
        if INDEX_TARGET in expected:
            path.append(ChartPoint(x, expected[INDEX_TARGET]))
        if closing is not None:
            latest, latest_point = closing, p
            if closing.index is not None:
                history.append(ChartPoint(x, closing.index))
    index = latest.index if latest else None
    gap = latest_point.get("gap") if latest_point else None
    behind = None if gap is None else gap > 0
    expected_now: Mapping[str, float] = (latest_point.get("expected") or {}) if latest_point else {}
    dimensions = _dimensions(framework, latest, expected_now, msg)
    milestones = tuple(
        MilestoneMark(m.due, msg.day(m.due), m.label, m.targets.get(INDEX_TARGET),
                      "" if INDEX_TARGET not in m.targets else msg.number(m.targets[INDEX_TARGET]))
        for m in (plan.milestones if plan else [])
    )  # fmt: skip
    level = latest.level if latest else None
    return RegionCard(
        code=region["code"], name=region["name"], type_text=msg(f"type.{region['type']}"),
        province_code=region["province_code"], province_name=region["province_name"],
        province_href=province_href(region["province_code"]), framework=series["framework"],
        start=dt.date.fromisoformat(series["from"]), end=dt.date.fromisoformat(series["to"]),
        history=tuple(history), path=tuple(path), milestones=milestones, latest=latest,
        index_text=msg("no_data") if index is None else msg.number(index),
        level_text=_level_text(level, latest.level_name if latest else None, msg),
        level_fill=colours.NO_DATA_FILL if level is None else colours.LEVEL_COLOURS[level],
        coverage_text=msg("no_data") if latest is None else msg.percent(latest.coverage, 0),
        as_of_text="" if latest is None else msg("as_of", day=msg.day(latest.day)),
        gap=gap, gap_text="" if gap is None else msg.signed(gap), behind=behind,
        status_text=_status(index, behind, msg), dimensions=dimensions,
        cohorts=tuple(programme.named_regions.get(region["code"], [])) if programme else (),
        gap_words="" if gap is None else gap_in_words(gap, msg),
    )  # fmt: skip


def _dimensions(
    framework: Framework, latest: Snapshot | None, expected: Mapping[str, float], msg: Messages
) -> tuple[DimensionRow, ...]:
    scores = latest.dimensions if latest else {}
    names = {d.id: (d.name_id or d.name) if msg.lang == "id" else d.name for d in framework.dimensions}
    ids = [*names, *sorted(set(scores) - set(names))]
    out = []
    for d in ids:
        score, goal = scores.get(d), expected.get(d)
        out.append(DimensionRow(
            id=d, name=names.get(d, d), score=score, score_text=msg("no_data") if score is None else msg.number(score),
            expected=goal, expected_text="" if goal is None else msg.number(goal),
            behind=None if score is None or goal is None else round(goal - score, 6) > 0,
        ))  # fmt: skip
    return tuple(out)
