"""`pantau import csv` against the real broker: the shipped BPS series for all 514 regions."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

from schemas.events import IndicatorEvent
from schemas.regions import DATA_DIR
from tests.integration.helpers import create_topics, read_all

BPS = DATA_DIR / "indicator_observations_bps.csv"


def _import(bootstrap: str, prefix: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "INGEST_TOPIC_PREFIX": prefix,
        "PANTAU_LOG_FORMAT": "json",
    }
    return subprocess.run(
        [sys.executable, "-m", "pantau.cli", "import", "csv", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_the_bps_import_loads_all_514_regions_series(kafka_bootstrap: str) -> None:
    prefix = f"c{uuid.uuid4().hex[:8]}-"
    create_topics(kafka_bootstrap, prefix)
    for indicator in ("IPM", "P0"):
        done = _import(
            kafka_bootstrap,
            prefix,
            str(BPS),
            "--indicator",
            indicator,
            "--period-column",
            "period",
            "--source",
            "bps",
            "--publisher",
            "bps-import",
        )
        assert done.returncode == 0, done.stderr
        n = 514 * (5 if indicator == "IPM" else 1)
        assert f"{n} events written to {prefix}indicator-events (514 regions)" in done.stdout
    records = read_all(kafka_bootstrap, prefix + "indicator-events", timeout=30)
    events = [IndicatorEvent.model_validate_json(r.value) for r in records]
    assert all(r.key.decode() == e.region_code for r, e in zip(records, events, strict=True))
    per_region = Counter((e.region_code, e.indicator_id) for e in events)
    assert len({r for r, _ in per_region}) == 514
    assert {n for (_r, i), n in per_region.items() if i == "IPM"} == {5}
    assert {n for (_r, i), n in per_region.items() if i == "P0"} == {1}
    assert {e.observed_at.year for e in events if e.indicator_id == "IPM"} == {2020, 2021, 2022, 2023, 2024}
    assert {(e.publisher, e.source) for e in events} == {("bps-import", "bps")}


def test_a_bad_file_writes_nothing_and_names_the_lines(kafka_bootstrap: str, tmp_path: Path) -> None:
    prefix = f"c{uuid.uuid4().hex[:8]}-"
    create_topics(kafka_bootstrap, prefix)
    f = tmp_path / "ipm.csv"
    f.write_text("region_code,period,value\n32.73,2024,81.9\n32.99,2024,70\n32.74,2024,101\n")
    done = _import(kafka_bootstrap, prefix, str(f), "--indicator", "IPM", "--period-column", "period")
    assert done.returncode == 1
    assert f"{f}:3: region_code: '32.99' is not in registry" in done.stderr
    assert f"{f}:4: value: 101.0 is outside IPM's bounds" in done.stderr
    assert "nothing written" in done.stderr
    assert read_all(kafka_bootstrap, prefix + "indicator-events") == []
    # Written anyway when asked: the one valid row.
    done = _import(kafka_bootstrap, prefix, str(f), "--indicator", "IPM", "--period-column", "period", "--skip-invalid")
    assert done.returncode == 0 and "1 events written" in done.stdout
    assert len(read_all(kafka_bootstrap, prefix + "indicator-events")) == 1
