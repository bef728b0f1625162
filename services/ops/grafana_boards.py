"""The Pantau Grafana boards, as code. ``pantau grafana build`` writes them to dashboards/.

Every Prometheus query reads the metrics of services/*/metrics.py or the recording rules of
deploy/prometheus/rules; tests/integration/test_grafana_queries.py runs each of them against a real
Prometheus scraping the real services. The National overview and Region detail boards also have
long-range panels on the history store (services/ops/grafana_history.py, SQL on PostgreSQL), checked by
tests/integration/test_grafana_sql.py; their default range spans years (from three years back to the
2029 horizon) and their Prometheus panels keep the last 6 hours.

Not on the boards, and why:
- a map of provinces or regions: the repository has no public coordinates or boundaries of the 514
  kab/kota (schemas/data has codes, names, population and area only);
- the weakest indicators of a region: indicators are not metric labels (about 68 per region would
  multiply the series); the Region detail board links to ``pantau scores show`` instead;
"""

from __future__ import annotations

from functools import cache
from typing import Any

from schemas.programme import FIGURE_USED, default_programme
from schemas.regions import default_registry
from services.ops.grafana_history import national_panels, region_panels
from services.ops.grafana_panels import (
    LEVEL_NAMES,
    LONG_RANGE,
    OPERATIONAL_WINDOW,
    PER_SECOND,
    RATIO,
    SCORE,
    SECONDS,
    Look,
    bar_panel,
    dashboard,
    datasource_variable,
    finalise,
    history_variable,
    query,
    query_variable,
    row,
    stat_panel,
    table_panel,
    text_panel,
    timeseries_panel,
    with_singles,
)

RATE = "$__rate_interval"
LAG_METRICS = '{__name__=~"pantau_(ingest|scoring|alerts|history)_consumer_lag_messages"}'
BEHIND = [(None, "green"), (0.000001, "red")]  # a gap above 0 is behind the plan
SCORE_BANDS = [(None, "red"), (1, "orange"), (2, "yellow"), (3, "green"), (4, "blue")]  # the level bands


@cache
def region_names() -> dict[str, str]:
    """Region code -> "code name" for the tables (codes are what the metrics carry)."""
    return {code: f"{code} {r.name}" for code, r in sorted(default_registry().regions.items())}


@cache
def province_names() -> dict[str, str]:
    return {code: f"{code} {p.name}" for code, p in sorted(default_registry().provinces.items())}


def labelled_table(
    title: str,
    description: str,
    by: str,
    selector: str,
    labels: dict[str, str],
    values: dict[str, str],
    **options: Any,
) -> Any:
    """A table with a row per value of the ``by`` labels and a column per metric (``values``: column title ->
    metric), each read as ``max by (<by>) (<metric>{<selector>})``; ``labels`` titles the label columns."""
    targets = [query(f"max by ({by}) ({metric}{{{selector}}})", as_table=True) for metric in values.values()]
    columns = {**labels, **{f"Value #{chr(ord('A') + i)}": name for i, name in enumerate(values)}}
    return table_panel(title, description, targets, columns=columns, **options)


# ---------------------------------------------------------------------------------------- National

PROGRAMME_STATUS = {
    "masterplan_adopted": "masterplan adopted",
    "cohort_member": "in a cohort, adoption not recorded",
    "not_named": "not named in a published list",
}


def programme_figures() -> str:
    """The text panel on the published figures: what is counted, and the conflicts between sources."""
    prog = default_programme()
    lines = [
        f"**Assisted** is Kominfo's published count of kab/kota assisted ({prog.assisted.cumulative_assisted} "
        f"by {prog.assisted.year}); **known by name** counts the regions a public list names "
        f"({len(prog.named_regions)}: complete lists for "
        f"{', '.join(str(c.year) for c in prog.cohorts if c.named_complete)}, partial for the others). "
        "The named regions are a subset of the assisted, never their total.",
        "",
        f"Conflicting published figures ({FIGURE_USED}):",
        "",
    ]
    lines += [f"- {c.year} {c.field.replace('_', ' ')}: **{c.used}** used, {c.other} also published"
              for c in prog.conflicts]  # fmt: skip
    lines += [f"- an earlier target: {t.cumulative_assisted} kab/kota by {t.year}"
              for t in prog.targets if t is not prog.target]  # fmt: skip
    return "\n".join([*lines, "", "Sources: schemas/data/SOURCES.md; `pantau programme status` prints them."])


