"""Unit tests of the scoring math (services/scoring/domain), expected values worked out by hand
from docs/scoring.md."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.events import IndicatorEvent
from schemas.framework import Framework, Indicator, load_framework, parse_framework
from schemas.scores import IndicatorScore, RegionScore, ScoreStatus
from services.scoring.domain import (
    Outcome,
    RegionState,
    apply_reading,
    normalise,
    reading_from_event,
    score_region,
    to_micros,
    weakest_indicators,
)
from services.scoring.domain.state import bucket_width
from tests.builders import an_indicator_doc, an_indicator_event, framework_doc

T = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # evaluation time of the hand-worked region
LATENESS = timedelta(minutes=5)  # the documented default of SCORING_ALLOWED_LATENESS
LATENESS_US = 5 * 60 * 1_000_000
HOUR_US = 3_600 * 1_000_000
REGION = "32.73"  # Kota Bandung

LEVELS = [
    {"level": 1, "name": "Rintisan", "min_score": 0},
    {"level": 2, "name": "Terkelola", "min_score": 1},
    {"level": 3, "name": "Terdefinisi", "min_score": 2},
    {"level": 4, "name": "Terpadu dan Terukur", "min_score": 3},
    {"level": 5, "name": "Optimum", "min_score": 4},
]


# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------


def an_indicator(
    norm: dict[str, Any], direction: str = "higher_is_better", agg: dict[str, Any] | None = None
) -> Indicator:
    return Indicator.model_validate(
        an_indicator_doc("X_TEST", norm=norm, agg=agg or {"method": "latest"}, direction=direction)
    )


def one_element_framework(*indicators: dict[str, Any], minimum_coverage: float = 0.5) -> Framework:
    dims = [
        {
            "id": "governance",
            "name": "Governance",
            "elements": [{"id": "public_services", "name": "Public services", "indicators": list(indicators)}],
        }
    ]
    return parse_framework(framework_doc(minimum_coverage=minimum_coverage, levels=LEVELS, dimensions=dims))


def ev(ind_id: str, value: float, at: datetime, event_id: uuid.UUID | None = None) -> IndicatorEvent:
    return an_indicator_event(indicator_id=ind_id, value=value, observed_at=at, event_id=event_id or uuid.uuid4())


def apply(
    state: RegionState,
    fw: Framework,
    event: IndicatorEvent,
    lateness_us: int = LATENESS_US,
    source: tuple[int, int] | None = None,
) -> Outcome:
    return apply_reading(state, reading_from_event(event), fw.indicator(event.indicator_id), lateness_us, source)


def feed(state: RegionState, fw: Framework, events: Iterable[IndicatorEvent]) -> list[Outcome]:
    return [apply(state, fw, e) for e in events]


def by_id(score: RegionScore) -> dict[str, IndicatorScore]:
    return {i.indicator_id: i for i in score.indicators}


def micros(dt: datetime) -> int:
    """Epoch microseconds, worked out independently of the code under test (whole seconds only)."""
    return int(dt.timestamp()) * 1_000_000


# --------------------------------------------------------------------------------------------
# 1. Normalisation
# --------------------------------------------------------------------------------------------

MIN_MAX = {"method": "min_max", "min": 90, "max": 100}
MIN_MAX_LOW = {"method": "min_max", "min": 2, "max": 30}
TARGET = {"method": "target", "target": 24}
THRESH_UP = {"method": "thresholds", "thresholds": [1.0, 1.8, 2.6, 3.5, 4.2]}
THRESH_DOWN = {"method": "thresholds", "thresholds": [10, 8, 6, 4.5, 3]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (85.0, 0.0),  # 5 * (85 - 90) / 10 = -2.5 -> clipped to 0
        (90.0, 0.0),  # 5 * (90 - 90) / 10
        (92.0, 1.0),  # 5 * (92 - 90) / 10
        (95.0, 2.5),  # 5 * (95 - 90) / 10
        (100.0, 5.0),  # 5 * (100 - 90) / 10
        (120.0, 5.0),  # 5 * (120 - 90) / 10 = 15 -> clipped to 5
    ],
)
def test_min_max_higher_is_better(value: float, expected: float) -> None:
    assert normalise(an_indicator(MIN_MAX), value) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, 5.0),  # 5 * (30 - 0) / 28 = 5.36 -> clipped to 5
        (2.0, 5.0),  # 5 * (30 - 2) / 28
        (9.0, 3.75),  # 5 * (30 - 9) / 28 = 5 * 21 / 28
        (16.0, 2.5),  # 5 * (30 - 16) / 28
        (30.0, 0.0),  # 5 * (30 - 30) / 28
        (40.0, 0.0),  # 5 * (30 - 40) / 28 < 0 -> clipped to 0
    ],
)
def test_min_max_lower_is_better(value: float, expected: float) -> None:
    assert normalise(an_indicator(MIN_MAX_LOW, "lower_is_better"), value) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-5.0, 0.0),  # v <= 0 -> 0
        (0.0, 0.0),  # v <= 0 -> 0
        (6.0, 1.25),  # 5 * min(6 / 24, 1)
        (12.0, 2.5),  # 5 * min(12 / 24, 1)
        (24.0, 5.0),  # 5 * min(24 / 24, 1)
        (48.0, 5.0),  # 5 * min(48 / 24, 1) -> capped at 5
    ],
)
def test_target_higher_is_better(value: float, expected: float) -> None:
    assert normalise(an_indicator(TARGET), value) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-3.0, 5.0),  # v <= t -> 5
        (0.0, 5.0),  # v <= t -> 5
        (12.0, 5.0),  # v <= t -> 5
        (24.0, 5.0),  # v == t -> 5
        (48.0, 2.5),  # 5 * 24 / 48
        (96.0, 1.25),  # 5 * 24 / 96
    ],
)
def test_target_lower_is_better(value: float, expected: float) -> None:
    assert normalise(an_indicator(TARGET, "lower_is_better"), value) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-1.0, 0.0),  # none of 1.0, 1.8, 2.6, 3.5, 4.2 met
        (0.99, 0.0),  # just below the first threshold
        (1.0, 1.0),  # exactly t1 counts (v >= t)
        (1.79, 1.0),
        (1.8, 2.0),  # exactly t2
        (2.6, 3.0),  # exactly t3
        (3.5, 4.0),  # exactly t4
        (4.19, 4.0),
        (4.2, 5.0),  # exactly t5
        (100.0, 5.0),
    ],
)
def test_thresholds_higher_is_better(value: float, expected: float) -> None:
    assert normalise(an_indicator(THRESH_UP), value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (11.0, 0.0),  # none of 10, 8, 6, 4.5, 3 met (v <= t)
        (10.01, 0.0),
        (10.0, 1.0),  # exactly t1 counts
        (9.99, 1.0),
        (8.0, 2.0),  # exactly t2
        (6.0, 3.0),  # exactly t3
        (5.0, 3.0),  # 5 <= 10, 8, 6
        (4.5, 4.0),  # exactly t4
        (3.01, 4.0),
        (3.0, 5.0),  # exactly t5
        (0.0, 5.0),
    ],
)
def test_thresholds_lower_is_better(value: float, expected: float) -> None:
    assert normalise(an_indicator(THRESH_DOWN, "lower_is_better"), value) == expected


# --------------------------------------------------------------------------------------------
# 2. A whole region worked out by hand
# --------------------------------------------------------------------------------------------

P1D_MEAN = {"method": "mean", "window": "P1D"}


def hand_framework() -> Framework:
    """Three dimensions, weighted elements and indicators, every normalisation and direction."""
    dims = [
        {
            "id": "governance",
            "name": "Governance",
            "weight": 2,
            "elements": [
                {
                    "id": "public_services",
                    "name": "Public services",
                    "weight": 2,
                    "indicators": [
                        an_indicator_doc("GOV_UPTIME", weight=1.5, norm={"method": "min_max", "min": 90, "max": 100},
                                agg=P1D_MEAN),
                        an_indicator_doc("GOV_RESPONSE_HOURS", direction="lower_is_better",
                                norm={"method": "target", "target": 24},
                                agg={"method": "max", "window": "P1D"}),
                    ],
                },
                {
                    "id": "bureaucracy",
                    "name": "Bureaucracy",
                    "weight": 1,
                    "indicators": [
                        an_indicator_doc("GOV_SPBE_INDEX", weight=3, norm=THRESH_UP, agg={"method": "latest"},
                                validity="P730D"),
                        an_indicator_doc("GOV_RB_INDEX", norm={"method": "min_max", "min": 30, "max": 90},
                                agg={"method": "latest"}, validity="P365D"),
                    ],
                },
            ],
        },
        {
            "id": "economy",
            "name": "Economy",
            "weight": 1,
            "elements": [
                {
                    "id": "welfare",
                    "name": "Welfare",
                    "weight": 1,
                    "indicators": [
                        an_indicator_doc("IPM", weight=2, norm={"method": "min_max", "min": 55, "max": 85},
                                agg={"method": "latest"}, validity="P730D"),
                        an_indicator_doc("P0", direction="lower_is_better", norm=MIN_MAX_LOW,
                                agg={"method": "latest"}, validity="P730D"),
                    ],
                },
                {
                    "id": "financial_ecosystem",
                    "name": "Financial ecosystem",
                    "weight": 2,
                    "indicators": [
                        an_indicator_doc("ECO_PERMITS", norm={"method": "target", "target": 10},
                                agg={"method": "sum", "window": "P30D"}, validity="P31D"),
                        an_indicator_doc("ECO_UNEMPLOYMENT_RATE", direction="lower_is_better", norm=THRESH_DOWN,
                                agg={"method": "latest"}, validity="P730D"),
                    ],
                },
            ],
        },
        {
            "id": "environment",
            "name": "Environment",
            "weight": 1,
            "elements": [
                {
                    "id": "air_quality",
                    "name": "Air quality",
                    "weight": 1,
                    "indicators": [
                        an_indicator_doc("ENV_PM25", weight=2, direction="lower_is_better",
                                norm={"method": "min_max", "min": 5, "max": 55}, agg=P1D_MEAN),
                        an_indicator_doc("ENV_NO2", direction="lower_is_better",
                                norm={"method": "target", "target": 40},
                                agg={"method": "min", "window": "P1D"}),
                    ],
                },
                {
                    "id": "water",
                    "name": "Water",
                    "weight": 2,
                    "indicators": [
                        an_indicator_doc("ENV_WATER_ACCESS", norm={"method": "thresholds",
                                                          "thresholds": [50, 70, 85, 95, 99]},
                                agg={"method": "latest"}, validity="P730D"),
                    ],
                },
            ],
        },
    ]  # fmt: skip
    return parse_framework(framework_doc(minimum_coverage=0.6, levels=LEVELS, dimensions=dims))


def hand_events() -> list[IndicatorEvent]:
    h = timedelta(hours=1)
    d = timedelta(days=1)
    events = [
        ev("GOV_UPTIME", 95, T - 2 * h),
        ev("GOV_UPTIME", 99, T - 1 * h),
        ev("GOV_RESPONSE_HOURS", 30, T - 3 * h),
        ev("GOV_RESPONSE_HOURS", 48, T - timedelta(minutes=30)),
        ev("GOV_SPBE_INDEX", 3.5, T - 100 * d),
        ev("GOV_RB_INDEX", 60, T - 400 * d),  # older than its validity (365 days): stale
        ev("IPM", 73, T - 300 * d),
        ev("P0", 9, T - 300 * d),
        ev("ECO_PERMITS", 5, T - 31 * d),  # its bucket starts before T - 30 days: outside the window
        ev("ECO_PERMITS", 3, T - 20 * d),
        ev("ECO_PERMITS", 4, T - 10 * d),
        ev("ECO_PERMITS", 1, T - 1 * d),
        ev("ECO_UNEMPLOYMENT_RATE", 5.0, T - 200 * d),
        ev("ENV_PM25", 20, T - 5 * h),
        ev("ENV_PM25", 30, T - 4 * h),
        # observed 23h30 before T, but its 1-hour bucket starts at T - 24h, not in (T - 24h, T]
        ev("ENV_NO2", 10, T - d + timedelta(minutes=30)),
        ev("ENV_NO2", 80, T - 6 * h),
        ev("ENV_NO2", 50, T - 2 * h),
    ]
    return sorted(events, key=lambda e: e.observed_at)


def test_hand_worked_region() -> None:
    fw = hand_framework()
    state = RegionState()
    outcomes = feed(state, fw, hand_events())
    assert outcomes == [Outcome.SCORED] * 18
    score = score_region(state, fw, REGION, T)
    inds = by_id(score)

    # --- indicators
    assert inds["GOV_UPTIME"].value == pytest.approx(97.0)  # mean(95, 99)
    assert inds["GOV_UPTIME"].score == pytest.approx(3.5)  # 5 * (97 - 90) / 10
    assert inds["GOV_UPTIME"].observed_at == T - timedelta(hours=1)
    assert inds["GOV_RESPONSE_HOURS"].value == pytest.approx(48.0)  # max(30, 48)
    assert inds["GOV_RESPONSE_HOURS"].score == pytest.approx(2.5)  # 5 * 24 / 48
    assert inds["GOV_SPBE_INDEX"].score == pytest.approx(4.0)  # 3.5 meets 1.0, 1.8, 2.6, 3.5
    assert inds["GOV_RB_INDEX"].value == pytest.approx(60.0)
    assert inds["GOV_RB_INDEX"].score == pytest.approx(2.5)  # 5 * (60 - 30) / 60, but stale:
    assert inds["GOV_RB_INDEX"].fresh is False
    assert inds["IPM"].score == pytest.approx(3.0)  # 5 * (73 - 55) / 30
    assert inds["P0"].score == pytest.approx(3.75)  # 5 * (30 - 9) / 28
    assert inds["ECO_PERMITS"].value == pytest.approx(8.0)  # 3 + 4 + 1 (the 5 is outside the window)
    assert inds["ECO_PERMITS"].score == pytest.approx(4.0)  # 5 * min(8 / 10, 1)
    assert inds["ECO_UNEMPLOYMENT_RATE"].score == pytest.approx(3.0)  # 5.0 <= 10, 8, 6
    assert inds["ENV_PM25"].value == pytest.approx(25.0)  # mean(20, 30)
    assert inds["ENV_PM25"].score == pytest.approx(3.0)  # 5 * (55 - 25) / 50
    assert inds["ENV_NO2"].value == pytest.approx(50.0)  # min(80, 50); the 10 is outside the window
    assert inds["ENV_NO2"].score == pytest.approx(4.0)  # 5 * 40 / 50
    water = inds["ENV_WATER_ACCESS"]
    assert (water.value, water.score, water.observed_at, water.fresh) == (None, None, None, False)
    fresh = {i for i, s in inds.items() if s.fresh}
    assert fresh == set(inds) - {"GOV_RB_INDEX", "ENV_WATER_ACCESS"}

    dims = {d.dimension_id: d for d in score.dimensions}
    els = {e.element_id: e for d in score.dimensions for e in d.elements}

    # --- elements
    assert els["public_services"].coverage == pytest.approx(1.0)  # 2.5 / 2.5
    assert els["public_services"].score == pytest.approx(3.1)  # (1.5*3.5 + 1*2.5) / 2.5
    assert els["public_services"].status is ScoreStatus.OK
    assert els["bureaucracy"].coverage == pytest.approx(0.75)  # 3 / (3 + 1): RB is stale
    assert els["bureaucracy"].score == pytest.approx(4.0)  # (3*4) / 3, stale RB left out
    assert els["bureaucracy"].status is ScoreStatus.OK
    assert els["welfare"].coverage == pytest.approx(1.0)
    assert els["welfare"].score == pytest.approx(3.25)  # (2*3.0 + 1*3.75) / 3
    assert els["welfare"].status is ScoreStatus.OK
    assert els["financial_ecosystem"].coverage == pytest.approx(1.0)
    assert els["financial_ecosystem"].score == pytest.approx(3.5)  # (1*4.0 + 1*3.0) / 2
    assert els["financial_ecosystem"].status is ScoreStatus.OK
    assert els["air_quality"].coverage == pytest.approx(1.0)
    assert els["air_quality"].score == pytest.approx(10 / 3)  # (2*3.0 + 1*4.0) / 3
    assert els["air_quality"].status is ScoreStatus.OK
    assert els["water"].coverage == pytest.approx(0.0)  # no reading at all
    assert els["water"].score is None
    assert els["water"].status is ScoreStatus.INSUFFICIENT_DATA

    # --- dimensions
    assert dims["governance"].coverage == pytest.approx(2.75 / 3)  # (2*1.0 + 1*0.75) / 3
    assert dims["governance"].score == pytest.approx(3.4)  # (2*3.1 + 1*4.0) / 3
    assert dims["governance"].status is ScoreStatus.OK
    assert dims["economy"].coverage == pytest.approx(1.0)  # (1*1 + 2*1) / 3
    assert dims["economy"].score == pytest.approx(10.25 / 3)  # (1*3.25 + 2*3.5) / 3
    assert dims["economy"].status is ScoreStatus.OK
    assert dims["environment"].coverage == pytest.approx(1 / 3)  # (1*1.0 + 2*0.0) / 3 < 0.6
    assert dims["environment"].score is None  # air_quality is ok, but the dimension lacks coverage
    assert dims["environment"].status is ScoreStatus.INSUFFICIENT_DATA

    # --- index: environment is left out of the score but counts in coverage
    assert score.coverage == pytest.approx(38 / 48)  # (2*(11/12) + 1*1 + 1*(1/3)) / 4
    assert score.index == pytest.approx((2 * 3.4 + 10.25 / 3) / 3)  # (2*3.4 + 1*3.41667) / 3 = 3.4056
    assert score.status is ScoreStatus.OK
    assert score.level == 4  # 3 <= 3.4056 < 4
    assert score.level_name == "Terpadu dan Terukur"
    assert score.region_code == REGION
    assert score.province_code == "32"
    assert score.framework == "tiny@1"
    assert score.evaluated_at == T
    assert score.events_applied == 18


def test_region_below_minimum_coverage_has_no_index() -> None:
    fw = hand_framework()
    state = RegionState()
    # Only environment's air quality: index coverage (1*(1/3)) / 4 = 1/12 < 0.6
    feed(state, fw, [ev("ENV_PM25", 20, T - timedelta(hours=1)), ev("ENV_NO2", 50, T - timedelta(hours=1))])
    score = score_region(state, fw, REGION, T)
    assert score.coverage == pytest.approx(1 / 12)
    assert score.index is None
    assert score.status is ScoreStatus.INSUFFICIENT_DATA
    assert (score.level, score.level_name) == (None, None)


def test_freshness_boundary_is_inclusive() -> None:
    fw = one_element_framework(
        an_indicator_doc("GOV_RB_INDEX", norm={"method": "min_max", "min": 30, "max": 90}, agg={"method": "latest"},
                validity="P10D"),
    )  # fmt: skip
    state = RegionState()
    feed(state, fw, [ev("GOV_RB_INDEX", 60, T - timedelta(days=10))])
    # T - newest == validity: still fresh
    assert by_id(score_region(state, fw, REGION, T))["GOV_RB_INDEX"].fresh is True
    # one microsecond later: stale, and the element loses its only indicator
    later = score_region(state, fw, REGION, T + timedelta(microseconds=1))
    assert by_id(later)["GOV_RB_INDEX"].fresh is False
    assert later.dimensions[0].elements[0].coverage == 0.0
    assert later.dimensions[0].elements[0].score is None


# --------------------------------------------------------------------------------------------
# 3. Rolling windows
# --------------------------------------------------------------------------------------------

T_HALF = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)  # not on a bucket boundary
MINMAX_0_100 = {"method": "min_max", "min": 0, "max": 100}


def window_framework() -> Framework:
    return one_element_framework(
        *[an_indicator_doc(f"W_{m.upper()}", norm=MINMAX_0_100, agg={"method": m, "window": "P1D"})
          for m in ("mean", "sum", "min", "max")]
    )  # fmt: skip


def window_readings(ind_id: str) -> list[IndicatorEvent]:
    return [
        # 23h45 before T_HALF, but its bucket starts at 12:00 the day before = T_HALF - 24h30: out
        ev(ind_id, 100.0, datetime(2026, 11, 26, 12, 45, tzinfo=UTC)),
        ev(ind_id, 4.0, datetime(2026, 11, 26, 13, 0, tzinfo=UTC)),  # bucket 13:00 > T_HALF - 24h: in
        ev(ind_id, 10.0, datetime(2026, 11, 27, 6, 15, tzinfo=UTC)),
        ev(ind_id, 1.0, datetime(2026, 11, 27, 12, 20, tzinfo=UTC)),  # bucket 12:00 <= T_HALF: in
    ]


def test_bucket_width_is_a_24th_of_the_window() -> None:
    assert bucket_width(to_micros(timedelta(days=1))) == HOUR_US  # 24h / 24
    assert bucket_width(to_micros(timedelta(days=30))) == 30 * HOUR_US  # 30d / 24 = 30h
    assert bucket_width(to_micros(timedelta(hours=1))) == 150 * 1_000_000  # 3600 s / 24 = 150 s


def test_readings_land_in_epoch_aligned_buckets() -> None:
    fw = window_framework()
    state = RegionState()
    extra = ev("W_SUM", 2.0, datetime(2026, 11, 27, 6, 59, 59, tzinfo=UTC))
    readings = sorted([*window_readings("W_SUM"), extra], key=lambda e: e.observed_at)
    assert feed(state, fw, readings) == [Outcome.SCORED] * 5
    buckets = state.series["W_SUM"].buckets
    assert set(buckets) == {
        micros(datetime(2026, 11, 26, 12, 0, tzinfo=UTC)),
        micros(datetime(2026, 11, 26, 13, 0, tzinfo=UTC)),
        micros(datetime(2026, 11, 27, 6, 0, tzinfo=UTC)),
        micros(datetime(2026, 11, 27, 12, 0, tzinfo=UTC)),
    }
    six = buckets[micros(datetime(2026, 11, 27, 6, 0, tzinfo=UTC))]
    assert six.count == 2  # 06:15 and 06:59:59 share the 06:00 bucket
    assert (six.lo, six.hi) == (2.0, 10.0)
    assert six.newest == micros(datetime(2026, 11, 27, 6, 59, 59, tzinfo=UTC))


def test_window_values_by_hand() -> None:
    fw = window_framework()
    state = RegionState()
    for m in ("MEAN", "SUM", "MIN", "MAX"):
        feed(state, fw, window_readings(f"W_{m}"))
    inds = by_id(score_region(state, fw, REGION, T_HALF))
    # covered: 4.0, 10.0, 1.0; the 100.0 is in a bucket starting before T_HALF - 24h
    assert inds["W_MEAN"].value == pytest.approx(5.0)  # (4 + 10 + 1) / 3
    assert inds["W_MEAN"].score == pytest.approx(0.25)  # 5 * (5 - 0) / 100
    assert inds["W_SUM"].value == pytest.approx(15.0)  # 4 + 10 + 1
    assert inds["W_SUM"].score == pytest.approx(0.75)  # 5 * 15 / 100
    assert inds["W_MIN"].value == pytest.approx(1.0)
    assert inds["W_MIN"].score == pytest.approx(0.05)  # 5 * 1 / 100
    assert inds["W_MAX"].value == pytest.approx(10.0)
    assert inds["W_MAX"].score == pytest.approx(0.5)  # 5 * 10 / 100
    for s in inds.values():
        assert s.fresh is True
        assert s.observed_at == datetime(2026, 11, 27, 12, 20, tzinfo=UTC)  # newest reading used


def test_window_moves_in_steps_of_a_bucket() -> None:
    fw = window_framework()
    state = RegionState()
    for m in ("MEAN", "SUM", "MIN", "MAX"):
        feed(state, fw, window_readings(f"W_{m}"))
    # Up to 12:59:59.999999 the window is the same as at 12:30 ...
    just_before = by_id(score_region(state, fw, REGION, datetime(2026, 11, 27, 12, 59, 59, 999999, tzinfo=UTC)))
    assert just_before["W_SUM"].value == pytest.approx(15.0)  # 4 + 10 + 1
    # ... at 13:00 the bucket starting at 13:00 the day before = T - 24h leaves it.
    at_13 = by_id(score_region(state, fw, REGION, datetime(2026, 11, 27, 13, 0, tzinfo=UTC)))
    assert at_13["W_MEAN"].value == pytest.approx(5.5)  # (10 + 1) / 2
    assert at_13["W_SUM"].value == pytest.approx(11.0)  # 10 + 1
    assert at_13["W_MIN"].value == pytest.approx(1.0)
    assert at_13["W_MAX"].value == pytest.approx(10.0)


def test_window_with_no_covered_bucket_has_no_value() -> None:
    fw = window_framework()
    state = RegionState()
    feed(state, fw, window_readings("W_MEAN"))
    later = score_region(state, fw, REGION, datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    mean = by_id(later)["W_MEAN"]
    assert (mean.value, mean.score, mean.observed_at, mean.fresh) == (None, None, None, False)
    assert later.dimensions[0].elements[0].coverage == 0.0
    assert later.index is None


def test_windowed_freshness_uses_newest_covered_reading() -> None:
    fw = one_element_framework(
        an_indicator_doc("W_MEAN", norm=MINMAX_0_100, agg=P1D_MEAN, validity="PT2H"),
    )
    state = RegionState()
    feed(state, fw, [ev("W_MEAN", 40.0, T - timedelta(hours=3))])
    stale = by_id(score_region(state, fw, REGION, T))["W_MEAN"]
    assert stale.value == pytest.approx(40.0)  # in the window ...
    assert stale.fresh is False  # ... but 3h > 2h old
    feed(state, fw, [ev("W_MEAN", 60.0, T - timedelta(hours=1))])
    fresh = by_id(score_region(state, fw, REGION, T))["W_MEAN"]
    assert fresh.value == pytest.approx(50.0)  # (40 + 60) / 2
    assert fresh.score == pytest.approx(2.5)  # 5 * 50 / 100
    assert fresh.fresh is True


# --------------------------------------------------------------------------------------------
# 4. Lateness and the latest value
# --------------------------------------------------------------------------------------------


def lateness_framework() -> Framework:
    return one_element_framework(
        an_indicator_doc("W_MEAN", norm=MINMAX_0_100, agg=P1D_MEAN),
        an_indicator_doc("L_LATEST", norm=MINMAX_0_100, agg={"method": "latest"}, validity="P730D"),
    )


def test_windowed_reading_older_than_watermark_minus_lateness_is_late() -> None:
    fw = lateness_framework()
    state = RegionState()
    assert apply(state, fw, ev("W_MEAN", 10.0, T)) is Outcome.SCORED
    before = state.copy()
    late = ev("W_MEAN", 1000.0, T - LATENESS - timedelta(microseconds=1))
    assert apply(state, fw, late) is Outcome.LATE
    assert state == before
    assert state.applied == 1


def test_windowed_readings_within_lateness_are_applied_in_any_order() -> None:
    fw = lateness_framework()
    state = RegionState()
    assert apply(state, fw, ev("W_MEAN", 10.0, T)) is Outcome.SCORED
    assert apply(state, fw, ev("W_MEAN", 20.0, T - LATENESS)) is Outcome.SCORED  # exactly wm - L: not older
    assert apply(state, fw, ev("W_MEAN", 30.0, T - timedelta(minutes=2))) is Outcome.SCORED
    assert state.series["W_MEAN"].watermark == micros(T)  # out-of-order readings keep the watermark
    mean = by_id(score_region(state, fw, REGION, T))["W_MEAN"]
    assert mean.value == pytest.approx(20.0)  # (10 + 20 + 30) / 3
    assert mean.observed_at == T
    # The watermark moves on with newer readings, and lateness with it.
    assert apply(state, fw, ev("W_MEAN", 40.0, T + timedelta(minutes=10))) is Outcome.SCORED
    before = state.copy()
    assert apply(state, fw, ev("W_MEAN", 99.0, T + timedelta(minutes=4, seconds=59))) is Outcome.LATE
    assert state == before
    assert apply(state, fw, ev("W_MEAN", 50.0, T + timedelta(minutes=5))) is Outcome.SCORED
    mean = by_id(score_region(state, fw, REGION, T + timedelta(minutes=10)))["W_MEAN"]
    assert mean.value == pytest.approx(30.0)  # (10 + 20 + 30 + 40 + 50) / 5
    assert state.applied == 5


def test_latest_older_reading_is_superseded_never_late() -> None:
    fw = lateness_framework()
    state = RegionState()
    assert apply(state, fw, ev("L_LATEST", 60.0, T)) is Outcome.SCORED
    before = state.copy()
    # far older than the allowed lateness: 'superseded', not 'late', and the state is untouched
    assert apply(state, fw, ev("L_LATEST", 90.0, T - timedelta(days=1))) is Outcome.SUPERSEDED
    assert state == before
    # older but within the lateness: accepted (remembered for dedupe), yet not the latest
    assert apply(state, fw, ev("L_LATEST", 90.0, T - timedelta(microseconds=1))) is Outcome.SCORED
    assert state.applied == 2
    latest = by_id(score_region(state, fw, REGION, T))["L_LATEST"]
    assert latest.value == pytest.approx(60.0)
    assert latest.score == pytest.approx(3.0)  # 5 * 60 / 100
    # a newer one replaces it
    assert apply(state, fw, ev("L_LATEST", 80.0, T + timedelta(seconds=1))) is Outcome.SCORED
    latest = by_id(score_region(state, fw, REGION, T + timedelta(seconds=1)))["L_LATEST"]
    assert latest.value == pytest.approx(80.0)
    assert latest.observed_at == T + timedelta(seconds=1)


LOW_ID = uuid.UUID("0a000000-0000-4000-8000-000000000000")
HIGH_ID = uuid.UUID("f0000000-0000-4000-8000-000000000000")  # 'f0..' > '0a..' as hex


def test_latest_tie_on_observed_at_greater_event_id_wins_low_first() -> None:
    fw = lateness_framework()
    state = RegionState()
    assert apply(state, fw, ev("L_LATEST", 20.0, T, LOW_ID)) is Outcome.SCORED
    assert apply(state, fw, ev("L_LATEST", 70.0, T, HIGH_ID)) is Outcome.SCORED
    assert by_id(score_region(state, fw, REGION, T))["L_LATEST"].value == pytest.approx(70.0)


def test_latest_tie_on_observed_at_greater_event_id_wins_high_first() -> None:
    fw = lateness_framework()
    state = RegionState()
    assert apply(state, fw, ev("L_LATEST", 70.0, T, HIGH_ID)) is Outcome.SCORED
    # accepted (same time, within lateness) but the greater id stays the latest
    assert apply(state, fw, ev("L_LATEST", 20.0, T, LOW_ID)) is Outcome.SCORED
    assert by_id(score_region(state, fw, REGION, T))["L_LATEST"].value == pytest.approx(70.0)


# --------------------------------------------------------------------------------------------
# 5. Duplicates and redelivery
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ind_id", ["W_MEAN", "L_LATEST"])
def test_same_event_id_is_a_duplicate_and_changes_nothing(ind_id: str) -> None:
    fw = lateness_framework()
    state = RegionState()
    event = ev(ind_id, 40.0, T)
    assert apply(state, fw, event) is Outcome.SCORED
    before = state.copy()
    assert apply(state, fw, event) is Outcome.DUPLICATE
    assert state == before
    assert state.applied == 1
    assert by_id(score_region(state, fw, REGION, T))[ind_id].value == pytest.approx(40.0)


def test_windowed_duplicate_out_of_order_is_not_counted_twice() -> None:
    fw = lateness_framework()
    state = RegionState()
    first = ev("W_MEAN", 10.0, T)
    assert feed(state, fw, [first, ev("W_MEAN", 30.0, T + timedelta(minutes=1))]) == [Outcome.SCORED] * 2
    before = state.copy()
    assert apply(state, fw, first) is Outcome.DUPLICATE
    assert state == before
    mean = by_id(score_region(state, fw, REGION, T + timedelta(minutes=1)))["W_MEAN"]
    assert mean.value == pytest.approx(20.0)  # (10 + 30) / 2, not (10 + 10 + 30) / 3


def test_latest_redelivery_of_a_replaced_reading_within_lateness_is_a_duplicate() -> None:
    # docs/scoring.md: "an event whose event_id was already applied changes nothing
    # (outcome="duplicate"). Ids are remembered while their reading is within L of the watermark."
    fw = lateness_framework()
    state = RegionState()
    first = ev("L_LATEST", 10.0, T)
    assert apply(state, fw, first) is Outcome.SCORED
    assert apply(state, fw, ev("L_LATEST", 30.0, T + timedelta(minutes=1))) is Outcome.SCORED
    before = state.copy()
    assert apply(state, fw, first) is Outcome.DUPLICATE  # applied 1 minute (< L) before the watermark
    assert state == before


def test_redelivery_by_source_offset_is_a_duplicate() -> None:
    fw = lateness_framework()
    state = RegionState()
    assert apply(state, fw, ev("W_MEAN", 10.0, T), source=(0, 7)) is Outcome.SCORED
    before = state.copy()
    # new event ids, but the same or an older offset of partition 0: a redelivered record
    assert apply(state, fw, ev("W_MEAN", 50.0, T), source=(0, 7)) is Outcome.DUPLICATE
    assert apply(state, fw, ev("L_LATEST", 50.0, T), source=(0, 3)) is Outcome.DUPLICATE
    assert state == before
    # other partitions and later offsets are new records
    assert apply(state, fw, ev("W_MEAN", 20.0, T), source=(1, 0)) is Outcome.SCORED
    assert apply(state, fw, ev("W_MEAN", 30.0, T), source=(0, 8)) is Outcome.SCORED
    assert state.offsets == {0: 8, 1: 0}
    assert state.applied == 3
    assert by_id(score_region(state, fw, REGION, T))["W_MEAN"].value == pytest.approx(20.0)  # (10+20+30)/3


# --------------------------------------------------------------------------------------------
# 6. The real default framework
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_fw() -> Framework:
    return load_framework()


def test_region_without_events_has_no_index(default_fw: Framework) -> None:
    score = score_region(RegionState(), default_fw, REGION, T)
    assert score.index is None
    assert score.status is ScoreStatus.INSUFFICIENT_DATA
    assert score.coverage == 0.0
    assert (score.level, score.level_name) == (None, None)
    assert score.province_code == "32"
    assert score.framework == "pp59_2022@2026.1"
    assert score.events_applied == 0
    assert len(score.dimensions) == 6
    for d in score.dimensions:
        assert (d.score, d.coverage, d.status) == (None, 0.0, ScoreStatus.INSUFFICIENT_DATA)
        for e in d.elements:
            assert (e.score, e.coverage, e.status) == (None, 0.0, ScoreStatus.INSUFFICIENT_DATA)
    assert len(score.indicators) == len(default_fw.indicators)
    assert all(i.value is None and i.score is None and not i.fresh for i in score.indicators)
    assert weakest_indicators(score) == []


def test_weakest_indicators_by_score_then_weight(default_fw: Framework) -> None:
    month_ago = T - timedelta(days=30)
    state = RegionState()
    feed(state, default_fw, [
        ev("GOV_RB_INDEX", 54.0, month_ago),  # 5 * (54 - 30) / 60 = 2.0, weight 1
        ev("P0", 16.0, month_ago),  # 5 * (30 - 16) / 28 = 2.5, weight 1.5
        ev("GOV_SPBE_INDEX", 2.6, month_ago),  # meets 1.0, 1.8, 2.6 = 3, weight 1.5
        ev("GOV_IPP_INDEX", 3.51, month_ago),  # meets 2.01, 3.01, 3.51 = 3, weight 1
        ev("IPM", 85.0, month_ago),  # 5 * (85 - 55) / 30 = 5, weight 2
        ev("ECO_GRDP_GROWTH", -1.0, T - timedelta(days=800)),  # score 0, but stale (validity 730 days)
    ])  # fmt: skip
    score = score_region(state, default_fw, REGION, T)
    order = ["GOV_RB_INDEX", "P0", "GOV_SPBE_INDEX", "GOV_IPP_INDEX", "IPM"]
    assert [i.indicator_id for i in weakest_indicators(score)] == order
    assert [i.score for i in weakest_indicators(score)] == pytest.approx([2.0, 2.5, 3.0, 3.0, 5.0])
    assert [i.indicator_id for i in weakest_indicators(score, n=3)] == order[:3]
    assert [i.indicator_id for i in weakest_indicators(score, dimension="economy")] == ["P0", "IPM"]


def test_value_outside_physical_bounds_is_refused() -> None:
    fw = lateness_framework()
    ind = fw.indicator("W_MEAN")
    state = RegionState()
    too_big = ev("W_MEAN", ind.bounds.max + 1, T)
    with pytest.raises(ValueError, match="outside its bounds"):
        apply_reading(state, reading_from_event(too_big), ind, 0)
    assert state == RegionState()
