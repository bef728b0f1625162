"""The words of a notification in Bahasa Indonesia (``id``, the default) and English (``en``).

One catalogue per language; the templates are shared. Numbers and dates follow the language's
conventions (``3,20`` and ``27 November 2026 15.00 WIB`` in Indonesian).
"""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Final

#: Indonesia keeps no daylight saving time: three fixed zones, chosen by province.
WIB: Final = timezone(timedelta(hours=7), "WIB")
WITA: Final = timezone(timedelta(hours=8), "WITA")
WIT: Final = timezone(timedelta(hours=9), "WIT")
_WITA_PROVINCES = frozenset({"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"})


def zone_of(province_code: str) -> timezone:
    """Local time of a province: WIT for Maluku and Papua (8x, 9x), WITA for Bali, Nusa Tenggara,
    eastern and northern Kalimantan and Sulawesi, WIB elsewhere."""
    if province_code[:1] in ("8", "9"):
        return WIT
    return WITA if province_code in _WITA_PROVINCES else WIB


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
    "id": {"pending": "menunggu", "firing": "aktif", "resolved": "selesai", "acknowledged": "ditanggapi"},
    "en": {"pending": "pending", "firing": "firing", "resolved": "resolved", "acknowledged": "acknowledged"},
}

SEVERITIES: Final = {
    "id": {"info": "info", "warning": "peringatan", "critical": "kritis"},
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

#: What happened, by kind; {target} and {due} are filled in. A resolved alert says so instead.
#: What it would take to get back on the path, composed in the reader's language from the alert's
#: figures (the event's own ``remedy`` is an English sentence for logs and webhook consumers).
REMEDIES: Final = {
    "id": {
        "raise": "Naikkan skor {target} sebesar {gap} poin {why}.",
        "levers": "Pengungkit terbesar: {levers}.",
        "lever": "{name} (+{pull} poin bila mencapai 5)",
        "data_stale": "Pulihkan aliran data {target}: cakupan data harus mencapai {minimum} dari bobot indikator.",
        "behind_trajectory": "untuk kembali ke jalur masterplan",
        "milestone_missed": "untuk memenuhi tonggak yang telah lewat",
        "at_risk": "agar tren memenuhi tonggak berikutnya",
        "score_drop": "untuk memulihkan penurunan",
    },
    "en": {
        "raise": "Raise the {target} score by {gap} points {why}.",
        "levers": "The largest levers: {levers}.",
        "lever": "{name} (+{pull} points at full marks)",
        "data_stale": "Restore the {target} feeds: data coverage must reach {minimum} of the indicator weight.",
        "behind_trajectory": "to return to the masterplan path",
        "milestone_missed": "to meet the passed milestone",
        "at_risk": "for the trend to meet the next milestone",
        "score_drop": "to recover the fall",
    },
}

HEADLINES: Final = {
    "id": {
        "behind_trajectory": "Skor {target} berada di bawah jalur masterplan.",
        "milestone_missed": "Tonggak capaian {due} telah lewat dan target {target} belum tercapai.",
        "at_risk": "Tren skor {target} memproyeksikan target tonggak {due} tidak tercapai.",
        "data_stale": "Cakupan data {target} di bawah batas minimum: skornya tidak dapat diandalkan.",
        "score_drop": "Skor {target} turun tajam.",
        "resolved": "Selesai: kondisi yang memicu peringatan ini ({kind}, {target}) tidak berlaku lagi.",
        "acknowledged": "Peringatan ini ({kind}, {target}) telah ditanggapi; eskalasi dihentikan.",
    },
    "en": {
        "behind_trajectory": "The {target} score is below the masterplan path.",
        "milestone_missed": "The milestone due {due} has passed without {target} meeting its target.",
        "at_risk": "The {target} trend projects a miss of the milestone due {due}.",
        "data_stale": "Data coverage of {target} is below the minimum: its score cannot be relied on.",
        "score_drop": "The {target} score dropped sharply.",
        "resolved": "Resolved: the condition that raised this alert ({kind}, {target}) no longer holds.",
        "acknowledged": "This alert ({kind}, {target}) has been acknowledged; escalation has stopped.",
    },
}

LABELS: Final = {
    "id": {
        "greeting": "Kepada {office},",
        "escalation.province": "eskalasi provinsi",
        "escalation.national": "eskalasi nasional",
        "escalation_note": "Peringatan ini belum ditanggapi oleh kantor daerah dan dieskalasikan ke {level}.",
        "region": "Wilayah",
        "province": "Provinsi",
        "target": "Sasaran",
        "kind": "Jenis",
        "state": "Status",
        "since": "sejak",
        "severity": "Tingkat",
        "current": "Skor saat ini",
        "expected": "Skor seharusnya",
        "expected_note": "menurut jalur masterplan",
        "gap": "Selisih",
        "gap_unit": "poin di bawah jalur",
        "gap_ahead": "poin di atas jalur",
        "coverage_current": "Cakupan data saat ini",
        "coverage_minimum": "Cakupan minimum",
        "coverage_gap_unit": "poin persentase di bawah batas minimum",
        "coverage_gap_ahead": "poin persentase di atas batas minimum",
        "due": "Tonggak berikutnya",
        "not_available": "tidak tersedia",
        "drivers": "Indikator yang paling menurunkan skor",
        "driver_line": "{name}: skor {score}, bobot {weight}; +{pull} poin bila mencapai 5",
        "remedy": "Yang diperlukan untuk kembali ke jalur",
        "chart": "Skor {target} dan jalur masterplan",
        "chart.history": "skor",
        "chart.path": "jalur masterplan",
        "ack": "Tanggapi peringatan ini (menghentikan eskalasi)",
        "footer": "Pesan otomatis dari Pantau Kota Cerdas. Peringatan {alert_id}, notifikasi {notification_id}.",
    },
    "en": {
        "greeting": "To {office},",
        "escalation.province": "province escalation",
        "escalation.national": "national escalation",
        "escalation_note": "The regional office has not acknowledged this alert; it is escalated to {level}.",
        "region": "Region",
        "province": "Province",
        "target": "Target",
        "kind": "Kind",
        "state": "State",
        "since": "since",
        "severity": "Severity",
        "current": "Current score",
        "expected": "Expected score",
        "expected_note": "on the masterplan path",
        "gap": "Gap",
        "gap_unit": "points behind the path",
        "gap_ahead": "points ahead of the path",
        "coverage_current": "Current data coverage",
        "coverage_minimum": "Minimum coverage",
        "coverage_gap_unit": "percentage points below the minimum",
        "coverage_gap_ahead": "percentage points above the minimum",
        "due": "Next milestone",
        "not_available": "not available",
        "drivers": "Indicators that pull the score down most",
        "driver_line": "{name}: score {score}, weight {weight}; +{pull} points at full marks",
        "remedy": "What it takes to get back on the path",
        "chart": "{target} score and the masterplan path",
        "chart.history": "score",
        "chart.path": "masterplan path",
        "ack": "Acknowledge this alert (stops the escalation)",
        "footer": "Automatic message from Pantau Kota Cerdas. Alert {alert_id}, notification {notification_id}.",
    },
}

LEVELS: Final = {
    "id": {"region": "kantor daerah", "province": "pemerintah provinsi", "national": "operasi nasional"},
    "en": {"region": "the regional office", "province": "the province", "national": "national operations"},
}