def programme_panels(b: Any) -> Any:
    """The Gerakan Menuju Smart City programme: assisted against the target, named regions by cohort,
    each region's status."""
    named = 'pantau_region_programme{cohort_year!="none"}'
    b = b.with_row(row("Gerakan Menuju Smart City"))
    b = b.with_panel(stat_panel(
        "Masterplans: assisted and target",
        "Kab/kota assisted by the programme 2017-2024 (Kominfo's published total), against the target of "
        "masterplans in 263 kab/kota by 2029; and the regions a published list names (a subset of the assisted).",
        [query("max(pantau_programme_assisted_cumulative_regions)", "assisted (published)", instant=True),
         query("max(pantau_programme_masterplans_target)", "target 2029", instant=True),
         query(f"count(max by (region) ({named}))", "known by name", instant=True)],
        Look(w=8, h=6),
    ))  # fmt: skip
    b = b.with_panel(labelled_table(
        "Cohorts", "Per cohort year: kab/kota assisted (published; 2021 counts 7 repeats of earlier "
        "participants), distinct kab/kota assisted since 2017, and those a published list names (partial for "
        "2021-2023). No 2020 cohort is reported.",
        "cohort_year", "", {"cohort_year": "Cohort"},
        {"Assisted": "pantau_programme_assisted_regions",
         "Assisted since 2017": "pantau_programme_assisted_cumulative_regions",
         "Known by name": "pantau_programme_named_regions"},
        sort_by="cohort_year", descending=False, look=Look(w=8, h=6),
    ))  # fmt: skip
    b = b.with_panel(bar_panel(
        "Regions by programme status",
        "Regions with a plan by what their record says: masterplan adopted (the participants named in a "
        "published list, or a region's own file), in a cohort without adoption, not named (which does not mean "
        "not assisted: the lists of 2021-2023 are partial).",
        [query("count by (status) (pantau_region_programme)", "{{status}}", instant=True)],
        Look(w=8, h=6),
    ))  # fmt: skip
    b = b.with_panel(table_panel(
        "Regions in the programme",
        "Every region a published cohort list names (or whose own file states a cohort or an adopted "
        "masterplan), with its first cohort year. Click a column to sort.",
        [query(f"max by (region, province, cohort_year, status) ({named})", as_table=True)],
        columns={"region": "Region", "province": "Province", "cohort_year": "Cohort", "status": "Status"},
        mappings={"region": region_names(), "province": province_names(), "status": PROGRAMME_STATUS},
        sort_by="cohort_year", descending=False, look=Look(w=14, h=10),
    ))  # fmt: skip
    return b.with_panel(text_panel("Programme figures", programme_figures(), w=10, h=10))


