"""CSV and XLSX exports of a ranking and of a region's history (issue 14, "Exports").

Pure functions, no web framework: they take the history API's JSON bodies as plain dicts, as the API sends
them (``RankingBody`` of ``/v1/ranking``, ``SeriesBody`` of ``/v1/regions/{code}/history``; days as ISO
strings), and a language (``"id"``, the default, or ``"en"``), and return an :class:`Export`: the bytes, a
file name and a media type, ready for a download answer.

- **CSV** is for machines as much as for people: UTF-8 with a byte order mark (so that Excel reads the
  Indonesian names right), a header row in the chosen language, one row per region or per period; numbers
  are plain decimals with a dot whatever the language (``3.42``, never ``3,42`` nor ``3.4e-05``), days are
  ISO (``2025-12-31``), booleans ``true``/``false``, and a missing value is an empty field.
- **XLSX** (openpyxl) holds the same header and rows with typed cells (numbers, dates with a date format,
  booleans), a frozen header row and fitted column widths, and a second sheet ("Tentang"/"About") saying what
  the figures are, the day or the period range, and their source.

The scale is the API's: the index and the dimensions 0-5 (PP 59/2022 maturity index), the level 1-5, the
coverage a share 0-1, the gap ``path - index`` (above 0: behind the masterplan path).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from schemas.framework import Framework, load_framework

Lang = Literal["id", "en"]
Format = Literal["csv", "xlsx"]
Json = Mapping[str, Any]
Cell = str | int | float | bool | date | None
#: How a column's values are written: text, whole numbers, scores (0-5 and gaps), shares (0-1), days, flags.
Kind = Literal["text", "int", "score", "share", "date", "bool"]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SOURCE = "Pantau Kota Cerdas"

_NUMBER_FORMATS: dict[Kind, str] = {"int": "0", "score": "0.00", "share": "0%", "date": "yyyy-mm-dd"}
_MAX_WIDTH = 60


@dataclass(frozen=True)
class Export:
    """A file to download."""

    content: bytes
    filename: str
    media_type: str


@dataclass(frozen=True)
class Table:
    """One sheet's header and rows; ``kinds`` says how each column is written."""

    header: list[str]
    kinds: list[Kind]
    rows: list[list[Cell]]


# ------------------------------------------------------------------------------------------------ labels

