"""Bytes of the scoring state and scores: compact RegionState for the changelog, RegionScore for publication."""

from __future__ import annotations

from typing import Any

import orjson

from schemas.scores import DimensionScore, IndicatorScore, RegionScore
from services.scoring.domain.state import Bucket, RegionState, Series

RegionPart = DimensionScore | IndicatorScore

FORMAT = 1
_INT64 = 2**63 - 1


def _int(v: int) -> int | str:
    # orjson takes 64-bit integers only; exact sums of very large values go as text.
    return v if -_INT64 <= v <= _INT64 else str(v)


def encode_state(state: RegionState) -> bytes:
    series: dict[str, Any] = {}
    for ind, s in state.series.items():
        series[ind] = [
            s.watermark,
            list(s.latest) if s.latest is not None else None,
            [[k, b.count, _int(b.total), b.lo, b.hi, b.newest] for k, b in s.buckets.items()],
            s.recent,
        ]
    return orjson.dumps({"v": FORMAT, "o": {str(p): o for p, o in state.offsets.items()}, "a": state.applied,
                         "s": series})  # fmt: skip


def decode_state(data: bytes) -> RegionState:
    doc = orjson.loads(data)
    if doc.get("v") != FORMAT:
        raise ValueError(f"unknown region state format {doc.get('v')!r}")
    series: dict[str, Series] = {}
    for ind, (wm, latest, buckets, recent) in doc["s"].items():
        series[ind] = Series(
            wm,
            (latest[0], latest[1], latest[2]) if latest is not None else None,
            {k: Bucket(c, int(t), lo, hi, nw) for k, c, t, lo, hi, nw in buckets},
            recent,
        )
    return RegionState(series, {int(p): o for p, o in doc["o"].items()}, doc["a"])


class ScoreEncoder:
    """RegionScore -> JSON bytes for one region, reusing the bytes of unchanged parts.

    A publication differs from the last one of its region in one or two indicators, so the JSON of
    every dimension and indicator score that is the very same object as last time (ScoreCache keeps
    them) is reused; only the changed parts and the top level are encoded. The output is the same
    document as ``score.model_dump_json()``.
    """

    def __init__(self) -> None:
        self._parts: dict[str, tuple[object, orjson.Fragment]] = {}
        # The indicator list keeps its order (the framework's) and a score keeps most entries from
        # the one before: compare by position and identity, no lookup per entry.
        self._indicators: list[object] = []
        self._indicator_json: list[orjson.Fragment] = []

    def _indicator_fragments(self, indicators: list[IndicatorScore]) -> list[orjson.Fragment]:
        objs, frags = self._indicators, self._indicator_json
        if len(objs) != len(indicators):
            objs[:] = [None] * len(indicators)
            frags[:] = [orjson.Fragment(b"null")] * len(indicators)
        for n, obj in enumerate(indicators):
            if obj is not objs[n]:
                objs[n] = obj
                frags[n] = orjson.Fragment(obj.model_dump_json())
        return frags

    def _part(self, key: str, obj: RegionPart) -> orjson.Fragment:
        hit = self._parts.get(key)
        if hit is not None and hit[0] is obj:
            return hit[1]
        fragment = orjson.Fragment(obj.model_dump_json())
        self._parts[key] = (obj, fragment)
        return fragment

    def encode(self, s: RegionScore) -> bytes:
        part = self._part
        return orjson.dumps(
            {
                "schema_version": s.schema_version,
                "region_code": s.region_code,
                "province_code": s.province_code,
                "framework": s.framework,
                "evaluated_at": s.evaluated_at,
                "index": s.index,
                "level": s.level,
                "level_name": s.level_name,
                "coverage": s.coverage,
                "status": s.status.value,
                "dimensions": [part("d/" + d.dimension_id, d) for d in s.dimensions],
                "indicators": self._indicator_fragments(s.indicators),
                "events_applied": s.events_applied,
            },
            option=orjson.OPT_UTC_Z,
        )
