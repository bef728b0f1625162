"""The demo's seeded past on a real PostgreSQL (pantau/seed_history.py): one simulated closing snapshot per
region and local day, never over a stored one, resumable, and the same whatever process scored it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from pantau import seed_history as sh
from pantau.simulate import bps_observations
from schemas.framework import load_framework
from services.history.adapters.postgres import PostgresStore
from services.history.domain import Batch, Downsampling, Source, snapshot_rows
from tests.history_support import a_region_score
from tests.integration.helpers import history_schema

FW = load_framework()
#: Kota Bandung (WIB, +7), Kota Denpasar (WITA, +8), Kabupaten Jayawijaya (WIT, +9).
BANDUNG, DENPASAR, JAYAWIJAYA = "32.73", "51.71", "95.02"
REGIONS = [BANDUNG, DENPASAR, JAYAWIJAYA]
FIRST, LAST = date(2024, 12, 20), date(2025, 1, 10)  # 22 days, over the new year
DAYS = 22
LEVELS = [(4.0, 5, "Optimum"), (3.0, 4, "Terpadu dan Terukur"), (2.0, 3, "Terdefinisi"), (1.0, 2, "Terkelola"),
          (0.0, 1, "Rintisan")]  # fmt: skip


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    with history_schema(postgres_url, "hs") as (_url, eng):
        yield eng


def seed(engine: sa.Engine, **kw: Any) -> sh.SeedResult:
    args: dict[str, Any] = {"regions": REGIONS, "start": FIRST, "end": LAST, "framework": FW, "workers": 1}
    return sh.seed_demo_history(engine, **{**args, **kw})


def rows(engine: sa.Engine, where: str = "TRUE") -> list[dict[str, Any]]:
    query = f"SELECT * FROM score_snapshots WHERE {where} ORDER BY region_code, day"
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(query))]


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def test_one_simulated_closing_snapshot_per_region_and_local_day(engine: sa.Engine) -> None:
    seen: list[tuple[int, int]] = []
    result = seed(engine, progress=lambda done, total: seen.append((done, total)))
    assert (result.regions_seeded, result.regions_skipped, result.rows_inserted) == (3, 0, 3 * DAYS)
    assert result.seconds > 0
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]
    stored = rows(engine)
    assert len(stored) == 66
    for r in stored:
        assert (r["resolution"], r["simulated"], r["source_partition"], r["source_offset"]) == ("day", True, None, None)
        assert (r["framework_id"], r["framework_version"]) == ("pp59_2022", "2026.1")
        assert r["province_code"] == r["region_code"][:2]
        assert r["status"] == "ok" and r["coverage"] == pytest.approx(1.0)
        level = next((lv, name) for floor, lv, name in LEVELS if r["index"] >= floor)
        assert (r["level"], r["level_name"]) == level
        assert [d["dimension_id"] for d in r["dimensions"]] == [
            "governance", "economy", "branding", "living", "society", "environment"]  # fmt: skip
        assert all(d["elements"] and d["status"] == "ok" for d in r["dimensions"])
    by_region = {code: [r for r in stored if r["region_code"] == code] for code in REGIONS}
    for code, series in by_region.items():
        assert [r["day"] for r in series] == [FIRST + timedelta(days=n) for n in range(DAYS)], code
        applied = [r["events_applied"] for r in series]
        assert applied == sorted(applied)
    # 23:59:59 local: WIB +7, WITA +8, WIT +9.
    assert by_region[BANDUNG][0]["at"] == utc(2024, 12, 20, 16, 59, 59)
    assert by_region[DENPASAR][0]["at"] == utc(2024, 12, 20, 15, 59, 59)
    assert by_region[JAYAWIJAYA][0]["at"] == utc(2024, 12, 20, 14, 59, 59)
    assert by_region[JAYAWIJAYA][-1]["at"] == utc(2025, 1, 10, 14, 59, 59)


def test_the_stored_rows_are_the_real_scorer_s_whichever_process_scored_them(engine: sa.Engine) -> None:
    seed(engine, workers=2)
    bps = bps_observations()
    expected = [r for code in REGIONS for r in sh.region_rows(FW, sh.region_past(code, FIRST, LAST, sh.SEED, bps))]
    stored = rows(engine)
    assert [{k: r[k] for k in expected[0]} for r in stored] == expected


def test_a_second_run_inserts_nothing(engine: sa.Engine) -> None:
    seed(engine)
    before = rows(engine)
    again = seed(engine)
    assert (again.regions_seeded, again.regions_skipped, again.rows_inserted) == (0, 3, 0)
    assert rows(engine) == before  # written_at included: not one row touched


def test_a_live_snapshot_of_a_day_is_left_as_it_was(engine: sa.Engine) -> None:
    live = a_region_score(framework="pp59_2022@2026.1", evaluated_at=utc(2024, 12, 25, 10), index=1.5, level=2,
                          level_name="Terkelola")  # fmt: skip
    store = PostgresStore(engine, consumer="pantau-history")
    store.write(Batch.of(snapshot_rows(live, Source("region-scores", 3, 41), Downsampling(), utc(2024, 12, 25, 11))),
                [])  # fmt: skip
    result = seed(engine)
    assert result.rows_inserted == 3 * DAYS - 1
    day = rows(engine, "resolution = 'day' AND region_code = '32.73' AND day = '2024-12-25'")
    assert [(r["index"], r["level"], r["simulated"], r["source_partition"], r["source_offset"]) for r in day] == [
        (1.5, 2, False, 3, 41)]  # fmt: skip
    assert len(rows(engine, "resolution = 'day'")) == 66


def test_an_interrupted_seed_completes_the_rest(engine: sa.Engine) -> None:
    class Interrupted(Exception):
        pass

    def stop_after_one(done: int, _total: int) -> None:
        if done == 1:
            raise Interrupted

    with pytest.raises(Interrupted):
        seed(engine, progress=stop_after_one)
    assert {r["region_code"] for r in rows(engine)} == {BANDUNG}  # the first region's transaction only
    assert len(rows(engine)) == DAYS
    first = rows(engine)
    rest = seed(engine)
    assert (rest.regions_seeded, rest.regions_skipped, rest.rows_inserted) == (2, 1, 2 * DAYS)
    assert len(rows(engine)) == 66
    assert rows(engine, "region_code = '32.73'") == first


def test_a_region_seeded_to_an_earlier_day_gets_the_days_since(engine: sa.Engine) -> None:
    seed(engine, regions=[BANDUNG], end=date(2025, 1, 5))
    earlier = rows(engine)
    assert [r["day"] for r in earlier][-1] == date(2025, 1, 5)
    later = seed(engine)
    assert (later.regions_seeded, later.regions_skipped, later.rows_inserted) == (3, 0, 5 + 2 * DAYS)
    assert rows(engine, "region_code = '32.73' AND day <= '2025-01-05'") == earlier
    assert len(rows(engine)) == 66
    # The days since are scored as a seed of the whole span in one go scores them (a warm-up, not a rerun).
    whole = sh.region_rows(FW, sh.region_past(BANDUNG, FIRST, LAST, sh.SEED, bps_observations()))
    since = rows(engine, "region_code = '32.73' AND day > '2025-01-05'")
    assert [{k: r[k] for k in whole[0]} for r in since] == [r for r in whole if r["day"] > date(2025, 1, 5)]


def test_an_end_before_the_start_is_refused(engine: sa.Engine) -> None:
    with pytest.raises(ValueError, match="2024-12-19 is before the first day 2024-12-20"):
        seed(engine, end=date(2024, 12, 19))
    assert rows(engine) == []


def test_by_default_the_seed_ends_yesterday_in_each_region_s_zone(engine: sa.Engine) -> None:
    # 16:30 UTC on 10 January: 23:30 in Bandung (yesterday: the 9th), 00:30 on the 11th in Denpasar and
    # 01:30 in Jayawijaya (yesterday: the 10th).
    result = seed(engine, start=date(2025, 1, 1), end=None, clock=lambda: utc(2025, 1, 10, 16, 30))
    assert result.rows_inserted == 9 + 10 + 10
    last = {r["region_code"]: r["day"] for r in rows(engine)}
    assert last == {BANDUNG: date(2025, 1, 9), DENPASAR: date(2025, 1, 10), JAYAWIJAYA: date(2025, 1, 10)}


def test_the_stored_welfare_element_holds_bandung_s_real_ipm_of_the_year_before(engine: sa.Engine) -> None:
    """Welfare = (2 IPM + 1.5 P0 + 1 unemployment) / 4.5, unemployment a whole number of thresholds met.
    BPS: IPM 83.04 (2023) and 83.52 (2024), min-max 55-85: 28.04 / 6 and 28.52 / 6; P0 3.87 (2024, the only
    year; lower is better, 2-30): 26.13 / 28 * 5. Any other IPM leaves a fraction for unemployment."""
    seed(engine, regions=[BANDUNG])
    welfare = {}
    for r in rows(engine, "day IN ('2024-12-31', '2025-01-01')"):
        economy = next(d for d in r["dimensions"] if d["dimension_id"] == "economy")
        welfare[r["day"]] = next(e["score"] for e in economy["elements"] if e["element_id"] == "welfare")
    p0 = 26.13 / 28 * 5
    for day, ipm in ((date(2024, 12, 31), 28.04 / 6), (date(2025, 1, 1), 28.52 / 6)):
        unemployment = welfare[day] * 4.5 - 2 * ipm - 1.5 * p0
        assert unemployment == pytest.approx(round(unemployment), abs=1e-9), (day, unemployment)
        assert 0 <= round(unemployment) <= 5
