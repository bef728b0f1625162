"""The long-range panels: SQL on the history store (services/history, PostgreSQL), for the Region detail
and National overview boards.

Every figure comes from the **closing snapshots** (``score_snapshots``, ``resolution = 'day'``): the last
score of a region's own calendar day (its province's WIB, WITA or WIT), one per region and day for ever,
under the framework of the framework file the boards are built with (``framework_id`` and
``framework_version``: a rescored history under a new version stays out until the boards are rebuilt for
it). A day is drawn at 00:00 UTC of its date. Snapshots the demo synthesised (``simulated``) are series of
their own or counted apart. The masterplan paths are the milestone points of a plan version
(``plan_versions.payload``, a schemas/masterplan.py Masterplan); Grafana draws straight lines between
them, which is the path the alerts service holds a region to (``schemas.masterplan.expected_on``).

tests/integration/test_grafana_sql.py runs each query on a real PostgreSQL with rows written by hand.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from grafana_foundation_sdk.builders.common import StackingConfig, VizTooltipOptions
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import DynamicConfigValue

from schemas.framework import Framework, load_framework
from services.ops.grafana_panels import SCORE, Look, row, sql_literal, sql_query, timeseries_panel

#: How a simulated series or count is named.
SIMULATED = "simulated (demo seed)"
NO_LEVEL = "no level (insufficient data)"
MEAN_SIMULATED = "mean index, with simulated days (demo seed)"
REGION_PATH = "masterplan path"
NATIONAL_PATH = "national path"
#: The colours of the level bands (as SCORE_BANDS on the operational panels): level -> colour.
LEVEL_COLOURS = {1: "red", 2: "orange", 3: "yellow", 4: "green", 5: "blue"}
ROW_TITLE = "Since the baseline (history store)"


@cache
def framework() -> Framework:
    return load_framework()


def closing_snapshots(fw: Framework) -> str:
    """The condition on ``score_snapshots AS s`` for the closing snapshots of ``fw``'s id and version."""
    return (f"s.resolution = 'day' AND s.framework_id = {sql_literal(fw.id)} "
            f"AND s.framework_version = {sql_literal(fw.version)}")  # fmt: skip


def _about(fw: Framework) -> str:
    return (
        f"History store (PostgreSQL), framework {fw.id}@{fw.version}; each day is the region's closing snapshot: "
        "its last score of its own local day (WIB, WITA or WIT), drawn at 00:00 UTC of that date."
    )


# ---------------------------------------------------------------------------------------- queries


def region_index_sql(fw: Framework) -> str:
    """The region's index per day; the days the demo synthesised are a series of their own."""
    return f"""
SELECT s.day::timestamp AT TIME ZONE 'UTC' AS "time",
       CASE WHEN s.simulated THEN 'index, {SIMULATED}' ELSE 'index' END AS metric,
       s."index" AS value
FROM score_snapshots AS s
WHERE {closing_snapshots(fw)}
  AND s.region_code = '$region' AND $__timeFilter(s.day)
ORDER BY 1, 2
"""


def region_dimensions_sql(fw: Framework) -> str:
    """The score of each dimension of the region per day (``dimensions`` JSONB, one element each)."""
    return f"""
SELECT s.day::timestamp AT TIME ZONE 'UTC' AS "time",
       (d.value ->> 'dimension_id') || CASE WHEN s.simulated THEN ', {SIMULATED}' ELSE '' END AS metric,
       (d.value ->> 'score')::float8 AS value
FROM score_snapshots AS s
     CROSS JOIN LATERAL jsonb_array_elements(s.dimensions) AS d
WHERE {closing_snapshots(fw)}
  AND s.region_code = '$region' AND $__timeFilter(s.day)
ORDER BY 1, 2
"""


def path_sql(plans: str, label: str) -> str:
    """The index milestones of the latest version (by ``received_at``) of the plans ``plans`` selects (a
    condition on ``plan_versions AS p``): one point per milestone that sets an index target, at its due
    date. Not limited to the time range, so that the line runs on to the edges of the panel."""
    return f"""
SELECT (m.value ->> 'due')::date::timestamp AT TIME ZONE 'UTC' AS "time",
       (m.value -> 'targets' ->> 'index')::float8 AS "{label}"
FROM (SELECT p.payload
      FROM plan_versions AS p
      WHERE {plans}
      ORDER BY p.received_at DESC, p.region_code, p.plan_hash
      LIMIT 1) AS latest
     CROSS JOIN LATERAL jsonb_array_elements(latest.payload -> 'milestones') AS m
WHERE m.value -> 'targets' ->> 'index' IS NOT NULL
ORDER BY 1
"""


