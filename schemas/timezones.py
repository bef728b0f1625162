"""Indonesia's three time zones and which province keeps which (Keppres 41/1987, Papua's new provinces
included): for dates and periods that belong to a region's own day."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Final

#: Indonesia keeps no daylight saving time: three fixed zones, chosen by province.
WIB: Final = timezone(timedelta(hours=7), "WIB")
WITA: Final = timezone(timedelta(hours=8), "WITA")
WIT: Final = timezone(timedelta(hours=9), "WIT")
_WITA_PROVINCES: Final = frozenset({"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"})


def zone_of(province_code: str) -> timezone:
    """Local time of a province: WIT for Maluku and Papua (8x, 9x), WITA for Bali, Nusa Tenggara,
    southern, eastern and northern Kalimantan and Sulawesi, WIB elsewhere (Sumatra, Java, western and
    central Kalimantan)."""
    if province_code[:1] in ("8", "9"):
        return WIT
    return WITA if province_code in _WITA_PROVINCES else WIB


def zone_of_region(region_code: str) -> timezone:
    """Local time of a kab/kota (``PP.KK``): its province's."""
    return zone_of(region_code[:2])