# This module's own words (the pages' catalogue is services/web/messages.py): key -> (Bahasa Indonesia, English).
_LABELS: dict[str, tuple[str, str]] = {
    # ranking columns
    "rank": ("Peringkat", "Rank"),
    "national_rank": ("Peringkat nasional", "National rank"),
    "code": ("Kode", "Code"),
    "name": ("Nama", "Name"),
    "type": ("Jenis", "Type"),
    "province": ("Provinsi", "Province"),
    "as_of_day": ("Tanggal data", "As-of day"),
    "index": ("Indeks (0-5)", "Index (0-5)"),
    "level": ("Tingkat (1-5)", "Level (1-5)"),
    "level_name": ("Nama tingkat", "Level name"),
    "coverage": ("Cakupan data (0-1)", "Coverage (0-1)"),
    "path_index": ("Indeks jalur masterplan", "Masterplan path index"),
    "gap": ("Selisih jalur - indeks", "Gap path - index"),
    "behind_plan": ("Di belakang jalur", "Behind plan"),
    "simulated": ("Simulasi", "Simulated"),
    # history columns
    "period": ("Periode", "Period"),
    "first": ("Hari pertama", "First day"),
    "last": ("Hari terakhir", "Last day"),
    "days": ("Hari dengan data", "Days with data"),
    "simulated_days": ("Hari simulasi", "Simulated days"),
    "closing_day": ("Hari penutupan", "Closing day"),
    "index_mean": ("Indeks rata-rata", "Mean index"),
    "index_min": ("Indeks terendah", "Min index"),
    "index_max": ("Indeks tertinggi", "Max index"),
    # sheets and file names
    "ranking_sheet": ("Peringkat", "Ranking"),
    "history_sheet": ("Riwayat", "History"),
    "about_sheet": ("Tentang", "About"),
    "ranking_file": ("peringkat", "ranking"),
    "history_file": ("riwayat", "history"),
    # the About sheet
    "ranking_title": (
        "Peringkat indeks kematangan kota cerdas kabupaten/kota",
        "Ranking of the kabupaten/kota by smart-city maturity index",
    ),
    "history_title": ("Riwayat indeks kematangan kota cerdas", "History of the smart-city maturity index"),
    "as_of": ("Per tanggal", "As of"),
    "from": ("Dari tanggal", "From"),
    "to": ("Sampai tanggal", "To"),
    "resolution": ("Resolusi", "Resolution"),
    "region": ("Wilayah", "Region"),
    "framework": ("Kerangka", "Framework"),
    "filter_province": ("Filter provinsi", "Province filter"),
    "filter_type": ("Filter jenis", "Type filter"),
    "filter_level": ("Filter tingkat", "Level filter"),
    "all": ("semua", "all"),
    "scored": ("Wilayah dengan skor", "Regions scored"),
    "listed": ("Wilayah tercantum", "Regions listed"),
    "simulated_rows": ("Baris simulasi", "Simulated rows"),
    "periods": ("Periode", "Periods"),
    "empty_periods": ("Periode tanpa data", "Periods without data"),
    "source": ("Sumber", "Source"),
    "source_api": ("API riwayat", "history API"),
    "notes": ("Keterangan", "Notes"),
    "note_index": (
        "Indeks: indeks kematangan kota cerdas pada skala 0-5 (PP 59/2022), dimensi pada skala yang sama; "
        "tingkat 1-5 menurut kerangka; cakupan: bagian (0-1) bobot kerangka yang memiliki data.",
        "Index: the smart-city maturity index on the 0-5 scale (PP 59/2022), the dimensions on the same scale; "
        "level 1-5 as the framework sets it; coverage: the share (0-1) of the framework's weight with data.",
    ),
    "note_closing_ranking": (
        "Setiap baris adalah snapshot penutupan wilayah: skor terakhir pada hari lokalnya (WIB, WITA atau WIT), "
        "yang terbaru pada atau sebelum tanggal di atas (lihat kolom tanggal data).",
        "Each row is the region's closing snapshot: its last score of its local day (WIB, WITA or WIT), the "
        "latest on or before the day above (see the as-of day column).",
    ),
    "note_closing_history": (
        "Nilai setiap periode adalah snapshot penutupan terakhirnya: skor terakhir pada hari lokal wilayah "
        "(WIB, WITA atau WIT); rata-rata, terendah dan tertinggi dihitung dari indeks harian periode itu.",
        "Each period's value is its last closing snapshot: the region's last score of its local day (WIB, WITA "
        "or WIT); mean, min and max are of the period's daily indexes.",
    ),
    "note_path": (
        "Jalur masterplan: indeks yang diharapkan rencana induk wilayah pada hari itu; selisih = jalur - indeks, "
        "di atas 0 berarti di belakang jalur. Kosong bila rencana induk wilayah tidak diketahui.",
        "Masterplan path: the index the region's masterplan expects on that day; gap = path - index, above 0 "
        "means behind the path. Empty where no masterplan is known for the region.",
    ),
    "note_simulated": (
        "Simulasi: data yang dibuat oleh pengisian demo (pantau history seed-demo), bukan dihitung dari data "
        "indikator.",
        "Simulated: figures made by the demo's seeding (pantau history seed-demo), not scored from indicator data.",
    ),
    "note_empty": (
        "Sel kosong: tidak ada data, atau cakupan terlalu rendah untuk menghitung indeks.",
        "Empty cell: no data, or too little coverage to compute an index.",
    ),
}