def region_path_sql(fw: Framework) -> str:
    return path_sql(f"p.region_code = '$region' AND p.framework_id = {sql_literal(fw.id)}", REGION_PATH)


def national_path_sql(fw: Framework) -> str:
    """The national default plan (every region without a plan of its own is held to it)."""
    return path_sql(f"p.basis = 'national_default' AND p.framework_id = {sql_literal(fw.id)}", NATIONAL_PATH)


def month_closing(fw: Framework) -> str:
    """``closing``: per region and month (of its local days), its last closing snapshot in the range."""
    month = "date_trunc('month', s.day::timestamp)"
    return f"""
WITH closing AS (
  SELECT DISTINCT ON (s.region_code, {month})
         {month} AS month, s."index", s.level, s.level_name, s.simulated
  FROM score_snapshots AS s
  WHERE {closing_snapshots(fw)}
    AND $__timeFilter(s.day)
  ORDER BY s.region_code, {month}, s.day DESC
)"""


def levels_by_month_sql(fw: Framework) -> str:
    """Regions per level (and without one) per month, as of each region's last closing snapshot of it."""
    return f"""{month_closing(fw)}
SELECT month AT TIME ZONE 'UTC' AS "time",
       CASE WHEN level IS NULL THEN '{NO_LEVEL}'
            ELSE level::text || ' ' || coalesce(level_name, '') END AS metric,
       count(*) AS value
FROM closing
GROUP BY 1, 2
ORDER BY 1, 2
"""


def simulated_by_month_sql(fw: Framework) -> str:
    """Of the regions counted in a month, those whose last closing snapshot of it is simulated."""
    return f"""{month_closing(fw)}
SELECT month AT TIME ZONE 'UTC' AS "time",
       count(*) FILTER (WHERE simulated) AS "of which {SIMULATED}"
FROM closing
GROUP BY 1
ORDER BY 1
"""


def mean_index_by_month_sql(fw: Framework) -> str:
    """The mean index per month over the regions with one (each counted once, at its last closing snapshot
    of the month); a month any of them is simulated in is a series of its own."""
    return f"""{month_closing(fw)}
SELECT month AT TIME ZONE 'UTC' AS "time",
       CASE WHEN bool_or(simulated) FILTER (WHERE "index" IS NOT NULL)
            THEN '{MEAN_SIMULATED}'
            ELSE 'mean index' END AS metric,
       avg("index") AS value
FROM closing
GROUP BY 1
ORDER BY 1
"""


# ---------------------------------------------------------------------------------------- looks