def national_overview() -> dict[str, Any]:
    b = (
        dashboard(
            "pantau-national",
            "Pantau / National overview",
            "Maturity of the 514 kab/kota on the six smart-city dimensions, against their masterplans.",
            time=LONG_RANGE,
        )
        .with_variable(datasource_variable())
        .with_variable(history_variable())
    )

    b = with_singles(b.with_row(row("Overview")), [
        ("stat", "Regions with a maturity index",
         "Kab/kota whose data coverage is above the framework's minimum (of 514). The others are insufficient "
         "data: missing data is never scored as zero.",
         "national:pantau_maturity_index:count", "regions", Look()),
        ("stat", "National mean maturity index", "Mean of the regions' maturity index (0-5), each region counted once.",
         "national:pantau_maturity_index:avg", "index", Look(unit=SCORE, decimals=2, thresholds=SCORE_BANDS)),
        ("stat", "Mean data coverage", "Mean share of the framework's indicator weight that has fresh data.",
         "national:pantau_maturity_coverage_ratio:avg", "coverage", Look(unit=RATIO, decimals=0)),
        ("stat", "Regions behind plan",
         "Regions below today's value of their interpolated masterplan path on at least one dimension or on the "
         "index (gap = expected - current > 0).",
         "national:pantau_regions_behind_plan:count", "behind", Look()),
    ])  # fmt: skip
    b = with_singles(b, [
        ("stat", "Regional alerts firing",
         "Alerts of the alerts service (behind_trajectory, milestone_missed, at_risk, data_stale, score_drop) "
         "firing now, by severity.",
         "sum by (severity) (pantau_alerts_firing)", "{{severity}}", Look()),
    ])  # fmt: skip
    b = programme_panels(b)

    b = with_singles(b.with_row(row("Maturity")), [
        ("bar", "Regions per maturity level",
         "How many regions are at each level (bands set in the framework). Regions with insufficient data have "
         "no level.",
         "level:pantau_maturity_level:count", "{{level}} {{level_name}}", Look(min_value=0)),
        ("histogram", "Distribution of the maturity index",
         "The maturity index of every region with one, in buckets over 0-5.",
         "max by (region) (pantau_maturity_index)", "{{region}}", Look()),
    ])  # fmt: skip
    b = b.with_panel(timeseries_panel(
        "National mean index and dimension scores",
        "Mean maturity index and mean score of each dimension over the regions that have one.",
        [query("national:pantau_maturity_index:avg", "index"),
         query("dimension:pantau_dimension_score:avg", "{{dimension}}")],
        Look(unit=SCORE, w=8, min_value=0, max_value=5),
    ))  # fmt: skip
    b = national_panels(b)

    b = with_singles(b.with_row(row("Behind plan")), [
        ("timeseries", "Regions behind plan by dimension",
         "Regions below their interpolated masterplan path, per dimension (index = the maturity index's path).",
         "dimension:pantau_regions_behind_plan:count", "{{dimension}}", Look(min_value=0)),
    ])  # fmt: skip
    b = b.with_panel(table_panel(
        "Largest gaps to the plan",
        "The 20 largest gaps (expected - current score; positive = behind) over all regions and dimensions.",
        [query("topk(20, max by (region, province, dimension) (pantau_milestone_gap))", as_table=True)],
        columns={"region": "Region", "province": "Province", "dimension": "Dimension", "Value": "Gap"},
        mappings={"region": region_names(), "province": province_names()},
        sort_by="Value", look=Look(w=12),
    ))  # fmt: skip

    b = b.with_row(row("By province"))
    b = b.with_panel(table_panel(
        "Provinces",
        "Per province: mean index, regions with an index, mean coverage, regions behind plan and "
        "regional alerts firing. Click a column to sort.",
        [query("province:pantau_maturity_index:avg", as_table=True),
         query("province:pantau_maturity_index:count", as_table=True),
         query("province:pantau_maturity_coverage_ratio:avg", as_table=True),
         query("province:pantau_regions_behind_plan:count", as_table=True),
         query("sum by (province) (pantau_alerts_firing)", as_table=True)],
        columns={"province": "Province", "Value #A": "Mean index", "Value #B": "Regions with an index",
                 "Value #C": "Mean coverage", "Value #D": "Regions behind plan", "Value #E": "Alerts firing"},
        mappings={"province": province_names()}, units={"Value #C": RATIO}, sort_by="Value #A", descending=False,
        look=Look(h=14),
    ))  # fmt: skip
    b = b.with_panel(text_panel(
        "No map",
        "There is no map of provinces or regions: the repository has no public coordinates or "
        "boundaries for the 514 kab/kota. The table above and the Dimension explorer cover the same ground.",
        h=3,
    ))  # fmt: skip
    return finalise(b, operational_window=OPERATIONAL_WINDOW)


# ---------------------------------------------------------------------------------------- Region


