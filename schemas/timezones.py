"""Indonesia's three time zones and which province keeps which (Keppres 41/1987, Papua's new provinces
included): for dates and periods that belong to a region's own day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
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


def local_day(at: datetime, region_code: str) -> date:
    """The region's own date at ``at``: a due date or a daily period is judged by it."""
    return at.astimezone(zone_of_region(region_code)).date()


def local_midnight(day: date, region_code: str) -> datetime:
    """00:00 of ``day`` in the region's zone (when a due date begins there)."""
    return datetime.combine(day, time(), zone_of_region(region_code))
