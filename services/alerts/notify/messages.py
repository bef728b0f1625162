"""The words of a notification in Bahasa Indonesia (``id``, the default) and English (``en``).

One catalogue per language; the templates are shared. Numbers and dates follow the language's
conventions (``3,20`` and ``27 November 2026 15.00 WIB`` in Indonesian).
"""

from __future__ import annotations

from typing import Final

from schemas.language import FIGURES as FIGURES
from schemas.language import KINDS as KINDS
from schemas.language import MONTHS as MONTHS
from schemas.language import REMEDIES as REMEDIES
from schemas.language import SEVERITIES as SEVERITIES
from schemas.language import STATES as STATES
from schemas.language import TARGETS as TARGETS
from schemas.language import UNITS as UNITS

# The region's own zone (schemas/timezones.py), re-exported for the renderers.
from schemas.timezones import WIB as WIB
from schemas.timezones import WIT as WIT
from schemas.timezones import WITA as WITA
from schemas.timezones import zone_of as zone_of

#: A firing alert that moved to another severity band: {old} and {new} are severity words.
SEVERITY_CHANGES: Final = {
    "id": {
        "raised": "Tingkat keparahan naik dari {old} ke {new}.",
        "lowered": "Tingkat keparahan turun dari {old} ke {new}.",
        "raised.short": "naik dari {old}",
        "lowered.short": "turun dari {old}",
    },
    "en": {
        "raised": "Severity raised from {old} to {new}.",
        "lowered": "Severity lowered from {old} to {new}.",
        "raised.short": "raised from {old}",
        "lowered.short": "lowered from {old}",
    },
}


#: A length of time ("7 hari terakhir"): the unit words, singular and plural.
SPANS: Final = {
    "id": {"day": ("hari", "hari"), "hour": ("jam", "jam"), "minute": ("menit", "menit"), "second": ("detik", "detik")},
    "en": {"day": ("day", "days"), "hour": ("hour", "hours"), "minute": ("minute", "minutes"),
           "second": ("second", "seconds")},
}  # fmt: skip


#: What happened, by kind; {target}, {due} and {window} are filled in. Resolved and acknowledged
#: alerts say so instead.
HEADLINES: Final = {
    "id": {
        "behind_trajectory": "Skor {target} berada di bawah jalur masterplan.",
        "milestone_missed": "Tonggak capaian {due} telah lewat dan target {target} belum tercapai.",
        "at_risk": "Tren skor {target} memproyeksikan target tonggak {due} tidak tercapai.",
        "data_stale": "Cakupan data {target} di bawah batas minimum: skornya tidak dapat diandalkan.",
        "score_drop": "Skor {target} turun tajam dalam {window} terakhir.",
        "score_drop.no_window": "Skor {target} turun tajam.",
        "resolved": "Selesai: kondisi yang memicu peringatan ini ({kind}, {target}) tidak berlaku lagi.",
        "acknowledged": "Peringatan ini ({kind}, {target}) telah diakui; eskalasi dihentikan.",
    },
    "en": {
        "behind_trajectory": "The {target} score is below the masterplan path.",
        "milestone_missed": "The milestone due {due} has passed without {target} meeting its target.",
        "at_risk": "The {target} trend projects a miss of the milestone due {due}.",
        "data_stale": "Data coverage of {target} is below the minimum: its score cannot be relied on.",
        "score_drop": "The {target} score dropped sharply within the last {window}.",
        "score_drop.no_window": "The {target} score dropped sharply.",
        "resolved": "Resolved: the condition that raised this alert ({kind}, {target}) no longer holds.",
        "acknowledged": "This alert ({kind}, {target}) has been acknowledged; escalation has stopped.",
    },
}


