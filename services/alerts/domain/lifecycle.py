"""The alert lifecycle: a pure state machine, one track per (region, target, kind).

    (none) --enter--> pending --held for AlertRules.pending_for--> firing --not held--> resolved (none)
               pending --not held--> resolved (cancelled before firing; nobody is notified)
                                                        firing --another severity band--> firing

A firing alert follows its gap across severity bands: it moves up as soon as the gap reaches a
higher band, and down only once the gap is ``AlertRules.band_exit_margin`` below the band's threshold
(``Observation.severity_held``), so a gap hovering at a threshold does not flap between bands.

``enter`` and ``hold`` come from rules.Observation (separate thresholds: hysteresis). Every step
that changes the state yields one transition; ids are deterministic, so a replay of the same
scores gives the same alerts with the same ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import NamedTuple

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
    severity_since: AwareDatetime | None = None  # when a firing alert last changed severity band


class Transition(NamedTuple):
    """One step of one alert: the state entered and the track it belongs to.

    ``previous_severity`` is set on a firing step that changes the severity band (the band before).
    """

    state: AlertState
    track: Track
    previous_severity: Severity | None = None

    @property
    def suffix(self) -> str:
        """What makes this step's transition id unique among the alert's steps."""
        if self.previous_severity is None:
            return ""
        since = self.track.severity_since or self.track.since
        return f"severity/{self.track.severity.value}/{since.isoformat()}"


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


def next_band(current: Severity, obs: Observation) -> Severity:
    """The severity a firing alert has after ``obs``: up at once, down only past the exit margin."""
    held = obs.severity_held or obs.severity
    if _RANK[obs.severity] > _RANK[current]:
        return obs.severity
    if _RANK[held] < _RANK[current]:
        return held
    return current


def alert_id(region: str, target: str, kind: str, since: dt.datetime) -> str:
    """Stable for one episode of one alert: region, target, kind and the time it started."""
    raw = f"{region}|{target}|{kind}|{since.astimezone(dt.UTC).isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def transition_id(alert: str, state: AlertState, suffix: str = "") -> str:
    """Stable for one step of one alert (notifications reuse it as their id)."""
    return hashlib.sha256(f"{alert}|{state.value}|{suffix}".encode()).hexdigest()[:24]


def step(
    track: Track | None, obs: Observation, region: str, now: dt.datetime, pending_for: dt.timedelta
) -> tuple[Track | None, list[Transition]]:
    """Advance one alert by one observation; return its new track and the transitions made.

    A pending alert whose condition holds for ``pending_for`` fires in the same step that shows it
    (so pending_for=0 fires at once). A firing alert whose gap crossed into another severity band
    makes a firing transition with ``previous_severity`` set.
    """
    out: list[Transition] = []
    if track is None:
        if not obs.enter:
            return None, out
        track = Track(alert_id=alert_id(region, obs.target, obs.kind.value, now), state=AlertState.PENDING,
                      since=now, severity=obs.severity)  # fmt: skip
        out.append(Transition(AlertState.PENDING, track))
    elif not obs.hold:
        out.append(Transition(AlertState.RESOLVED, track))
        return None, out
    elif track.state is AlertState.FIRING:
        band = next_band(track.severity, obs)
        if band is not track.severity:
            previous = track.severity
            track = track.model_copy(update={"severity": band, "severity_since": now})
            out.append(Transition(AlertState.FIRING, track, previous))
        return track, out
    if track.state is AlertState.PENDING and now - track.since >= pending_for:
        track = track.model_copy(update={"state": AlertState.FIRING, "severity": obs.severity})
        out.append(Transition(AlertState.FIRING, track))
    return track, out
