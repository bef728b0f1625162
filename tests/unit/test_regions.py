import csv
import shutil
from collections import Counter
from pathlib import Path

import pytest

from schemas.regions import DATA_DIR, default_registry, read_registry


def test_registry_has_38_provinces_and_514_regions() -> None:
    reg = default_registry()
    assert len(reg.provinces) == 38
    assert len(reg) == 514
    assert reg.get("32.73").name == "Kota Bandung"
    assert reg.get("32.73").province_name == "Jawa Barat"
    # The 2022 Papua split: Merauke is 93.01, not its old 91.01.
    assert reg.get("93.01").name == "Kabupaten Merauke"
    # Six Jakarta units are administrative only.
    assert sum(r.administrative_only for r in reg.regions.values()) == 6


def test_each_province_has_the_counts_it_declares() -> None:
    reg = default_registry()
    kinds = Counter((r.province_code, r.type) for r in reg.regions.values())
    for p in reg.provinces.values():
        assert kinds[(p.code, "kabupaten")] == p.n_kabupaten, p.name
        assert kinds[(p.code, "kota")] == p.n_kota, p.name


def test_population_is_joined_by_code() -> None:
    r = default_registry().get("32.73")
    assert r.population is not None and r.population > 2_000_000
    assert r.area_km2 is not None and 150 < r.area_km2 < 200


def test_unknown_codes_are_clear_errors() -> None:
    reg = default_registry()
    with pytest.raises(KeyError, match=r"unknown region code '99\.99'"):
        reg.get("99.99")
    with pytest.raises(KeyError, match="unknown province code '99'"):
        reg.in_province("99")
    assert len(reg.in_province("32")) == 27


def test_bad_row_names_file_and_line(tmp_path: Path) -> None:
    for name in ("provinces.csv", "regions.csv"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    with (tmp_path / "regions.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    rows[5][2] = "1105"  # region code without the dot, on file line 6
    with (tmp_path / "regions.csv").open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    with pytest.raises(
        ValueError, match=r"regions\.csv:6: column region_code: String should match pattern .* \(got '1105'\)"
    ):
        read_registry(tmp_path)
