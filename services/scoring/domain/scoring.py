"""Region state -> RegionScore at an evaluation time (docs/scoring.md, 'Roll-up and coverage')."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from schemas.common import province_of
from schemas.framework import Element, Framework, Indicator
from schemas.scores import DimensionScore, ElementScore, IndicatorScore, RegionScore, ScoreStatus
from services.scoring.domain.normalise import normalise
from services.scoring.domain.state import RegionState, Series, from_micros, to_micros, window_value


@dataclass(frozen=True)
class _Layout:
    """Where each indicator sits in a framework: its position in RegionScore.indicators."""

    position: dict[str, int]
    element_of: dict[str, str]
    dimension_of: dict[str, str]

    @classmethod
    def of(cls, framework: Framework) -> _Layout:
        inds = framework.indicators
        return cls(
            {i.id: n for n, i in enumerate(inds)},
            {i.id: i.element for i in inds},
            {i.id: i.dimension for i in inds},
        )


@dataclass
class ScoreCache:
    """Scores of one region kept between evaluations; an optimisation that never changes a result.

    - indicators: id -> (series version, valid from, valid until, score);
    - elements and dimensions: id -> the last score, recomputed only when one of its indicators'
      scores is recomputed;
    - between two evaluations only the indicators the state marks as touched are looked at, unless
      the evaluation time reaches ``next_change`` (a window moves or a reading goes stale) or goes
      back, which looks at every indicator;
    - ``changed``: whether the last evaluation differs from the one before it in anything but
      ``evaluated_at`` (what a publisher needs to know).
    """

    indicators: dict[str, tuple[int, int, int | None, IndicatorScore]] = field(default_factory=dict)
    elements: dict[str, ElementScore] = field(default_factory=dict)
    dimensions: dict[str, DimensionScore] = field(default_factory=dict)
    indicator_list: list[IndicatorScore] = field(default_factory=list)
    at_us: int | None = None
    next_change: int | None = None
    applied: int = -1
    changed: bool = True
    layout: _Layout | None = None


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

    ``cache`` (kept by the caller, one per region, always with the same state) makes an evaluation
    cost what changed since the last one: the indicators the state marks as touched, and the element
    and dimension scores above them. Without it everything is computed.
    """
    at_us = to_micros(at)
    touched: set[str] = set()
    if cache is None:
        cache = ScoreCache()  # a throwaway: everything is computed
    else:
        touched, state.touched = state.touched, touched
    layout = cache.layout = cache.layout or _Layout.of(framework)
    inds = framework.indicators
    full = cache.at_us is None or at_us < cache.at_us or (cache.next_change is not None and at_us >= cache.next_change)
    look_at = inds if full else [framework.indicator_map[i] for i in touched if i in layout.position]
    cache.at_us = at_us

    # Indicators: recompute those whose series changed or whose time-dependence has come due.
    new_inds: set[str] = set()
    untils: list[int] = []
    series_of = state.series.get
    if not cache.indicator_list:
        cache.indicator_list = [None] * len(inds)  # type: ignore[list-item]
    for ind in look_at:
        series = series_of(ind.id)
        version = series.version if series is not None else -1
        hit = cache.indicators.get(ind.id)
        if hit is not None and hit[0] == version and hit[1] <= at_us and (hit[2] is None or at_us < hit[2]):
            continue
        score, until = _indicator_score(series, ind, at_us)
        if hit is None or _differs(hit[3], score):
            new_inds.add(ind.id)
            cache.indicator_list[layout.position[ind.id]] = score
        else:
            score = hit[3]  # the same score: keep the object, so nothing above it is recomputed
        cache.indicators[ind.id] = (version, at_us, until, score)
        if until is not None:
            untils.append(until)
    if full:
        untils = [u for _, _, u, _ in cache.indicators.values() if u is not None]
        cache.next_change = min(untils) if untils else None
    elif untils:
        soonest = min(untils)
        cache.next_change = soonest if cache.next_change is None else min(cache.next_change, soonest)

    # Elements and dimensions above a recomputed indicator; everything else is reused.
    new_elements = {layout.element_of[i] for i in new_inds}
    new_dims = {layout.dimension_of[i] for i in new_inds}
    m = framework.minimum_coverage
    dims: list[DimensionScore] = []
    dim_parts: list[tuple[float, float, float | None]] = []
    for d in framework.dimensions:
        dim = cache.dimensions.get(d.id)
        if dim is None or d.id in new_dims:
            elements: list[ElementScore] = []
            el_parts: list[tuple[float, float, float | None]] = []
            for e in d.elements:
                el = cache.elements.get(e.id)
                if el is None or e.id in new_elements:
                    el = cache.elements[e.id] = _element_score(e, cache, layout, m)
                elements.append(el)
                el_parts.append((e.weight, el.coverage, el.score))
            d_cov, d_score = _roll_up(el_parts)
            d_ok = d_cov >= m and d_score is not None
            dim = cache.dimensions[d.id] = DimensionScore.model_construct(
                dimension_id=d.id, score=d_score if d_ok else None, coverage=d_cov,
                status=ScoreStatus.OK if d_ok else ScoreStatus.INSUFFICIENT_DATA, elements=elements,
            )  # fmt: skip
        dims.append(dim)
        dim_parts.append((d.weight, dim.coverage, dim.score))
    cache.changed = bool(new_inds) or cache.applied != state.applied
    cache.applied = state.applied
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
        indicators=list(cache.indicator_list),
        events_applied=state.applied,
    )


def _differs(a: IndicatorScore, b: IndicatorScore) -> bool:
    return (a.value, a.score, a.observed_at, a.fresh) != (b.value, b.score, b.observed_at, b.fresh)


def _element_score(e: Element, cache: ScoreCache, layout: _Layout, minimum: float) -> ElementScore:
    scored = [cache.indicator_list[layout.position[i.id]] for i in e.indicators]
    total_w = sum(i.weight for i in e.indicators)
    fresh = [(s.weight, s.score) for s in scored if s.fresh and s.score is not None]
    coverage = sum(w for w, _ in fresh) / total_w
    score = _clamp(_weighted(fresh))
    ok = coverage >= minimum and score is not None
    return ElementScore.model_construct(
        element_id=e.id, score=score if ok else None, coverage=coverage,
        status=ScoreStatus.OK if ok else ScoreStatus.INSUFFICIENT_DATA,
    )  # fmt: skip


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
