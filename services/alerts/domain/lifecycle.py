"""The alert lifecycle: a pure state machine, one track per (region, target, kind).

    (none) --enter--> pending --held for Rules.pending_for--> firing --not held--> resolved (none)
               pending --not held--> resolved (cancelled before firing; nobody is notified)

``enter`` and ``hold`` come from rules.Observation (separate thresholds: hysteresis). Every step
that changes the state yields one transition; ids are deterministic, so a replay of the same
scores gives the same alerts with the same ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from pydantic import AwareDatetime, BaseModel, ConfigDict

from schemas.alerts import AlertState, Severity
from services.alerts.domain.rules import Observation


class Track(BaseModel):
    """An active alert (pending or firing)."""

    model_config = ConfigDict(extra="forbid")

    alert_id: str
    state: AlertState
    since: AwareDatetime  # when the episode started (entered pending)
    severity: Severity


def alert_id(region: str, target: str, kind: str, since: dt.datetime) -> str:
    """Stable for one episode of one alert: region, target, kind and the time it started."""
    raw = f"{region}|{target}|{kind}|{since.astimezone(dt.UTC).isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def transition_id(alert: str, state: AlertState, suffix: str = "") -> str:
    """Stable for one step of one alert (notifications reuse it as their id)."""
    return hashlib.sha256(f"{alert}|{state.value}|{suffix}".encode()).hexdigest()[:24]


def step(
    track: Track | None, obs: Observation, region: str, now: dt.datetime, pending_for: dt.timedelta
) -> tuple[Track | None, list[tuple[AlertState, Track]]]:
    """Advance one alert by one observation; return its new track and the transitions made.

    Each transition is (state entered, the track it belongs to). A pending alert whose condition
    holds for ``pending_for`` fires in the same step that shows it (so pending_for=0 fires at once).
    """
    out: list[tuple[AlertState, Track]] = []
    if track is None:
        if not obs.enter:
            return None, out
        track = Track(alert_id=alert_id(region, obs.target, obs.kind.value, now), state=AlertState.PENDING,
                      since=now, severity=obs.severity)  # fmt: skip
        out.append((AlertState.PENDING, track))
    elif not obs.hold:
        out.append((AlertState.RESOLVED, track))
        return None, out
    if track.state is AlertState.PENDING and now - track.since >= pending_for:
        track = track.model_copy(update={"state": AlertState.FIRING, "severity": obs.severity})
        out.append((AlertState.FIRING, track))
    return track, out
