"""The region registry: 38 provinces and 514 kabupaten/kota, as versioned reference data."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from schemas.common import Contract, ProvinceCode, RegionCode

DATA_DIR = Path(__file__).parent / "data"
REGIONS_VERSION = "kepmendagri-2025"


class Province(Contract):
    code: ProvinceCode
    name: str
    n_kabupaten: int
    n_kota: int


class Region(Contract):
    code: RegionCode
    province_code: ProvinceCode
    province_name: str
    name: str
    short_name: str
    type: Literal["kabupaten", "kota"]
    administrative_only: bool
    population: int | None = None
    area_km2: float | None = None


class RegionRegistry:
    """Lookup of regions and provinces by code. Built from the CSV files shipped in ``schemas/data``."""

    def __init__(self, provinces: list[Province], regions: list[Region], version: str) -> None:
        self.version = version
        self.provinces = {p.code: p for p in provinces}
        self.regions = {r.code: r for r in regions}

    def __len__(self) -> int:
        return len(self.regions)

    def __contains__(self, code: object) -> bool:
        return code in self.regions

    def get(self, code: str) -> Region:
        try:
            return self.regions[code]
        except KeyError:
            raise KeyError(f"unknown region code {code!r} (registry {self.version})") from None

    def in_province(self, province_code: str) -> list[Region]:
        if province_code not in self.provinces:
            raise KeyError(f"unknown province code {province_code!r} (registry {self.version})")
        return [r for r in self.regions.values() if r.province_code == province_code]


#: CSV column of each Region field, so that errors name what the user sees in the file.
_COLUMN = {"code": "region_code", "name": "region_name", "province_code": "province_code"}


def _row_error(path: Path, line: int, exc: Exception) -> ValueError:
    if isinstance(exc, ValidationError):
        parts = [
            f"column {_COLUMN.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']} (got {e.get('input')!r})"
            for e in exc.errors()
        ]
        return ValueError(f"{path}:{line}: " + "; ".join(parts))
    if isinstance(exc, KeyError):
        return ValueError(f"{path}:{line}: missing column {exc.args[0]}")
    return ValueError(f"{path}:{line}: {exc}")


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def read_registry(data_dir: Path = DATA_DIR, version: str = REGIONS_VERSION) -> RegionRegistry:
    """Read provinces, regions and population/area from ``data_dir``; errors name file and line."""
    provinces: list[Province] = []
    regions: list[Region] = []
    prov_path, reg_path, pop_path = (
        data_dir / "provinces.csv",
        data_dir / "regions.csv",
        data_dir / "regions_population_area.csv",
    )
    pop = {row["region_code"]: row for row in _read_csv(pop_path)} if pop_path.exists() else {}
    for line, row in enumerate(_read_csv(prov_path), start=2):
        try:
            provinces.append(
                Province(
                    code=row["province_code"],
                    name=row["province_name"],
                    n_kabupaten=int(row["n_kabupaten"]),
                    n_kota=int(row["n_kota"]),
                )
            )
        except (KeyError, ValueError) as exc:
            raise _row_error(prov_path, line, exc) from None
    for line, row in enumerate(_read_csv(reg_path), start=2):
        try:
            p = pop.get(row["region_code"], {})
            regions.append(
                Region(
                    code=row["region_code"],
                    province_code=row["province_code"],
                    province_name=row["province_name"],
                    name=row["region_name"],
                    short_name=row["short_name"],
                    type=row["type"],  # type: ignore[arg-type]
                    administrative_only=row["administrative_only"].strip().lower() == "true",
                    population=int(p["population_total"]) if p.get("population_total") else None,
                    area_km2=float(p["area_km2"]) if p.get("area_km2") else None,
                )
            )
        except (KeyError, ValueError) as exc:
            raise _row_error(reg_path, line, exc) from None
    known = {p.code for p in provinces}
    for r in regions:
        if r.province_code not in known:
            raise ValueError(f"{reg_path}: region {r.code} names unknown province {r.province_code}")
    return RegionRegistry(provinces, regions, version)


@lru_cache(maxsize=1)
def default_registry() -> RegionRegistry:
    """The shipped registry, read once per process."""
    return read_registry()
