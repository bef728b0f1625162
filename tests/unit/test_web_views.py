"""The view models of the web pages (services/web/views.py) and their words (services/web/messages.py).

Six regions in two provinces, the bodies written as the history API sends them (JSON, ISO days), every
expected figure worked out by hand beside its test.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from schemas.framework import Framework, load_framework
from schemas.masterplan import Masterplan, Milestone
from schemas.programme import Cohort, NamedParticipant, Programme, PublishedFigure, default_programme
from schemas.regions import Province, Region, RegionRegistry
from services.web import colours, views
from services.web.map import MapGeometry, Projection, render_map
from services.web.messages import LABELS, MONTHS, messages
from services.web.views import RankingFilter, RankingRow

ID, EN = messages("id"), messages("en")
L = colours.LEVEL_COLOURS
GREY = colours.NO_DATA_FILL
FRAMEWORK: Framework = load_framework()

# ---------------------------------------------------------------------------------------- fixtures


def _region(code: str, name: str, kind: str) -> Region:
    province = {"32": "Jawa Barat", "51": "Bali"}[code[:2]]
    short = name.removeprefix("Kota ").removeprefix("Kabupaten ")
    return Region(code=code, province_code=code[:2], province_name=province, name=name, short_name=short,
                  type=kind, administrative_only=False)  # type: ignore[arg-type]  # fmt: skip


REGIONS = [
    _region("32.04", "Kabupaten Bandung", "kabupaten"),
    _region("32.17", "Kabupaten Bandung Barat", "kabupaten"),  # never scored: not in any body
    _region("32.73", "Kota Bandung", "kota"),
    _region("32.77", "Kota Cimahi", "kota"),
    _region("51.03", "Kabupaten Badung", "kabupaten"),  # scored, but too little data for an index
    _region("51.71", "Kota Denpasar", "kota"),
]
REGISTRY = RegionRegistry(
    [Province(code="32", name="Jawa Barat", n_kabupaten=2, n_kota=2),
     Province(code="51", name="Bali", n_kabupaten=1, n_kota=1)],
    REGIONS, "test",
)  # fmt: skip


def ref(code: str) -> dict[str, Any]:
    r = REGISTRY.get(code)
    return {"code": r.code, "name": r.name, "type": r.type, "province_code": r.province_code,
            "province_name": r.province_name}  # fmt: skip


def a_snapshot(day: str, index: float | None, **overrides: Any) -> dict[str, Any]:
    level = None if index is None else FRAMEWORK.level_for(index).level
    body = {
        "day": day, "at": f"{day}T16:00:00+00:00", "index": index, "level": level,
        "level_name": None if level is None else FRAMEWORK.levels[level - 1].name, "coverage": 0.8,
        "status": "ok" if index is not None else "insufficient_data", "dimensions": {}, "simulated": False,
    }  # fmt: skip
    return {**body, **overrides}


def a_ranking(on: str, entries: list[tuple[str, float | None, float | None]], day: str | None = None,
              **snapshots: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """A RankingBody: (code, index, expected index) per region, ranked by index as the API ranks."""
    ranked = sorted((i for _, i, _ in entries if i is not None), reverse=True)
    regions = []
    for code, index, expected in entries:
        gap = None if index is None or expected is None else round(expected - index, 6)
        rank = None if index is None else ranked.index(index) + 1
        overrides = dict(snapshots.get("_" + code.replace(".", "_"), {}))
        as_of = a_snapshot(overrides.pop("day", day or on), index, **overrides)
        regions.append({
            "rank": rank, "national_rank": rank, "region": ref(code),
            "as_of": as_of,
            "expected_index": expected, "gap": gap, "behind_plan": None if gap is None else gap > 0,
            "plan_id": None if expected is None else "national-2029",
        })  # fmt: skip
    return {"on": on, "framework": FRAMEWORK.key, "province": None, "type": None, "level": None,
            "scored": len(regions), "count": len(regions), "regions": regions}  # fmt: skip


# As of 31 December 2025. Gaps (path - index): Bandung 3.30 - 3.42 = -0.12 (ahead), Denpasar 3.30 - 3.10 =
# +0.20 (behind), Kab. Bandung 2.60 - 2.10 = +0.50 (behind), Cimahi no plan, Badung no index.
TODAY = a_ranking(
    "2025-12-31",
    [("32.73", 3.42, 3.30), ("51.71", 3.10, 3.30), ("32.04", 2.10, 2.60), ("32.77", 1.35, None),
     ("51.03", None, 2.50)],
    _32_73={"coverage": 0.9}, _51_03={"day": "2025-12-30", "coverage": 0.2},
)  # fmt: skip
# 30 days before: Bandung 3.37 (3.42 - 3.37 = 0.05: up, on the threshold), Denpasar 3.14 (-0.04: flat),
# Kab. Bandung 2.30 (-0.20: down); Cimahi absent; Badung without an index.
MONTH_AGO = a_ranking("2025-12-01", [("32.73", 3.37, 3.2), ("51.71", 3.14, 3.2), ("32.04", 2.30, 2.5),
                                     ("51.03", None, 2.4)])  # fmt: skip
# A year before: Bandung 3.00 (+0.42 up), Denpasar 3.155 (-0.055: down), Kab. Bandung 2.08 (+0.02: flat),
# Cimahi 1.20 (+0.15 up).
YEAR_AGO = a_ranking("2024-12-31", [("32.73", 3.00, 3.0), ("51.71", 3.155, 3.0), ("32.04", 2.08, 2.3),
                                    ("32.77", 1.20, None)])  # fmt: skip


def rows(msg: Any = ID) -> tuple[RankingRow, ...]:
    return views.ranking_rows(TODAY, MONTH_AGO, YEAR_AGO, msg, REGISTRY)


def by_code(msg: Any = ID) -> dict[str, RankingRow]:
    return {r.code: r for r in rows(msg)}


def codes(found: tuple[RankingRow, ...]) -> list[str]:
    return [r.code for r in found]


# ---------------------------------------------------------------------------------------- messages


def test_indonesian_numbers_use_a_decimal_comma_and_a_thousands_point() -> None:
    assert ID.number(3.42) == "3,42"
    assert ID.number(3.425) == "3,43"  # half up as written; the float 3.425 is 3.42499... below it
    assert ID.number(1234.5, 1) == "1.234,5"
    assert ID.integer(1234567) == "1.234.567"
    assert ID.number(-0.004) == "0,00"  # no "-0,00"
    assert (ID.signed(0.12), ID.signed(-0.12), ID.signed(-0.001)) == ("+0,12", "-0,12", "0,00")
    assert (ID.signed(3, 0), ID.signed(-2, 0), ID.signed(0, 0)) == ("+3", "-2", "0")
    assert ID.percent(251 / 263) == "95,4%"  # 0.954372...
    assert ID.percent(0.2, 0) == "20%"


def test_english_numbers_use_a_decimal_point_and_a_thousands_comma() -> None:
    assert EN.number(3.42) == "3.42"
    assert EN.number(1234.5, 1) == "1,234.5"
    assert EN.integer(1234567) == "1,234,567"
    assert EN.signed(0.12) == "+0.12"
    assert EN.percent(251 / 263) == "95.4%"


def test_dates_and_months_in_both_languages() -> None:
    assert ID.day(dt.date(2025, 12, 31)) == "31 Desember 2025"
    assert EN.day(dt.date(2025, 12, 31)) == "31 December 2025"
    assert ID.day(dt.date(2026, 2, 1)) == "1 Februari 2026"
    assert (ID.month(dt.date(2025, 8, 17)), EN.month(dt.date(2025, 8, 17))) == ("Agustus 2025", "August 2025")
    assert len(MONTHS["id"]) == len(MONTHS["en"]) == 12


def test_both_catalogues_have_every_label_and_no_other_language_is_made_up() -> None:
    assert set(LABELS["id"]) == set(LABELS["en"])
    assert all(text.strip() for lang in LABELS.values() for text in lang.values())
    assert (ID("no_data"), EN("no_data")) == ("belum ada data", "no data yet")
    assert (ID("behind_path"), EN("behind_path")) == ("di belakang jalur", "behind the path")
    assert (ID.level_name("Terdefinisi"), EN.level_name("Terdefinisi")) == ("Terdefinisi", "Defined")
    with pytest.raises(ValueError, match="no messages in 'fr'"):
        messages("fr")


# ---------------------------------------------------------------------------------------- ranking


def test_rows_keep_the_ranking_and_list_the_region_never_scored_last() -> None:
    found = rows()
    assert codes(found) == ["32.73", "51.71", "32.04", "32.77", "32.17", "51.03"]  # unranked by code
    assert [r.rank for r in found] == [1, 2, 3, 4, None, None]
    bandung = found[0]
    assert (bandung.name, bandung.type_text, bandung.province_name, bandung.href) == (
        "Kota Bandung", "Kota", "Jawa Barat", "/wilayah/32.73")  # fmt: skip
    assert (bandung.index_text, bandung.level, bandung.level_text) == ("3,42", 4, "Tingkat 4 (Terpadu dan Terukur)")
    assert (bandung.level_fill, bandung.coverage_text, bandung.as_of_text) == (L[4], "90%", "per 31 Desember 2025")
    assert (bandung.gap, bandung.gap_text, bandung.behind) == (-0.12, "-0,12", False)
    assert bandung.status_text == "sesuai atau di depan jalur"
    assert bandung.search_text == "kota bandung 32.73"


def test_rows_in_english() -> None:
    denpasar = by_code(EN)["51.71"]
    assert (denpasar.index_text, denpasar.type_text, denpasar.gap_text) == ("3.10", "City", "+0.20")
    assert denpasar.level_text == "Level 4 (Integrated and Measured)"
    assert (denpasar.status_text, denpasar.as_of_text) == ("behind the path", "as of 31 December 2025")


def test_missing_data_in_the_rows() -> None:
    r = by_code()
    badung, barat, cimahi = r["51.03"], r["32.17"], r["32.77"]
    # A snapshot without an index: its day and coverage are known, nothing else.
    assert (badung.index, badung.index_text, badung.level, badung.level_fill) == (None, "belum ada data", None, GREY)
    assert (badung.as_of, badung.coverage_text, badung.status_text) == (dt.date(2025, 12, 30), "20%", "belum ada data")
    assert (badung.gap, badung.behind, badung.gap_text) == (None, None, "")
    # Never scored.
    assert (barat.as_of, barat.as_of_text, barat.coverage, barat.coverage_text) == (None, "", None, "belum ada data")
    assert barat.month.direction is None and barat.year.direction is None
    # An index without a plan.
    assert (cimahi.index_text, cimahi.gap, cimahi.status_text) == ("1,35", None, "tanpa rencana induk")


def test_without_the_registry_only_the_scored_regions_are_listed() -> None:
    assert codes(views.ranking_rows(TODAY, None, None, ID)) == ["32.73", "51.71", "32.04", "32.77", "51.03"]


# ----------------------------------------------------------------------------------------- trends


def test_trends_against_a_month_and_a_year_before() -> None:
    r = by_code()
    month = {code: (row.month.change, row.month.direction) for code, row in r.items()}
    # 3.42 - 3.37 is 0.0499999... in floats; rounded to 6 decimals it is 0.05, which is not below 0.05.
    assert month["32.73"] == (0.05, "up")
    assert month["51.71"] == (-0.04, "flat")  # 3.10 - 3.14
    assert month["32.04"] == (-0.2, "down")  # 2.10 - 2.30
    assert month["32.77"] == (None, None)  # absent a month ago
    assert month["51.03"] == (None, None)  # no index either day
    year = {code: (row.year.change, row.year.direction) for code, row in r.items()}
    assert year["32.73"] == (0.42, "up")  # 3.42 - 3.00
    assert year["51.71"] == (-0.055, "down")  # 3.10 - 3.155: |-0.055| >= 0.05
    assert year["32.04"] == (0.02, "flat")  # 2.10 - 2.08
    assert year["32.77"] == (0.15, "up")  # 1.35 - 1.20


def test_a_trend_in_words_arrow_and_class() -> None:
    up = by_code()["32.73"].month
    assert (up.arrow, up.text, up.css, up.since) == ("▲", "+0,05", "trend-up", dt.date(2025, 12, 1))
    assert up.title == "naik 0,05 sejak 1 Desember 2025"
    down = by_code(EN)["32.04"].month
    assert (down.arrow, down.text, down.title) == ("▼", "-0.20", "down 0.20 since 1 December 2025")
    flat = by_code(EN)["51.71"].month
    assert (flat.arrow, flat.css, flat.title) == ("▶", "trend-flat", "unchanged since 1 December 2025")
    none = by_code()["32.77"].month
    assert (none.arrow, none.text, none.css, none.title) == ("", "", "trend-none", "tanpa pembanding")


def test_the_threshold_itself() -> None:
    assert views.TREND_FLAT == 0.05
    since = dt.date(2025, 1, 1)
    assert views.trend(2.0, 2.049, since, ID).direction == "flat"
    assert views.trend(2.0, 2.05, since, ID).direction == "down"
    assert views.trend(2.05, 2.0, since, ID).direction == "up"
    assert views.trend(2.0, 2.0, since, ID).text == "0,00"


# ------------------------------------------------------------------------------ filters and search


def test_a_search_for_bandung_finds_the_kota_and_both_kabupaten() -> None:
    found = views.filter_rows(rows(), RankingFilter(query="Bandung"))
    assert codes(found) == ["32.73", "32.04", "32.17"]  # in the table's order; not Kabupaten Badung
    assert codes(views.filter_rows(rows(), RankingFilter(query="kota  BANDUNG"))) == ["32.73"]
    assert codes(views.filter_rows(rows(), RankingFilter(query="bándung barat"))) == ["32.17"]
    assert codes(views.filter_rows(rows(), RankingFilter(query="badung"))) == ["51.03"]
    assert codes(views.filter_rows(rows(), RankingFilter(query="Surabaya"))) == []


def test_names_are_folded_for_the_search() -> None:
    assert views.fold("  Bándung\tBARAT!") == "bandung barat"
    assert views.fold("Tojo Una-Una") == "tojo una una"


def test_a_search_by_code() -> None:
    assert codes(views.filter_rows(rows(), RankingFilter(query=" 32.73 "))) == ["32.73"]
    assert codes(views.filter_rows(rows(), RankingFilter(query="32"))) == ["32.73", "32.04", "32.77", "32.17"]
    assert codes(views.filter_rows(rows(), RankingFilter(query="32.7"))) == []  # neither a code nor a name
    assert views.matches("", "32.73", "Kota Bandung")


def test_the_filters_and_the_search_combine() -> None:
    r = rows()
    assert codes(views.filter_rows(r, RankingFilter(province="51"))) == ["51.71", "51.03"]
    assert codes(views.filter_rows(r, RankingFilter(type="kota"))) == ["32.73", "51.71", "32.77"]
    assert codes(views.filter_rows(r, RankingFilter(level=4))) == ["32.73", "51.71"]
    assert codes(views.filter_rows(r, RankingFilter(province="32", type="kabupaten", query="bandung"))) == [
        "32.04", "32.17"]  # fmt: skip
    assert codes(views.filter_rows(r, RankingFilter(province="51", level=3))) == []


# -------------------------------------------------------------------------------------- provinces


def test_the_provinces_table() -> None:
    jabar, bali = views.province_rows(rows(), REGISTRY, ID)
    # Jawa Barat: 4 regions, 3 with a snapshot (Bandung Barat never scored); mean (3.42 + 2.10 + 1.35) / 3 =
    # 6.87 / 3 = 2.29; levels 4, 3, 2 and one without; behind: Kab. Bandung only (Cimahi has no plan).
    assert (jabar.code, jabar.name, jabar.href, jabar.regions, jabar.scored) == (
        "32",
        "Jawa Barat",
        "/provinsi/32",
        4,
        3,
    )
    assert (jabar.mean_index, jabar.mean_text) == (2.29, "2,29")
    assert (jabar.levels, jabar.without_level, jabar.behind) == ((0, 1, 1, 1, 0), 1, 1)
    # Bali: 2 regions, both with a snapshot, one index (3.10); Badung without a level; Denpasar behind.
    assert (bali.regions, bali.scored, bali.mean_index, bali.mean_text) == (2, 2, 3.1, "3,10")
    assert (bali.levels, bali.without_level, bali.behind) == ((0, 0, 0, 1, 0), 1, 1)
    assert views.province_rows(rows(EN), REGISTRY, EN)[0].mean_text == "2.29"


def test_a_province_without_any_score() -> None:
    empty = views.province_row("51", [], REGISTRY, ID)
    assert (empty.scored, empty.mean_index, empty.mean_text) == (0, None, "belum ada data")
    assert (empty.levels, empty.without_level, empty.behind) == ((0, 0, 0, 0, 0), 2, 0)


def test_the_province_page_is_its_regions_and_their_aggregates() -> None:
    page = views.province_page("32", rows(), REGISTRY, ID, RankingFilter(province="51", query="bandung"))
    assert codes(page.rows) == ["32.73", "32.04", "32.17"]  # the page's province, whatever the filter says
    assert set(page.map) == {"32.04", "32.17", "32.73", "32.77"}
    assert (page.summary.name, page.summary.mean_text) == ("Jawa Barat", "2,29")


# -------------------------------------------------------------------------------------------- map


def test_the_fill_per_measure() -> None:
    r = by_code()
    bandung, denpasar, kab, cimahi, badung, barat = (
        r[c] for c in ("32.73", "51.71", "32.04", "32.77", "51.03", "32.17")
    )
    # index: bands at the levels' thresholds 0, 1, 2, 3, 4.
    assert [views.fill(x, "index") for x in (bandung, kab, cimahi, badung, barat)] == [L[4], L[3], L[2], GREY, GREY]
    assert views.fill(dataclasses.replace(kab, index=4.0), "index") == L[5]
    assert views.fill(dataclasses.replace(kab, index=3.999), "index") == L[4]
    # level: the snapshot's level.
    assert [views.fill(x, "level") for x in (bandung, denpasar, cimahi, badung)] == [L[4], L[4], L[2], GREY]
    # gap, read as the lead = -gap: Bandung +0.12 -> [0, 0.5); Denpasar -0.20 -> [-0.2, 0); Kab. Bandung
    # -0.50 -> [-0.5, -0.2); Cimahi without a plan: grey.
    assert [views.fill(x, "gap") for x in (bandung, denpasar, kab, cimahi)] == [L[4], L[3], L[2], GREY]
    assert views.fill(dataclasses.replace(kab, gap=0.51), "gap") == L[1]
    assert views.fill(dataclasses.replace(kab, gap=0.0), "gap") == L[4]  # on the path is not behind
    assert views.fill(dataclasses.replace(kab, gap=-0.5), "gap") == L[5]
    # coverage in fifths: 0.9 -> [0.8, 1]; Badung 0.2 -> [0.2, 0.4) though it has no index; never scored: grey.
    assert [views.fill(x, "coverage") for x in (bandung, badung, barat)] == [L[5], L[2], GREY]


def test_the_map_labels_per_measure_and_language() -> None:
    r, e = by_code(), by_code(EN)
    assert views.map_label(r["32.73"], "index", ID) == "Kota Bandung: indeks 3,42 dari 5, per 31 Desember 2025"
    assert views.map_label(e["32.73"], "index", EN) == "Kota Bandung: index 3.42 of 5, as of 31 December 2025"
    assert views.map_label(r["32.73"], "level", ID) == (
        "Kota Bandung: Tingkat 4 (Terpadu dan Terukur), per 31 Desember 2025")  # fmt: skip
    assert views.map_label(r["51.71"], "gap", ID) == "Kota Denpasar: 0,20 poin di belakang jalur, per 31 Desember 2025"
    assert views.map_label(e["32.73"], "gap", EN) == (
        "Kota Bandung: 0.12 points ahead of the path, as of 31 December 2025")  # fmt: skip
    assert views.map_label(r["32.77"], "gap", ID) == "Kota Cimahi: tanpa rencana induk, per 31 Desember 2025"
    assert views.map_label(r["51.03"], "coverage", ID) == "Kabupaten Badung: cakupan data 20%, per 30 Desember 2025"
    assert views.map_label(r["51.03"], "index", ID) == "Kabupaten Badung: belum ada data"
    assert views.map_label(e["32.17"], "coverage", EN) == "Kabupaten Bandung Barat: no data yet"


def test_the_map_entries_render() -> None:
    entries = views.map_regions(rows(), "index", ID)
    assert entries["32.73"] == (L[4], "Kota Bandung: indeks 3,42 dari 5, per 31 Desember 2025", "/wilayah/32.73", 4)
    assert entries["51.03"].level is None and entries["51.03"].fill == GREY
    unit = Projection(west=0.0, north=0.0, x_scale=1.0, y_scale=1.0, width=10.0, height=10.0)
    geometry = MapGeometry(unit, {**{r.code: "M0 0h1v1z" for r in REGIONS}, "11.01": "M2 2h1v1z"})
    svg = render_map(entries, label="Peta", geometry=geometry, missing=views.map_missing(default_registry_11(), ID))
    assert '<a href="/wilayah/32.73"><path class="lvl-4" data-code="32.73" fill="#46307e"' in svg
    assert "<title>Kota Bandung: indeks 3,42 dari 5, per 31 Desember 2025</title>" in svg
    assert '<path class="lvl-none" data-code="11.01" fill="#d0d0d0"' in svg
    assert "<title>Kabupaten Simeulue: belum ada data</title>" in svg


def default_registry_11() -> RegionRegistry:
    extra = Region(code="11.01", province_code="11", province_name="Aceh", name="Kabupaten Simeulue",
                   short_name="Simeulue", type="kabupaten", administrative_only=False)  # fmt: skip
    return RegionRegistry([*REGISTRY.provinces.values(), Province(code="11", name="Aceh", n_kabupaten=1, n_kota=0)],
                          [*REGIONS, extra], "test")  # fmt: skip


def test_the_legends() -> None:
    gap = views.legend("gap", FRAMEWORK, ID)
    assert [x.text for x in gap] == [
        "lebih dari 0,50 poin di belakang jalur", "-0,50 sampai -0,20 poin terhadap jalur",
        "-0,20 sampai 0,00 poin terhadap jalur", "0,00 sampai +0,50 poin terhadap jalur",
        "0,50 poin atau lebih di depan jalur", "belum ada data",
    ]  # fmt: skip
    assert [x.fill for x in gap] == [L[1], L[2], L[3], L[4], L[5], GREY]
    coverage = [x.text for x in views.legend("coverage", FRAMEWORK, EN)]
    assert coverage[0] == "coverage 0% to 20%" and coverage[4] == "coverage 80% and above"
    index = [x.text for x in views.legend("index", FRAMEWORK, ID)]
    assert index[:2] == ["indeks 0,00 sampai 1,00", "indeks 1,00 sampai 2,00"] and index[4] == "indeks 4,00 ke atas"
    level = views.legend("level", FRAMEWORK, EN)
    assert (level[0].text, level[0].fill, len(level)) == ("Level 1 (Initiating)", L[1], 6)


# -------------------------------------------------------------------------------------- programme


def a_programme() -> Programme:
    def cohort(year: int, size: int, cumulative: int, named: int, complete: bool) -> Cohort:
        return Cohort(year=year, cohort_size=size, cumulative_assisted=cumulative, named=named,
                      named_complete=complete, source="test")  # fmt: skip

    def named(year: int, code: str) -> NamedParticipant:
        return NamedParticipant(line=2, cohort_year=year, region_code=code, region_name=code, complete=False,
                                source="test")  # fmt: skip

    def goal(year: int, regions: int) -> PublishedFigure:
        return PublishedFigure(line=2, year=year, cohort_size=None, cumulative_assisted=regions, target=True,
                               source="TARGET")  # fmt: skip

    return Programme(
        cohorts=[cohort(2017, 25, 25, 2, False), cohort(2018, 50, 75, 1, False), cohort(2024, 10, 251, 0, False)],
        conflicts=[], targets=[goal(2024, 150), goal(2029, 263)],
        participants=[named(2017, "32.73"), named(2017, "51.71"), named(2018, "32.73")],
    )  # fmt: skip


def test_programme_progress_toward_263_by_2029() -> None:
    p = views.programme_progress(a_programme(), ID)
    # The latest target (2029: 263), the latest cumulative count (2024: 251): 251 / 263 = 0.95437, 12 to go;
    # two regions named (32.73 in two cohorts counts once).
    assert (p.target, p.target_year, p.assisted, p.assisted_through) == (263, 2029, 251, 2024)
    assert (p.share, p.share_text, p.to_go, p.named_regions) == (pytest.approx(0.954373, abs=1e-6), "95,4%", 12, 2)
    assert [(c.year, c.cohort_size, c.cumulative_assisted, c.named) for c in p.cohorts] == [
        (2017, 25, 25, 2), (2018, 50, 75, 1), (2024, 10, 251, 0)]  # fmt: skip
    assert views.programme_progress(a_programme(), EN).share_text == "95.4%"


def test_programme_progress_from_the_shipped_figures() -> None:
    p = views.programme_progress(default_programme(), ID)
    assert (p.target, p.assisted, p.assisted_through, p.share_text, p.to_go) == (263, 251, 2024, "95,4%", 12)
    assert p.named_regions == len(default_programme().named_regions)


def a_progress_point(until: str, scored: int, levels: dict[str, int]) -> dict[str, Any]:
    return {"period": until[:7], "until": until, "regions_scored": scored, "mean_index": None, "levels": levels,
            "behind_plan": 0, "on_or_above_plan": 0, "without_plan": scored, "simulated": 0, "stale": 0,
            "assisted_cumulative": 251}  # fmt: skip


PROGRESS = {
    "framework": FRAMEWORK.key, "resolution": "month", "from": "2024-12-01", "to": "2025-12-31", "regions": 6,
    "masterplan_target": 263, "target_year": 2029,
    "points": [
        a_progress_point("2024-12-31", 6, {"1": 0, "2": 0, "3": 0, "4": 0, "5": 6}),  # last year: not used
        a_progress_point("2025-01-31", 4, {"1": 2, "2": 1, "3": 1, "4": 0, "5": 0}),
        a_progress_point("2025-06-30", 5, {"1": 1, "2": 1, "3": 1, "4": 1, "5": 0}),
        a_progress_point("2025-12-31", 5, {"2": 1, "3": 1, "4": 2}),  # a level without regions may be absent
    ],
}  # fmt: skip


def test_the_level_distribution_over_the_year() -> None:
    change = views.level_change(PROGRESS, 2025, FRAMEWORK, ID)
    assert change is not None
    # January -> December: level 1 2 -> 0 (-2), level 2 1 -> 1, level 3 1 -> 1, level 4 0 -> 2 (+2), level 5 0.
    assert [(r.level, r.start, r.end, r.change, r.change_text) for r in change.rows] == [
        (1, 2, 0, -2, "-2"), (2, 1, 1, 0, "0"), (3, 1, 1, 0, "0"), (4, 0, 2, 2, "+2"), (5, 0, 0, 0, "0")]  # fmt: skip
    assert (change.start, change.end) == (dt.date(2025, 1, 31), dt.date(2025, 12, 31))
    assert (change.start_text, change.end_text) == ("31 Januari 2025", "31 Desember 2025")
    # Scored 4 then 5; in December one region has a snapshot but no level (5 - 4).
    assert (change.scored_start, change.scored_end) == (4, 5)
    assert (change.without_level_start, change.without_level_end) == (0, 1)
    assert (change.rows[0].text, change.rows[0].fill) == ("Tingkat 1 (Rintisan)", L[1])
    english = views.level_change(PROGRESS, 2025, FRAMEWORK, EN)
    assert english is not None and english.rows[3].text == "Level 4 (Integrated and Measured)"


def test_a_year_without_points_has_no_level_change() -> None:
    assert views.level_change(PROGRESS, 2023, FRAMEWORK, ID) is None


def test_the_national_page_puts_it_together() -> None:
    page = views.national_page(today=TODAY, month_ago=MONTH_AGO, year_ago=YEAR_AGO, progress=PROGRESS,
                               programme=a_programme(), registry=REGISTRY, framework=FRAMEWORK, msg=ID,
                               chosen=RankingFilter(query="bandung"), measure="coverage")  # fmt: skip
    assert (page.on_text, page.total, codes(page.rows)) == ("31 Desember 2025", 6, ["32.73", "32.04", "32.17"])
    assert len(page.map) == 6 and page.map["32.73"].fill == L[5]  # every region on the map, coverage 0.9
    assert [p.code for p in page.provinces] == ["32", "51"]
    assert page.levels is not None and page.levels.year == 2025
    assert page.programme.share_text == "95,4%"
    assert page.legend[0].text == "cakupan 0% sampai 20%"


# ------------------------------------------------------------------------------------ region card


def a_point(month: str, last: str, closing: dict[str, Any] | None, expected: dict[str, float]) -> dict[str, Any]:
    index = closing["index"] if closing else None
    gap = None if index is None or "index" not in expected else round(expected["index"] - index, 6)
    return {"period": month, "first": f"{month}-01", "last": last, "since": f"{month}-01", "until": last,
            "days": 0 if closing is None else 28, "simulated_days": 0, "closing": closing, "index_mean": index,
            "index_min": index, "index_max": index, "expected": expected, "gap": gap,
            "plan_id": "national-2029" if expected else None}  # fmt: skip


DIMENSIONS = {"governance": 3.8, "economy": 3.1, "branding": None, "living": 3.5, "society": 3.0,
              "environment": 2.9, "mobility": 2.0}  # fmt: skip
SERIES = {
    "region": ref("32.73"), "framework": FRAMEWORK.key, "resolution": "month", "from": "2025-10-01",
    "to": "2026-01-31",
    "points": [
        a_point("2025-10", "2025-10-31", a_snapshot("2025-10-31", 3.20), {"index": 3.10}),
        a_point("2025-11", "2025-11-30", None, {"index": 3.20}),  # a month without data
        a_point("2025-12", "2025-12-31", a_snapshot("2025-12-31", 3.42, coverage=0.9, dimensions=DIMENSIONS),
                {"index": 3.30, "governance": 3.5, "economy": 3.2}),
        a_point("2026-01", "2026-01-31", None, {"index": 3.35}),  # ahead: the path only
    ],
}  # fmt: skip
PLAN = Masterplan(region_code="32.73", plan_id="bandung-2029", basis="region", framework_id=FRAMEWORK.id,
                  milestones=[Milestone(due=dt.date(2026, 12, 31), label="Tahap 1", targets={"index": 3.5}),
                              Milestone(due=dt.date(2029, 12, 31), targets={"governance": 4.2})])  # fmt: skip


def test_the_card_chart_history_and_path() -> None:
    card = views.region_card(SERIES, FRAMEWORK, ID, PLAN, a_programme())
    d = dt.date
    assert [(p.x, p.y) for p in card.history] == [(d(2025, 10, 31), 3.20), (d(2025, 12, 31), 3.42)]
    assert [(p.x, p.y) for p in card.path] == [
        (d(2025, 10, 31), 3.10), (d(2025, 11, 30), 3.20), (d(2025, 12, 31), 3.30), (d(2026, 1, 31), 3.35)]  # fmt: skip
    assert (card.start, card.end) == (d(2025, 10, 1), d(2026, 1, 31))
    assert [(m.due, m.due_text, m.label, m.index, m.index_text) for m in card.milestones] == [
        (d(2026, 12, 31), "31 Desember 2026", "Tahap 1", 3.5, "3,50"),
        (d(2029, 12, 31), "31 Desember 2029", "", None, ""),
    ]  # fmt: skip
    assert card.cohorts == (2017, 2018)


def test_the_card_latest_figures_and_gap() -> None:
    card = views.region_card(SERIES, FRAMEWORK, ID)
    assert card.latest is not None and card.latest.day == dt.date(2025, 12, 31)
    assert (card.name, card.type_text, card.province_href) == ("Kota Bandung", "Kota", "/provinsi/32")
    assert (card.index_text, card.level_text, card.level_fill) == ("3,42", "Tingkat 4 (Terpadu dan Terukur)", L[4])
    assert (card.coverage_text, card.as_of_text) == ("90%", "per 31 Desember 2025")
    # 3.30 - 3.42 = -0.12: ahead of the path.
    assert (card.gap, card.gap_text, card.behind, card.status_text) == (
        -0.12,
        "-0,12",
        False,
        "sesuai atau di depan jalur",
    )
    assert (card.milestones, card.cohorts) == ((), ())


def test_the_card_dimensions_in_framework_order() -> None:
    dims = views.region_card(SERIES, FRAMEWORK, ID).dimensions
    assert [(x.id, x.name, x.score_text) for x in dims] == [
        ("governance", "Tata Kelola Cerdas", "3,80"), ("economy", "Ekonomi Cerdas", "3,10"),
        ("branding", "Branding Cerdas", "belum ada data"), ("living", "Kehidupan Cerdas", "3,50"),
        ("society", "Masyarakat Cerdas", "3,00"), ("environment", "Lingkungan Cerdas", "2,90"),
        ("mobility", "mobility", "2,00"),  # not in this framework: last, by its id
    ]  # fmt: skip
    # governance 3.8 against 3.5: not behind; economy 3.1 against 3.2: behind; no target elsewhere.
    assert [(x.expected_text, x.behind) for x in dims[:3]] == [("3,50", False), ("3,20", True), ("", None)]
    assert [x.name for x in views.region_card(SERIES, FRAMEWORK, EN).dimensions][:2] == [
        "Smart Governance", "Smart Economy"]  # fmt: skip


def test_a_card_whose_latest_snapshot_has_no_index() -> None:
    series = {**SERIES, "region": ref("51.03"), "points": [
        a_point("2025-11", "2025-11-30", a_snapshot("2025-11-29", None, coverage=0.2), {"index": 2.4}),
        a_point("2025-12", "2025-12-31", None, {"index": 2.5}),
    ]}  # fmt: skip
    card = views.region_card(series, FRAMEWORK, EN)
    assert card.history == () and len(card.path) == 2
    assert (card.index_text, card.level_text, card.level_fill) == ("no data yet", "no data yet", GREY)
    assert (card.coverage_text, card.as_of_text) == ("20%", "as of 29 November 2025")
    assert (card.gap, card.behind, card.status_text) == (None, None, "no data yet")
    assert all(x.score_text == "no data yet" for x in card.dimensions)


def test_a_card_without_any_data() -> None:
    series = {**SERIES, "points": [a_point("2025-12", "2025-12-31", None, {})]}
    card = views.region_card(series, FRAMEWORK, ID)
    assert (card.latest, card.history, card.path) == (None, (), ())
    assert (card.index_text, card.coverage_text, card.as_of_text, card.level_fill) == (
        "belum ada data", "belum ada data", "", GREY)  # fmt: skip


def test_a_gap_is_said_in_words_on_the_card_and_the_map() -> None:
    """Issue 14: a card said "selisih -0,91 poin"; a reader is told which side of the path and by how much."""
    from services.web.views import gap_in_words

    id_, en = messages("id"), messages("en")
    assert gap_in_words(-0.91, id_) == "0,91 poin di depan jalur"
    assert gap_in_words(0.3, id_) == "0,30 poin di belakang jalur"
    assert gap_in_words(0.004, id_) == "tepat pada jalur"  # rounds to 0,00: neither side
    assert gap_in_words(-0.91, en) == "0.91 points ahead of the path"