def region_detail() -> dict[str, Any]:
    r = 'region="$region"'
    b = (
        dashboard("pantau-region", "Pantau / Region detail",
                  "One kab/kota: its index, level and coverage, each dimension against its masterplan path.",
                  time=LONG_RANGE)
        .with_variable(datasource_variable())
        .with_variable(history_variable())
        .with_variable(query_variable(
            "region", "Region", "query_result(pantau_region_info)",
            # Prometheus returns labels sorted by name, so display comes before region.
            regex='/display="(?<text>[^"]+)".*region="(?<value>[^"]+)"/',
            description="The kab/kota: type part of its name or its Kemendagri code (Bandung, 32.73).",
        ))
        .with_variable(query_variable(
            "province", "Province", 'label_values(pantau_maturity_coverage_ratio{region="$region"}, province)',
            hidden=True,
        ))
        .with_variable(query_variable(
            "dimension", "Dimension", 'label_values(pantau_dimension_coverage_ratio{region="$region"}, dimension)',
            multi=True, include_all=True, hidden=True,
        ))
    )  # fmt: skip

    b = b.with_row(row("$region"))
    b = b.with_panel(table_panel(
        "Region",
        "The region's name and province (from the region registry).",
        [query(f"max by (region, province) (pantau_maturity_coverage_ratio{{{r}}})", as_table=True)],
        columns={"region": "Region", "province": "Province"},
        mappings={"region": region_names(), "province": province_names()},
        look=Look(w=6, h=4),
    ))  # fmt: skip
    b = with_singles(b, [
        ("stat", "Maturity index", "Weighted mean of the dimension scores (0-5); empty when the data is insufficient.",
         f"max(pantau_maturity_index{{{r}}})", "index", Look(unit=SCORE, decimals=2, thresholds=SCORE_BANDS, w=3)),
    ])  # fmt: skip
    b = b.with_panel(stat_panel(
        "Maturity level", "Level 1-5, from the framework's bands.",
        [query(f"max(pantau_maturity_level{{{r}}})", "level", instant=True)],
        Look(w=4), mappings=LEVEL_NAMES,
    ))  # fmt: skip
    b = with_singles(b, [
        ("stat", "Coverage", "Share of the framework's indicator weight with fresh data.",
         f"max(pantau_maturity_coverage_ratio{{{r}}})", "coverage", Look(unit=RATIO, decimals=0, w=3)),
        ("stat", "Index gap to the plan",
         "Today's value on the index's interpolated masterplan path minus the index (positive = behind).",
         f'max(pantau_milestone_gap{{{r}, dimension="index"}})', "gap",
         Look(unit=SCORE, decimals=2, thresholds=BEHIND, w=4)),
        ("stat", "Alerts firing",
         "Alerts firing now for this region (its index and dimensions, every kind).",
         f"sum(pantau_region_alerts_firing{{{r}}}) or vector(0)", "firing", Look(w=4)),
    ])  # fmt: skip

    b = b.with_row(row("Against the plan"))
    b = b.with_panel(timeseries_panel(
        "Maturity index against the milestone path",
        "The index, today's value on its interpolated masterplan path, and the target of the next milestone.",
        [query(f"max(pantau_maturity_index{{{r}}})", "index"),
         query(f'max(pantau_milestone_expected_score{{{r}, dimension="index"}})', "plan (interpolated path)"),
         query(f'max(pantau_milestone_target{{{r}, dimension="index"}})', "next milestone target")],
        Look(unit=SCORE, min_value=0, max_value=5, w=24),
    ))  # fmt: skip
    dim = timeseries_panel(
        "$dimension against the milestone path",
        "The dimension score, today's value on its interpolated masterplan path, and the target of the "
        "next milestone. One panel per dimension of the framework.",
        [query(f'max(pantau_dimension_score{{{r}, dimension="$dimension"}})', "score"),
         query(f'max(pantau_milestone_expected_score{{{r}, dimension="$dimension"}})', "plan (interpolated path)"),
         query(f'max(pantau_milestone_target{{{r}, dimension="$dimension"}})', "next milestone target")],
        Look(unit=SCORE, min_value=0, max_value=5, w=8),
    ).repeat("dimension").repeat_direction("h").max_per_row(3)  # fmt: skip
    b = b.with_panel(dim)
    b = region_panels(b)

    b = with_singles(b.with_row(row("Coverage, gaps and alerts")), [
        ("timeseries", "Coverage by dimension", "Share of each dimension's indicator weight with fresh data.",
         f"max by (dimension) (pantau_dimension_coverage_ratio{{{r}}})", "{{dimension}}",
         Look(unit=RATIO, min_value=0, max_value=1, w=8)),
        ("bar", "Dimension scores now", "Each dimension's score (0-5); a missing bar is insufficient data.",
         f"max by (dimension) (pantau_dimension_score{{{r}}})", "{{dimension}}",
         Look(unit=SCORE, min_value=0, max_value=5, decimals=2)),
    ])  # fmt: skip
    b = b.with_panel(labelled_table(
        "Gap to the plan by dimension",
        "Per dimension (and the index): today's value on the path, the next milestone's target, and the gap "
        "(positive = behind).",
        "dimension", r, {"dimension": "Dimension"},
        {"Gap": "pantau_milestone_gap", "Expected today": "pantau_milestone_expected_score",
         "Next milestone target": "pantau_milestone_target"},
        sort_by="Value #A", look=Look(w=8, h=8),
    ))  # fmt: skip
    b = b.with_panel(table_panel(
        "Active alerts",
        "Alerts firing now for this region: kind, target (the index or a dimension) and severity. Each went "
        "to the region head's office by webhook and email; open alerts with their figures: GET /alerts on "
        "the alerts service (port 6067). A row of 0 means none.",
        [query(f"sum by (kind, target, severity) (pantau_region_alerts_firing{{{r}}}) or vector(0)",
               as_table=True)],
        columns={"kind": "Kind", "target": "Target", "severity": "Severity", "Value": "Firing"},
        sort_by="Value", look=Look(w=12, h=8),
    ))  # fmt: skip
    b = b.with_panel(text_panel(
        "Weakest indicators",
        "Indicator scores are not exported as metrics (about 68 indicators per region would multiply the "
        "series). The indicators that pull this region down, with their values and scores:\n\n"
        "```\npantau scores show $region\n```\n\nor `GET /scores/$region` on the scoring service (port 6066).",
        w=12, h=8,
    ))  # fmt: skip
    return finalise(b, operational_window=OPERATIONAL_WINDOW)


