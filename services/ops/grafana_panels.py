"""Small builders on top of grafana-foundation-sdk that give every Pantau board the same look.

Every operational panel reads the Prometheus data source chosen in the board's ``datasource`` variable,
every query names its legend, and ``finalise`` turns a dashboard builder into plain JSON with stable panel
ids and query refIds (so that the committed files only change when the boards do).

The long-range panels read the history store (PostgreSQL, services/history) through the data source of
the board's ``history`` variable: :func:`sql_query` makes their targets (the SDK has no builder for
Grafana's PostgreSQL queries), and :func:`expand_sql` expands their template variables and macros the
way Grafana does before it sends them, so that a test can run them on a real server.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from grafana_foundation_sdk.builders import bargauge, histogram, prometheus, stat, table, text, timeseries
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders.common import (
    GraphThresholdsStyleConfig,
    ReduceDataOptions,
    TableSortByFieldState,
    VizLegendOptions,
)
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DashboardLinkType,
    DataSourceRef,
    DataTransformerConfig,
    DynamicConfigValue,
    Threshold,
    ThresholdsMode,
    ValueMap,
    ValueMappingResult,
    VariableHide,
    VariableOption,
    VariableRefresh,
    VariableSort,
)
from grafana_foundation_sdk.models.dashboard import (
    Panel as DashboardPanel,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat
from grafana_foundation_sdk.models.text import TextMode

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
#: Grafana's PostgreSQL plugin (its id since Grafana 10.2.3; ``postgres`` is an alias of it).
POSTGRES_PLUGIN = "grafana-postgresql-datasource"
#: The history store, as the board's ``history`` variable picks it (provisioned: uid ``pantau-history``).
HISTORY = DataSourceRef(type_val=POSTGRES_PLUGIN, uid="${history}")
TAGS = ["pantau"]
#: Grafana unit ids.
PER_SECOND = "cps"
SECONDS = "s"
RATIO = "percentunit"
SCORE = "none"

LEVEL_NAMES = {1: "Rintisan", 2: "Terkelola", 3: "Terdefinisi", 4: "Terpadu dan Terukur", 5: "Optimum"}


# ---------------------------------------------------------------------------------------- queries


def query(expr: str, legend: str = "__auto", *, instant: bool = False, as_table: bool = False) -> prometheus.Dataquery:
    """A Prometheus query on the board's data source; ``as_table`` implies instant."""
    q = prometheus.Dataquery().expr(expr).datasource(DATASOURCE).legend_format(legend)
    if as_table:
        return q.instant().format(PromQueryFormat.TABLE)
    return q.instant() if instant else q.range()


SqlFormat = Literal["time_series", "table"]
#: The public pages (services/web, ``pantau web run``): the tables' region and province cells link there.
WEB_PAGES_URL = "http://127.0.0.1:8000"
PAGE_LINKS = {
    "region": ("Kartu wilayah (Pantau)", "/wilayah/"),
    "province": ("Halaman provinsi (Pantau)", "/provinsi/"),
}


@dataclass(frozen=True)
class SqlTarget(cogvariants.Dataquery):
    """A query of Grafana's PostgreSQL data source in code mode: ``rawSql`` is sent as written, after
    Grafana expanded its template variables and macros (:func:`expand_sql`).

    ``time_series``: a ``time`` column (ascending), then either value columns (each a series named after
    its column) or exactly ``metric`` (text) and ``value``: one series per metric, named by it.
    """

    raw_sql: str
    format: SqlFormat = "time_series"

    def to_json(self) -> dict[str, Any]:
        return {"datasource": HISTORY.to_json(), "editorMode": "code", "format": self.format, "rawQuery": True,
                "rawSql": self.raw_sql}  # fmt: skip


class SqlQuery(cogbuilder.Builder[cogvariants.Dataquery]):
    def __init__(self, target: SqlTarget) -> None:
        self.target = target

    def build(self) -> SqlTarget:
        return self.target


Target = prometheus.Dataquery | SqlQuery


