"""Alert domain: milestone paths, projections, drivers and the lifecycle, against hand-worked values."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from schemas.alerts import AlertKind, AlertState, Severity
from schemas.framework import parse_framework
from schemas.masterplan import Masterplan, Milestone, expected_on, last_milestone, next_milestone
from schemas.scores import DimensionScore, ElementScore, IndicatorScore, RegionScore, ScoreStatus
from services.alerts.domain.engine import RegionAlerts, evaluate, reevaluate
from services.alerts.domain.lifecycle import Track, Transition, step
from services.alerts.domain.rules import AlertRules, Observation, drivers, observe, trend_slope
from tests.builders import an_indicator_doc, framework_doc

UTC = dt.UTC
T0 = dt.datetime(2026, 1, 1, tzinfo=UTC)


def a_plan(*milestones: tuple[dt.date, dict[str, float]]) -> Masterplan:
    return Masterplan(region_code="32.73", plan_id="p", basis="region", framework_id="tiny",
                      milestones=[Milestone(due=d, targets=t) for d, t in milestones])  # fmt: skip


PLAN = a_plan((dt.date(2025, 1, 1), {"index": 2.0}), (dt.date(2026, 1, 1), {"index": 3.0, "governance": 3.0}),
              (dt.date(2027, 1, 1), {"index": 3.5}))  # fmt: skip


def test_path_is_linear_between_milestones_by_hand() -> None:
    # 2025-07-02 is 182 days after 2025-01-01 in a 365-day span from 2.0 to 3.0.
    assert expected_on(PLAN, "index", dt.date(2025, 7, 2)) == pytest.approx(2.0 + 182 / 365)
    assert expected_on(PLAN, "index", dt.date(2025, 1, 1)) == 2.0
    assert expected_on(PLAN, "index", dt.date(2026, 1, 1)) == 3.0
    # 2026-04-02 is 91 days into the 365-day span 3.0 -> 3.5.
    assert expected_on(PLAN, "index", dt.date(2026, 4, 2)) == pytest.approx(3.0 + 0.5 * 91 / 365)


def test_path_starts_at_the_first_milestone_and_stays_at_the_last() -> None:
    assert expected_on(PLAN, "index", dt.date(2024, 12, 31)) is None
    assert expected_on(PLAN, "index", dt.date(2030, 6, 1)) == 3.5
    # governance is set by one milestone only: nothing before it, that value after it.
    assert expected_on(PLAN, "governance", dt.date(2025, 6, 1)) is None
    assert expected_on(PLAN, "governance", dt.date(2026, 6, 1)) == 3.0


def test_next_and_last_milestone() -> None:
    day = dt.date(2026, 1, 1)
    nxt, last = next_milestone(PLAN, "index", day), last_milestone(PLAN, "index", day)
    assert nxt is not None and nxt.due == dt.date(2027, 1, 1)
    assert last is not None and last.due == dt.date(2026, 1, 1)  # due today counts as passed
    assert next_milestone(PLAN, "governance", day) is None


def test_trend_slope_by_hand() -> None:
    # Points (0, 1), (1, 3), (2, 2): mean t 1, mean v 2; slope = ((-1)(-1) + 0 + (1)(0)) / (1 + 0 + 1) = 0.5.
    assert trend_slope([(0.0, 1.0), (1.0, 3.0), (2.0, 2.0)]) == pytest.approx(0.5)
    assert trend_slope([(5.0, 1.0), (5.0, 2.0)]) is None


# ------------------------------------------------------------------ a one-dimension framework and scores

NORM = {"norm": {"method": "min_max", "min": 0, "max": 5}, "agg": {"method": "latest"}}
FW = parse_framework(framework_doc(dimensions=[{
    "id": "governance", "name": "Governance", "elements": [{
        "id": "public_services", "name": "Public services",
        "indicators": [an_indicator_doc("IND_A", weight=3, **NORM), an_indicator_doc("IND_B", weight=1, **NORM)],
    }],
}]))  # fmt: skip


def a_score(at: dt.datetime, a: float | None, b: float | None = None) -> RegionScore:
    """A RegionScore of FW whose indicator scores are ``a`` and ``b`` (None: no fresh data)."""
    inds = [IndicatorScore(indicator_id=i, dimension="governance", element="public_services", weight=w,
                           value=s, score=s, observed_at=at if s is not None else None, fresh=s is not None)
            for i, w, s in (("IND_A", 3.0, a), ("IND_B", 1.0, b))]  # fmt: skip
    fresh = [(w, s) for w, s in ((3.0, a), (1.0, b)) if s is not None]
    cov = sum(w for w, _ in fresh) / 4
    value = sum(w * s for w, s in fresh) / sum(w for w, _ in fresh) if fresh else None
    ok = cov >= FW.minimum_coverage and value is not None
    status = ScoreStatus.OK if ok else ScoreStatus.INSUFFICIENT_DATA
    el = ElementScore(element_id="public_services", score=value if ok else None, coverage=cov, status=status)
    dim = DimensionScore(dimension_id="governance", score=value if ok else None, coverage=cov, status=status,
                         elements=[el])  # fmt: skip
    return RegionScore(region_code="32.73", province_code="32", framework=FW.key, evaluated_at=at,
                       index=value if ok else None, coverage=cov, status=status, dimensions=[dim], indicators=inds,
                       events_applied=1)  # fmt: skip


def test_drivers_pull_by_hand() -> None:
    # One element, A (weight 3) scores 2.0 and B (weight 1) scores 4.0.
    # A: (5 - 2) * 3/4 = 2.25 points of the dimension at full marks; B: (5 - 4) * 1/4 = 0.25.
    got = drivers(a_score(T0, 2.0, 4.0), "governance", FW)
    assert [(d.indicator_id, round(d.pull, 6)) for d in got] == [("IND_A", 2.25), ("IND_B", 0.25)]
    # The index has one dimension: the same shares.
    assert [round(d.pull, 6) for d in drivers(a_score(T0, 2.0, 4.0), "index", FW)] == [2.25, 0.25]


def test_at_risk_projects_the_trend_to_the_next_milestone_by_hand() -> None:
    plan = a_plan((dt.date(2025, 1, 1), {"index": 1.0}), (dt.date(2026, 1, 11), {"index": 3.6}))
    day = 86400.0
    # Values 2.0 and 2.1 one day apart, now 2.2 on the third day: slope 0.1/day. The milestone is
    # due 2026-01-11 00:00 in the region's own zone (Bandung, WIB = UTC+7), 8 days less 7 hours
    # after now (2026-01-03 00:00 UTC): projected 2.2 + 0.1 x (8 - 7/24) = 2.971, short of 3.6 by 0.629.
    history = [(T0.timestamp(), 2.0), (T0.timestamp() + day, 2.1)]
    now = T0 + dt.timedelta(days=2)
    obs = {o.kind: o for o in observe(a_score(now, 2.2, 2.2), plan, "index", history, FW, AlertRules())}
    risk = obs[AlertKind.AT_RISK]
    assert risk.gap == pytest.approx(3.6 - (2.2 + 0.1 * (8 - 7 / 24))) and risk.enter and risk.hold
    assert risk.severity is Severity.WARNING  # 0.6 >= warning_gap 0.5, < critical_gap 1.0
    assert risk.milestone_due == dt.date(2026, 1, 11)


def test_behind_trajectory_pending_firing_holding_in_band_and_resolved() -> None:
    # Path: 3.0 on 2025-01-01 to 3.0 on 2027-01-01: expected 3.0 every day.
    plan = a_plan((dt.date(2025, 1, 1), {"index": 3.0}), (dt.date(2027, 1, 1), {"index": 3.0}))
    rules = AlertRules(pending_for=dt.timedelta(minutes=5), drop_enter=9, drop_exit=9)  # score_drop out of the way
    state = RegionAlerts()

    def run(minutes: int, score: float) -> list[tuple[str, str, str]]:
        ev = evaluate(state, a_score(T0 + dt.timedelta(minutes=minutes), score, score), plan, FW, rules)
        return [(e.target, e.kind.value, e.state.value) for e in ev if e.kind is AlertKind.BEHIND_TRAJECTORY]

    # gap 0.5 > 0.25: the index goes pending (the plan sets no governance target: no path for it).
    assert run(0, 2.5) == [("index", "behind_trajectory", "pending")]
    assert run(1, 2.5) == []  # still pending: 1 min < 5 min
    assert run(5, 2.5) == [("index", "behind_trajectory", "firing")]
    # gap 0.15: inside the band (0.10, 0.25], still firing; its severity falls from warning (it fired
    # at gap 0.5) to info, as 0.15 is more than band_exit_margin 0.1 below warning_gap 0.5.
    assert run(6, 2.85) == [("index", "behind_trajectory", "firing")]
    assert run(7, 2.95) == [("index", "behind_trajectory", "resolved")]
    assert run(8, 2.85) == []  # gap 0.15 does not start a new alert either


def test_replayed_older_score_changes_nothing() -> None:
    plan = a_plan((dt.date(2025, 1, 1), {"index": 3.0}), (dt.date(2027, 1, 1), {"index": 3.0}))
    state = RegionAlerts()
    assert evaluate(state, a_score(T0, 2.0, 2.0), plan, FW, AlertRules())
    assert evaluate(state, a_score(T0, 2.0, 2.0), plan, FW, AlertRules()) == []


def test_alert_ids_are_deterministic() -> None:
    plan = a_plan((dt.date(2025, 1, 1), {"index": 3.0}), (dt.date(2027, 1, 1), {"index": 3.0}))
    one = evaluate(RegionAlerts(), a_score(T0, 2.0, 2.0), plan, FW, AlertRules())
    two = evaluate(RegionAlerts(), a_score(T0, 2.0, 2.0), plan, FW, AlertRules())
    assert [(e.alert_id, e.transition_id) for e in one] == [(e.alert_id, e.transition_id) for e in two]
    assert len({e.transition_id for e in one}) == len(one)


def test_data_stale_when_coverage_falls_below_minimum() -> None:
    # Only IND_B (weight 1 of 4) fresh: coverage 0.25 < 0.5 -> insufficient data.
    history = [(T0.timestamp() - 3600, 3.0)]  # the index had a value an hour ago: coverage has dropped
    obs = {o.kind: o for o in observe(a_score(T0, None, 4.0), None, "index", history, FW, AlertRules())}
    assert obs[AlertKind.DATA_STALE].enter and obs[AlertKind.DATA_STALE].current == 0.25
    assert set(obs) == {AlertKind.DATA_STALE}  # nothing else can be judged without a score


def test_a_target_that_never_had_data_is_not_stale() -> None:
    # A cold start (no history): below the minimum, but nothing has dropped.
    obs = {o.kind: o for o in observe(a_score(T0, None, 4.0), None, "index", [], FW, AlertRules())}
    assert not obs[AlertKind.DATA_STALE].enter


# ------------------------------------------------------------------ the lifecycle as a state machine

ENTER, EXIT = AlertRules().behind_enter, AlertRules().behind_exit


def obs_for(gap: float) -> Observation:
    return Observation(AlertKind.BEHIND_TRAJECTORY, "index", enter=gap > ENTER, hold=gap > EXIT,
                       severity=Severity.INFO, current=3.0 - gap, expected=3.0, gap=gap, milestone_due=None,
                       summary="")  # fmt: skip


class Lifecycle(RuleBasedStateMachine):
    """Random gaps and waits: no flapping inside the band, one resolve for every firing."""

    def __init__(self) -> None:
        super().__init__()
        self.track: Track | None = None
        self.now = T0
        self.fired = 0
        self.resolved_after_firing = 0
        self.pending_for = dt.timedelta(minutes=3)

    def _apply(self, gap: float) -> list[Transition]:
        before = self.track
        self.track, transitions = step(self.track, obs_for(gap), "32.73", self.now, self.pending_for)
        for state, tr, _previous in transitions:
            if state is AlertState.FIRING:
                self.fired += 1
            if state is AlertState.RESOLVED and before is not None and before.state is AlertState.FIRING:
                self.resolved_after_firing += 1
            assert tr.alert_id  # every transition belongs to an alert
        return transitions

    @rule(minutes=st.integers(0, 10))
    def wait(self, minutes: int) -> None:
        self.now += dt.timedelta(minutes=minutes)

    @rule(gap=st.floats(EXIT + 1e-6, ENTER))
    def in_band(self, gap: float) -> None:
        was = self.track.state if self.track else None
        transitions = self._apply(gap)
        # Inside the band nothing starts and nothing ends; a pending alert may only fire.
        assert all(s is AlertState.FIRING for s, _, _ in transitions)
        assert (self.track is None) == (was is None)

    @rule(gap=st.floats(ENTER + 1e-6, 4.0))
    def behind(self, gap: float) -> None:
        self._apply(gap)
        assert self.track is not None

    @rule(gap=st.floats(-2.0, EXIT))
    def recovered(self, gap: float) -> None:
        self._apply(gap)
        assert self.track is None

    @precondition(lambda self: self.track is not None and self.track.state is AlertState.PENDING)
    @rule()
    def pending_long_enough_fires(self) -> None:
        self.now += self.pending_for
        transitions = self._apply(ENTER + 0.5)
        assert [s for s, _, _ in transitions] == [AlertState.FIRING]

    @invariant()
    def every_firing_is_resolved_once(self) -> None:
        still_firing = 1 if self.track is not None and self.track.state is AlertState.FIRING else 0
        assert self.fired == self.resolved_after_firing + still_firing


Lifecycle.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestLifecycle = Lifecycle.TestCase


def test_severity_follows_the_gap_while_firing_with_hysteresis_between_bands() -> None:
    # Path 3.0 throughout; bands: warning from a gap of 0.5, critical from 1.0; down only 0.1 below.
    plan = a_plan((dt.date(2025, 1, 1), {"index": 3.0}), (dt.date(2027, 1, 1), {"index": 3.0}))
    rules = AlertRules(pending_for=dt.timedelta(0), drop_enter=9, drop_exit=9)
    state = RegionAlerts()

    def run(minutes: int, score: float) -> list[tuple[str, str, str | None]]:
        ev = evaluate(state, a_score(T0 + dt.timedelta(minutes=minutes), score, score), plan, FW, rules)
        return [(e.state.value, e.severity.value, e.previous_severity and e.previous_severity.value)
                for e in ev if e.kind is AlertKind.BEHIND_TRAJECTORY and e.target == "index"]  # fmt: skip

    assert run(0, 2.7) == [("pending", "info", None), ("firing", "info", None)]  # gap 0.3
    assert run(1, 2.45) == [("firing", "warning", "info")]  # gap 0.55 >= 0.5: up at once
    assert run(2, 2.55) == []  # gap 0.45: below 0.5 but not 0.1 below it (0.4): stays warning
    assert run(3, 1.9) == [("firing", "critical", "warning")]  # gap 1.1 >= 1.0
    assert run(4, 2.05) == []  # gap 0.95: within the margin of 1.0
    assert run(5, 2.65) == [("firing", "info", "critical")]  # gap 0.35 < 0.4: down two bands in one step
    assert run(6, 3.0) == [("resolved", "info", None)]
    ids = [e.transition_id for e in evaluate(RegionAlerts(), a_score(T0, 2.7, 2.7), plan, FW, rules)]
    assert len(set(ids)) == len(ids)


def test_a_pending_alert_fires_on_time_alone() -> None:
    plan = a_plan((dt.date(2025, 1, 1), {"index": 3.0}), (dt.date(2027, 1, 1), {"index": 3.0}))
    rules = AlertRules(pending_for=dt.timedelta(minutes=5))
    state = RegionAlerts()
    first = evaluate(state, a_score(T0, 2.0, 2.0), plan, FW, rules)
    assert {e.state for e in first} == {AlertState.PENDING}
    assert not state.pending_due(T0 + dt.timedelta(minutes=4), rules.pending_for)
    assert reevaluate(state, T0 + dt.timedelta(minutes=4), plan, FW, rules) == []
    later = reevaluate(state, T0 + dt.timedelta(minutes=5), plan, FW, rules)
    assert {(e.kind, e.state) for e in later} >= {(AlertKind.BEHIND_TRAJECTORY, AlertState.FIRING)}


def test_a_trend_seen_over_minutes_is_not_projected_months_ahead() -> None:
    # Three points over 2 minutes; the milestone is 8 days away: 8 d > 6 x 2 min, so no projection.
    plan = a_plan((dt.date(2025, 1, 1), {"index": 1.0}), (dt.date(2026, 1, 11), {"index": 3.6}))
    now = T0 + dt.timedelta(days=2)
    history = [(now.timestamp() - 120, 2.4), (now.timestamp() - 60, 2.3)]
    obs = {o.kind for o in observe(a_score(now, 2.2, 2.2), plan, "index", history, FW, AlertRules())}
    assert AlertKind.AT_RISK not in obs


def test_a_due_date_is_a_day_in_the_region_s_own_zone() -> None:
    # The milestone of 2026-12-31 (index 3.0; the score is 2.0) is due from 00:00 local time.
    plan = a_plan((dt.date(2025, 1, 1), {"index": 2.0}), (dt.date(2026, 12, 31), {"index": 3.0}))

    def missed(at: dt.datetime, region: str, province: str) -> bool:
        score = a_score(at, 2.0, 2.0).model_copy(update={"region_code": region, "province_code": province})
        local_plan = plan.model_copy(update={"region_code": region})
        obs = {o.kind: o for o in observe(score, local_plan, "index", [], FW, AlertRules())}[AlertKind.MILESTONE_MISSED]
        # Before it is due, the passed milestone is 2025's (2.0, met); from then on 2026's (3.0, missed by 1).
        assert obs.milestone_due in (dt.date(2025, 1, 1), dt.date(2026, 12, 31))
        return obs.enter and obs.milestone_due == dt.date(2026, 12, 31)

    # Bandung (WIB, UTC+7): 16:59 UTC is 23:59 on the 30th; 17:00 UTC is 00:00 on the 31st.
    assert not missed(dt.datetime(2026, 12, 30, 16, 59, tzinfo=UTC), "32.73", "32")
    assert missed(dt.datetime(2026, 12, 30, 17, 0, tzinfo=UTC), "32.73", "32")
    # Makassar (WITA, UTC+8) is due an hour earlier in UTC, Jayapura (WIT, UTC+9) two hours earlier.
    assert not missed(dt.datetime(2026, 12, 30, 15, 59, tzinfo=UTC), "73.71", "73")
    assert missed(dt.datetime(2026, 12, 30, 16, 0, tzinfo=UTC), "73.71", "73")
    assert not missed(dt.datetime(2026, 12, 30, 14, 59, tzinfo=UTC), "91.71", "91")
    assert missed(dt.datetime(2026, 12, 30, 15, 0, tzinfo=UTC), "91.71", "91")
