"""schemas/validation.py and the ingest item validation: codes, fields and messages worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas.framework import load_framework
from schemas.regions import default_registry
from schemas.validation import Problem, TimeLimits, check_event
from services.ingest.domain.intake import Rules, Undecodable, validate_document, validate_item
from tests.builders import an_event_doc, an_indicator_event

FW = load_framework()
REG = default_registry()
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
LIMITS = TimeLimits(max_future=timedelta(minutes=5), max_age=timedelta(days=30))
RULES = Rules(REG, FW, LIMITS)


def test_a_good_event_has_no_problem() -> None:
    assert check_event(an_indicator_event(), REG, FW, now=NOW, limits=LIMITS) is None


@pytest.mark.parametrize(
    ("overrides", "code", "field", "message"),
    [
        ({"region_code": "99.99"}, "unknown_region", "region_code", "'99.99' is not in registry kepmendagri-2025"),
        ({"indicator_id": "NOPE"}, "unknown_indicator", "indicator_id", "'NOPE' is not in pp59_2022@2026.1"),
        ({"unit": "mg/m3"}, "unit_mismatch", "unit", "'mg/m3', ENV_PM25 is measured in 'ug/m3'"),
        # ENV_PM25's physical bounds are [0, 1000].
        ({"value": 1000.5}, "out_of_bounds", "value", "1000.5 is outside ENV_PM25's bounds [0.0, 1000.0]"),
        ({"value": -0.1}, "out_of_bounds", "value", "-0.1 is outside ENV_PM25's bounds [0.0, 1000.0]"),
    ],
)
def test_each_problem_has_its_code_field_and_message(overrides: dict, code: str, field: str, message: str) -> None:
    assert check_event(an_indicator_event(**overrides), REG, FW) == Problem(code, field, message)


def test_bounds_and_time_limits_are_inclusive() -> None:
    # 09:05:00 is exactly 5 minutes ahead; 08:00 on 28 October is exactly 30 days back.
    for ok in (
        an_indicator_event(value=0.0),
        an_indicator_event(value=1000.0),
        an_indicator_event(observed_at=NOW + timedelta(minutes=5)),
        an_indicator_event(observed_at=NOW - timedelta(days=30)),
    ):
        assert check_event(ok, REG, FW, now=NOW, limits=LIMITS) is None
    ahead = check_event(
        an_indicator_event(observed_at=NOW + timedelta(minutes=5, microseconds=1)), REG, FW, now=NOW, limits=LIMITS
    )
    assert ahead is not None and (ahead.code, ahead.field) == ("observed_in_future", "observed_at")
    assert "more than 5 minutes ahead of 2026-11-27T09:00:00+00:00" in ahead.message
    old = check_event(
        an_indicator_event(observed_at=NOW - timedelta(days=30, seconds=1)), REG, FW, now=NOW, limits=LIMITS
    )
    assert old is not None and old.code == "observed_too_old" and "more than 30 days before" in old.message


def test_time_checks_need_now_and_limits() -> None:
    ancient = an_indicator_event(observed_at=datetime(2001, 1, 1, tzinfo=UTC))
    assert check_event(ancient, REG, FW) is None
    assert check_event(ancient, REG, FW, now=NOW) is None


def test_key_must_be_the_region_when_given() -> None:
    ev = an_indicator_event(region_code="32.73")
    assert check_event(ev, REG, FW, key="32.73") is None
    p = check_event(ev, REG, FW, key="35.78")
    assert p is not None and p.code == "key_mismatch" and p.field == "region_code"


def test_item_validation_is_strict_and_names_every_field() -> None:
    got = validate_item(an_event_doc(value="21.5", event_id="x", extra=1), RULES, NOW, "pub")
    assert isinstance(got, list)
    assert {(p.code, p.field) for p in got} == {
        ("invalid_value", "value"),
        ("invalid_value", "event_id"),
        ("unknown_field", "extra"),
    }


def test_publisher_comes_from_the_key_and_may_not_be_sent() -> None:
    ok = validate_item(an_event_doc(observed_at=NOW.isoformat()), RULES, NOW, "bandung")
    assert not isinstance(ok, list) and ok.publisher == "bandung"
    sent = validate_item(an_event_doc(observed_at=NOW.isoformat(), publisher="someone-else"), RULES, NOW, "bandung")
    assert sent == [Problem("unknown_field", "publisher", "set by the service from the API key; do not send it")]


@pytest.mark.parametrize(
    ("raw", "code", "field"),
    [
        ([1, 2], "invalid_value", "(item)"),
        (Undecodable("bad"), "undecodable", "(line)"),
        # JSON has no Infinity or NaN: such bodies fail to parse (invalid_json), never reach here as numbers.
        (an_event_doc(value=None), "invalid_value", "value"),
        ({"event_id": "6f1c0f0e-6a55-4a8e-9d2b-1a2b3c4d5e6f"}, "missing_field", "region_code"),
        (an_event_doc(observed_at="2026-11-27T08:00:00"), "invalid_value", "observed_at"),  # no time zone
    ],
)
def test_item_problems(raw: object, code: str, field: str) -> None:
    got = validate_item(raw, RULES, NOW, "p")
    assert isinstance(got, list) and (got[0].code, got[0].field) == (code, field)


def test_documents_from_kafka_may_carry_their_publisher() -> None:
    got = validate_document(an_event_doc(observed_at=NOW.isoformat(), publisher="kafka-native"), RULES, NOW)
    assert not isinstance(got, list) and got.publisher == "kafka-native"