# ---------------------------------------------------------------------------------------- Dimension


def dimension_explorer() -> dict[str, Any]:
    d = 'dimension="$dimension"'
    dp = 'dimension="$dimension", province=~"$province"'
    b = (
        dashboard("pantau-dimension", "Pantau / Dimension explorer",
                  "One dimension across provinces and regions.")
        .with_variable(datasource_variable())
        .with_variable(query_variable(
            "dimension", "Dimension", "label_values(pantau_dimension_coverage_ratio, dimension)",
        ))
        .with_variable(query_variable(
            "province", "Province", f"label_values(pantau_dimension_coverage_ratio{{{d}}}, province)",
            multi=True, include_all=True,
        ))
    )  # fmt: skip
    scores = Look(unit=SCORE, min_value=0, max_value=5, decimals=2, h=14)

    b = with_singles(b.with_row(row("$dimension")), [
        ("stat", "National mean score", "Mean score of the dimension over the regions that have one.",
         f"dimension:pantau_dimension_score:avg{{{d}}}", "score",
         Look(unit=SCORE, decimals=2, thresholds=SCORE_BANDS, w=6)),
        ("stat", "National mean coverage", "Mean share of the dimension's indicator weight with fresh data.",
         f"dimension:pantau_dimension_coverage_ratio:avg{{{d}}}", "coverage", Look(unit=RATIO, decimals=0, w=6)),
        ("stat", "Regions with a score", "Regions whose coverage of this dimension is enough for a score.",
         f"count(max by (region) (pantau_dimension_score{{{dp}}}))", "regions", Look(w=6)),
        ("stat", "Regions behind plan", "Regions below their interpolated masterplan path on this dimension.",
         f"dimension:pantau_regions_behind_plan:count{{{d}}}", "behind", Look(w=6)),
    ])  # fmt: skip

    b = with_singles(b.with_row(row("By province")), [
        ("bar", "Mean score by province", "Mean dimension score of each province's regions.",
         f"province_dimension:pantau_dimension_score:avg{{{dp}}}", "{{province}}", scores),
        ("bar", "Coverage by province", "Mean share of the dimension's indicator weight with fresh data, per province.",
         f"province_dimension:pantau_dimension_coverage_ratio:avg{{{dp}}}", "{{province}}",
         Look(unit=RATIO, min_value=0, max_value=1, h=14)),
        ("bar", "Regions behind plan by province",
         "Regions below their masterplan path on this dimension, per province.",
         f"province_dimension:pantau_regions_behind_plan:count{{{dp}}}", "{{province}}", Look(min_value=0, h=14)),
        ("timeseries", "Mean score by province over time", "Mean dimension score of each province's regions.",
         f"province_dimension:pantau_dimension_score:avg{{{dp}}}", "{{province}}",
         Look(unit=SCORE, min_value=0, max_value=5, w=24)),
    ])  # fmt: skip

    b = with_singles(b.with_row(row("Regions")), [
        ("bar", "Lowest 15 regions", "The 15 regions with the lowest score on this dimension.",
         f"bottomk(15, max by (region) (pantau_dimension_score{{{dp}}}))", "{{region}}",
         Look(unit=SCORE, min_value=0, max_value=5, decimals=2, h=12)),
        ("histogram", "Score distribution", "The dimension score of every region with one, in buckets over 0-5.",
         f"max by (region) (pantau_dimension_score{{{dp}}})", "{{region}}", Look(w=16, h=12)),
    ])  # fmt: skip
    b = b.with_panel(labelled_table(
        "Regions",
        "Every region of the selected provinces: score, coverage, today's value on its path and the gap "
        "(positive = behind).",
        "region, province", dp, {"region": "Region", "province": "Province"},
        {"Score": "pantau_dimension_score", "Coverage": "pantau_dimension_coverage_ratio",
         "Expected today": "pantau_milestone_expected_score", "Gap": "pantau_milestone_gap"},
        mappings={"region": region_names(), "province": province_names()}, units={"Value #B": RATIO},
        sort_by="Value #D", look=Look(h=16),
    ))  # fmt: skip
    return finalise(b)


