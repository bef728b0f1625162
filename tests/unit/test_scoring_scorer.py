"""The Scorer (services/scoring/scorer.py): records in, outcomes and rejections out (no Kafka).

Records of ``indicator-events`` get ingest's checks (docs/scoring.md, "What a record must be"); the
expected reasons and details below are ingest's, worked out from docs/ingest.md.
"""

import json
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from schemas.framework import load_framework
from schemas.regions import default_registry
from schemas.validation import DEFAULT_TIME_LIMITS
from services.ingest.domain.intake import Rules
from services.ingest.raw_topic import RawValidator
from services.runtime.faust_app import partition_of
from services.scoring.domain import Outcome
from services.scoring.metrics import ScoringMetrics
from services.scoring.scorer import Misrouted, Rejection, Scorer
from tests.builders import an_indicator_event

FW = load_framework()
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
FIVE_MIN = timedelta(minutes=5)


@pytest.fixture
def scorer() -> Scorer:
    return Scorer(load_framework(), default_registry(), ScoringMetrics(CollectorRegistry()),
                  lateness_us=300_000_000, publish_interval=1.0, clock=lambda: NOW.timestamp())  # fmt: skip


def _raw(**overrides: object) -> bytes:
    return an_indicator_event(**overrides).model_dump_json().encode()


@pytest.mark.parametrize(
    ("value", "reason", "detail"),
    [
        (b"{not json", "undecodable", "(record): not JSON: unexpected character"),
        (b"[1, 2]", "schema_invalid", "(record): an event is a JSON object"),
        (json.dumps({"event_id": str(uuid.uuid4())}).encode(), "schema_invalid", "region_code: Field required"),
        (_raw(region_code="99.99"), "unknown_region", "region_code: '99.99'"),
        (_raw(indicator_id="NOPE"), "unknown_indicator", "indicator_id: 'NOPE'"),
        (_raw(unit="mg/m3"), "unit_mismatch", "unit: 'mg/m3'"),
        (_raw(value=5000.0), "out_of_bounds", "value: 5000.0 is outside ENV_PM25's bounds"),
        # D1: strict types, as at ingest: a number in a string is not a number, nor is a boolean.
        (_raw().replace(b'"value":21.5', b'"value":"21.5"'), "schema_invalid", "value: Input should be a valid number"),
        (_raw().replace(b'"value":21.5', b'"value":true'), "schema_invalid", "value: Input should be a valid number"),
        (_raw().replace(b'"value":21.5', b'"value":NaN'), "undecodable", "(record): not JSON"),
        (_raw().replace(b'"schema_version":1', b'"schema_version":"1"'), "schema_invalid", "schema_version: Input"),
        # D2: 400 days ahead of the worker's clock (NOW; 2026-11-27 + 365 days + 35 days); tolerance 5 min.
        (_raw(observed_at=NOW + timedelta(days=400)), "observed_in_future",
         "observed_at: 2028-01-01T09:00:00+00:00 is more than 5 minutes ahead of 2026-11-27T09:00:00+00:00"),
        (_raw(observed_at=NOW + FIVE_MIN + timedelta(microseconds=1)), "observed_in_future", "observed_at: "),
    ],
)  # fmt: skip
def test_bad_records_are_rejected_with_a_reason(scorer: Scorer, value: bytes, reason: str, detail: str) -> None:
    assert b'"value":21.5' in _raw() and b'"schema_version":1' in _raw()  # the replacements above hit
    result = scorer.apply_record(b"32.73", value, 0, 1, NOW.timestamp())
    assert isinstance(result, Rejection)
    assert result.reason == reason
    assert result.detail.startswith(detail)
    assert scorer.states == {}


def test_the_tolerance_ahead_is_inclusive(scorer: Scorer) -> None:
    assert scorer.apply_record(b"32.73", _raw(observed_at=NOW + FIVE_MIN), 0, 1, NOW.timestamp()) is Outcome.SCORED


def test_age_is_judged_from_the_record_timestamp_so_a_replay_refuses_no_more(scorer: Scorer) -> None:
    # Written (Kafka timestamp) on 2026-11-27, about an event 3650 days (10 years) older: accepted,
    # and still accepted when this worker replays it a year later.
    old = NOW - timedelta(days=3650)
    later = Scorer(load_framework(), default_registry(), ScoringMetrics(CollectorRegistry()), lateness_us=0,
                   publish_interval=1.0, clock=lambda: (NOW + timedelta(days=365)).timestamp())  # fmt: skip
    assert later.apply_record(b"32.73", _raw(observed_at=old), 0, 1, NOW.timestamp()) is Outcome.SCORED
    # One second older than that is refused, as ingest refuses it.
    refused = scorer.apply_record(b"32.73", _raw(observed_at=old - timedelta(seconds=1)), 0, 2, NOW.timestamp())
    assert isinstance(refused, Rejection) and refused.reason == "observed_too_old"
    assert "more than 3650 days before 2026-11-27T09:00:00+00:00" in refused.detail


