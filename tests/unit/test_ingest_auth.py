"""Keys, scopes and the publishers file: pure checks plus one hypothesis property of scope and intake."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from schemas.common import province_of
from schemas.framework import load_framework
from schemas.regions import default_registry
from schemas.validation import TimeLimits
from services.ingest.domain.auth import ALL, Keyring, Publisher, Scope, hash_key, key_id_of, make_scope, new_key
from services.ingest.domain.dedupe import RecentIds
from services.ingest.domain.intake import Rules
from services.ingest.metrics import IngestMetrics
from services.ingest.publishers import PublishersFileError, add_publisher, read_publishers, remove_publisher
from services.ingest.submissions import Intake
from services.ingest.writer import Record
from tests.builders import an_event_doc

FW = load_framework()
REG = default_registry()
REGIONS = sorted(REG.regions)
PROVINCES = sorted(REG.provinces)
INDICATORS = [i.id for i in FW.indicators]
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def a_publisher(scope: Scope, pid: str = "bandung") -> tuple[Publisher, str]:
    key_id, key = new_key()
    pub = Publisher(id=pid, name=pid, key_id=key_id, key_hash=hash_key(key), scope=scope, created_at=NOW)
    return pub, key


def test_a_key_authenticates_its_publisher_and_nothing_else() -> None:
    pub, key = a_publisher(Scope(regions=("32.73",), indicators=(ALL,)))
    ring = Keyring([pub])
    assert ring.authenticate(key) is pub
    assert key.startswith(f"pk_{pub.key_id}_") and len(key) == len("pk_") + 12 + 1 + 43
    assert ring.authenticate(key[:-1] + ("A" if key[-1] != "A" else "B")) is None  # wrong secret
    assert ring.authenticate(f"pk_{'0' * 12}_{key.split('_', 2)[2]}") is None  # unknown key id
    for malformed in ("", "pk_", "Bearer x", "pk__", key.replace("pk_", "sk_", 1)):
        assert ring.authenticate(malformed) is None
    assert key_id_of(key) == pub.key_id


def test_scope_of_a_province_covers_its_regions_only() -> None:
    s = Scope(regions=("31.71",), provinces=("32",), indicators=("IPM",))
    assert s.allows_region("31.71") and s.allows_region("32.73") and s.allows_region("32.01")
    assert not s.allows_region("31.72") and not s.allows_region("33.01")
    assert s.allows_indicator("IPM") and not s.allows_indicator("P0")
    everything = Scope(regions=(ALL,), indicators=(ALL,))
    assert everything.allows_region("94.71") and everything.allows_indicator("ENV_PM25")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"regions": ["99.99"], "indicators": ["IPM"]}, "unknown region code '99.99'"),
        ({"provinces": ["99"], "indicators": ["IPM"]}, "unknown province code '99'"),
        ({"regions": ["32.73"], "indicators": ["NOPE"]}, "unknown indicator 'NOPE'"),
        ({"indicators": ["IPM"]}, "at least one region or province"),
        ({"regions": ["32.73"]}, "at least one indicator"),
    ],
)
def test_make_scope_refuses_what_does_not_exist(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_scope(registry=REG, framework=FW, **kwargs)


def test_publishers_file_keeps_hashes_only(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    scope = make_scope(regions=["32.73"], indicators=["ENV_PM25"], registry=REG, framework=FW)
    pub, key = add_publisher(path, "bandung", "Bandung", scope)
    text = path.read_text()
    assert key not in text and key.split("_", 2)[2] not in text and pub.key_hash in text
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_publishers(path) == [pub]
    with pytest.raises(PublishersFileError, match="exists"):
        add_publisher(path, "bandung", "again", scope)
    assert remove_publisher(path, "bandung") and read_publishers(path) == []
    assert not remove_publisher(path, "bandung")
    path.write_text("publishers:\n  - id: X\n")
    with pytest.raises(PublishersFileError, match=r"publishers\[0\]"):
        read_publishers(path)


# ---------------------------------------------------------------------------------------- properties

scopes = st.builds(
    lambda regions, provinces, indicators: Scope(
        regions=tuple(regions), provinces=tuple(provinces), indicators=tuple(indicators)
    ),
    st.lists(st.sampled_from(REGIONS), max_size=5, unique=True),
    st.lists(st.sampled_from(PROVINCES), max_size=2, unique=True),
    st.lists(st.sampled_from(INDICATORS), min_size=1, max_size=4, unique=True),
)


@given(scope=scopes, region=st.sampled_from(REGIONS), extra=st.sampled_from(REGIONS))
def test_scope_allows_exactly_its_regions_and_provinces(scope: Scope, region: str, extra: str) -> None:
    allowed = scope.allows_region(region)
    assert allowed == (region in scope.regions or province_of(region) in scope.provinces)
    # Widening a scope never takes a permission away.
    wider = Scope(regions=(*scope.regions, extra), provinces=scope.provinces, indicators=scope.indicators)
    assert not allowed or wider.allows_region(region)


class RecordingWriter:
    """Stands in for Kafka in unit tests: acknowledges everything and keeps what it was given."""

    ready = True

    def __init__(self) -> None:
        self.records: list[Record] = []

    async def write(self, records: list[Record]) -> list[bool]:
        self.records.extend(records)
        return [True] * len(records)

    async def settle(self, records: list[Record], since_ms: int) -> list[bool]:
        raise AssertionError("nothing is in doubt when every write is acknowledged")


@settings(max_examples=60, deadline=None)
@given(
    scope=scopes,
    picks=st.lists(st.tuples(st.sampled_from(REGIONS), st.sampled_from(INDICATORS)), min_size=1, max_size=6),
)
def test_a_batch_is_written_whole_or_not_at_all_by_scope(scope: Scope, picks: list[tuple[str, str]]) -> None:
    """No publisher can write another region's or another indicator's events, not even one of a batch."""
    pub, _key = a_publisher(scope)
    writer = RecordingWriter()
    intake = Intake(
        Rules(REG, FW, TimeLimits(max_future=FW.indicators[0].validity, max_age=FW.indicators[0].validity)),
        writer,
        RecentIds(100, 60.0),
        IngestMetrics(CollectorRegistry()),
        topic="out",
        dlq_topic="dlq",
        clock=lambda: NOW,
    )
    items = [an_event_doc(region_code=r, indicator_id=i, observed_at=NOW.isoformat()) for r, i in picks]
    sub = asyncio.run(intake.submit(items, pub))
    in_scope = all(scope.allows_region(r) and scope.allows_indicator(i) for r, i in picks)
    if in_scope:
        assert sub.http_status != 403
    else:
        assert sub.http_status == 403 and writer.records == []
    assert all(rec.key is not None and scope.allows_region(rec.key.decode()) for rec in writer.records)


def test_the_example_publishers_file_is_valid() -> None:
    from pantau.config import REPO_ROOT

    pubs = read_publishers(REPO_ROOT / "deploy" / "ingest" / "publishers.example.yaml")
    assert [p.id for p in pubs] == ["bandung-command-centre", "diskominfo-jateng", "bps"]
    for p in pubs:  # every code and id in the example exists
        make_scope(regions=p.scope.regions, provinces=p.scope.provinces, indicators=p.scope.indicators,
                   registry=REG, framework=FW)  # fmt: skip
