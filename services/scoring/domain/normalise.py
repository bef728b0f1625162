"""Indicator value -> 0-5 score, by the indicator's normalisation and direction."""

from __future__ import annotations

from schemas.framework import Direction, Indicator, MinMax, Target, Thresholds

MAX_SCORE = 5.0


def _clip(x: float) -> float:
    return 0.0 if x < 0.0 else MAX_SCORE if x > MAX_SCORE else x


def normalise(indicator: Indicator, value: float) -> float:
    """The 0-5 score of ``value`` for ``indicator`` (docs/scoring.md, 'Normalisation to 0-5').

    Monotone: a better value (higher, or lower when lower is better) never gives a lower score.
    """
    n = indicator.normalisation
    higher = indicator.direction is Direction.HIGHER_IS_BETTER
    if isinstance(n, MinMax):
        span = n.max - n.min
        share = (value - n.min) / span if higher else (n.max - value) / span
        return _clip(MAX_SCORE * share)
    if isinstance(n, Target):
        if higher:
            return 0.0 if value <= 0 else MAX_SCORE * min(value / n.target, 1.0)
        return MAX_SCORE if value <= n.target else MAX_SCORE * n.target / value
    if isinstance(n, Thresholds):
        met = sum(1 for t in n.thresholds if (value >= t if higher else value <= t))
        return float(met)
    raise TypeError(f"unknown normalisation {n!r}")  # pragma: no cover - the model forbids it