# ---------------------------------------------------------------------------------------- Pipeline


#: Single-query time series of the Pipeline health board, by row:
#: (title, description, expr, legend, unit, width).
PIPELINE_SERIES: dict[str, list[tuple[str, str, str, str, str, int]]] = {
    "Ingest": [
        ("Events accepted by source", "Events written to indicator-events, per intake (http, kafka, csv).",
         "source:pantau_ingest_events_accepted:rate5m", "{{source}}", PER_SECOND, 8),
        ("Events rejected by reason", "Events refused at the edge, per intake and reason code.",
         "source_reason:pantau_ingest_events_rejected:rate5m", "{{source}} {{reason}}", PER_SECOND, 8),
        ("HTTP requests by route and status", "Requests to the ingest API per route template and status.",
         "route_status:pantau_ingest_requests:rate5m", "{{route}} {{status}}", "reqps", 8),
        ("HTTP latency p99 by route", "99th percentile of the ingest API's request duration.",
         "route:pantau_ingest_request_duration_seconds:p99", "{{route}}", SECONDS, 12),
        ("Produce latency p99", "From handing records to the producer to the broker's acks (acks=all).",
         "job:pantau_ingest_produce_latency_seconds:p99", "p99", SECONDS, 12),
    ],
    "Dead letters": [
        ("Dead letters by service and reason",
         "Records sent to a dead-letter topic, with their reason header. PantauDeadLetterSpike fires on a jump.",
         "job_reason:pantau_messages_invalid:rate5m", "{{job}} {{reason}}", PER_SECOND, 24),
    ],
    "Scoring": [
        ("Scoring events by outcome", "Indicator events applied, per outcome (scored, duplicate, late, ...).",
         "outcome:pantau_scoring_events:rate5m", "{{outcome}}", PER_SECOND, 8),
        ("Region scores published", "RegionScore records written to region-scores.",
         "job:pantau_region_scores_published:rate5m", "published", PER_SECOND, 8),
    ],
    "Kafka consumers": [
        ("Consumer lag by service and topic", "Messages not yet consumed, summed over partitions.",
         "job_topic:pantau_consumer_lag_messages:sum", "{{job}} {{topic}}", "short", 12),
        ("Consumer lag by partition", "A single growing partition points at a hot region or a stuck worker.",
         f"sum by (job, topic, partition) ({LAG_METRICS})", "{{job}} {{topic}}[{{partition}}]", "short", 12),
    ],
    "Alerts and notifications": [
        ("Notifications by channel and outcome", "Delivery attempts to regional heads, provinces and operations.",
         "channel_outcome:pantau_notifications:rate5m", "{{channel}} {{outcome}}", PER_SECOND, 8),
        ("Alert transitions", "Regional alert lifecycle transitions written to maturity-alerts, by kind and state.",
         f"sum by (kind, state) (rate(pantau_alert_transitions_total[{RATE}]))", "{{kind}} {{state}}", PER_SECOND, 8),
        ("Regional alerts firing by kind", "Alerts of the alerts service firing, by kind.",
         "sum by (kind) (pantau_alerts_firing)", "{{kind}}", "short", 8),
    ],
}  # fmt: skip


