"""The history store's writes on a real PostgreSQL (services/history/adapters/postgres.py): upserts on the
natural keys that only a later record replaces, offsets advanced compare-and-set with the rows, rows the
server refuses found one by one, and the pruning of fine snapshots past the retention."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.history.adapters.postgres import PostgresStore
from services.history.db import create_engine
from services.history.domain import Batch, Downsampling, Source, snapshot_rows, transition_row
from services.history.service.ports import Advance, DatabaseUnavailable, OffsetsMoved, RowsRefused
from tests.history_support import a_region_score, an_alert_event
from tests.integration.helpers import history_schema

NOW = datetime(2026, 5, 25, tzinfo=UTC)
TP = ("region-scores", 4)


@pytest.fixture
def store(postgres_url: str) -> Iterator[PostgresStore]:
    with history_schema(postgres_url, "hs") as (_url, engine):
        yield PostgresStore(engine, consumer="pantau-history")


def scores(offset: int, at: datetime, index: float) -> Batch:
    score = a_region_score(evaluated_at=at, index=index)
    return Batch.of(snapshot_rows(score, Source("region-scores", 4, offset), Downsampling(), NOW))


def snapshots(store: PostgresStore) -> list[tuple[object, ...]]:
    query = "SELECT resolution, at, day, index, source_offset FROM score_snapshots ORDER BY resolution, at"
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(query))]


def test_a_later_record_replaces_a_snapshot_and_an_earlier_one_does_not(store: PostgresStore) -> None:
    at = datetime(2026, 5, 20, 3, 1, tzinfo=UTC)
    store.write(scores(10, at, 3.0), [Advance(TP, None, 11)])
    store.write(scores(11, at + timedelta(minutes=2), 3.1), [Advance(TP, 11, 12)])
    with store.engine.connect() as conn:
        written_at = conn.execute(sa.text("SELECT max(written_at) FROM score_snapshots")).scalar_one()
    store.write(scores(10, at, 3.0), [Advance(TP, 12, 13)])  # a replay of the older record: no change
    assert snapshots(store) == [
        ("day", at + timedelta(minutes=2), date(2026, 5, 20), 3.1, 11),
        ("fine", datetime(2026, 5, 20, 3, tzinfo=UTC), None, 3.1, 11),
    ]
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT max(written_at) FROM score_snapshots")).scalar_one() == written_at
    assert store.load_offsets([TP, ("region-scores", 5)]) == {TP: 13}


def test_offsets_are_advanced_compare_and_set_with_the_rows(store: PostgresStore) -> None:
    at = datetime(2026, 5, 20, 3, 1, tzinfo=UTC)
    store.write(scores(10, at, 3.0), [Advance(TP, None, 11)])
    with pytest.raises(OffsetsMoved) as moved:  # another writer stored 11 already: it read from elsewhere
        store.write(scores(11, at + timedelta(minutes=9), 4.0), [Advance(TP, None, 12)])
    assert moved.value.tps == [TP]
    with pytest.raises(OffsetsMoved):
        store.write(scores(11, at + timedelta(minutes=9), 4.0), [Advance(TP, 10, 12)])
    assert [r[3] for r in snapshots(store)] == [3.0, 3.0]  # neither transaction left a row
    assert store.load_offsets([TP]) == {TP: 11}


def test_a_row_the_server_refuses_is_found_on_its_own(store: PostgresStore) -> None:
    good = transition_row(an_alert_event(transition_id="g" * 24), Source("maturity-alerts", 0, 1))
    # PostgreSQL stores no NUL character in text or jsonb; the contract lets one through
    nul = an_alert_event(transition_id="b" * 24, summary="nul \x00 here")
    bad = transition_row(nul, Source("maturity-alerts", 0, 2))
    batch = Batch.of([good, bad])
    with pytest.raises(RowsRefused):
        store.write(batch, [Advance(("maturity-alerts", 0), None, 3)])
    assert store.refused(batch) == [bad]
    store.write(batch.without({bad.source}), [Advance(("maturity-alerts", 0), None, 3)])
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT transition_id FROM alert_transitions")).scalars().all() == ["g" * 24]


def test_pruning_deletes_fine_snapshots_past_the_retention_only(store: PostgresStore) -> None:
    for i in range(5):  # steps of 00:00 .. 00:20 on the 20th, and their day
        store.write(scores(i, datetime(2026, 5, 20, 0, 5 * i, tzinfo=UTC), 1.0 + i / 10), [])
    assert store.prune(datetime(2026, 5, 20, 0, 10, tzinfo=UTC)) == 2  # 00:00 and 00:05
    assert store.prune(datetime(2026, 5, 20, 0, 10, tzinfo=UTC)) == 0  # again: nothing more
    assert [(r[0], r[1].minute) for r in snapshots(store)] == [("day", 20), ("fine", 10), ("fine", 15), ("fine", 20)]


def test_an_unreachable_server_is_database_unavailable() -> None:
    engine = create_engine("postgresql+psycopg://pantau:x@127.0.0.1:1/pantau", connect_args={"connect_timeout": 1})
    s = PostgresStore(engine, consumer="pantau-history")
    with pytest.raises(DatabaseUnavailable, match="OperationalError"):
        s.write(Batch(), [Advance(TP, None, 1)])
    with pytest.raises(DatabaseUnavailable):
        s.load_offsets([TP])
    engine.dispose()
