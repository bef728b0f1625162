"""Region state -> RegionScore at an evaluation time (docs/scoring.md, 'Roll-up and coverage')."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from schemas.common import province_of
from schemas.framework import Framework, Indicator
from schemas.scores import DimensionScore, ElementScore, IndicatorScore, RegionScore, ScoreStatus
from services.scoring.domain.normalise import normalise
from services.scoring.domain.state import RegionState, Series, from_micros, to_micros, window_value


def indicator_score(series: Series | None, ind: Indicator, at_us: int) -> IndicatorScore:
    """The indicator's rolling value, its 0-5 score and whether it is fresh at ``at_us``."""
    value: float | None = None
    newest: int | None = None
    if series is not None:
        if ind.aggregation.method == "latest":
            if series.latest is not None and series.latest[0] <= at_us:
                newest, _eid, value = series.latest
        else:
            assert ind.aggregation.window is not None
            value, newest = window_value(
                series, ind.aggregation.method, to_micros(ind.aggregation.window), at_us
            )
    fresh = value is not None and newest is not None and at_us - newest <= to_micros(ind.validity)
    # model_construct: these values are computed here from validated inputs; validating them again
    # would cost more than the scoring itself.
    return IndicatorScore.model_construct(
        indicator_id=ind.id,
        dimension=ind.dimension,
        element=ind.element,
        weight=ind.weight,
        value=value,
        score=normalise(ind, value) if value is not None else None,
        observed_at=from_micros(newest) if newest is not None else None,
        fresh=fresh,
    )


def _weighted(pairs: Iterable[tuple[float, float]]) -> float | None:
    """Weighted mean of (weight, value) pairs; None when there are none."""
    num = 0.0
    den = 0.0
    for w, v in pairs:
        num += w * v
        den += w
    return num / den if den > 0 else None


def _clamp(score: float | None) -> float | None:
    # Weighted means of values in [0, 5] stay in [0, 5]; this guards the last floating-point bit.
    return None if score is None else min(5.0, max(0.0, score))


def score_region(state: RegionState, framework: Framework, region_code: str, at: datetime) -> RegionScore:
    """Score a region at evaluation time ``at``: indicators, elements, dimensions, index, level."""
    at_us = to_micros(at)
    m = framework.minimum_coverage
    indicators: list[IndicatorScore] = []
    dims: list[DimensionScore] = []
    dim_parts: list[tuple[float, float, float | None]] = []  # (weight, coverage, ok score)
    for d in framework.dimensions:
        elements: list[ElementScore] = []
        el_parts: list[tuple[float, float, float | None]] = []
        for e in d.elements:
            scored = [indicator_score(state.series.get(i.id), i, at_us) for i in e.indicators]
            indicators.extend(scored)
            total_w = sum(i.weight for i in e.indicators)
            fresh = [(s.weight, s.score) for s in scored if s.fresh and s.score is not None]
            coverage = sum(w for w, _ in fresh) / total_w
            score = _clamp(_weighted(fresh))
            ok = coverage >= m and score is not None
            elements.append(ElementScore.model_construct(
                element_id=e.id, score=score if ok else None, coverage=coverage,
                status=ScoreStatus.OK if ok else ScoreStatus.INSUFFICIENT_DATA,
            ))  # fmt: skip
            el_parts.append((e.weight, coverage, score if ok else None))
        d_cov, d_score = _roll_up(el_parts)
        d_ok = d_cov >= m and d_score is not None
        dims.append(DimensionScore.model_construct(
            dimension_id=d.id, score=d_score if d_ok else None, coverage=d_cov,
            status=ScoreStatus.OK if d_ok else ScoreStatus.INSUFFICIENT_DATA, elements=elements,
        ))  # fmt: skip
        dim_parts.append((d.weight, d_cov, d_score if d_ok else None))
    cov, index = _roll_up(dim_parts)
    ok = cov >= m and index is not None
    level = framework.level_for(index) if ok and index is not None else None
    return RegionScore.model_construct(
        schema_version=1,
        region_code=region_code,
        province_code=province_of(region_code),
        framework=framework.key,
        evaluated_at=at,
        index=index if ok else None,
        level=level.level if level else None,
        level_name=level.name if level else None,
        coverage=cov,
        status=ScoreStatus.OK if ok else ScoreStatus.INSUFFICIENT_DATA,
        dimensions=dims,
        indicators=indicators,
        events_applied=state.applied,
    )


def _roll_up(parts: list[tuple[float, float, float | None]]) -> tuple[float, float | None]:
    """Coverage = weighted mean of child coverage; score = weighted mean of the ok child scores."""
    total_w = sum(w for w, _, _ in parts)
    coverage = min(1.0, sum(w * c for w, c, _ in parts) / total_w)
    score = _clamp(_weighted((w, s) for w, _, s in parts if s is not None))
    return coverage, score


def weakest_indicators(score: RegionScore, n: int = 5, dimension: str | None = None) -> list[IndicatorScore]:
    """The fresh indicators that pull the score down most: lowest score, then greatest weight."""
    fresh = [i for i in score.indicators if i.fresh and i.score is not None
             and (dimension is None or i.dimension == dimension)]  # fmt: skip
    return sorted(fresh, key=lambda i: (i.score, -i.weight, i.indicator_id))[:n]
