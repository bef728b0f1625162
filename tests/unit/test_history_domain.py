"""The history writer's pure core, worked by hand: steps, local days, retention, rows, one row per key."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from schemas.reasons import EMPTY_VALUE, SCHEMA_INVALID
from services.history.domain import (
    ALERTS,
    PLANS,
    SCORES,
    Batch,
    DeadLetter,
    Downsampling,
    SnapshotRow,
    Source,
    closing_day,
    decode,
    fine_cutoff,
    fine_slot,
    keeps_fine,
    plan_hash,
    plan_row,
    snapshot_rows,
    split_framework,
    transition_row,
)
from tests.history_support import a_masterplan, a_region_score, an_alert_event

FIVE_MIN = timedelta(minutes=5)
DS = Downsampling(fine_step=FIVE_MIN, fine_retention=timedelta(days=30))
#: "now" of the tests: the scores of 2026-05-20 are well inside the 30-day window.
NOW = datetime(2026, 5, 25, tzinfo=UTC)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=UTC)


def src(offset: int, partition: int = 4, ts: int = -1) -> Source:
    return Source(SCORES, partition, offset, ts)


# ------------------------------------------------------------------ steps


@pytest.mark.parametrize(
    ("at", "step", "start"),
    [
        (utc(2026, 5, 20, 3, 7, 42), FIVE_MIN, utc(2026, 5, 20, 3, 5)),  # 03:07:42 is in [03:05, 03:10)
        (utc(2026, 5, 20, 3, 10), FIVE_MIN, utc(2026, 5, 20, 3, 10)),  # a step's start is its own
        (utc(2026, 5, 20, 3, 9, 59, 999_999), FIVE_MIN, utc(2026, 5, 20, 3, 5)),  # a microsecond before the next
        (utc(2026, 5, 20, 3, 59, 59), timedelta(hours=1), utc(2026, 5, 20, 3)),
        (utc(2026, 5, 20, 23, 59), timedelta(days=1), utc(2026, 5, 20)),
        # 10:07:42 WIB is 03:07:42 UTC: the same step, whatever zone the time is written in
        (datetime(2026, 5, 20, 10, 7, 42, tzinfo=timezone(timedelta(hours=7))), FIVE_MIN, utc(2026, 5, 20, 3, 5)),
    ],
)
def test_a_score_falls_in_the_step_that_contains_it(at: datetime, step: timedelta, start: datetime) -> None:
    assert fine_slot(at, step) == start
    assert fine_slot(at, step).tzinfo == UTC


def test_a_naive_time_has_no_step() -> None:
    with pytest.raises(ValueError, match="zone"):
        fine_slot(datetime(2026, 5, 20, 3, 7), FIVE_MIN)


@pytest.mark.parametrize("step", [timedelta(0), timedelta(milliseconds=500), timedelta(seconds=7), timedelta(hours=5)])
def test_a_step_divides_a_day(step: timedelta) -> None:
    # 86400 s is not a multiple of 7 s (86400 = 7 x 12342 + 6) nor of 5 h (24 = 5 x 4 + 4)
    with pytest.raises(ValueError, match="divide a day"):
        Downsampling(fine_step=step)


def test_the_retention_must_be_positive() -> None:
    with pytest.raises(ValueError, match="retention"):
        Downsampling(fine_retention=timedelta(0))


# ------------------------------------------------------------------ local days


@pytest.mark.parametrize(
    ("region", "at", "day"),
    [
        # Kota Bandung keeps WIB (+7): 16:59:59 UTC is 23:59:59 on the 20th, 17:00 UTC midnight of the 21st
        ("32.73", utc(2026, 5, 20, 16, 59, 59), date(2026, 5, 20)),
        ("32.73", utc(2026, 5, 20, 17, 0), date(2026, 5, 21)),
        # at 15:30 UTC it is 22:30 in Bandung, 23:30 WITA (+8) in Denpasar, 00:30 WIT (+9) in Jayapura
        ("32.73", utc(2026, 5, 20, 15, 30), date(2026, 5, 20)),
        ("51.71", utc(2026, 5, 20, 15, 30), date(2026, 5, 20)),
        ("91.71", utc(2026, 5, 20, 15, 30), date(2026, 5, 21)),
        ("51.71", utc(2026, 5, 20, 16, 0), date(2026, 5, 21)),
    ],
)
def test_a_day_is_the_regions_own(region: str, at: datetime, day: date) -> None:
    assert closing_day(at, region) == day


# ------------------------------------------------------------------ retention


def test_a_fine_step_is_kept_while_it_starts_within_the_retention() -> None:
    now = utc(2026, 6, 19, 3, 5)
    assert fine_cutoff(now, timedelta(days=30)) == utc(2026, 5, 20, 3, 5)
    assert keeps_fine(utc(2026, 5, 20, 3, 5), now, timedelta(days=30))
    assert not keeps_fine(utc(2026, 5, 20, 3, 0), now, timedelta(days=30))


# ------------------------------------------------------------------ rows


def test_a_score_makes_its_steps_fine_snapshot_and_its_days_closing_one() -> None:
    score = a_region_score(evaluated_at=utc(2026, 5, 20, 16, 58, 30))  # 23:58:30 WIB
    fine, day = snapshot_rows(score, src(1041), DS, NOW)
    assert (fine.resolution, fine.at, fine.day) == ("fine", utc(2026, 5, 20, 16, 55), None)
    assert (day.resolution, day.at, day.day) == ("day", utc(2026, 5, 20, 16, 58, 30), date(2026, 5, 20))
    assert fine.values() == {
        "region_code": "32.73", "province_code": "32", "framework_id": "pp59", "framework_version": "2022.1",
        "resolution": "fine", "at": utc(2026, 5, 20, 16, 55), "day": None, "index": 3.2, "level": 4,
        "level_name": "Terpadu dan Terukur", "coverage": 0.9, "status": "ok",
        "dimensions": [{"dimension_id": "governance", "score": 3.2, "coverage": 0.9, "status": "ok",
                        "elements": [{"element_id": "public_services", "score": 3.2, "coverage": 0.9,
                                      "status": "ok"}]}],
        "events_applied": 7, "source_partition": 4, "source_offset": 1041,
    }  # fmt: skip
    assert fine.key == ("score_snapshots", "32.73", "pp59", "2022.1", "fine", utc(2026, 5, 20, 16, 55))
    assert day.key == ("score_snapshots", "32.73", "pp59", "2022.1", "day", date(2026, 5, 20))


def test_a_score_past_the_retention_only_makes_its_closing_snapshot() -> None:
    score = a_region_score(evaluated_at=utc(2026, 5, 20, 3, 7, 42))
    # now 2026-06-19 03:10: the cutoff is 2026-05-20 03:10, after the step of 03:05
    rows = snapshot_rows(score, src(1), DS, utc(2026, 6, 19, 3, 10))
    assert [(r.resolution, r.day) for r in rows] == [("day", date(2026, 5, 20))]


def test_an_insufficient_score_keeps_its_missing_values_missing() -> None:
    score = a_region_score(index=None, level=None, level_name=None, coverage=0.2, status="insufficient_data")
    fine, _day = snapshot_rows(score, src(1), DS, NOW)
    assert (fine.index, fine.level, fine.level_name, fine.status) == (None, None, None, "insufficient_data")


@pytest.mark.parametrize("key", ["pp59", "@2022.1", "pp59@"])
def test_a_framework_key_is_id_at_version(key: str) -> None:
    assert split_framework("pp59@2022.1") == ("pp59", "2022.1")
    with pytest.raises(ValueError, match="id@version"):
        split_framework(key)


def test_a_transition_row_is_the_event_with_its_columns() -> None:
    event = an_alert_event()
    row = transition_row(event, Source(ALERTS, 2, 17))
    assert row.key == ("alert_transitions", "t" * 24)
    values = row.values()
    assert {k: values[k] for k in ("alert_id", "kind", "target", "state", "severity", "escalation", "at")} == {
        "alert_id": "a" * 24, "kind": "behind_trajectory", "target": "index", "state": "firing",
        "severity": "warning", "escalation": "region", "at": utc(2026, 5, 20, 3, 8),
    }  # fmt: skip
    assert values["payload"] == json.loads(event.model_dump_json())
    assert (values["source_partition"], values["source_offset"]) == (2, 17)


def test_a_plan_version_is_the_hash_of_its_canonical_json() -> None:
    plan = a_masterplan()
    canonical = json.dumps(plan.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    assert canonical.startswith('{"basis":"region","framework_id":"pp59","milestones":[{"due":"2027-12-31",')
    assert plan_hash(plan) == hashlib.sha256(canonical.encode()).hexdigest()
    # the same plan written in another order (milestones are sorted by due date) is the same version
    again = a_masterplan(milestones=[{"due": "2029-12-31", "targets": {"governance": 3.8, "index": 3.5}},
                                     {"due": "2027-12-31", "targets": {"index": 3.0}}])  # fmt: skip
    assert plan_hash(again) == plan_hash(plan)
    changed = a_masterplan(milestones=[{"due": "2027-12-31", "targets": {"index": 3.1}}])
    assert plan_hash(changed) != plan_hash(plan)


def test_a_plan_is_first_seen_at_its_records_timestamp() -> None:
    # 1779246000000 ms after the epoch is 2026-05-20 03:00:00 UTC
    row = plan_row(a_masterplan(), Source(PLANS, 0, 3, 1_779_246_000_000), NOW)
    assert row.received_at == utc(2026, 5, 20, 3)
    assert plan_row(a_masterplan(), Source(PLANS, 0, 3, -1), NOW).received_at == NOW
    assert row.key == ("plan_versions", "32.73", "bandung-2029", plan_hash(a_masterplan()))


# ------------------------------------------------------------------ decoding


def test_records_decode_to_rows_dead_letters_or_nothing() -> None:
    score = a_region_score().model_dump_json().encode()
    assert [r.resolution for r in decode(SCORES, score, src(1), DS, NOW)] == ["fine", "day"]  # type: ignore[union-attr]
    assert decode(PLANS, None, Source(PLANS, 0, 1), DS, NOW) == []  # a compacted plan's delete: no row
    empty = decode(SCORES, None, src(1), DS, NOW)
    assert isinstance(empty, DeadLetter) and empty.reason == EMPTY_VALUE
    assert decode(ALERTS, None, Source(ALERTS, 0, 1), DS, NOW) == DeadLetter(
        EMPTY_VALUE, "a record without a value (a tombstone) on maturity-alerts"
    )
    for value in (b"not json", b'{"region_code": "32.73"}', a_masterplan().model_dump_json().encode()):
        bad = decode(SCORES, value, src(1), DS, NOW)
        assert isinstance(bad, DeadLetter) and bad.reason == SCHEMA_INVALID, value
    no_version = json.loads(score) | {"framework": "pp59"}
    bad = decode(SCORES, json.dumps(no_version).encode(), src(1), DS, NOW)
    assert bad == DeadLetter(SCHEMA_INVALID, "framework 'pp59' is not 'id@version'")
    with pytest.raises(ValueError, match="does not follow"):
        decode("indicator-events", score, src(1), DS, NOW)


# ------------------------------------------------------------------ one row per key


def _scored(offset: int, at: datetime, index: float) -> list[SnapshotRow]:
    return snapshot_rows(a_region_score(evaluated_at=at, index=index), src(offset), DS, NOW)


def test_a_batch_keeps_the_last_score_of_each_step_and_each_day() -> None:
    # 23:55:10, 23:57:00 and 23:59:59 WIB on the 20th fall in the step of 16:55 UTC; 00:00 WIB on the 21st
    # (17:00 UTC) opens a new step and a new day.
    rows = [*_scored(10, utc(2026, 5, 20, 16, 55, 10), 3.0), *_scored(11, utc(2026, 5, 20, 16, 57), 3.1),
            *_scored(12, utc(2026, 5, 20, 16, 59, 59), 3.2), *_scored(13, utc(2026, 5, 20, 17, 0), 3.3)]  # fmt: skip
    batch = Batch.of(rows)
    assert len(batch) == 4
    assert [(r.at, r.index, r.source.offset) for r in batch.fine()] == [
        (utc(2026, 5, 20, 16, 55), 3.2, 12),
        (utc(2026, 5, 20, 17, 0), 3.3, 13),
    ]
    assert [(r.day, r.at, r.index) for r in batch.daily()] == [
        (date(2026, 5, 20), utc(2026, 5, 20, 16, 59, 59), 3.2),
        (date(2026, 5, 21), utc(2026, 5, 20, 17, 0), 3.3),
    ]
    # the same records again, in another order (a replay overlapping a batch): the same rows
    assert Batch.of(reversed(rows)).snapshots == batch.snapshots
    assert batch.counts() == {"score_snapshots": 4, "alert_transitions": 0, "plan_versions": 0}


def test_a_batch_keeps_the_first_copy_of_a_transition_and_of_a_plan_version() -> None:
    first = transition_row(an_alert_event(), Source(ALERTS, 0, 5))
    again = transition_row(an_alert_event(), Source(ALERTS, 0, 9))
    plan = plan_row(a_masterplan(), Source(PLANS, 1, 2, 1_779_246_000_000), NOW)
    later = plan_row(a_masterplan(), Source(PLANS, 1, 8, 1_779_249_600_000), NOW)
    batch = Batch.of([first, again, plan, later])
    assert list(batch.transitions.values()) == [first]
    assert list(batch.plans.values()) == [plan]
    assert list(batch.without({Source(ALERTS, 0, 5)}).rows()) == [plan]


def test_a_later_record_supersedes_an_earlier_one_of_its_partition() -> None:
    assert src(12).supersedes(src(11))
    assert not src(11).supersedes(src(12))
    assert not src(12).supersedes(src(12))  # the same record again changes nothing
    assert src(3, partition=5).supersedes(src(12, partition=4))  # another partition: taken as later
