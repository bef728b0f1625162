"""The words and number formats of the web pages: Bahasa Indonesia (``id``, the default) and English.

One catalogue per language with the same keys (a test checks it); the view models
(services/web/views.py) take a :class:`Messages` and never hold a word of their own. Numbers and dates
follow the language: ``3,42`` and ``31 Desember 2025`` in Indonesian, ``3.42`` and ``31 December 2025``
in English; thousands are grouped with ``.`` in Indonesian and ``,`` in English.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Final, Literal

from schemas.language import MONTHS as MONTHS

Lang = Literal["id", "en"]
DEFAULT_LANG: Final[Lang] = "id"
LANGUAGES: Final[tuple[Lang, ...]] = ("id", "en")


#: English glosses of the PP 59/2022 level names (the framework names them in Indonesian only).
LEVEL_GLOSSES: Final = {
    "Rintisan": "Initiating",
    "Terkelola": "Managed",
    "Terdefinisi": "Defined",
    "Terpadu dan Terukur": "Integrated and Measured",
    "Optimum": "Optimum",
}

LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "id": {
        "no_data": "belum ada data",
        "behind_path": "di belakang jalur",
        "on_path": "sesuai atau di depan jalur",
        "no_plan": "tanpa rencana induk",
        "as_of": "per {day}",
        "type.kabupaten": "Kabupaten",
        "type.kota": "Kota",
        "level": "Tingkat {level}",
        "level.named": "Tingkat {level} ({name})",
        "trend.up": "naik {change} sejak {day}",
        "trend.down": "turun {change} sejak {day}",
        "trend.flat": "tetap sejak {day}",
        "trend.none": "tanpa pembanding",
        "measure.index": "Indeks",
        "measure.level": "Tingkat",
        "measure.gap": "Selisih terhadap jalur",
        "measure.coverage": "Cakupan data",
        "value.index": "indeks {value} dari 5",
        "value.gap.behind": "{value} poin di belakang jalur",
        "value.gap.ahead": "{value} poin di depan jalur",
        "value.gap.on": "tepat pada jalur",
        "value.coverage": "cakupan data {value}",
        "map.label": "{name}: {value}, {as_of}",
        "map.no_data": "{name}: belum ada data",
        "legend.index": "indeks {low} sampai {high}",
        "legend.index.top": "indeks {low} ke atas",
        "legend.lead.below": "lebih dari {value} poin di belakang jalur",
        "legend.lead": "{low} sampai {high} poin terhadap jalur",
        "legend.lead.top": "{value} poin atau lebih di depan jalur",
        "legend.coverage": "cakupan {low} sampai {high}",
        "legend.coverage.top": "cakupan {low} ke atas",
    },
    "en": {
        "no_data": "no data yet",
        "behind_path": "behind the path",
        "on_path": "on or ahead of the path",
        "no_plan": "no masterplan",
        "as_of": "as of {day}",
        "type.kabupaten": "Regency",
        "type.kota": "City",
        "level": "Level {level}",
        "level.named": "Level {level} ({name})",
        "trend.up": "up {change} since {day}",
        "trend.down": "down {change} since {day}",
        "trend.flat": "unchanged since {day}",
        "trend.none": "nothing to compare with",
        "measure.index": "Index",
        "measure.level": "Level",
        "measure.gap": "Gap to the path",
        "measure.coverage": "Data coverage",
        "value.index": "index {value} of 5",
        "value.gap.behind": "{value} points behind the path",
        "value.gap.ahead": "{value} points ahead of the path",
        "value.gap.on": "on the path",
        "value.coverage": "data coverage {value}",
        "map.label": "{name}: {value}, {as_of}",
        "map.no_data": "{name}: no data yet",
        "legend.index": "index {low} to {high}",
        "legend.index.top": "index {low} and above",
        "legend.lead.below": "more than {value} points behind the path",
        "legend.lead": "{low} to {high} points against the path",
        "legend.lead.top": "{value} points or more ahead of the path",
        "legend.coverage": "coverage {low} to {high}",
        "legend.coverage.top": "coverage {low} and above",
    },
}

# Decimal and thousands separators.
_SEPARATORS: Final = {"id": (",", "."), "en": (".", ",")}


@dataclass(frozen=True)
class Messages:
    """The labels and formats of one language."""

    lang: Lang
    labels: Mapping[str, str]

    def __call__(self, key: str, **values: object) -> str:
        """The label ``key`` with ``values`` filled in (a missing key is an error, not an empty text)."""
        return self.labels[key].format(**values)

    def number(self, value: float, digits: int = 2) -> str:
        """``value`` to ``digits`` decimals, halves rounded away from zero as written (3.425 -> 3,43; a
        float's binary value would round it down), thousands grouped, no sign on a value that rounds to 0."""
        exact = Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
        if exact == 0:
            exact = abs(exact)
        text = f"{exact:,.{digits}f}"
        decimal, thousands = _SEPARATORS[self.lang]
        return text.translate({ord("."): decimal, ord(","): thousands})

    def integer(self, value: int) -> str:
        """``1.234`` in Indonesian, ``1,234`` in English."""
        return self.number(value, 0)

    def signed(self, value: float, digits: int = 2) -> str:
        """A change: ``+0,12``, ``-0,12``, and ``0,00`` (no sign) when it rounds to nothing."""
        text = self.number(value, digits)
        return text if text.startswith("-") or not any(c in "123456789" for c in text) else "+" + text

    def percent(self, share: float, digits: int = 1) -> str:
        """A share 0-1 as a percentage: ``95,4%`` (``95.4%``)."""
        return self.number(share * 100, digits) + "%"

    def day(self, d: dt.date) -> str:
        """``31 Desember 2025`` / ``31 December 2025``."""
        return f"{d.day} {MONTHS[self.lang][d.month - 1]} {d.year}"

    def month(self, d: dt.date) -> str:
        """The month of ``d``: ``Desember 2025`` / ``December 2025``."""
        return f"{MONTHS[self.lang][d.month - 1]} {d.year}"

    def level_name(self, name: str) -> str:
        """A level's name (the framework's Indonesian) in this language."""
        return LEVEL_GLOSSES.get(name, name) if self.lang == "en" else name


def messages(lang: str = DEFAULT_LANG) -> Messages:
    """The catalogue of ``lang`` (``id`` or ``en``); another language is an error for the caller to
    answer (the route falls back to the default)."""
    for known in LANGUAGES:
        if lang == known:
            return Messages(known, MappingProxyType(dict(LABELS[known])))
    raise ValueError(f"no messages in {lang!r}; languages: {', '.join(LANGUAGES)}")