def _path_style() -> list[DynamicConfigValue]:
    """A plan's path: dashed, with its milestone points, one line through them (years apart)."""
    return [DynamicConfigValue(id_val="custom.lineStyle", value={"fill": "dash", "dash": [10, 10]}),
            DynamicConfigValue(id_val="custom.insertNulls", value=False),
            DynamicConfigValue(id_val="custom.showPoints", value="always"),
            DynamicConfigValue(id_val="custom.pointSize", value=7),
            DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": "purple"})]  # fmt: skip


def _dotted() -> DynamicConfigValue:
    return DynamicConfigValue(id_val="custom.lineStyle", value={"fill": "dot", "dash": [0, 10]})


def _simulated_style() -> list[DynamicConfigValue]:
    """What the demo synthesised: dotted and grey."""
    return [_dotted(), DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": "text"})]


def _fixed(colour: str) -> list[DynamicConfigValue]:
    return [DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": colour})]


def _multi_tooltip() -> VizTooltipOptions:
    return VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI).sort(common.SortOrder.DESCENDING)


SCORES = Look(unit=SCORE, min_value=0, max_value=5, decimals=2, w=24, h=9)
#: Grafana's "disconnect values" thresholds (ms): a line breaks where a day, or a month, has no point.
_HOUR_MS = 3_600_000
AFTER_A_MISSING_DAY = 36 * _HOUR_MS
AFTER_A_MISSING_MONTH = 32 * 24 * _HOUR_MS


# ---------------------------------------------------------------------------------------- panels


def region_panels(b: Any) -> Any:
    """The region's history since the baseline: its index against its plan's path, its six dimensions."""
    fw = framework()
    bands = ", ".join(f"{lv.level} from {lv.min_score:g}" for lv in fw.levels[1:])
    b = b.with_row(row(ROW_TITLE))
    index = (
        timeseries_panel(
            "Maturity index since the baseline against the masterplan path",
            f"The region's maturity index (0-5 scale; level {bands}) on each day. {_about(fw)} A gap "
            "is a day without a score or with insufficient data (no index). 'index, simulated (demo seed)': days "
            "the demo synthesised from the BPS baselines, not scored from events. 'masterplan path' (dashed): the "
            "index targets (0-5) of the milestones of the region's latest plan version, at their due dates; the "
            "straight lines between them are the path the alerts service holds the region to.",
            [sql_query(region_index_sql(fw)), sql_query(region_path_sql(fw))],
            SCORES,
        )
        .override_by_name(REGION_PATH, _path_style())
        .override_by_name(f"index, {SIMULATED}", _simulated_style())
    )
    b = b.with_panel(index.insert_nulls(AFTER_A_MISSING_DAY))
    dims = ", ".join(d.id for d in fw.dimensions)
    dimensions = timeseries_panel(
        "Dimension scores since the baseline",
        f"The score (0-5 scale) of each of the {len(fw.dimensions)} dimensions ({dims}) on each day. {_about(fw)} "
        "A gap is a day "
        "without a score or with insufficient data for the dimension. A series ending in 'simulated (demo "
        "seed)' (dotted): days the demo synthesised, not scored from events.",
        [sql_query(region_dimensions_sql(fw))],
        SCORES,
    ).override_by_regexp(r".*, simulated \(demo seed\)$", [_dotted()])
    return b.with_panel(dimensions.tooltip(_multi_tooltip()).insert_nulls(AFTER_A_MISSING_DAY))


def national_panels(b: Any) -> Any:
    """Month by month since the baseline: regions per level, and the mean index against the national path."""
    fw = framework()
    b = b.with_row(row(ROW_TITLE))
    levels = timeseries_panel(
        "Regions per maturity level by month",
        f"Per month, the number of regions (kab/kota) at each level 1-5 (stacked bars), as of each region's last "
        f"closing snapshot of that month (the current month: its latest so far). {_about(fw)} "
        f"'{NO_LEVEL}': regions whose snapshot has no index. 'of which {SIMULATED}' (line, not stacked): "
        "how many of the month's regions were counted from a snapshot the demo synthesised, not scored from "
        "events. Regions without any snapshot in a month are not counted.",
        [sql_query(levels_by_month_sql(fw)), sql_query(simulated_by_month_sql(fw))],
        Look(unit="short", min_value=0, decimals=0, w=12, h=10),
    )
    levels = (levels.draw_style(common.GraphDrawStyle.BARS).bar_alignment(common.BarAlignment.AFTER)
              .fill_opacity(80).stacking(StackingConfig().mode(common.StackingMode.NORMAL).group("levels"))
              .tooltip(_multi_tooltip()))  # fmt: skip
    for level, colour in LEVEL_COLOURS.items():
        levels = levels.override_by_regexp(f"^{level} .*", _fixed(colour))
    levels = levels.override_by_name(NO_LEVEL, _fixed("text")).override_by_name(f"of which {SIMULATED}", [
        DynamicConfigValue(id_val="custom.drawStyle", value="line"),
        DynamicConfigValue(id_val="custom.stacking", value={"mode": "none", "group": "simulated"}),
        DynamicConfigValue(id_val="custom.fillOpacity", value=0),
        *_simulated_style(),
    ])  # fmt: skip
    b = b.with_panel(levels)
    mean = timeseries_panel(
        "Mean maturity index by month against the national path",
        f"Per month, the mean maturity index (0-5 scale) of the regions with one, each counted once at its last "
        f"closing snapshot of that month (the current month: its latest so far). {_about(fw)} '{MEAN_SIMULATED}': "
        "a month in which at least one of those snapshots was synthesised by the "
        "demo, not scored from events. 'national path' (dashed): the index targets (0-5) of the national "
        "default masterplan's milestones (its latest version), at their due dates.",
        [sql_query(mean_index_by_month_sql(fw)), sql_query(national_path_sql(fw))],
        Look(unit=SCORE, min_value=0, max_value=5, decimals=2, w=12, h=10),
    ).override_by_name(NATIONAL_PATH, _path_style())
    mean = mean.override_by_name(MEAN_SIMULATED, _simulated_style())
    return b.with_panel(mean.insert_nulls(AFTER_A_MISSING_MONTH))
