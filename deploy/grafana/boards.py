"""The Pantau Grafana boards, as code. ``python -m deploy.grafana.build`` writes them to dashboards/.

Every query reads the metrics of services/*/metrics.py or the recording rules of deploy/prometheus/rules;
tests/integration/test_grafana_queries.py runs each of them against a real Prometheus scraping the
real services.

Not on the boards, and why:
- a map of provinces or regions: the repository has no public coordinates or boundaries of the 514
  kab/kota (schemas/data has codes, names, population and area only);
- the weakest indicators of a region: indicators are not metric labels (about 68 per region would
  multiply the series); the Region detail board links to ``pantau scores show`` instead;
- alerts of one region: ``pantau_alerts_firing`` is labelled by province, not region; the Region
  detail board shows the region's gaps to its plan and the alerts firing in its province.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from deploy.grafana.panels import (
    LEVEL_NAMES,
    PER_SECOND,
    RATIO,
    SCORE,
    SECONDS,
    bar_panel,
    dashboard,
    datasource_variable,
    finalise,
    histogram_panel,
    query,
    query_variable,
    row,
    stat_panel,
    table_panel,
    text_panel,
    timeseries_panel,
)
from schemas.regions import default_registry

RATE = "$__rate_interval"
LAG_METRICS = '{__name__=~"pantau_(ingest|scoring|alerts)_consumer_lag_messages"}'
BEHIND = [(None, "green"), (0.000001, "red")]  # a gap above 0 is behind the plan
SCORE_BANDS = [(None, "red"), (1, "orange"), (2, "yellow"), (3, "green"), (4, "blue")]  # the level bands


@cache
def region_names() -> dict[str, str]:
    """Region code -> "code name" for the tables (codes are what the metrics carry)."""
    return {code: f"{code} {r.name}" for code, r in sorted(default_registry().regions.items())}


@cache
def province_names() -> dict[str, str]:
    return {code: f"{code} {p.name}" for code, p in sorted(default_registry().provinces.items())}


# ---------------------------------------------------------------------------------------- National


def national_overview() -> dict[str, Any]:
    b = dashboard(
        "pantau-national",
        "Pantau / National overview",
        "Maturity of the 514 kab/kota on the six smart-city dimensions, against their masterplans.",
    ).with_variable(datasource_variable())

    b = b.with_row(row("Programme"))
    b = b.with_panel(stat_panel(
        "Regions with a maturity index",
        "Kab/kota whose data coverage is above the framework's minimum (of 514). The others are "
        "insufficient data: missing data is never scored as zero.",
        [query("national:pantau_maturity_index:count", "regions", instant=True)],
    ))  # fmt: skip
    b = b.with_panel(stat_panel(
        "National mean maturity index",
        "Mean of the regions' maturity index (0-5), each region counted once.",
        [query("national:pantau_maturity_index:avg", "index", instant=True)],
        unit=SCORE, decimals=2, thresholds=SCORE_BANDS,
    ))  # fmt: skip
    b = b.with_panel(stat_panel(
        "Mean data coverage",
        "Mean share of the framework's indicator weight that has fresh data.",
        [query("national:pantau_maturity_coverage_ratio:avg", "coverage", instant=True)],
        unit=RATIO, decimals=0,
    ))  # fmt: skip
    b = b.with_panel(stat_panel(
        "Regions behind plan",
        "Regions below today's value of their interpolated masterplan path on at least one dimension "
        "or on the index (gap = expected - current > 0).",
        [query("national:pantau_regions_behind_plan:count", "behind", instant=True)],
    ))  # fmt: skip
    b = b.with_panel(stat_panel(
        "Masterplans adopted",
        "Kab/kota with an adopted smart-city masterplan, against the national target for 2029.",
        [query("max(pantau_programme_masterplans_adopted)", "adopted", instant=True),
         query("max(pantau_programme_masterplans_target)", "target 2029", instant=True)],
    ))  # fmt: skip
    b = b.with_panel(stat_panel(
        "Regional alerts firing",
        "Alerts of the alerts service (behind_trajectory, milestone_missed, at_risk, data_stale, "
        "score_drop) firing now, by severity.",
        [query("sum by (severity) (pantau_alerts_firing)", "{{severity}}", instant=True)],
    ))  # fmt: skip

    b = b.with_row(row("Maturity"))
    b = b.with_panel(bar_panel(
        "Regions per maturity level",
        "How many regions are at each level (bands set in the framework). Regions with insufficient "
        "data have no level.",
        [query("level:pantau_maturity_level:count", "{{level}} {{level_name}}", instant=True)],
        min_value=0,
    ))  # fmt: skip
    b = b.with_panel(histogram_panel(
        "Distribution of the maturity index",
        "The maturity index of every region with one, in buckets over 0-5.",
        query("max by (region) (pantau_maturity_index)", "{{region}}", instant=True),
    ))  # fmt: skip
    b = b.with_panel(timeseries_panel(
        "National mean index and dimension scores",
        "Mean maturity index and mean score of each dimension over the regions that have one.",
        [query("national:pantau_maturity_index:avg", "index"),
         query("dimension:pantau_dimension_score:avg", "{{dimension}}")],
        unit=SCORE, w=8, min_value=0, max_value=5,
    ))  # fmt: skip

    b = b.with_row(row("Behind plan"))
    b = b.with_panel(timeseries_panel(
        "Regions behind plan by dimension",
        "Regions below their interpolated masterplan path, per dimension (index = the maturity index's path).",
        [query("dimension:pantau_regions_behind_plan:count", "{{dimension}}")],
        min_value=0,
    ))  # fmt: skip
    b = b.with_panel(table_panel(
        "Largest gaps to the plan",
        "The 20 largest gaps (expected - current score; positive = behind) over all regions and dimensions.",
        [query("topk(20, max by (region, province, dimension) (pantau_milestone_gap))", as_table=True)],
        columns={"region": "Region", "province": "Province", "dimension": "Dimension", "Value": "Gap"},
        mappings={"region": region_names(), "province": province_names()},
        sort_by="Value", w=12,
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
        mappings={"province": province_names()}, sort_by="Value #A", descending=False, h=14,
    ))  # fmt: skip
    b = b.with_panel(text_panel(
        "No map",
        "There is no map of provinces or regions: the repository has no public coordinates or "
        "boundaries for the 514 kab/kota. The table above and the Dimension explorer cover the same ground.",
        h=3,
    ))  # fmt: skip
    return finalise(b)


# ---------------------------------------------------------------------------------------- Region


def region_detail() -> dict[str, Any]:
    r = 'region="$region"'
    b = (
        dashboard("pantau-region", "Pantau / Region detail",
                  "One kab/kota: its index, level and coverage, each dimension against its masterplan path.")
        .with_variable(datasource_variable())
        .with_variable(query_variable(
            "region", "Region", "label_values(pantau_maturity_coverage_ratio, region)",
            description="Kemendagri code of the kab/kota (32.73 = Kota Bandung); type to search.",
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
        w=6, h=4,
    ))  # fmt: skip
    b = b.with_panel(stat_panel(
        "Maturity index", "Weighted mean of the dimension scores (0-5); empty when the data is insufficient.",
        [query(f"max(pantau_maturity_index{{{r}}})", "index", instant=True)],
        unit=SCORE, decimals=2, thresholds=SCORE_BANDS, w=3,
    ))  # fmt: skip
    b = b.with_panel(stat_panel(
        "Maturity level", "Level 1-5, from the framework's bands.",
        [query(f"max(pantau_maturity_level{{{r}}})", "level", instant=True)],
        mappings=LEVEL_NAMES, w=4,
    ))  # fmt: skip
    b = b.with_panel(stat_panel(
        "Coverage", "Share of the framework's indicator weight with fresh data.",
        [query(f"max(pantau_maturity_coverage_ratio{{{r}}})", "coverage", instant=True)],
        unit=RATIO, decimals=0, w=3,
    ))  # fmt: skip
    b = b.with_panel(stat_panel(
        "Index gap to the plan",
        "Today's value on the index's interpolated masterplan path minus the index (positive = behind).",
        [query(f'max(pantau_milestone_gap{{{r}, dimension="index"}})', "gap", instant=True)],
        unit=SCORE, decimals=2, thresholds=BEHIND, w=4,
    ))  # fmt: skip
    b = b.with_panel(stat_panel(
        "Alerts firing in the province",
        "Regional alerts firing in province $province (the alerts metric is labelled by province, not region).",
        [query('sum(pantau_alerts_firing{province="$province"})', "firing", instant=True)],
        w=4,
    ))  # fmt: skip

    b = b.with_row(row("Against the plan"))
    b = b.with_panel(timeseries_panel(
        "Maturity index against the milestone path",
        "The index, today's value on its interpolated masterplan path, and the target of the next milestone.",
        [query(f"max(pantau_maturity_index{{{r}}})", "index"),
         query(f'max(pantau_milestone_expected_score{{{r}, dimension="index"}})', "plan (interpolated path)"),
         query(f'max(pantau_milestone_target{{{r}, dimension="index"}})', "next milestone target")],
        unit=SCORE, min_value=0, max_value=5, w=24,
    ))  # fmt: skip
    dim = timeseries_panel(
        "$dimension against the milestone path",
        "The dimension score, today's value on its interpolated masterplan path, and the target of the "
        "next milestone. One panel per dimension of the framework.",
        [query(f'max(pantau_dimension_score{{{r}, dimension="$dimension"}})', "score"),
         query(f'max(pantau_milestone_expected_score{{{r}, dimension="$dimension"}})', "plan (interpolated path)"),
         query(f'max(pantau_milestone_target{{{r}, dimension="$dimension"}})', "next milestone target")],
        unit=SCORE, min_value=0, max_value=5, w=8,
    ).repeat("dimension").repeat_direction("h").max_per_row(3)  # fmt: skip
    b = b.with_panel(dim)

    b = b.with_row(row("Coverage, gaps and alerts"))
    b = b.with_panel(timeseries_panel(
        "Coverage by dimension", "Share of each dimension's indicator weight with fresh data.",
        [query(f"max by (dimension) (pantau_dimension_coverage_ratio{{{r}}})", "{{dimension}}")],
        unit=RATIO, min_value=0, max_value=1, w=8,
    ))  # fmt: skip
    b = b.with_panel(bar_panel(
        "Dimension scores now", "Each dimension's score (0-5); a missing bar is insufficient data.",
        [query(f"max by (dimension) (pantau_dimension_score{{{r}}})", "{{dimension}}", instant=True)],
        unit=SCORE, min_value=0, max_value=5, decimals=2,
    ))  # fmt: skip
    b = b.with_panel(table_panel(
        "Gap to the plan by dimension",
        "Per dimension (and the index): today's value on the path, the next milestone's target, and the gap "
        "(positive = behind).",
        [query(f"max by (dimension) (pantau_milestone_gap{{{r}}})", as_table=True),
         query(f"max by (dimension) (pantau_milestone_expected_score{{{r}}})", as_table=True),
         query(f"max by (dimension) (pantau_milestone_target{{{r}}})", as_table=True)],
        columns={"dimension": "Dimension", "Value #A": "Gap", "Value #B": "Expected today",
                 "Value #C": "Next milestone target"},
        sort_by="Value #A", w=8, h=8,
    ))  # fmt: skip
    b = b.with_panel(table_panel(
        "Regional alerts in the province",
        "Alerts firing in province $province, by kind and severity (per-region alerts go to the region's head "
        "by webhook and email).",
        [query('sum by (kind, severity) (pantau_alerts_firing{province="$province"})', as_table=True)],
        columns={"kind": "Kind", "severity": "Severity", "Value": "Firing"},
        sort_by="Value", w=12, h=8,
    ))  # fmt: skip
    b = b.with_panel(text_panel(
        "Weakest indicators",
        "Indicator scores are not exported as metrics (about 68 indicators per region would multiply the "
        "series). The indicators that pull this region down, with their values and scores:\n\n"
        "```\npantau scores show $region\n```\n\nor `GET /scores/$region` on the scoring service (port 6066).",
        w=12, h=8,
    ))  # fmt: skip
    return finalise(b)


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

    b = b.with_row(row("$dimension"))
    b = b.with_panel(stat_panel(
        "National mean score", "Mean score of the dimension over the regions that have one.",
        [query(f"dimension:pantau_dimension_score:avg{{{d}}}", "score", instant=True)],
        unit=SCORE, decimals=2, thresholds=SCORE_BANDS, w=6,
    ))  # fmt: skip
    b = b.with_panel(stat_panel(
        "National mean coverage", "Mean share of the dimension's indicator weight with fresh data.",
        [query(f"dimension:pantau_dimension_coverage_ratio:avg{{{d}}}", "coverage", instant=True)],
        unit=RATIO, decimals=0, w=6,
    ))  # fmt: skip
    b = b.with_panel(stat_panel(
        "Regions with a score", "Regions whose coverage of this dimension is enough for a score.",
        [query(f"count(max by (region) (pantau_dimension_score{{{dp}}}))", "regions", instant=True)],
        w=6,
    ))  # fmt: skip
    b = b.with_panel(stat_panel(
        "Regions behind plan", "Regions below their interpolated masterplan path on this dimension.",
        [query(f"dimension:pantau_regions_behind_plan:count{{{d}}}", "behind", instant=True)],
        w=6,
    ))  # fmt: skip

    b = b.with_row(row("By province"))
    b = b.with_panel(bar_panel(
        "Mean score by province", "Mean dimension score of each province's regions.",
        [query(f"province_dimension:pantau_dimension_score:avg{{{dp}}}", "{{province}}", instant=True)],
        unit=SCORE, min_value=0, max_value=5, decimals=2, h=14,
    ))  # fmt: skip
    b = b.with_panel(bar_panel(
        "Coverage by province", "Mean share of the dimension's indicator weight with fresh data, per province.",
        [query(f"province_dimension:pantau_dimension_coverage_ratio:avg{{{dp}}}", "{{province}}", instant=True)],
        unit=RATIO, min_value=0, max_value=1, h=14,
    ))  # fmt: skip
    b = b.with_panel(bar_panel(
        "Regions behind plan by province", "Regions below their masterplan path on this dimension, per province.",
        [query(f"province_dimension:pantau_regions_behind_plan:count{{{dp}}}", "{{province}}", instant=True)],
        min_value=0, h=14,
    ))  # fmt: skip
    b = b.with_panel(timeseries_panel(
        "Mean score by province over time", "Mean dimension score of each province's regions.",
        [query(f"province_dimension:pantau_dimension_score:avg{{{dp}}}", "{{province}}")],
        unit=SCORE, min_value=0, max_value=5, w=24,
    ))  # fmt: skip

    b = b.with_row(row("Regions"))
    b = b.with_panel(bar_panel(
        "Lowest 15 regions", "The 15 regions with the lowest score on this dimension.",
        [query(f"bottomk(15, max by (region) (pantau_dimension_score{{{dp}}}))", "{{region}}", instant=True)],
        unit=SCORE, min_value=0, max_value=5, decimals=2, h=12,
    ))  # fmt: skip
    b = b.with_panel(histogram_panel(
        "Score distribution", "The dimension score of every region with one, in buckets over 0-5.",
        query(f"max by (region) (pantau_dimension_score{{{dp}}})", "{{region}}", instant=True), w=16, h=12,
    ))  # fmt: skip
    b = b.with_panel(table_panel(
        "Regions",
        "Every region of the selected provinces: score, coverage, today's value on its path and the gap "
        "(positive = behind).",
        [query(f"max by (region, province) (pantau_dimension_score{{{dp}}})", as_table=True),
         query(f"max by (region, province) (pantau_dimension_coverage_ratio{{{dp}}})", as_table=True),
         query(f"max by (region, province) (pantau_milestone_expected_score{{{dp}}})", as_table=True),
         query(f"max by (region, province) (pantau_milestone_gap{{{dp}}})", as_table=True)],
        columns={"region": "Region", "province": "Province", "Value #A": "Score", "Value #B": "Coverage",
                 "Value #C": "Expected today", "Value #D": "Gap"},
        mappings={"region": region_names(), "province": province_names()}, sort_by="Value #D", h=16,
    ))  # fmt: skip
    return finalise(b)


# ---------------------------------------------------------------------------------------- Pipeline


def pipeline_health() -> dict[str, Any]:
    b = dashboard(
        "pantau-pipeline", "Pantau / Pipeline health",
        "Ingest, dead letters, scoring, Kafka consumers and notifications. Alerts: deploy/prometheus/runbook.md.",
    ).with_variable(datasource_variable())  # fmt: skip

    b = b.with_row(row("Services"))
    b = b.with_panel(stat_panel(
        "Targets up", "Whether Prometheus scraped each service instance (1 = up).",
        [query('up{job=~"pantau-.*"}', "{{job}} {{instance}}", instant=True)],
        mappings={0: "down", 1: "up"}, thresholds=[(None, "red"), (1, "green")], w=12,
    ))  # fmt: skip
    b = b.with_panel(stat_panel(
        "Regions held per scoring worker", "Regions whose state each scoring worker holds (its partitions).",
        [query("pantau_scoring_regions", "{{instance}}", instant=True)], w=6,
    ))  # fmt: skip
    b = b.with_panel(stat_panel(
        "Pipeline alerts firing", "Alerts of deploy/prometheus/rules/pipeline.alerts.yml firing now.",
        [query('count(ALERTS{alertname=~"Pantau.*", alertstate="firing"}) or vector(0)', "firing", instant=True)],
        thresholds=[(None, "green"), (1, "red")], w=6,
    ))  # fmt: skip

    b = b.with_row(row("Ingest"))
    b = b.with_panel(timeseries_panel(
        "Events accepted by source", "Events written to indicator-events, per intake (http, kafka, csv).",
        [query("source:pantau_ingest_events_accepted:rate5m", "{{source}}")], unit=PER_SECOND, w=8,
    ))  # fmt: skip
    b = b.with_panel(timeseries_panel(
        "Events rejected by reason", "Events refused at the edge, per intake and reason code.",
        [query("source_reason:pantau_ingest_events_rejected:rate5m", "{{source}} {{reason}}")], unit=PER_SECOND, w=8,
    ))  # fmt: skip
    b = b.with_panel(timeseries_panel(
        "HTTP requests by route and status", "Requests to the ingest API per route template and status.",
        [query("route_status:pantau_ingest_requests:rate5m", "{{route}} {{status}}")], unit="reqps", w=8,
    ))  # fmt: skip
    b = b.with_panel(timeseries_panel(
        "HTTP latency p99 by route", "99th percentile of the ingest API's request duration.",
        [query("route:pantau_ingest_request_duration_seconds:p99", "{{route}}")], unit=SECONDS,
    ))  # fmt: skip
    b = b.with_panel(timeseries_panel(
        "Produce latency p99", "From handing records to the producer to the broker's acks (acks=all).",
        [query("job:pantau_ingest_produce_latency_seconds:p99", "p99")], unit=SECONDS,
    ))  # fmt: skip

    b = b.with_row(row("Dead letters"))
    b = b.with_panel(timeseries_panel(
        "Dead letters by service and reason",
        "Records sent to a dead-letter topic, with their reason header. PantauDeadLetterSpike fires on a jump.",
        [query("job_reason:pantau_messages_invalid:rate5m", "{{job}} {{reason}}")], unit=PER_SECOND, w=24,
    ))  # fmt: skip

    b = b.with_row(row("Scoring"))
    b = b.with_panel(timeseries_panel(
        "Scoring events by outcome", "Indicator events applied, per outcome (scored, duplicate, late, ...).",
        [query("outcome:pantau_scoring_events:rate5m", "{{outcome}}")], unit=PER_SECOND, w=8,
    ))  # fmt: skip
    b = b.with_panel(timeseries_panel(
        "Region scores published", "RegionScore records written to region-scores.",
        [query("job:pantau_region_scores_published:rate5m", "published")], unit=PER_SECOND, w=8,
    ))  # fmt: skip
    b = b.with_panel(timeseries_panel(
        "Event-to-score latency",
        "From an event's Kafka timestamp to the region score that includes it; the service level is p99 <= 0.5 s.",
        [query("job:pantau_event_to_score_latency_seconds:p50", "p50"),
         query("job:pantau_event_to_score_latency_seconds:p99", "p99")],
        unit=SECONDS, w=8, thresholds=[(None, "green"), (0.5, "red")],
    ))  # fmt: skip
    b = b.with_panel(timeseries_panel(
        "Record age and state persistence (p99)",
        "Age of the newest record of each fetched batch when applied, and the time to persist changed states.",
        [query(f"histogram_quantile(0.99, sum by (le) (rate(pantau_scoring_record_age_seconds_bucket[{RATE}])))",
               "record age p99"),
         query(f"histogram_quantile(0.99, sum by (le) (rate(pantau_scoring_persist_seconds_bucket[{RATE}])))",
               "persist p99")],
        unit=SECONDS, w=24,
    ))  # fmt: skip

    b = b.with_row(row("Kafka consumers"))
    b = b.with_panel(timeseries_panel(
        "Consumer lag by service and topic", "Messages not yet consumed, summed over partitions.",
        [query("job_topic:pantau_consumer_lag_messages:sum", "{{job}} {{topic}}")],
    ))  # fmt: skip
    b = b.with_panel(timeseries_panel(
        "Consumer lag by partition", "A single growing partition points at a hot region or a stuck worker.",
        [query(f"sum by (job, topic, partition) ({LAG_METRICS})", "{{job}} {{topic}}[{{partition}}]")],
    ))  # fmt: skip

    b = b.with_row(row("Alerts and notifications"))
    b = b.with_panel(timeseries_panel(
        "Notifications by channel and outcome", "Delivery attempts to regional heads, provinces and operations.",
        [query("channel_outcome:pantau_notifications:rate5m", "{{channel}} {{outcome}}")], unit=PER_SECOND, w=8,
    ))  # fmt: skip
    b = b.with_panel(timeseries_panel(
        "Notification failure ratio", "Failed over finished delivery attempts, per channel.",
        [query("channel:pantau_notifications_failed:ratio_rate5m", "{{channel}}")],
        unit=RATIO, min_value=0, max_value=1, w=8,
    ))  # fmt: skip
    b = b.with_panel(timeseries_panel(
        "Notification delivery p99", "From the alert transition to the channel's acknowledgement.",
        [query("channel:pantau_notification_delivery_seconds:p99", "{{channel}}")],
        unit=SECONDS, w=8, thresholds=[(None, "green"), (2, "red")],
    ))  # fmt: skip
    b = b.with_panel(timeseries_panel(
        "Alert transitions", "Regional alert lifecycle transitions written to maturity-alerts, by kind and state.",
        [query(f"sum by (kind, state) (rate(pantau_alert_transitions_total[{RATE}]))", "{{kind}} {{state}}")],
        unit=PER_SECOND,
    ))  # fmt: skip
    b = b.with_panel(timeseries_panel(
        "Regional alerts firing by kind", "Alerts of the alerts service firing, by kind.",
        [query("sum by (kind) (pantau_alerts_firing)", "{{kind}}")],
    ))  # fmt: skip
    return finalise(b)


#: File name (in deploy/grafana/dashboards) -> builder.
BOARDS = {
    "national-overview.json": national_overview,
    "region-detail.json": region_detail,
    "dimension-explorer.json": dimension_explorer,
    "pipeline-health.json": pipeline_health,
}
