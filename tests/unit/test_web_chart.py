"""The region card's chart (services/web/chart.py): an SVG of the index against the masterplan path.

Geometry, worked out by hand for every test: the default viewBox is 720 x 300 with margins left 48,
right 56, top 36, bottom 48, so the plot is 616 wide (x 48..664) and 216 high (y 36..252). The chart
below runs from 2024-01-01 to 2025-12-31, 730 days (2024 is a leap year), so a day d days after the
start lies at x = 48 + 616 * d / 730; an index v lies at y = 36 + 216 * (5 - v) / 5 = 36 + 43.2 * (5 - v).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from schemas.framework import load_framework
from schemas.masterplan import Masterplan, Milestone
from services.web import chart, colours, views
from services.web.chart import chart_rows, history_chart
from services.web.messages import messages
from services.web.views import ChartPoint, RegionCard

ID, EN = messages("id"), messages("en")
FRAMEWORK = load_framework()
NS = {"svg": "http://www.w3.org/2000/svg"}
D = dt.date

# ---------------------------------------------------------------------------------------- fixtures


def a_snapshot(day: str, index: float) -> dict[str, Any]:
    level = FRAMEWORK.level_for(index).level
    return {"day": day, "at": f"{day}T16:00:00+00:00", "index": index, "level": level,
            "level_name": FRAMEWORK.levels[level - 1].name, "coverage": 0.8, "status": "ok", "dimensions": {},
            "simulated": False}  # fmt: skip


def a_point(month: str, last: str, closing: dict[str, Any] | None, path: float | None) -> dict[str, Any]:
    expected = {} if path is None else {"index": path}
    index = closing["index"] if closing else None
    gap = None if index is None or path is None else round(path - index, 6)
    return {"period": month, "first": f"{month}-01", "last": last, "since": f"{month}-01", "until": last,
            "days": 0 if closing is None else 28, "simulated_days": 0, "closing": closing, "index_mean": index,
            "index_min": index, "index_max": index, "expected": expected, "gap": gap,
            "plan_id": None if path is None else "bandung-2029"}  # fmt: skip


REGION = {"code": "32.73", "name": "Kota Bandung", "type": "kota", "province_code": "32",
          "province_name": "Jawa Barat"}  # fmt: skip
# Days after 2024-01-01 and where they land:
#   2024-01-31:  30 -> x 48 + 25.3151 = 73.3     2024-06-30: 181 -> x 48 + 152.7342 = 200.7
#   2024-12-31: 365 -> x 48 + 308     = 356      2025-06-30: 546 -> x 48 + 460.7342 = 508.7
#   2025-12-31: 730 -> x 664
# Indexes: 2.5 -> y 144 (the middle), 3.0 -> 122.4, 3.42 -> 36 + 43.2 * 1.58 = 104.256 -> 104.3;
# path 2.0 -> 165.6, 2.5 -> 144, 2.75 -> 133.2, 3.2 -> 113.76 -> 113.8, 4.0 -> 79.2.
SERIES = {
    "region": REGION, "framework": FRAMEWORK.key, "resolution": "month", "from": "2024-01-01", "to": "2025-12-31",
    "points": [
        a_point("2024-01", "2024-01-31", a_snapshot("2024-01-31", 2.5), 2.0),
        a_point("2024-06", "2024-06-30", None, 2.5),  # no data this month: the history joins across it
        a_point("2024-12", "2024-12-31", a_snapshot("2024-12-31", 3.0), 2.75),
        a_point("2025-06", "2025-06-30", a_snapshot("2025-06-29", 3.42), 3.2),
        a_point("2025-12", "2025-12-31", None, 4.0),
    ],
}  # fmt: skip
NO_PLAN = {**SERIES, "points": [{**p, "expected": {}, "gap": None, "plan_id": None} for p in SERIES["points"]]}
# 2025-07-01: 547 days -> x 48 + 461.5781 = 509.6. The 2029 milestone lies beyond the chart.
PLAN = Masterplan(
    region_code="32.73", plan_id="bandung-2029", basis="region", framework_id=FRAMEWORK.id,
    milestones=[Milestone(due=D(2024, 12, 31), label="Tahap 1", targets={"index": 2.75}),
                Milestone(due=D(2025, 7, 1), targets={"governance": 3.5}),
                Milestone(due=D(2029, 12, 31), label="Akhir", targets={"index": 4.0})],
)  # fmt: skip


def card(series: dict[str, Any] = SERIES, msg: Any = ID, plan: Masterplan | None = PLAN) -> RegionCard:
    return views.region_card(series, FRAMEWORK, msg, plan)


def svg(of: RegionCard, msg: Any = ID, **size: int) -> ET.Element:
    return ET.fromstring(str(history_chart(of, msg, **size)))


def q(tag: str) -> str:
    return f"{{{NS['svg']}}}{tag}"


def top(root: ET.Element, tag: str, css: str) -> list[ET.Element]:
    """The chart's own elements (direct children of the <svg>, so not the legend's samples) of a class."""
    return [e for e in root.findall(f"svg:{tag}", NS) if css in (e.get("class") or "").split()]


def texts(root: ET.Element, css: str) -> list[tuple[str | None, str | None, str | None]]:
    return [(e.get("x"), e.get("y"), e.text) for e in root.iter(q("text")) if e.get("class") == css]


# -------------------------------------------------------------------------------------- geometry


def test_the_history_and_path_polylines() -> None:
    root = svg(card())
    (history,) = top(root, "polyline", "series-history")
    (path,) = top(root, "polyline", "series-path")
    # June 2024 has no data: the history goes straight from January to December 2024.
    assert history.get("points") == "73.3,144 356,122.4 508.7,104.3"
    assert path.get("points") == "73.3,165.6 200.7,144 356,133.2 508.7,113.8 664,79.2"
    assert path.get("stroke-dasharray") and not history.get("stroke-dasharray")


def test_x_is_linear_in_days_and_y_in_the_index() -> None:
    # 2025-01-01 is 366 days in: x = 48 + 616 * 366 / 730 = 356.8438 -> 356.8; 2.5 is the plot's middle, 144.
    # The first and last days are the plot's edges, 0 and 5 its bottom and top.
    points = (ChartPoint(D(2024, 1, 1), 5.0), ChartPoint(D(2025, 1, 1), 2.5), ChartPoint(D(2025, 12, 31), 0.0))
    (history,) = top(svg(dataclasses.replace(card(), history=points)), "polyline", "series-history")
    assert history.get("points") == "48,36 356.8,144 664,252"


def test_a_smaller_chart_scales_its_plot() -> None:
    # 400 x 200: the plot is 400 - 104 = 296 wide and 200 - 84 = 116 high. 2025-01-01: 48 + 296 * 366 / 730
    # = 196.4055 -> 196.4; 2.5 -> 36 + 58 = 94.
    root = svg(dataclasses.replace(card(), history=(ChartPoint(D(2025, 1, 1), 2.5),)), width=400, height=200)
    assert (root.get("viewBox"), root.get("width"), root.get("height")) == ("0 0 400 200", "400", "200")
    (history,) = top(root, "polyline", "series-history")
    assert history.get("points") == "196.4,94"
    with pytest.raises(ValueError, match="no room"):
        history_chart(card(), ID, width=100, height=300)


def test_the_axes_gridlines_and_year_labels() -> None:
    root = svg(card())
    (grid,) = [g for g in root.iter(q("g")) if g.get("class") == "grid"]
    # Levels 1..4: y = 36 + 43.2 * (5 - v).
    assert [(line.get("y1"), line.get("x1"), line.get("x2")) for line in grid] == [
        ("208.8", "48", "664"), ("165.6", "48", "664"), ("122.4", "48", "664"), ("79.2", "48", "664")]  # fmt: skip
    # A label per level boundary and the ends, right-aligned 8 left of the axis, 4 below its line.
    assert [(x, y, t) for x, y, t in texts(root, "tick-label") if x == "40"] == [
        ("40", "256", "0"), ("40", "212.8", "1"), ("40", "169.6", "2"), ("40", "126.4", "3"), ("40", "83.2", "4"),
        ("40", "40", "5")]  # fmt: skip
    # 1 January 2024 (the left edge) and 2025 (356.8), labels 18 below the axis (252 + 18).
    assert [(x, y, t) for x, y, t in texts(root, "tick-label") if y == "270"] == [
        ("48", "270", "2024"), ("356.8", "270", "2025")]  # fmt: skip
    (axis,) = [g for g in root.iter(q("g")) if g.get("class") == "axis"]
    ticks = [line.get("x1") for line in axis if line.get("y1") == "252" and line.get("y2") == "257"]
    assert ticks == ["48", "356.8"]
    assert [t for _, _, t in texts(root, "axis-label")] == ["Indeks (0-5)", "Tahun"]
    assert [t for _, _, t in texts(svg(card(msg=EN), EN), "axis-label")] == ["Index (0-5)", "Year"]


def test_the_milestones() -> None:
    root = svg(card())
    # Tahap 1: index 2.75 on 2024-12-31 -> (356, 133.2), a diamond 5 either side.
    (diamond,) = top(root, "polygon", "milestone")
    assert diamond.get("points") == "356,128.2 361,133.2 356,138.2 351,133.2"
    assert diamond.findtext("svg:title", namespaces=NS) == "Tahap 1: indeks 2,75, 31 Desember 2024"
    # No index target on 2025-07-01 (x 509.6): a tick 10 up from the x axis, named by the catalogue's word.
    (tick,) = top(root, "line", "milestone")
    assert (tick.get("x1"), tick.get("y1"), tick.get("x2"), tick.get("y2")) == ("509.6", "252", "509.6", "242")
    assert tick.findtext("svg:title", namespaces=NS) == "Tonggak: target dimensi, 1 Juli 2025"
    # The 2029 milestone lies beyond the chart's range: not drawn (nor its title).
    assert "Akhir" not in str(history_chart(card(), ID))
    english = svg(card(msg=EN), EN)
    assert [m.findtext("svg:title", namespaces=NS) for m in top(english, "polygon", "milestone")] == [
        "Tahap 1: index 2.75, 31 December 2024"]  # fmt: skip
    assert top(english, "line", "milestone")[0].findtext("svg:title", namespaces=NS) == (
        "Milestone: dimension targets, 1 July 2025")  # fmt: skip


def test_the_last_point_is_marked_with_its_value() -> None:
    root = svg(card())
    (dot,) = top(root, "circle", "last-point")
    assert (dot.get("cx"), dot.get("cy")) == ("508.7", "104.3")
    # 7 right and 7 above the point.
    assert texts(root, "last-value") == [("515.7", "97.3", "3,42")]
    assert texts(svg(card(msg=EN), EN), "last-value") == [("515.7", "97.3", "3.42")]


def test_points_outside_the_range_are_left_out() -> None:
    late = dataclasses.replace(card(), path=(*card().path, ChartPoint(D(2026, 1, 31), 4.1)))
    (path,) = top(svg(late), "polyline", "series-path")
    assert path.get("points") == "73.3,165.6 200.7,144 356,133.2 508.7,113.8 664,79.2"


def test_the_legend_names_what_is_drawn() -> None:
    def legend(root: ET.Element) -> list[str | None]:
        return [t for _, _, t in texts(root, "legend-label")]

    assert legend(svg(card())) == ["Indeks", "Jalur rencana induk", "Tonggak"]
    assert legend(svg(card(msg=EN), EN)) == ["Index", "Masterplan path", "Milestone"]
    assert legend(svg(card(NO_PLAN, plan=None))) == ["Indeks"]
    (group,) = [g for g in svg(card()).iter(q("g")) if g.get("class") == "legend"]
    # Samples in the series' classes, so the stylesheet draws them alike.
    assert [e.get("class") for e in group if e.tag != q("text")] == ["series-history", "series-path", "milestone"]


# ------------------------------------------------------------------------------- words, a11y, escaping


def test_the_title_and_description_in_both_languages() -> None:
    root = svg(card())
    assert root.get("role") == "img"
    assert (root.get("aria-labelledby"), root.get("aria-describedby")) == ("chart-32-73-title", "chart-32-73-desc")
    title, desc = root.find("svg:title", NS), root.find("svg:desc", NS)
    assert title is not None and desc is not None
    assert (title.get("id"), desc.get("id")) == ("chart-32-73-title", "chart-32-73-desc")
    assert title.text == "Indeks Kota Bandung dan jalur rencana induk, 2024-2025"
    # The latest index is told on its snapshot's day (29 June), not the month's last.
    assert desc.text == "Indeks terakhir 3,42 per 29 Juni 2025; jalur rencana induk menuju 4,00 pada 31 Desember 2025."
    english = svg(card(msg=EN), EN)
    assert english.findtext("svg:title", namespaces=NS) == "Index of Kota Bandung and its masterplan path, 2024-2025"
    assert english.findtext("svg:desc", namespaces=NS) == (
        "Latest index 3.42 as of 29 June 2025; the masterplan path reaches 4.00 on 31 December 2025.")  # fmt: skip


def test_two_regions_do_not_share_ids() -> None:
    other = {**SERIES, "region": {**REGION, "code": "51.71", "name": "Kota Denpasar", "province_code": "51"}}
    ids = [e.get("id") for c in (card(), card(other)) for e in svg(c).iter() if e.get("id")]
    assert ids == ["chart-32-73-title", "chart-32-73-desc", "chart-51-71-title", "chart-51-71-desc"]


def test_names_and_labels_are_escaped() -> None:
    name, label = 'Kota "Baru" & <Lama>', 'Tahap "1" & <2>'
    plan = PLAN.model_copy(update={"milestones": [PLAN.milestones[0].model_copy(update={"label": label})]})
    c = card({**SERIES, "region": {**REGION, "name": name}}, plan=plan)
    out = str(history_chart(c, ID))
    assert "Kota &#34;Baru&#34; &amp; &lt;Lama&gt;" in out and "Tahap &#34;1&#34; &amp; &lt;2&gt;" in out
    assert name not in out and label not in out
    root = ET.fromstring(out)
    assert root.findtext("svg:title", namespaces=NS) == f"Indeks {name} dan jalur rencana induk, 2024-2025"
    (diamond,) = top(root, "polygon", "milestone")
    assert diamond.findtext("svg:title", namespaces=NS) == f"{label}: indeks 2,75, 31 Desember 2024"


def test_an_empty_history() -> None:
    empty = {**SERIES, "points": [{**p, "closing": None, "gap": None} for p in SERIES["points"]]}
    c = card(empty)
    assert c.history == () and c.latest is None
    root = svg(c)
    assert top(root, "polyline", "series-history") == [] and top(root, "circle", "last-point") == []
    assert len(top(root, "polyline", "series-path")) == 1
    assert texts(root, "chart-note") == [("356", "144", "belum ada data")]
    assert [t for _, _, t in texts(root, "legend-label")] == ["Jalur rencana induk", "Tonggak"]
    assert root.findtext("svg:desc", namespaces=NS) == (
        "Belum ada indeks; jalur rencana induk menuju 4,00 pada 31 Desember 2025.")  # fmt: skip
    assert svg(card(empty, EN), EN).findtext("svg:desc", namespaces=NS) == (
        "No index yet; the masterplan path reaches 4.00 on 31 December 2025.")  # fmt: skip


def test_a_region_without_a_plan() -> None:
    c = card(NO_PLAN, plan=None)
    root = svg(c)
    assert top(root, "polyline", "series-path") == []
    assert top(root, "polygon", "milestone") == [] and top(root, "line", "milestone") == []
    assert root.findtext("svg:title", namespaces=NS) == "Indeks Kota Bandung, 2024-2025"
    assert root.findtext("svg:desc", namespaces=NS) == "Indeks terakhir 3,42 per 29 Juni 2025; tanpa rencana induk."
    assert svg(card(NO_PLAN, EN, None), EN).findtext("svg:desc", namespaces=NS) == (
        "Latest index 3.42 as of 29 June 2025; no masterplan.")  # fmt: skip
    (history,) = top(root, "polyline", "series-history")
    assert history.get("points") == "73.3,144 356,122.4 508.7,104.3"


def test_nothing_at_all_still_draws_the_axes() -> None:
    c = dataclasses.replace(card(NO_PLAN, plan=None), history=(), path=(), latest=None)
    root = svg(c)
    assert root.findtext("svg:desc", namespaces=NS) == "Belum ada indeks; tanpa rencana induk."
    assert not [g for g in root.iter(q("g")) if g.get("class") == "legend"]
    assert len([g for g in root.iter(q("g")) if g.get("class") == "grid"]) == 1


VARIANTS = {
    "full": lambda: card(), "english": lambda: card(msg=EN), "no plan": lambda: card(NO_PLAN, plan=None),
    "empty": lambda: card({**SERIES, "points": [{**p, "closing": None} for p in SERIES["points"]]}),
    "awkward name": lambda: card({**SERIES, "region": {**REGION, "name": "A & \"B\" <'C'>"}}),
}  # fmt: skip


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_chart_keeps_to_the_content_security_policy(variant: str) -> None:
    out = str(history_chart(VARIANTS[variant](), ID))
    root = ET.fromstring(out)  # well-formed XML
    assert root.tag == q("svg") and root.get("viewBox") == "0 0 720 300"
    # No style attribute or element, no script, no event handler attribute, no external reference.
    assert not re.search(r"\sstyle\s*=", out)
    assert not any(e.tag in (q("style"), q("script"), q("foreignObject")) for e in root.iter())
    assert not any(k.lower().startswith("on") or "href" in k for e in root.iter() for k in e.attrib)
    assert out == str(history_chart(VARIANTS[variant](), ID))  # deterministic


def test_every_coordinate_has_at_most_one_decimal() -> None:
    out = str(history_chart(card(), ID))
    numbers = re.findall(r'\s(?:x|y|x1|y1|x2|y2|cx|cy|points)="([^"]*)"', out)
    assert numbers and all(re.fullmatch(r"-?\d*\.?\d", n) for v in numbers for n in re.split(r"[ ,]", v))


def test_the_series_contrast_with_the_page() -> None:
    for colour in (chart.HISTORY_STROKE, chart.PATH_STROKE, chart.MILESTONE_FILL, chart.AXIS_STROKE):
        assert colours.contrast_ratio(colour, colours.WHITE) >= 3
    assert colours.contrast_ratio(chart.TEXT_FILL, colours.WHITE) >= 4.5  # text


# ---------------------------------------------------------------------------------------- table


def test_the_table_rows() -> None:
    assert chart_rows(card(), ID) == [
        ("31 Januari 2024", "2,50", "2,00"),
        ("30 Juni 2024", "belum ada data", "2,50"),
        ("31 Desember 2024", "3,00", "2,75"),
        ("30 Juni 2025", "3,42", "3,20"),
        ("31 Desember 2025", "belum ada data", "4,00"),
    ]
    assert chart_rows(card(NO_PLAN, EN, None), EN) == [
        ("31 January 2024", "2.50", ""), ("31 December 2024", "3.00", ""), ("30 June 2025", "3.42", "")]  # fmt: skip
    assert chart_rows(dataclasses.replace(card(), history=(), path=()), ID) == []