def sql_query(raw_sql: str, format: SqlFormat = "time_series") -> SqlQuery:
    """A PostgreSQL query on the board's history store (leading and trailing blank lines dropped)."""
    return SqlQuery(SqlTarget(raw_sql.strip("\n"), format))


def sql_literal(value: str) -> str:
    """``value`` as an SQL string literal (for constants the code puts into a query)."""
    return "'" + value.replace("'", "''") + "'"


def _datasource_of(targets: Sequence[Target]) -> DataSourceRef:
    """A panel has one data source: the history store's when its queries are SQL, else Prometheus'."""
    sql = {isinstance(t, SqlQuery) for t in targets}
    if len(sql) > 1:
        raise ValueError("a panel's queries are either all SQL or all Prometheus")
    return HISTORY if sql == {True} else DATASOURCE


# ---------------------------------------------------------------------------------------- macros

#: Grafana's reading of a macro in an SQL query: ``$__name(args)``, the arguments up to the first ')'.
_MACRO = re.compile(r"\$([_a-zA-Z0-9]+)\(([^)]*)\)")
#: A template variable as Grafana writes it in a query: ``${name}`` or ``$name``.
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def go_rfc3339nano(at: datetime) -> str:
    """``at`` in UTC as Go's ``time.RFC3339Nano`` formats it: no fraction when it is zero, trailing zeros
    dropped, ``Z`` (Grafana's SQL macros write times so)."""
    utc = at.astimezone(UTC)
    fraction = f"{utc.microsecond:06d}".rstrip("0")
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def sql_variable_value(value: str | Sequence[str], *, multi: bool = False) -> str:
    """A variable's value as Grafana's SQL data sources put it into a query: a single value as it is with
    quotes doubled (the query writes the quotes around it); a multi-value or include-all variable each
    value quoted, joined by commas (for ``IN (...)``)."""
    if isinstance(value, str) and not multi:
        return value.replace("'", "''")
    values = [value] if isinstance(value, str) else list(value)
    return ",".join(sql_literal(v) for v in values)


def expand_sql(
    raw_sql: str,
    *,
    time_from: datetime,
    time_to: datetime,
    variables: Mapping[str, str | Sequence[str]],
    multi: Sequence[str] = (),
) -> str:
    """The SQL Grafana's PostgreSQL data source runs for ``raw_sql`` over the panel's time range.

    First the browser replaces the template variables (``$name``, ``${name}``; values as
    :func:`sql_variable_value` writes them, ``multi`` naming the multi-value ones), then the server
    expands the macros (pkg/tsdb/grafana-postgresql-datasource/macros.go) that the boards use:

    - ``$__timeFilter(col)`` -> ``col BETWEEN '<from>' AND '<to>'``
    - ``$__timeFrom()`` -> ``'<from>'``, ``$__timeTo()`` -> ``'<to>'``

    with times in UTC in Go's RFC 3339 form (:func:`go_rfc3339nano`). Any other macro raises ValueError
    (Grafana refuses the unknown ones; the others are not written here, so a board must not use them
    until they are), and so does a ``$name`` left over: a variable the caller gave no value.
    """

    def variable(m: re.Match[str]) -> str:
        name = m[1] or m[2]
        if name not in variables:
            return m[0]  # a macro's name, or a variable without a value (refused below)
        return sql_variable_value(variables[name], multi=name in multi)

    sql = _VARIABLE.sub(variable, raw_sql)
    start, end = f"'{go_rfc3339nano(time_from)}'", f"'{go_rfc3339nano(time_to)}'"

    def macro(m: re.Match[str]) -> str:
        name, args = m[1], [a.strip() for a in m[2].split(",")]
        if name == "__timeFilter":
            if not args[0]:
                raise ValueError(f"missing time column argument for macro {name}")
            return f"{args[0]} BETWEEN {start} AND {end}"
        if name == "__timeFrom":
            return start
        if name == "__timeTo":
            return end
        raise ValueError(f"macro ${name} is not expanded by expand_sql (see its docstring)")

    sql = _MACRO.sub(macro, sql)
    left = _VARIABLE.search(sql)
    if left is not None:
        raise ValueError(f"{left[0]} has no value in the expansion of {raw_sql!r}")
    return sql