@pytest.mark.parametrize(
    ("key", "detail"),
    [
        (b"35.78", "region_code: '32.73' differs from the record key '35.78'"),
        (b"", "region_code: '32.73' differs from the record key ''"),
        (None, "region_code: '32.73' the record has no key"),  # D3
    ],
)
def test_key_must_be_the_region(scorer: Scorer, key: bytes | None, detail: str) -> None:
    result = scorer.apply_record(key, _raw(region_code="32.73"), 0, 1, NOW.timestamp())
    assert result == Rejection("key_mismatch", detail)
    assert scorer.states == {}


def test_a_record_on_a_partition_that_does_not_own_its_key_is_not_applied() -> None:
    # D4: key 36.02 is on partition 4 under murmur2 (Java's and the project's clients) and on 3 under
    # librdkafka's default (CRC32: zlib.crc32(b"36.02") % 12 == 3).
    scorer = Scorer(load_framework(), default_registry(), ScoringMetrics(CollectorRegistry()),
                    lateness_us=300_000_000, publish_interval=1.0, clock=lambda: NOW.timestamp(),
                    owner=lambda region: partition_of(region, 12))  # fmt: skip
    record = _raw(region_code="36.02")
    assert scorer.apply_record(b"36.02", record, 3, 7, NOW.timestamp()) == Misrouted(4)
    assert scorer.states == {} and scorer.unpersisted == set() and scorer.dirty == set()
    # The copy on partition 4 is applied; the same event again (a second copy) is a duplicate.
    assert scorer.apply_record(b"36.02", record, 4, 20, NOW.timestamp()) is Outcome.SCORED
    assert scorer.apply_record(b"36.02", record, 4, 21, NOW.timestamp()) is Outcome.DUPLICATE
    assert scorer.states["36.02"].applied == 1 and scorer.partition_of == {"36.02": 4}
    # Invalid records are dead-lettered for what is wrong with them, wherever they are.
    bad = scorer.apply_record(b"36.02", _raw(region_code="36.02", value=-1.0), 3, 8, NOW.timestamp())
    assert isinstance(bad, Rejection) and bad.reason == "out_of_bounds"


# One record for each way a record can go wrong at ingest's raw door, and good ones.
_PARITY_CASES = {
    "good": {},
    "with a publisher": {"publisher": "dinas-kominfo"},
    "a string value": {"value": "21.5"},
    "a boolean value": {"value": False},
    "an integer value": {"value": 21},
    "an unknown field": {"colour": "red"},
    "no source": {"source": None},
    "a bad event id": {"event_id": "not-a-uuid"},
    "a naive time": {"observed_at": "2026-11-27T08:00:00"},
    "a number for a time": {"observed_at": 1795000000},
    "an unknown region": {"region_code": "99.99"},
    "an unknown indicator": {"indicator_id": "NOPE"},
    "the wrong unit": {"unit": "mg/m3"},
    "out of bounds": {"value": 1000.5},
    "400 days ahead": {"observed_at": "+400d"},
    "an hour ahead": {"observed_at": "+1h"},
    "too many attributes": {"attributes": {f"k{n}": "v" for n in range(17)}},
    "a huge integer attribute": {"attributes": {"a": 10**30}},
    "schema version 2": {"schema_version": 2},
}


def _parity_record(change: dict[str, object], now: datetime) -> bytes:
    doc = orjson.loads(an_indicator_event(observed_at=now - timedelta(hours=1)).model_dump_json())
    for k, v in change.items():
        if v is None:
            doc.pop(k)
        elif v in ("+400d", "+1h"):
            doc[k] = (now + (timedelta(days=400) if v == "+400d" else timedelta(hours=1))).isoformat()
        else:
            doc[k] = v
    return json.dumps(doc).encode()  # json, not orjson: it writes integers beyond 64 bits


_RAW_EXTRAS = [b"{not json", b"[1, 2]", b"null", b"\xef\xbb\xbf{}", b'{"value": NaN}', b'{"value": Infinity}',
               b'{"value": 1e400}', b'{"value": 1} trailing', b'{"a":' + b"[" * 2000 + b"]" * 2000 + b"}"]  # fmt: skip