_RESOLUTIONS: dict[str, tuple[str, str]] = {
    "day": ("harian", "daily"),
    "week": ("mingguan", "weekly"),
    "month": ("bulanan", "monthly"),
    "year": ("tahunan", "yearly"),
}


def _check_lang(lang: str) -> Lang:
    if lang not in ("id", "en"):
        raise ValueError(f"language {lang!r} is not 'id' or 'en'")
    return lang  # type: ignore[return-value]


def label(key: str, lang: Lang = "id") -> str:
    """This module's word for ``key`` in ``lang``."""
    return _LABELS[key][0 if _check_lang(lang) == "id" else 1]


def resolution_label(resolution: str, lang: Lang = "id") -> str:
    """``month`` -> ``bulanan`` / ``monthly``; an unknown resolution stays as it is."""
    words = _RESOLUTIONS.get(resolution)
    return words[0 if _check_lang(lang) == "id" else 1] if words else resolution


# ------------------------------------------------------------------------------------------------ values


def _day(v: Any) -> date | None:
    """An ISO day of the body (or a ``date`` when the body was built in Python)."""
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v))


def _number(v: Any) -> int | float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError(f"not a number: {v!r}")
    return v


def _flag(v: Any) -> bool | None:
    if v is None:
        return None
    if not isinstance(v, bool):
        raise ValueError(f"not a boolean: {v!r}")
    return v


_CONVERT: dict[Kind, Callable[[Any], Cell]] = {
    "text": lambda v: None if v is None else str(v),
    "int": _number,
    "score": _number,
    "share": _number,
    "date": _day,
    "bool": _flag,
}


def _plain_decimal(v: int | float) -> str:
    """``3.42`` -> ``3.42``, ``1e-05`` -> ``0.00001``: the shortest exact decimal, never an exponent."""
    if isinstance(v, int):
        return str(v)
    return format(Decimal(repr(v)), "f")


def _csv_field(v: Cell) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return _plain_decimal(v)
    if isinstance(v, date):
        return v.isoformat()
    return v


def _table(header: list[str], kinds: list[Kind], rows: Sequence[Sequence[Any]]) -> Table:
    return Table(header, kinds, [[_CONVERT[k](v) for k, v in zip(kinds, row, strict=True)] for row in rows])


# ------------------------------------------------------------------------------------------------ tables


@functools.cache
def _default_framework() -> Framework:
    return load_framework()


def _dimension_columns(framework: Framework, bodies: Sequence[Json], lang: Lang) -> list[tuple[str, str]]:
    """(id, header) of each dimension in framework order; ids the framework does not know (a body scored
    under another version) follow, sorted, under their id."""
    known = [(d.id, (d.name_id or d.name) if lang == "id" else d.name) for d in framework.dimensions]
    ids = {i for i, _ in known}
    extra = sorted({k for b in bodies for k in b} - ids)
    return known + [(k, k) for k in extra]


def ranking_table(body: Json, lang: Lang = "id", framework: Framework | None = None) -> Table:
    """The ranking's rows, one per region in the body's order, with the header in ``lang``."""
    lang = _check_lang(lang)
    fw = framework or _default_framework()
    regions = body["regions"]
    dims = _dimension_columns(fw, [r["as_of"]["dimensions"] for r in regions], lang)
    keys_kinds: list[tuple[str, Kind]] = [
        ("rank", "int"), ("national_rank", "int"), ("code", "text"), ("name", "text"), ("type", "text"),
        ("province", "text"), ("as_of_day", "date"), ("index", "score"), ("level", "int"), ("level_name", "text"),
        ("coverage", "share"),
    ]  # fmt: skip
    tail: list[tuple[str, Kind]] = [("path_index", "score"), ("gap", "score"), ("behind_plan", "bool"),
                                    ("simulated", "bool")]  # fmt: skip
    header = [label(k, lang) for k, _ in keys_kinds] + [h for _, h in dims] + [label(k, lang) for k, _ in tail]
    kinds: list[Kind] = [k for _, k in keys_kinds] + ["score"] * len(dims) + [k for _, k in tail]
    rows = []
    for r in regions:
        reg, snap = r["region"], r["as_of"]
        rows.append([
            r["rank"], r["national_rank"], reg["code"], reg["name"], reg["type"], reg["province_name"], snap["day"],
            snap["index"], snap["level"], snap["level_name"], snap["coverage"],
            *(snap["dimensions"].get(d) for d, _ in dims),
            r["expected_index"], r["gap"], r["behind_plan"], snap["simulated"],
        ])  # fmt: skip
    return _table(header, kinds, rows)


