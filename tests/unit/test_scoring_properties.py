"""Property tests of the scoring math (docs/scoring.md): bounds, monotonicity, idempotence and
order independence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.events import IndicatorEvent
from schemas.framework import Direction, Framework, Indicator, parse_framework
from schemas.scores import RegionScore
from services.scoring.domain import (
    Outcome,
    RegionState,
    apply_reading,
    normalise,
    reading_from_event,
    score_region,
)
from services.scoring.domain.codec import ScoreEncoder
from services.scoring.domain.scoring import ScoreCache
from tests.builders import an_indicator_doc, an_indicator_event, framework_doc

PROPS = settings(max_examples=75, deadline=None, database=None)

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
REGION = "32.73"
LATENESS_US = 60 * 60 * 1_000_000  # one hour
SPAN_WITHIN_LATENESS_US = 30 * 60 * 1_000_000  # every reading within 30 minutes of another

# Any value a reading may carry: everything within the indicators' physical bounds (+-1e12).
FINITE = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
MODERATE = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)


# --------------------------------------------------------------------------------------------
# A framework using every normalisation, direction and aggregation
# --------------------------------------------------------------------------------------------


def _ind(ind_id: str, direction: str, norm: dict[str, Any], agg: dict[str, Any], weight: float = 1) -> dict[str, Any]:
    return an_indicator_doc(ind_id, direction=direction, norm=norm, agg=agg, weight=weight, validity="P1D")


HI, LO = "higher_is_better", "lower_is_better"
MM = {"method": "min_max", "min": -10, "max": 90}
TG = {"method": "target", "target": 50}
TH_UP = {"method": "thresholds", "thresholds": [-20, 0, 10, 40, 80]}
TH_DOWN = {"method": "thresholds", "thresholds": [80, 40, 10, 0, -20]}
W = "PT2H"


def _framework() -> Framework:
    dims = [
        {"id": "governance", "name": "Governance", "weight": 2, "elements": [
            {"id": "public_services", "name": "Public services", "weight": 1, "indicators": [
                _ind("A_MM_HI_MEAN", HI, MM, {"method": "mean", "window": W}, 1.5),
                _ind("A_MM_LO_SUM", LO, MM, {"method": "sum", "window": W}),
            ]},
            {"id": "bureaucracy", "name": "Bureaucracy", "weight": 2, "indicators": [
                _ind("A_TG_HI_LATEST", HI, TG, {"method": "latest"}, 2),
            ]},
        ]},
        {"id": "economy", "name": "Economy", "weight": 1, "elements": [
            {"id": "welfare", "name": "Welfare", "weight": 1, "indicators": [
                _ind("B_TG_LO_MIN", LO, TG, {"method": "min", "window": W}),
                _ind("B_TH_HI_MAX", HI, TH_UP, {"method": "max", "window": W}, 0.5),
            ]},
        ]},
        {"id": "environment", "name": "Environment", "weight": 1, "elements": [
            {"id": "air_quality", "name": "Air quality", "weight": 1, "indicators": [
                _ind("C_TH_LO_LATEST", LO, TH_DOWN, {"method": "latest"}),
                _ind("C_MM_HI_MIN", HI, MM, {"method": "min", "window": W}),
                _ind("C_TG_HI_MEAN", HI, TG, {"method": "mean", "window": W}, 3),
            ]},
        ]},
    ]  # fmt: skip
    return parse_framework(framework_doc(minimum_coverage=0.5, dimensions=dims))


FW = _framework()
IDS = [i.id for i in FW.indicators]


def events_strategy(
    values: st.SearchStrategy[float], span_us: int, max_size: int = 25
) -> st.SearchStrategy[list[IndicatorEvent]]:
    one = st.tuples(st.sampled_from(IDS), values, st.integers(0, span_us), st.uuids())
    return st.lists(one, min_size=0, max_size=max_size, unique_by=lambda t: t[3]).map(
        lambda rows: [
            an_indicator_event(indicator_id=i, value=v, observed_at=T0 + timedelta(microseconds=us), event_id=eid)
            for i, v, us, eid in rows
        ]
    )


def feed(state: RegionState, events: list[IndicatorEvent]) -> list[Outcome]:
    return [apply_reading(state, reading_from_event(e), FW.indicator(e.indicator_id), LATENESS_US) for e in events]


def scored(events: list[IndicatorEvent], at: datetime) -> RegionScore:
    state = RegionState()
    feed(state, events)
    return score_region(state, FW, REGION, at)


def in_range(score: float | None) -> bool:
    return score is None or 0.0 <= score <= 5.0


# --------------------------------------------------------------------------------------------
# Bounds
# --------------------------------------------------------------------------------------------


@PROPS
@given(
    events=events_strategy(FINITE, 4 * 60 * 60 * 1_000_000),
    at_offset_s=st.integers(0, 6 * 60 * 60),
)
def test_every_score_stays_within_0_and_5(events: list[IndicatorEvent], at_offset_s: int) -> None:
    score = scored(events, T0 + timedelta(seconds=at_offset_s))
    assert in_range(score.index)
    assert 0.0 <= score.coverage <= 1.0
    for d in score.dimensions:
        assert in_range(d.score)
        assert 0.0 <= d.coverage <= 1.0
        for e in d.elements:
            assert in_range(e.score)
            assert 0.0 <= e.coverage <= 1.0
    for i in score.indicators:
        assert in_range(i.score)


# --------------------------------------------------------------------------------------------
# Monotonicity of normalise
# --------------------------------------------------------------------------------------------

PARAM = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def normalisations(draw: st.DrawFn, direction: str) -> dict[str, Any]:
    method = draw(st.sampled_from(["min_max", "target", "thresholds"]))
    if method == "min_max":
        lo = draw(PARAM)
        span = draw(st.floats(min_value=1e-3, max_value=1e6))
        return {"method": "min_max", "min": lo, "max": lo + span}
    if method == "target":
        return {"method": "target", "target": draw(st.floats(min_value=1e-3, max_value=1e6))}
    ts = sorted(draw(st.lists(PARAM, min_size=5, max_size=5, unique=True)))
    return {"method": "thresholds", "thresholds": ts if direction == HI else ts[::-1]}


@st.composite
def indicators(draw: st.DrawFn) -> Indicator:
    direction = draw(st.sampled_from([HI, LO]))
    return Indicator.model_validate(_ind("X_ANY", direction, draw(normalisations(direction)), {"method": "latest"}))


@PROPS
@given(ind=indicators(), a=FINITE, b=FINITE)
def test_normalise_is_monotone_and_bounded(ind: Indicator, a: float, b: float) -> None:
    lo, hi = min(a, b), max(a, b)
    better, worse = (hi, lo) if ind.direction is Direction.HIGHER_IS_BETTER else (lo, hi)
    s_better, s_worse = normalise(ind, better), normalise(ind, worse)
    assert 0.0 <= s_worse <= s_better <= 5.0


# --------------------------------------------------------------------------------------------
# Monotonicity at region level
# --------------------------------------------------------------------------------------------


@PROPS
@given(
    events=events_strategy(MODERATE, 3 * 60 * 60 * 1_000_000).filter(bool),
    data=st.data(),
)
def test_improving_one_value_never_lowers_a_score(events: list[IndicatorEvent], data: st.DataObject) -> None:
    k = data.draw(st.integers(0, len(events) - 1), label="k")
    delta = data.draw(st.floats(min_value=1e-3, max_value=1e4), label="delta")
    target = events[k]
    higher = FW.indicator(target.indicator_id).direction is Direction.HIGHER_IS_BETTER
    better_value = target.value + delta if higher else target.value - delta
    improved = [*events[:k], target.model_copy(update={"value": better_value}), *events[k + 1 :]]
    at = T0 + timedelta(hours=3)
    before, after = scored(events, at), scored(improved, at)

    def at_least(new: float | None, old: float | None) -> None:
        assert (new is None) == (old is None)  # coverage does not depend on values
        if old is not None:
            assert new is not None and new >= old

    at_least(after.index, before.index)
    assert after.coverage == before.coverage
    for d_new, d_old in zip(after.dimensions, before.dimensions, strict=True):
        at_least(d_new.score, d_old.score)
        for e_new, e_old in zip(d_new.elements, d_old.elements, strict=True):
            at_least(e_new.score, e_old.score)
    for i_new, i_old in zip(after.indicators, before.indicators, strict=True):
        at_least(i_new.score, i_old.score)


# --------------------------------------------------------------------------------------------
# Idempotence and replay
# --------------------------------------------------------------------------------------------


@PROPS
@given(events=events_strategy(MODERATE, SPAN_WITHIN_LATENESS_US))
def test_applying_the_same_events_twice_changes_nothing(events: list[IndicatorEvent]) -> None:
    at = T0 + timedelta(minutes=30)
    state = RegionState()
    feed(state, events)
    once = score_region(state, FW, REGION, at)
    after_once = state.copy()
    second = feed(state, events)
    assert Outcome.SCORED not in second
    assert Outcome.LATE not in second  # all within lateness of the watermark
    assert state == after_once
    assert score_region(state, FW, REGION, at).model_dump() == once.model_dump()
    # replaying the whole list into a fresh state rebuilds the same score
    assert scored(events, at).model_dump() == once.model_dump()


# --------------------------------------------------------------------------------------------
# Order independence
# --------------------------------------------------------------------------------------------


@PROPS
@given(events=events_strategy(MODERATE, SPAN_WITHIN_LATENESS_US, max_size=12), data=st.data())
def test_any_order_within_lateness_gives_the_same_score(events: list[IndicatorEvent], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(events), label="shuffled")
    at = T0 + timedelta(minutes=30)
    assert scored(shuffled, at).model_dump() == scored(events, at).model_dump()


@PROPS
@given(
    batches=st.lists(events_strategy(MODERATE, 4 * 60 * 60 * 1_000_000, max_size=8), min_size=1, max_size=5),
    steps_s=st.lists(st.integers(0, 3 * 60 * 60), min_size=5, max_size=5),
)
def test_cached_scoring_equals_scoring_from_scratch(batches: list[list[IndicatorEvent]], steps_s: list[int]) -> None:
    # The cache is an optimisation only: interleave new readings and later evaluation times, and the
    # cached result must equal a computation without it every time.
    # The publication's encoder reuses the JSON of unchanged parts: it must give the same document.
    state = RegionState()
    cache = ScoreCache()
    encoder = ScoreEncoder()
    at = T0
    for batch, step in zip(batches, steps_s, strict=False):
        feed(state, batch)
        at = at + timedelta(seconds=step)
        cached = score_region(state, FW, REGION, at, cache)
        assert cached.model_dump() == score_region(state, FW, REGION, at).model_dump()
        assert orjson.loads(encoder.encode(cached)) == orjson.loads(cached.model_dump_json())