# ---------------------------------------------------------------------------------------- panels

#: The panel builders these helpers make; each has the same chainable base methods.
P = TypeVar("P", timeseries.Panel, stat.Panel, bargauge.Panel, histogram.Panel, table.Panel)


@dataclass(frozen=True)
class Look:
    """How a panel shows its values: unit, size on the 24-column grid (None: the kind's default),
    axis or gauge range, decimals, and colour steps ((from value or None, colour), ascending)."""

    unit: str = "short"
    w: int | None = None
    h: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    decimals: float | None = None
    thresholds: Sequence[tuple[float | None, str]] = ()


def _base(panel: P, title: str, description: str, targets: Sequence[Target], look: Look,
          size: tuple[int, int]) -> P:  # fmt: skip
    p = (panel.title(title).description(description).datasource(_datasource_of(targets)).targets(list(targets))
         .span(look.w or size[0]).height(look.h or size[1]).unit(look.unit))  # fmt: skip
    if look.min_value is not None:
        p = p.min(look.min_value)
    if look.max_value is not None:
        p = p.max(look.max_value)
    if look.decimals is not None:
        p = p.decimals(look.decimals)
    if look.thresholds:
        steps = [Threshold(value=v, color=c) for v, c in look.thresholds]
        p = p.thresholds(db.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(steps))
    return p


def timeseries_panel(title: str, description: str, targets: Sequence[Target], look: Look = Look()) -> timeseries.Panel:
    p = _base(timeseries.Panel(), title, description, targets, look, (12, 8))
    p = p.legend(VizLegendOptions().display_mode(common.LegendDisplayMode.LIST).placement(common.LegendPlacement.BOTTOM)
                 .show_legend(True))  # fmt: skip
    if look.thresholds:  # shown as dashed lines: a service level or the edge of a band
        p = p.thresholds_style(GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.DASHED))
    return p


def stat_panel(
    title: str,
    description: str,
    targets: Sequence[Target],
    look: Look = Look(),
    *,
    mappings: Mapping[Any, str] | None = None,
) -> stat.Panel:
    """The last value of each series, big; coloured by ``look.thresholds`` when it has some."""
    p = _base(stat.Panel(), title, description, targets, look, (4, 4))
    p = p.graph_mode(common.BigValueGraphMode.NONE).reduce_options(ReduceDataOptions().calcs(["lastNotNull"]))
    if mappings:
        p = p.mappings([value_map(mappings)])
    if look.thresholds:
        p = p.color_mode(common.BigValueColorMode.BACKGROUND)
    return p


def bar_panel(title: str, description: str, targets: Sequence[Target], look: Look = Look()) -> bargauge.Panel:
    """Horizontal bars, one per series, of an instant query."""
    p = _base(bargauge.Panel(), title, description, targets, look, (8, 8))
    return (p.orientation(common.VizOrientation.HORIZONTAL).display_mode(common.BarGaugeDisplayMode.GRADIENT)
            .reduce_options(ReduceDataOptions().calcs(["lastNotNull"])))  # fmt: skip


def histogram_panel(
    title: str, description: str, target: prometheus.Dataquery, look: Look = Look(), buckets: int = 20
) -> histogram.Panel:
    """The distribution of the values of an instant query (one value per region) over 0-5."""
    p = _base(histogram.Panel(), title, description, [target], look, (8, 8))
    return p.bucket_count(buckets).min(0).max(5).combine(True)


#: A panel of one query: (kind, title, description, expression, legend, look).
Single = tuple[Literal["stat", "bar", "timeseries", "histogram"], str, str, str, str, "Look"]