def history_table(body: Json, lang: Lang = "id") -> Table:
    """The history's rows, one per period (a period without data keeps its row, its figures empty)."""
    lang = _check_lang(lang)
    columns: list[tuple[str, Kind]] = [
        ("period", "text"), ("first", "date"), ("last", "date"), ("days", "int"), ("simulated_days", "int"),
        ("closing_day", "date"), ("index", "score"), ("level", "int"), ("index_mean", "score"),
        ("index_min", "score"), ("index_max", "score"), ("path_index", "score"), ("gap", "score"),
    ]  # fmt: skip
    rows = []
    for p in body["points"]:
        c = p["closing"] or {}
        rows.append([
            p["period"], p["first"], p["last"], p["days"], p["simulated_days"], c.get("day"), c.get("index"),
            c.get("level"), p["index_mean"], p["index_min"], p["index_max"], p["expected"].get("index"), p["gap"],
        ])  # fmt: skip
    return _table([label(k, lang) for k, _ in columns], [k for _, k in columns], rows)


# ------------------------------------------------------------------------------------------------ file names


def _safe(part: str) -> str:
    """A piece of a file name: letters, digits, dots and dashes only (it goes into Content-Disposition)."""
    return re.sub(r"[^0-9A-Za-z.]+", "-", part).strip("-")


def ranking_filename(body: Json, fmt: Format, lang: Lang = "id") -> str:
    """``pantau-peringkat-2025-12-31.xlsx`` (``pantau-ranking-...`` in English)."""
    return f"pantau-{label('ranking_file', lang)}-{_day(body['on'])}.{fmt}"


def history_filename(body: Json, fmt: Format, lang: Lang = "id") -> str:
    """``pantau-riwayat-32.73-bulanan-2024-01-01-2029-12-31.csv`` (``pantau-history-32.73-monthly-...``)."""
    code = _safe(body["region"]["code"])
    res = _safe(resolution_label(body["resolution"], lang))
    return f"pantau-{label('history_file', lang)}-{code}-{res}-{_day(body['from'])}-{_day(body['to'])}.{fmt}"


# ------------------------------------------------------------------------------------------------ writers


