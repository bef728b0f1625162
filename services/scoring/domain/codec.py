"""Compact bytes of a RegionState for the table changelog (orjson; lists instead of objects)."""

from __future__ import annotations

from typing import Any

import orjson

from services.scoring.domain.state import Bucket, RegionState, Series

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
