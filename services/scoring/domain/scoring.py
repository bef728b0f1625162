"""Region state -> RegionScore at an evaluation time (docs/scoring.md, 'Roll-up and coverage')."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from schemas.common import province_of
from schemas.framework import Framework, Indicator
from schemas.scores import DimensionScore, ElementScore, IndicatorScore, RegionScore, ScoreStatus
from services.scoring.domain.normalise import normalise
from services.scoring.domain.state import RegionState, Series, from_micros, to_micros, window_value


@dataclass
class ScoreCache:
    """Scores of one region kept between evaluations; an optimisation that never changes a result.

    - indicators: id -> (series version, valid from, valid until, score);
    - elements and dimensions: id -> (the child score objects it was computed from, its score),
      reused when the children are the very same objects.
    """

    indicators: dict[str, tuple[int, int, int | None, IndicatorScore]] = field(default_factory=dict)
    elements: dict[str, tuple[list[IndicatorScore], ElementScore]] = field(default_factory=dict)
    dimensions: dict[str, tuple[list[ElementScore], DimensionScore]] = field(default_factory=dict)


def _same(a: Sequence[object], b: Sequence[object]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _indicator_score(series: Series | None, ind: Indicator, at_us: int) -> tuple[IndicatorScore, int | None]:
    """The indicator's rolling value, its 0-5 score and whether it is fresh at ``at_us``, and the
    next time after ``at_us`` at which that may change without new readings."""
    value: float | None = None
    newest: int | None = None
    change: int | None = None
    validity = ind.validity_us
    if series is not None:
        if ind.aggregation.method == "latest":
            if series.latest is not None:
                if series.latest[0] <= at_us:
                    newest, _eid, value = series.latest
                else:
                    change = series.latest[0]  # a reading dated in the future becomes visible then
        else:
            assert ind.window_us is not None
            value, newest, change = window_value(series, ind.aggregation.method, ind.window_us, at_us)
    fresh = value is not None and newest is not None and at_us - newest <= validity
    if fresh and newest is not None:
        stale_at = newest + validity + 1
        change = stale_at if change is None else min(change, stale_at)
    # model_construct: these values are computed here from validated inputs; validating them again
    # would cost more than the scoring itself.
    score = IndicatorScore.model_construct(
        indicator_id=ind.id,
        dimension=ind.dimension,
        element=ind.element,
        weight=ind.weight,
        value=value,
        score=normalise(ind, value) if value is not None else None,
        observed_at=from_micros(newest) if newest is not None else None,
        fresh=fresh,
    )
    return score, change


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


def score_region(
    state: RegionState, framework: Framework, region_code: str, at: datetime, cache: ScoreCache | None = None
) -> RegionScore:
    """Score a region at evaluation time ``at``: indicators, elements, dimensions, index, level.

    ``cache`` (kept by the caller, one per region) lets an indicator score be reused while its series
    is unchanged and ``at`` has not reached the next time its window or freshness moves.
    """
    at_us = to_micros(at)
    series_of = state.series.get

    def ind_score(ind: Indicator) -> IndicatorScore:
        series = series_of(ind.id)
        if cache is None:
            return _indicator_score(series, ind, at_us)[0]
        version = series.version if series is not None else -1
        hit = cache.indicators.get(ind.id)
        if hit is not None and hit[0] == version and hit[1] <= at_us and (hit[2] is None or at_us < hit[2]):
            return hit[3]
        score, until = _indicator_score(series, ind, at_us)
        cache.indicators[ind.id] = (version, at_us, until, score)
        return score

    m = framework.minimum_coverage
    indicators: list[IndicatorScore] = []
    dims: list[DimensionScore] = []
    dim_parts: list[tuple[float, float, float | None]] = []  # (weight, coverage, ok score)
    for d in framework.dimensions:
        elements: list[ElementScore] = []
        el_parts: list[tuple[float, float, float | None]] = []
        for e in d.elements:
            scored = [ind_score(i) for i in e.indicators]
            indicators.extend(scored)
            el_hit = cache.elements.get(e.id) if cache is not None else None
            if el_hit is not None and _same(el_hit[0], scored):
                el = el_hit[1]
            else:
                total_w = sum(i.weight for i in e.indicators)
                fresh = [(s.weight, s.score) for s in scored if s.fresh and s.score is not None]
                coverage = sum(w for w, _ in fresh) / total_w
                score = _clamp(_weighted(fresh))
                ok = coverage >= m and score is not None
                el = ElementScore.model_construct(
                    element_id=e.id, score=score if ok else None, coverage=coverage,
                    status=ScoreStatus.OK if ok else ScoreStatus.INSUFFICIENT_DATA,
                )  # fmt: skip
                if cache is not None:
                    cache.elements[e.id] = (scored, el)
            elements.append(el)
            el_parts.append((e.weight, el.coverage, el.score))
        d_hit = cache.dimensions.get(d.id) if cache is not None else None
        if d_hit is not None and _same(d_hit[0], elements):
            dim = d_hit[1]
        else:
            d_cov, d_score = _roll_up(el_parts)
            d_ok = d_cov >= m and d_score is not None
            dim = DimensionScore.model_construct(
                dimension_id=d.id, score=d_score if d_ok else None, coverage=d_cov,
                status=ScoreStatus.OK if d_ok else ScoreStatus.INSUFFICIENT_DATA, elements=elements,
            )  # fmt: skip
            if cache is not None:
                cache.dimensions[d.id] = (elements, dim)
        dims.append(dim)
        dim_parts.append((d.weight, dim.coverage, dim.score))
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