def pipeline_health() -> dict[str, Any]:
    b = dashboard(
        "pantau-pipeline", "Pantau / Pipeline health",
        "Ingest, dead letters, scoring, Kafka consumers and notifications. Alerts: deploy/prometheus/runbook.md.",
    ).with_variable(datasource_variable())  # fmt: skip

    b = b.with_row(row("Services"))
    b = b.with_panel(stat_panel(
        "Targets up", "Whether Prometheus scraped each service instance (1 = up).",
        [query('up{job=~"pantau-.*"}', "{{job}} {{instance}}", instant=True)],
        mappings={0: "down", 1: "up"}, look=Look(thresholds=[(None, "red"), (1, "green")], w=12),
    ))  # fmt: skip
    b = b.with_panel(stat_panel(
        "Regions held per scoring worker", "Regions whose state each scoring worker holds (its partitions).",
        [query("pantau_scoring_regions", "{{instance}}", instant=True)], look=Look(w=6),
    ))  # fmt: skip
    b = b.with_panel(stat_panel(
        "Pipeline alerts firing", "Alerts of deploy/prometheus/rules/pipeline.alerts.yml firing now.",
        [query('count(ALERTS{alertname=~"Pantau.*", alertstate="firing"}) or vector(0)', "firing", instant=True)],
        look=Look(thresholds=[(None, "green"), (1, "red")], w=6),
    ))  # fmt: skip

    for section, series in PIPELINE_SERIES.items():
        b = b.with_row(row(section))
        b = with_singles(b, [("timeseries", t, desc, expr, legend, Look(unit=unit, w=w))
                             for t, desc, expr, legend, unit, w in series])  # fmt: skip
        if section == "Scoring":
            b = b.with_panel(timeseries_panel(
                "Event-to-score latency",
                "From an event's Kafka timestamp to the region score that includes it; the service level is "
                "p99 <= 0.5 s.",
                [query("job:pantau_event_to_score_latency_seconds:p50", "p50"),
                 query("job:pantau_event_to_score_latency_seconds:p99", "p99")],
                look=Look(unit=SECONDS, w=8, thresholds=[(None, "green"), (0.5, "red")]),
            ))  # fmt: skip
            b = b.with_panel(timeseries_panel(
                "Record age and state persistence (p99)",
                "Age of the newest record of each fetched batch when applied, and the time to persist changed states.",
                [query(_p99("pantau_scoring_record_age_seconds"), "record age p99"),
                 query(_p99("pantau_scoring_persist_seconds"), "persist p99")],
                look=Look(unit=SECONDS, w=24),
            ))  # fmt: skip
        if section == "Alerts and notifications":
            b = b.with_panel(timeseries_panel(
                "Notification failure ratio", "Failed over finished delivery attempts, per channel.",
                [query("channel:pantau_notifications_failed:ratio_rate5m", "{{channel}}")],
                look=Look(unit=RATIO, min_value=0, max_value=1, w=12),
            ))  # fmt: skip
            b = b.with_panel(timeseries_panel(
                "Notification delivery p99", "From the alert transition to the channel's acknowledgement.",
                [query("channel:pantau_notification_delivery_seconds:p99", "{{channel}}")],
                look=Look(unit=SECONDS, w=12, thresholds=[(None, "green"), (2, "red")]),
            ))  # fmt: skip
            b = b.with_panel(timeseries_panel(
                "Notifications waiting for a later delivery",
                "Notifications some destination did not get after all retries; the alerts service sends them "
                "again (ALERTS_REDELIVER_AFTER, doubling) for up to ALERTS_REDELIVER_FOR, then abandons them.",
                [query("sum(pantau_alerts_undelivered_notifications)", "waiting"),
                 query(f"sum by (result) (increase(pantau_alerts_redeliveries_total[{RATE}]))", "{{result}}")],
                look=Look(unit="short", min_value=0, w=24),
            ))  # fmt: skip
    return finalise(b)


def _p99(histogram: str) -> str:
    return f"histogram_quantile(0.99, sum by (le) (rate({histogram}_bucket[{RATE}])))"


#: File name (in deploy/grafana/dashboards) -> builder.
BOARDS = {
    "national-overview.json": national_overview,
    "region-detail.json": region_detail,
    "dimension-explorer.json": dimension_explorer,
    "pipeline-health.json": pipeline_health,
}