def to_csv(table: Table) -> bytes:
    """The table as CSV (RFC 4180 line ends), UTF-8 with a byte order mark."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(table.header)
    w.writerows([_csv_field(v) for v in row] for row in table.rows)
    return out.getvalue().encode("utf-8-sig")


def _display_width(v: Cell, kind: Kind) -> int:
    """About how many characters Excel shows for the value, with its number format."""
    if v is None:
        return 0
    if isinstance(v, bool):
        return 5
    if isinstance(v, date):
        return 10
    if kind == "score" and isinstance(v, int | float):
        return len(f"{v:.2f}")
    if kind == "share" and isinstance(v, int | float):
        return len(f"{v:.0%}")
    return len(str(v))


def _write_text(ws: Worksheet, row: int, column: int, value: str) -> None:
    cell = ws.cell(row=row, column=column, value=value)
    cell.data_type = "s"  # a name that starts with "=" stays text, never becomes a formula


def _data_sheet(ws: Worksheet, table: Table) -> None:
    bold = Font(bold=True)
    for j, h in enumerate(table.header, start=1):
        _write_text(ws, 1, j, h)
        ws.cell(row=1, column=j).font = bold
    for i, row in enumerate(table.rows, start=2):
        for j, (v, kind) in enumerate(zip(row, table.kinds, strict=True), start=1):
            if v is None:
                continue
            if isinstance(v, str):
                _write_text(ws, i, j, v)
                continue
            cell = ws.cell(row=i, column=j, value=v)
            if kind in _NUMBER_FORMATS:
                cell.number_format = _NUMBER_FORMATS[kind]
    for j, kind in enumerate(table.kinds, start=1):
        widest = max([len(table.header[j - 1])] + [_display_width(r[j - 1], kind) for r in table.rows])
        ws.column_dimensions[get_column_letter(j)].width = min(widest + 2, _MAX_WIDTH)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(table.header))}{len(table.rows) + 1}"


def _about_sheet(ws: Worksheet, facts: Sequence[tuple[str, Cell]], notes: Sequence[str], lang: Lang) -> None:
    """Label/value rows, then the notes, one a row, in column A."""
    bold = Font(bold=True)
    row = 1
    for key, value in facts:
        _write_text(ws, row, 1, key)
        ws.cell(row=row, column=1).font = bold
        if isinstance(value, str):
            _write_text(ws, row, 2, value)
        elif value is not None:
            cell = ws.cell(row=row, column=2, value=value)
            if isinstance(value, date):
                cell.number_format = _NUMBER_FORMATS["date"]
            cell.alignment = Alignment(horizontal="left")
        row += 1
    row += 1
    _write_text(ws, row, 1, label("notes", lang))
    ws.cell(row=row, column=1).font = bold
    for note in notes:
        row += 1
        _write_text(ws, row, 1, note)
    ws.column_dimensions["A"].width = max(len(k) for k, _ in facts) + 2
    ws.column_dimensions["B"].width = min(max(_display_width(v, "text") for _, v in facts) + 2, _MAX_WIDTH)


def to_xlsx(
    table: Table, sheet: str, about: Sequence[tuple[str, Cell]], notes: Sequence[str], lang: Lang = "id"
) -> bytes:
    """A workbook: the table on sheet ``sheet``, and the About sheet ("Tentang"/"About") with ``about``'s
    label/value rows and the ``notes``."""
    wb = Workbook()
    data = wb.active
    assert data is not None  # a new workbook has its one sheet
    data.title = sheet
    _data_sheet(data, table)
    _about_sheet(wb.create_sheet(label("about_sheet", lang)), about, notes, lang)
    wb.properties.creator = SOURCE
    wb.properties.title = sheet
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ------------------------------------------------------------------------------------------------ exports


def _source(path: str, lang: Lang) -> str:
    return f"{SOURCE}, {label('source_api', lang)} ({path})"


def _ranking_about(body: Json, lang: Lang) -> tuple[list[tuple[str, Cell]], list[str]]:
    everything = label("all", lang)
    on = _day(body["on"])
    simulated = sum(1 for r in body["regions"] if r["as_of"]["simulated"])
    facts: list[tuple[str, Cell]] = [
        (label("ranking_title", lang), None),
        (label("as_of", lang), on),
        (label("framework", lang), body["framework"]),
        (label("filter_province", lang), body.get("province") or everything),
        (label("filter_type", lang), body.get("type") or everything),
        (label("filter_level", lang), body["level"] if body.get("level") is not None else everything),
        (label("scored", lang), body["scored"]),
        (label("listed", lang), body["count"]),
        (label("simulated_rows", lang), simulated),
        (label("source", lang), _source(f"/v1/ranking?on={on}", lang)),
    ]
    notes = [label(k, lang) for k in ("note_index", "note_closing_ranking", "note_path", "note_simulated",
                                       "note_empty")]  # fmt: skip
    return facts, notes


def _history_about(body: Json, lang: Lang) -> tuple[list[tuple[str, Cell]], list[str]]:
    reg, points = body["region"], body["points"]
    start, end = _day(body["from"]), _day(body["to"])
    facts: list[tuple[str, Cell]] = [
        (label("history_title", lang), None),
        (label("region", lang), f"{reg['name']} ({reg['code']}), {reg['province_name']}"),
        (label("from", lang), start),
        (label("to", lang), end),
        (label("resolution", lang), resolution_label(body["resolution"], lang)),
        (label("framework", lang), body["framework"]),
        (label("periods", lang), len(points)),
        (label("empty_periods", lang), sum(1 for p in points if p["closing"] is None)),
        (label("simulated_days", lang), sum(p["simulated_days"] for p in points)),
        (label("source", lang), _source(
            f"/v1/regions/{reg['code']}/history?from={start}&to={end}&resolution={body['resolution']}", lang)),
    ]  # fmt: skip
    notes = [label(k, lang) for k in ("note_index", "note_closing_history", "note_path", "note_simulated",
                                       "note_empty")]  # fmt: skip
    return facts, notes


def ranking_csv(body: Json, lang: Lang = "id", framework: Framework | None = None) -> Export:
    """The ranking (a ``RankingBody``) as CSV: plain decimals with a dot, ISO days, ``true``/``false``,
    UTF-8 with a BOM; header in ``lang``. ``framework`` orders and names the dimension columns (the
    shipped PP 59/2022 one by default)."""
    table = ranking_table(body, lang, framework)
    return Export(to_csv(table), ranking_filename(body, "csv", lang), CSV_MEDIA_TYPE)


def ranking_xlsx(body: Json, lang: Lang = "id", framework: Framework | None = None) -> Export:
    """The ranking (a ``RankingBody``) as a workbook with typed cells and an About sheet."""
    table = ranking_table(body, lang, framework)
    facts, notes = _ranking_about(body, lang)
    content = to_xlsx(table, label("ranking_sheet", lang), facts, notes, lang)
    return Export(content, ranking_filename(body, "xlsx", lang), XLSX_MEDIA_TYPE)


def history_csv(body: Json, lang: Lang = "id") -> Export:
    """A region's history (a ``SeriesBody``) as CSV, one row per period: plain decimals with a dot, ISO
    days, UTF-8 with a BOM; header in ``lang``."""
    return Export(to_csv(history_table(body, lang)), history_filename(body, "csv", lang), CSV_MEDIA_TYPE)


def history_xlsx(body: Json, lang: Lang = "id") -> Export:
    """A region's history (a ``SeriesBody``) as a workbook with typed cells and an About sheet."""
    facts, notes = _history_about(body, lang)
    content = to_xlsx(history_table(body, lang), label("history_sheet", lang), facts, notes, lang)
    return Export(content, history_filename(body, "xlsx", lang), XLSX_MEDIA_TYPE)


def export_ranking(body: Json, fmt: Format, lang: Lang = "id", framework: Framework | None = None) -> Export:
    """:func:`ranking_csv` or :func:`ranking_xlsx` by ``fmt``, for a route with a ``format`` parameter."""
    if fmt == "csv":
        return ranking_csv(body, lang, framework)
    if fmt == "xlsx":
        return ranking_xlsx(body, lang, framework)
    raise ValueError(f"format {fmt!r} is not 'csv' or 'xlsx'")


def export_history(body: Json, fmt: Format, lang: Lang = "id") -> Export:
    """:func:`history_csv` or :func:`history_xlsx` by ``fmt``."""
    if fmt == "csv":
        return history_csv(body, lang)
    if fmt == "xlsx":
        return history_xlsx(body, lang)
    raise ValueError(f"format {fmt!r} is not 'csv' or 'xlsx'")