def single(spec: Single) -> cogbuilder.Builder[DashboardPanel]:
    """The panel of ``spec``; its query is instant except for a time series."""
    kind, title, description, expr, legend, look = spec
    if kind == "timeseries":
        return timeseries_panel(title, description, [query(expr, legend)], look)
    q = query(expr, legend, instant=True)
    if kind == "stat":
        return stat_panel(title, description, [q], look)
    if kind == "bar":
        return bar_panel(title, description, [q], look)
    return histogram_panel(title, description, q, look)


def with_singles(board: db.Dashboard, specs: Sequence[Single]) -> db.Dashboard:
    for spec in specs:
        board = board.with_panel(single(spec))
    return board


def table_panel(
    title: str,
    description: str,
    targets: Sequence[Target],
    *,
    columns: Mapping[str, str],
    look: Look = Look(),
    mappings: Mapping[str, Mapping[str, str]] | None = None,
    units: Mapping[str, str] | None = None,
    sort_by: str | None = None,
    descending: bool = True,
) -> table.Panel:
    """Instant table queries merged into one table on their common labels.

    ``columns`` maps the merged frame's field names (label names, and ``Value #<refId>`` for each
    query's value) to their titles, in display order; other fields are hidden. ``mappings`` maps a
    field name to value -> display text (region and province names for their codes), ``units`` a field
    name to its unit. Overrides match the renamed titles: they apply after the transformations.
    """
    p = _base(table.Panel(), title, description, targets, look, (24, 10))
    p = p.with_transformation(DataTransformerConfig(id_val="merge", options={}))
    order = {name: i for i, name in enumerate(columns)}
    p = p.with_transformation(
        DataTransformerConfig(
            id_val="organize",
            options={
                "excludeByName": {"Time": True, "__name__": True, "job": True, "instance": True},
                "includeByName": dict.fromkeys(columns, True),
                "indexByName": order,
                "renameByName": dict(columns),
            },
        )
    )
    for field, mapping in (mappings or {}).items():
        p = p.override_by_name(columns[field], [DynamicConfigValue(id_val="mappings", value=[value_map(mapping)])])
    for field, unit in (units or {}).items():
        p = p.override_by_name(columns[field], [DynamicConfigValue(id_val="unit", value=unit)])
    for field, (title, path) in PAGE_LINKS.items():  # a region's (a province's) code opens its page
        if field in columns:
            link = {"title": title, "url": f"{WEB_PAGES_URL}{path}${{__value.raw}}", "targetBlank": True}
            p = p.override_by_name(columns[field], [DynamicConfigValue(id_val="links", value=[link])])
    if sort_by:
        p = p.sort_by([TableSortByFieldState().display_name(columns.get(sort_by, sort_by)).desc(descending)])
    return p


def text_panel(title: str, content: str, *, w: int = 24, h: int = 4) -> text.Panel:
    return text.Panel().title(title).content(content).mode(TextMode.MARKDOWN).span(w).height(h)


def row(title: str) -> db.Row:
    return db.Row(title)


def value_map(mapping: Mapping[Any, str]) -> ValueMap:
    return ValueMap(options={str(k): ValueMappingResult(text=v) for k, v in mapping.items()})


# ---------------------------------------------------------------------------------------- variables


def variable_regex(pattern: str) -> re.Pattern[str]:
    """Python's reading of a variable's regex, as Grafana (JavaScript) writes it: ``/body/flags`` with
    ``(?<name>...)`` groups. For checks of what a variable offers; Grafana applies the original."""
    body = pattern[1 : pattern.rindex("/")] if pattern.startswith("/") else pattern
    return re.compile(body.replace("(?<", "(?P<").replace("(?P<=", "(?<=").replace("(?P<!", "(?<!"))


def query_result_line(sample: Mapping[str, Any]) -> str:
    """One series of an instant query as Grafana's ``query_result()`` shows it to a variable's regex:
    ``name{label="value", ...} value timestamp`` (labels in Prometheus's order, sorted by name)."""
    metric = dict(sample["metric"])
    name = metric.pop("__name__", "")
    labels = ", ".join(f'{k}="{v}"' for k, v in metric.items())
    ts, value = sample["value"]
    return f"{name}{{{labels}}} {value} {int(float(ts) * 1000)}"


