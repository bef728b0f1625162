"""What every page and message in two languages shares: Bahasa Indonesia first, English as the choice.

The notifications (services/alerts/notify/messages.py) and the web pages (services/web/messages.py) both
name alert kinds, states, severities, targets and units, and compose the remedy, with these words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

#: Month names, January first.
MONTHS: Final = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
           "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}  # fmt: skip

KINDS: Final = {
    "id": {
        "behind_trajectory": "tertinggal dari jalur",
        "milestone_missed": "tonggak capaian terlewat",
        "at_risk": "berisiko meleset dari tonggak",
        "data_stale": "data kedaluwarsa",
        "score_drop": "skor turun tajam",
    },
    "en": {
        "behind_trajectory": "behind trajectory",
        "milestone_missed": "milestone missed",
        "at_risk": "at risk of missing a milestone",
        "data_stale": "data stale",
        "score_drop": "score drop",
    },
}

STATES: Final = {
    "id": {"pending": "menunggu", "firing": "aktif", "resolved": "selesai", "acknowledged": "diakui"},
    "en": {"pending": "pending", "firing": "firing", "resolved": "resolved", "acknowledged": "acknowledged"},
}

#: "Peringatan" means "alert" and is kept for that; the severity bands get words of their own.
SEVERITIES: Final = {
    "id": {"info": "informasi", "warning": "waspada", "critical": "kritis"},
    "en": {"info": "info", "warning": "warning", "critical": "critical"},
}

TARGETS: Final = {
    "id": {
        "index": "indeks kematangan",
        "governance": "tata kelola",
        "economy": "ekonomi",
        "branding": "branding",
        "living": "kualitas hidup",
        "society": "masyarakat",
        "environment": "lingkungan",
        "mobility": "mobilitas",
    },
    "en": {"index": "maturity index", "living": "living"},
}

#: The framework's units (English) as a reader of each language writes them; others print as they are.
UNITS: Final = {
    "id": {
        "percent": "persen",
        "percent of city area": "persen luas kota",
        "hours": "jam",
        "hours per day": "jam per hari",
        "minutes": "menit",
        "years": "tahun",
        "datasets": "dataset",
        "events per year": "event per tahun",
        "count per 1000 residents": "per 1.000 penduduk",
        "count per 100000 residents": "per 100.000 penduduk",
        "kWh per 1000 residents": "kWh per 1.000 penduduk",
        "IDR million per capita": "juta rupiah per kapita",
        "index 0-5": "indeks 0-5",
        "index 0-100": "indeks 0-100",
        "km/h": "km/jam",
        "ug/m3": "µg/m³",
    },
    "en": {
        "count per 1000 residents": "per 1,000 residents",
        "count per 100000 residents": "per 100,000 residents",
        "kWh per 1000 residents": "kWh per 1,000 residents",
        "ug/m3": "µg/m³",
    },
}

#: What it would take, composed in the reader's language from the alert's figures (the event's own
#: ``remedy`` is an English sentence with indicator codes, for logs).
REMEDIES: Final = {
    "id": {
        "raise": "Naikkan skor {target} sebesar {gap} poin {why}.",
        "levers": "Indikator dengan daya ungkit terbesar: {levers}.",
        "lever": "{name} (+{pull} poin bila mencapai 5)",
        "data_stale": "Pulihkan pengiriman data {target}: cakupan data harus kembali mencapai sedikitnya {minimum} "
        "dari bobot indikator.",
        "behind_trajectory": "untuk kembali ke jalur masterplan",
        "milestone_missed": "untuk memenuhi target tonggak yang telah lewat",
        "at_risk": "agar tren memenuhi target tonggak berikutnya",
        "score_drop": "untuk memulihkan penurunan",
    },
    "en": {
        "raise": "Raise the {target} score by {gap} points {why}.",
        "levers": "The indicators with the largest leverage: {levers}.",
        "lever": "{name} (+{pull} points if it reached 5)",
        "data_stale": "Restore the {target} data feeds: data coverage must reach at least {minimum} of the indicator "
        "weight again.",
        "behind_trajectory": "to return to the masterplan path",
        "milestone_missed": "to meet the target of the passed milestone",
        "at_risk": "for the trend to meet the next milestone's target",
        "score_drop": "to recover the fall",
    },
}


#: The name of each figure an alert carries, by what it is for the kind ({due}: a milestone's date,
#: {window}: the score_drop window).
FIGURES: Final = {
    "id": {
        "current": "Skor saat ini",
        "current.data_stale": "Cakupan data saat ini",
        "expected.behind_trajectory": "Jalur masterplan hari ini",
        "expected.milestone_missed": "Target tonggak {due} (telah lewat)",
        "expected.at_risk": "Target tonggak {due}",
        "expected.data_stale": "Cakupan data minimum",
        "expected.score_drop": "Skor tertinggi {window} terakhir",
        "expected.score_drop.no_window": "Skor tertinggi dalam jendela penurunan",
        "projected.at_risk": "Proyeksi tren pada {due}",
        "next_milestone": "Tonggak berikutnya",
        "next_milestone.target": "{due} (target {target})",
    },
    "en": {
        "current": "Current score",
        "current.data_stale": "Current data coverage",
        "expected.behind_trajectory": "Masterplan path today",
        "expected.milestone_missed": "Target of the {due} milestone (passed)",
        "expected.at_risk": "Target of the {due} milestone",
        "expected.data_stale": "Minimum data coverage",
        "expected.score_drop": "Highest score in the last {window}",
        "expected.score_drop.no_window": "Highest score within the drop window",
        "projected.at_risk": "Trend projection for {due}",
        "next_milestone": "Next milestone",
        "next_milestone.target": "{due} (target {target})",
    },
}


def remedy_text(
    kind: str,
    target: str,
    gap: float | None,
    expected: float | None,
    levers: Sequence[tuple[str, float]],
    number: Callable[[float, int], str],
    lang: str = "id",
) -> str:
    """What it would take to get back on the path, in ``lang``: the alert's figures, its levers as (name,
    pull) pairs, ``target`` the target's word and ``number(value, digits)`` the reader's number format.

    Empty when nothing is behind (gap None or <= 0) for a kind other than ``data_stale``; the caller
    leaves out alerts that are no longer open."""
    words = REMEDIES[lang]
    if kind == "data_stale":
        return words["data_stale"].format(target=target, minimum=f"{number((expected or 0.0) * 100, 0)}%")
    if gap is None or gap <= 0:
        return ""
    text = words["raise"].format(target=target, gap=number(gap, 2), why=words[kind])
    parts = [words["lever"].format(name=name, pull=number(pull, 2)) for name, pull in levers]
    return f"{text} {words['levers'].format(levers='; '.join(parts))}" if parts else text