@pytest.mark.parametrize("raw", [*_PARITY_CASES, *range(len(_RAW_EXTRAS))])
def test_scoring_refuses_exactly_what_ingest_refuses_with_the_same_reason(raw: str | int) -> None:
    """The same record through ingest's raw-topic validator and through scoring: the same verdict."""
    now = datetime.now(UTC)
    value = _parity_record(_PARITY_CASES[raw], now) if isinstance(raw, str) else _RAW_EXTRAS[raw]
    ingest = RawValidator(Rules(default_registry(), FW, DEFAULT_TIME_LIMITS), dlq_topic="dlq", clock=lambda: now)
    at_ingest = ingest.handle(b"32.73", value, "indicator-events.raw", 0, 1)
    scorer = Scorer(FW, default_registry(), ScoringMetrics(CollectorRegistry()), lateness_us=300_000_000,
                    publish_interval=1.0, clock=now.timestamp)  # fmt: skip
    at_scoring = scorer.apply_record(b"32.73", value, 0, 1, now.timestamp())
    assert (at_scoring.reason if isinstance(at_scoring, Rejection) else None) == at_ingest.reason
    assert isinstance(at_scoring, Outcome) == bool(at_ingest.events)


_OFFSETS_S = st.integers(min_value=-3 * 86_400, max_value=500 * 86_400)


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.tuples(st.sampled_from(["ENV_PM25", "IPM", "P0"]), _OFFSETS_S), min_size=1, max_size=30))
def test_no_event_moves_a_watermark_beyond_now_plus_the_tolerance(readings: list[tuple[str, int]]) -> None:
    """D2: whatever observed_at records carry, no series' watermark passes the worker's now + 5 minutes."""
    fw = FW
    clock = [NOW.timestamp()]
    scorer = Scorer(fw, default_registry(), ScoringMetrics(CollectorRegistry()), lateness_us=300_000_000,
                    publish_interval=1.0, clock=lambda: clock[0])  # fmt: skip
    for n, (ind_id, offset_s) in enumerate(readings):
        ind = fw.indicator(ind_id)
        at = NOW + timedelta(seconds=offset_s + n)  # the clock moves on a second per record
        clock[0] = NOW.timestamp() + n
        value = _raw(region_code="32.73", indicator_id=ind_id, unit=ind.unit, value=ind.bounds.min, observed_at=at)
        scorer.apply_record(b"32.73", value, 0, n, clock[0])
        horizon_us = int((clock[0] + FIVE_MIN.total_seconds()) * 1_000_000)
        for series in (scorer.states["32.73"].series if "32.73" in scorer.states else {}).values():
            assert series.watermark is not None and series.watermark <= horizon_us


def test_a_scored_record_marks_the_region_dirty_and_unpersisted(scorer: Scorer) -> None:
    assert scorer.apply_record(b"32.73", _raw(), 3, 10, NOW.timestamp() - 0.5) is Outcome.SCORED
    assert scorer.dirty == {"32.73"}
    assert scorer.due(NOW.timestamp()) == ["32.73"]
    persisted = dict(scorer.take_unpersisted())
    assert set(persisted) == {"32.73"} and scorer.unpersisted == set()
    score = scorer.score_if_changed("32.73", NOW)
    assert score is not None and score.events_applied == 1
    assert scorer.metrics.latency._sum.get() == pytest.approx(0.5)  # Kafka timestamp -> publication
    # Nothing changed: no new publication.
    assert scorer.score_if_changed("32.73", NOW) is None
    # The same record redelivered (same offset) is a duplicate, and the region is not dirty again.
    assert scorer.apply_record(b"32.73", _raw(), 3, 10, NOW.timestamp()) is Outcome.DUPLICATE
    assert scorer.dirty == set()


def test_the_lag_is_what_is_not_handled_yet_at_scrape_time() -> None:
    metrics = ScoringMetrics(CollectorRegistry())
    lag, held = metrics.consumer_lag, {("ie", 0), ("ie", 1)}
    lag.assigned = lambda: held

    def sample(partition: int) -> float | None:
        return metrics.registry.get_sample_value(lag.NAME, {"topic": "ie", "partition": str(partition)})

    lag.raise_end(("ie", 0), 120)
    lag.handled[("ie", 0)] = 100
    assert sample(0) == 20 and sample(1) is None  # nothing known of partition 1 yet: no series
    lag.handled[("ie", 0)] = 115  # a batch applied: the figure moves at once, not at the next timer
    assert sample(0) == 5
    lag.raise_end(("ie", 0), 110)  # an older high watermark (a fetch answered before) lowers nothing
    assert sample(0) == 5
    held.discard(("ie", 0))  # revoked: its series goes
    lag.forget([("ie", 0)])
    assert sample(0) is None and lag.handled == {} and lag.ends == {}