def datasource_variable() -> db.DatasourceVariable:
    return db.DatasourceVariable("datasource").label("Data source").type("prometheus")


def history_variable() -> db.DatasourceVariable:
    """The PostgreSQL data source of the long-range panels (default: the provisioned ``pantau-history``)."""
    return (db.DatasourceVariable("history").label("History store").type(POSTGRES_PLUGIN)
            .description("The history store (PostgreSQL) the long-range panels read."))  # fmt: skip


def query_variable(
    name: str,
    label: str,
    definition: str,
    *,
    multi: bool = False,
    include_all: bool = False,
    hidden: bool = False,
    description: str = "",
    regex: str = "",
) -> db.QueryVariable:
    """A variable filled by ``label_values(...)`` (or ``query_result(...)`` with a ``regex`` whose named
    groups ``text`` and ``value`` pick what is shown and what is used) on the board's data source;
    searchable by typing."""
    v = (
        db.QueryVariable(name).label(label).datasource(DATASOURCE).query(definition)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED).sort(VariableSort.NATURAL_ASC)
        .multi(multi).include_all(include_all)
    )  # fmt: skip
    if include_all:
        v = v.all_value(".*").current(VariableOption(selected=True, text="All", value="$__all"))
    if hidden:
        v = v.hide(VariableHide.HIDE_VARIABLE)
    if description:
        v = v.description(description)
    if regex:
        v = v.regex(regex)
    return v


# ---------------------------------------------------------------------------------------- boards


#: The operational boards' default time range, and the window their panels keep on a long-range board.
OPERATIONAL = ("now-6h", "now")
OPERATIONAL_WINDOW = "6h"
#: A long-range board's default: from the start of the year three years ago to the end of the year in three
#: years (on 2 December 2026: 2023-01-01 .. 2029-12-31, the baseline of 2024 to the 2029 horizon). Both ends
#: are relative so that the board refreshes by itself (Grafana does not auto-refresh an absolute range).
LONG_RANGE = ("now-3y/y", "now+3y/y")


def dashboard(uid: str, title: str, description: str, *, time: tuple[str, str] = OPERATIONAL) -> db.Dashboard:
    return (
        db.Dashboard(title).uid(uid).description(description).tags(TAGS).refresh("30s").time(*time)
        .timezone("browser").tooltip(DashboardCursorSync.CROSSHAIR).readonly()
        .link(db.DashboardLink("Pantau boards").type(DashboardLinkType.DASHBOARDS).tags(TAGS).as_dropdown(True)
              .include_vars(False).keep_time(True))
    )  # fmt: skip


def finalise(board: db.Dashboard, *, operational_window: str | None = None) -> dict[str, Any]:
    """The board as JSON-ready data, with panel ids 1..n and query refIds A, B, ... per panel.

    ``operational_window`` (on a board whose default range spans years): every Prometheus panel shows
    that relative window instead (Grafana's panel ``timeFrom``: the last 6 hours up to now, whatever the
    board's range), so that its instant queries stay at now and its graphs at the recent past.
    """
    data: dict[str, Any] = json.loads(JSONEncoder(sort_keys=True).encode(board.build()))
    next_id = 1
    for panel in iter_panels(data):
        panel["id"] = next_id
        next_id += 1
        for i, target in enumerate(panel.get("targets", [])):
            target["refId"] = target.get("refId") or chr(ord("A") + i)
        if operational_window and panel.get("datasource", {}).get("type") == "prometheus":
            panel["timeFrom"] = operational_window
    return data


def is_sql(target: Mapping[str, Any]) -> bool:
    """Whether a target (of a board's JSON) is a query of the history store, not of Prometheus."""
    return bool(target.get("datasource", {}).get("type") == POSTGRES_PLUGIN)


def iter_panels(board: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every panel of a board, rows and the panels inside collapsed rows included, in order."""
    out: list[dict[str, Any]] = []
    for panel in board.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out
