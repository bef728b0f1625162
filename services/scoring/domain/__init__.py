"""Scoring math: pure functions over plain state. No faust, no Kafka, no metrics. See docs/scoring.md."""

from services.scoring.domain.normalise import normalise
from services.scoring.domain.scoring import score_region, weakest_indicators
from services.scoring.domain.state import (
    Outcome,
    Reading,
    RegionState,
    Series,
    apply_reading,
    reading_from_event,
    to_micros,
)

__all__ = [
    "Outcome",
    "Reading",
    "RegionState",
    "Series",
    "apply_reading",
    "normalise",
    "reading_from_event",
    "score_region",
    "to_micros",
    "weakest_indicators",
]