#: The gap line of each kind: (label, text) when behind (gap >= 0) and when ahead; {gap} is its size.
GAPS: Final = {
    "id": {
        "behind_trajectory": (("Selisih", "{gap} poin di bawah jalur"), ("Selisih", "{gap} poin di atas jalur")),
        "milestone_missed": (("Selisih", "{gap} poin di bawah target tonggak"),
                             ("Selisih", "{gap} poin di atas target tonggak")),
        "at_risk": (("Selisih proyeksi", "{gap} poin di bawah target tonggak"),
                    ("Selisih proyeksi", "{gap} poin di atas target tonggak")),
        "data_stale": (("Selisih", "{gap} poin persentase di bawah batas minimum"),
                       ("Selisih", "{gap} poin persentase di atas batas minimum")),
        "score_drop": (("Penurunan", "{gap} poin dari skor tertinggi"),
                       ("Selisih", "{gap} poin di atas skor tertinggi")),
    },
    "en": {
        "behind_trajectory": (("Gap", "{gap} points below the path"), ("Gap", "{gap} points above the path")),
        "milestone_missed": (("Gap", "{gap} points below the milestone target"),
                             ("Gap", "{gap} points above the milestone target")),
        "at_risk": (("Projected gap", "{gap} points below the milestone target"),
                    ("Projected gap", "{gap} points above the milestone target")),
        "data_stale": (("Gap", "{gap} percentage points below the minimum"),
                       ("Gap", "{gap} percentage points above the minimum")),
        "score_drop": (("Drop", "{gap} points from the highest score"),
                       ("Gap", "{gap} points above the highest score")),
    },
}  # fmt: skip

#: The unit of each figure's ``value`` in the webhook body.
FIGURE_UNITS: Final = {
    "id": {"score": "poin", "share": "%", "share_gap": "poin persentase"},
    "en": {"score": "points", "share": "%", "share_gap": "percentage points"},
}

LABELS: Final = {
    "id": {
        "greeting": "Kepada {office},",
        "escalation.province": "eskalasi provinsi",
        "escalation.national": "eskalasi nasional",
        "escalation_note": "Peringatan ini belum diakui oleh kantor daerah dan diteruskan ke {level}.",
        "escalated_note": "Peringatan ini sebelumnya diteruskan ke {level}.",
        "region": "Wilayah",
        "province": "Provinsi",
        "target": "Skor yang dipantau",
        "kind": "Jenis",
        "state": "Status",
        "since": "sejak",
        "as_of": "per",
        "severity": "Tingkat keparahan",
        "gap": "Selisih",
        "due": "Tonggak berikutnya",
        "not_available": "tidak tersedia",
        "score_of": "{score} dari 5",
        "drivers": "Indikator yang paling menurunkan skor",
        "driver_line": "{name}: skor {score}, bobot {weight}, menambah {pull} poin pada skor {target} bila mencapai 5",
        "remedy": "Yang perlu dilakukan",
        "chart": "Skor {target} dan jalur masterplan",
        "chart.history": "Skor",
        "chart.path": "Jalur masterplan",
        "chart.milestone": "Tonggak {due}: target {target}",
        "ack": "Akui peringatan ini (menghentikan eskalasi)",
        "card": "Kartu wilayah ini di Pantau (skor, riwayat, indikator)",
        "footer": "Pesan otomatis dari Pantau Kota Cerdas. Peringatan {alert_id}, notifikasi {notification_id}.",
    },
    "en": {
        "greeting": "To {office},",
        "escalation.province": "province escalation",
        "escalation.national": "national escalation",
        "escalation_note": "The regional office has not acknowledged this alert; it is escalated to {level}.",
        "escalated_note": "This alert was escalated to {level}.",
        "region": "Region",
        "province": "Province",
        "target": "Score watched",
        "kind": "Kind",
        "state": "State",
        "since": "since",
        "as_of": "as of",
        "severity": "Severity",
        "gap": "Gap",
        "due": "Next milestone",
        "not_available": "not available",
        "score_of": "{score} of 5",
        "drivers": "Indicators that pull the score down most",
        "driver_line": "{name}: score {score}, weight {weight}, would add {pull} points to the {target} score "
        "if it reached 5",
        "remedy": "What it would take",
        "chart": "{target} score and the masterplan path",
        "chart.history": "Score",
        "chart.path": "Masterplan path",
        "chart.milestone": "Milestone {due}: target {target}",
        "ack": "Acknowledge this alert (stops the escalation)",
        "card": "This region's card on Pantau (scores, history, indicators)",
        "footer": "Automatic message from Pantau Kota Cerdas. Alert {alert_id}, notification {notification_id}.",
    },
}

LEVELS: Final = {
    "id": {"region": "kantor daerah", "province": "pemerintah provinsi", "national": "operasi nasional"},
    "en": {"region": "the regional office", "province": "the province", "national": "national operations"},
}
