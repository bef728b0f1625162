"""The CSV and XLSX exports of the web service (services/web/exports.py).

The bodies are built by hand as the history API sends them (JSON: days as ISO strings); every export is read
back (csv, openpyxl) and checked cell by cell against the values written in the test.
"""

from __future__ import annotations

import copy
import csv
import io
from datetime import datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from services.web import exports
from services.web.exports import Export, Lang

BOM = b"\xef\xbb\xbf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# ------------------------------------------------------------------------------------------------ builders


def a_snapshot(**overrides: Any) -> dict[str, Any]:
    snap: dict[str, Any] = {
        "day": "2025-12-31", "at": "2025-12-31T16:58:00Z", "index": 3.42, "level": 4,
        "level_name": "Terpadu dan Terukur", "coverage": 0.85, "status": "ok",
        "dimensions": {"governance": 3.5, "economy": 3.1, "branding": 2.9, "living": 3.8, "society": 3.6,
                       "environment": 3.25},
        "simulated": False,
    }  # fmt: skip
    snap.update(overrides)
    return snap


def a_region(code: str, name: str, type_: str) -> dict[str, Any]:
    return {"code": code, "name": name, "type": type_, "province_code": "32", "province_name": "Jawa Barat"}


def a_ranking_body() -> dict[str, Any]:
    """Three regions: one ahead of nothing (behind its path), one simulated without a plan, one without an index."""
    return {
        "on": "2025-12-31", "framework": "pp59_2022@2026.1", "province": "32", "type": None, "level": None,
        "scored": 27, "count": 3,
        "regions": [
            {"rank": 1, "national_rank": 7, "region": a_region("32.73", "Kota Bandung", "kota"),
             "as_of": a_snapshot(), "expected_index": 3.6, "gap": 0.18, "behind_plan": True,
             "plan_id": "masterplan-32.73-2023"},
            {"rank": 2, "national_rank": 40, "region": a_region("32.04", "Kabupaten Bandung", "kabupaten"),
             "as_of": a_snapshot(day="2025-12-30", index=2.05, level=3, level_name="Terdefinisi", coverage=0.6,
                                 simulated=True,
                                 dimensions={"governance": 2.4, "economy": 2.0, "branding": None, "living": 2.2,
                                             "society": 1.9, "environment": 1.75}),
             "expected_index": None, "gap": None, "behind_plan": None, "plan_id": None},
            {"rank": None, "national_rank": None,
             "region": a_region("32.17", "Kabupaten Bandung Barat", "kabupaten"),
             "as_of": a_snapshot(day="2025-11-02", index=None, level=None, level_name=None, coverage=0.2,
                                 status="insufficient_data",
                                 dimensions={"governance": 1.2, "economy": None, "branding": None, "living": 0.9,
                                             "society": None, "environment": None}),
             "expected_index": 1.5, "gap": None, "behind_plan": None, "plan_id": "masterplan-32.17-2024"},
        ],
    }  # fmt: skip


def a_closing(**overrides: Any) -> dict[str, Any]:
    return a_snapshot(**overrides)


def a_series_body() -> dict[str, Any]:
    """Three months of Kota Bandung; February has no data, March is all the demo's seeding."""
    return {
        "region": a_region("32.73", "Kota Bandung", "kota"), "framework": "pp59_2022@2026.1",
        "resolution": "month", "from": "2024-01-01", "to": "2024-03-31",
        "points": [
            {"period": "2024-01", "first": "2024-01-01", "last": "2024-01-31", "since": "2024-01-01",
             "until": "2024-01-31", "days": 31, "simulated_days": 0,
             "closing": a_closing(day="2024-01-31", index=2.8, level=3, level_name="Terdefinisi"),
             "index_mean": 2.75, "index_min": 2.6, "index_max": 2.9, "expected": {"index": 2.7, "governance": 2.9},
             "gap": -0.1, "plan_id": "masterplan-32.73-2023"},
            {"period": "2024-02", "first": "2024-02-01", "last": "2024-02-29", "since": "2024-02-01",
             "until": "2024-02-29", "days": 0, "simulated_days": 0, "closing": None, "index_mean": None,
             "index_min": None, "index_max": None, "expected": {"index": 2.75}, "gap": None,
             "plan_id": "masterplan-32.73-2023"},
            {"period": "2024-03", "first": "2024-03-01", "last": "2024-03-31", "since": "2024-03-01",
             "until": "2024-03-31", "days": 12, "simulated_days": 12,
             "closing": a_closing(day="2024-03-30", index=3.05, level=4, simulated=True),
             "index_mean": 3.0, "index_min": 2.95, "index_max": 3.1, "expected": {"index": 2.8}, "gap": -0.25,
             "plan_id": "masterplan-32.73-2023"},
        ],
    }  # fmt: skip


def csv_rows(export: Export) -> list[list[str]]:
    assert export.content.startswith(BOM)
    return list(csv.reader(io.StringIO(export.content[len(BOM) :].decode("utf-8"), newline="")))


def sheets(export: Export) -> dict[str, Worksheet]:
    wb = load_workbook(io.BytesIO(export.content))
    return {ws.title: ws for ws in wb.worksheets}


def typed(ws: Worksheet, row: int) -> list[tuple[type, Any]]:
    """A row's (type, value) pairs: ``1 == True`` and ``3 == 3.0`` in Python, so the type is compared too."""
    return [(type(c.value), c.value) for c in ws[row]]


def about_text(ws: Worksheet) -> str:
    return "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)


# ------------------------------------------------------------------------------------------------ headers

RANKING_HEADER = {
    "id": ["Peringkat", "Peringkat nasional", "Kode", "Nama", "Jenis", "Provinsi", "Tanggal data", "Indeks (0-5)",
           "Tingkat (1-5)", "Nama tingkat", "Cakupan data (0-1)", "Tata Kelola Cerdas", "Ekonomi Cerdas",
           "Branding Cerdas", "Kehidupan Cerdas", "Masyarakat Cerdas", "Lingkungan Cerdas",
           "Indeks jalur masterplan", "Selisih jalur - indeks", "Di belakang jalur", "Simulasi"],
    "en": ["Rank", "National rank", "Code", "Name", "Type", "Province", "As-of day", "Index (0-5)", "Level (1-5)",
           "Level name", "Coverage (0-1)", "Smart Governance", "Smart Economy", "Smart Branding", "Smart Living",
           "Smart Society", "Smart Environment", "Masterplan path index", "Gap path - index", "Behind plan",
           "Simulated"],
}  # fmt: skip

HISTORY_HEADER = {
    "id": ["Periode", "Hari pertama", "Hari terakhir", "Hari dengan data", "Hari simulasi", "Hari penutupan",
           "Indeks (0-5)", "Tingkat (1-5)", "Indeks rata-rata", "Indeks terendah", "Indeks tertinggi",
           "Indeks jalur masterplan", "Selisih jalur - indeks"],
    "en": ["Period", "First day", "Last day", "Days with data", "Simulated days", "Closing day", "Index (0-5)",
           "Level (1-5)", "Mean index", "Min index", "Max index", "Masterplan path index", "Gap path - index"],
}  # fmt: skip


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_ranking_header_is_in_the_language_with_the_dimensions_in_framework_order(lang: Lang) -> None:
    body = a_ranking_body()
    assert csv_rows(exports.ranking_csv(body, lang))[0] == RANKING_HEADER[lang]
    ws = sheets(exports.ranking_xlsx(body, lang))[{"id": "Peringkat", "en": "Ranking"}[lang]]
    assert [c.value for c in ws[1]] == RANKING_HEADER[lang]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_history_header_is_in_the_language(lang: Lang) -> None:
    body = a_series_body()
    assert csv_rows(exports.history_csv(body, lang))[0] == HISTORY_HEADER[lang]
    ws = sheets(exports.history_xlsx(body, lang))[{"id": "Riwayat", "en": "History"}[lang]]
    assert [c.value for c in ws[1]] == HISTORY_HEADER[lang]


def test_a_dimension_the_framework_does_not_know_follows_under_its_id() -> None:
    body = a_ranking_body()
    body["regions"][0]["as_of"]["dimensions"]["mobility"] = 2.5
    rows = csv_rows(exports.ranking_csv(body, "en"))
    assert rows[0][11:18] == ["Smart Governance", "Smart Economy", "Smart Branding", "Smart Living",
                              "Smart Society", "Smart Environment", "mobility"]  # fmt: skip
    assert [r[17] for r in rows[1:]] == ["2.5", "", ""]


# ------------------------------------------------------------------------------------------------ CSV


def test_the_csv_is_utf8_with_one_byte_order_mark_and_crlf_line_ends() -> None:
    content = exports.ranking_csv(a_ranking_body()).content
    assert content[:3] == BOM
    assert content[3:6] == b"Per"  # the BOM once, then the header
    assert content.count(b"\r\n") == 4  # header and three rows
    assert exports.history_csv(a_series_body()).content.startswith(BOM + b"Periode,")


def test_the_ranking_csv_rows_are_plain_values_cell_by_cell() -> None:
    rows = csv_rows(exports.ranking_csv(a_ranking_body()))
    assert rows[1:] == [
        ["1", "7", "32.73", "Kota Bandung", "kota", "Jawa Barat", "2025-12-31", "3.42", "4", "Terpadu dan Terukur",
         "0.85", "3.5", "3.1", "2.9", "3.8", "3.6", "3.25", "3.6", "0.18", "true", "false"],
        ["2", "40", "32.04", "Kabupaten Bandung", "kabupaten", "Jawa Barat", "2025-12-30", "2.05", "3",
         "Terdefinisi", "0.6", "2.4", "2.0", "", "2.2", "1.9", "1.75", "", "", "", "true"],
        ["", "", "32.17", "Kabupaten Bandung Barat", "kabupaten", "Jawa Barat", "2025-11-02", "", "", "", "0.2",
         "1.2", "", "", "0.9", "", "", "1.5", "", "", "false"],
    ]  # fmt: skip


def test_the_csv_numbers_keep_a_dot_in_english_and_in_indonesian() -> None:
    langs: tuple[Lang, ...] = ("id", "en")
    for lang in langs:
        assert csv_rows(exports.ranking_csv(a_ranking_body(), lang))[1][7] == "3.42"


def test_a_tiny_number_is_a_plain_decimal_never_an_exponent() -> None:
    body = a_ranking_body()
    body["regions"][0]["gap"] = 0.00001  # repr: 1e-05
    body["regions"][0]["as_of"]["coverage"] = 1  # a JSON integer stays one
    row = csv_rows(exports.ranking_csv(body))[1]
    assert (row[18], row[10]) == ("0.00001", "1")


def test_the_history_csv_has_a_row_per_period_the_empty_one_blank() -> None:
    rows = csv_rows(exports.history_csv(a_series_body()))
    assert rows[1:] == [
        ["2024-01", "2024-01-01", "2024-01-31", "31", "0", "2024-01-31", "2.8", "3", "2.75", "2.6", "2.9", "2.7",
         "-0.1"],
        ["2024-02", "2024-02-01", "2024-02-29", "0", "0", "", "", "", "", "", "", "2.75", ""],
        ["2024-03", "2024-03-01", "2024-03-31", "12", "12", "2024-03-30", "3.05", "4", "3.0", "2.95", "3.1", "2.8",
         "-0.25"],
    ]  # fmt: skip


# ------------------------------------------------------------------------------------------------ XLSX


def test_the_ranking_workbook_has_typed_cells() -> None:
    ws = sheets(exports.ranking_xlsx(a_ranking_body()))["Peringkat"]
    assert ws.max_row == 4
    s, i, f, b, d, n = str, int, float, bool, datetime, type(None)
    assert typed(ws, 2) == [
        (i, 1), (i, 7), (s, "32.73"), (s, "Kota Bandung"), (s, "kota"), (s, "Jawa Barat"), (d, datetime(2025, 12, 31)),
        (f, 3.42), (i, 4), (s, "Terpadu dan Terukur"), (f, 0.85), (f, 3.5), (f, 3.1), (f, 2.9), (f, 3.8), (f, 3.6),
        (f, 3.25), (f, 3.6), (f, 0.18), (b, True), (b, False),
    ]  # fmt: skip
    assert typed(ws, 3) == [
        (i, 2), (i, 40), (s, "32.04"), (s, "Kabupaten Bandung"), (s, "kabupaten"), (s, "Jawa Barat"),
        (d, datetime(2025, 12, 30)), (f, 2.05), (i, 3), (s, "Terdefinisi"), (f, 0.6), (f, 2.4), (i, 2), (n, None),
        (f, 2.2), (f, 1.9), (f, 1.75), (n, None), (n, None), (n, None), (b, True),
    ]  # fmt: skip
    # XLSX has one number type: the economy's 2.0 is the number 2, which openpyxl reads back as an int.
    assert typed(ws, 4) == [
        (n, None), (n, None), (s, "32.17"), (s, "Kabupaten Bandung Barat"), (s, "kabupaten"), (s, "Jawa Barat"),
        (d, datetime(2025, 11, 2)), (n, None), (n, None), (n, None), (f, 0.2), (f, 1.2), (n, None), (n, None),
        (f, 0.9), (n, None), (n, None), (f, 1.5), (n, None), (n, None), (b, False),
    ]  # fmt: skip


def test_the_ranking_workbook_formats_dates_and_numbers_freezes_the_header_and_fits_the_columns() -> None:
    ws = sheets(exports.ranking_xlsx(a_ranking_body()))["Peringkat"]
    assert ws["G2"].is_date and ws["G2"].number_format == "yyyy-mm-dd"
    assert (ws["H2"].number_format, ws["K2"].number_format, ws["A2"].number_format) == ("0.00", "0%", "0")
    assert ws.freeze_panes == "A2"
    assert all(c.font.bold for c in ws[1])
    widths = {col: ws.column_dimensions[col].width for col in ("B", "D", "H", "R")}
    assert len("Peringkat nasional") <= widths["B"] <= len("Peringkat nasional") + 4
    assert len("Kabupaten Bandung Barat") <= widths["D"] <= len("Kabupaten Bandung Barat") + 4
    assert len("Indeks (0-5)") <= widths["H"] <= len("Indeks (0-5)") + 4
    assert len("Indeks jalur masterplan") <= widths["R"] <= len("Indeks jalur masterplan") + 4


def test_the_history_workbook_has_typed_cells_and_an_empty_period() -> None:
    ws = sheets(exports.history_xlsx(a_series_body(), "en"))["History"]
    s, i, f, d, n = str, int, float, datetime, type(None)
    assert typed(ws, 2) == [
        (s, "2024-01"), (d, datetime(2024, 1, 1)), (d, datetime(2024, 1, 31)), (i, 31), (i, 0),
        (d, datetime(2024, 1, 31)), (f, 2.8), (i, 3), (f, 2.75), (f, 2.6), (f, 2.9), (f, 2.7), (f, -0.1),
    ]  # fmt: skip
    assert typed(ws, 3) == [
        (s, "2024-02"), (d, datetime(2024, 2, 1)), (d, datetime(2024, 2, 29)), (i, 0), (i, 0), (n, None), (n, None),
        (n, None), (n, None), (n, None), (n, None), (f, 2.75), (n, None),
    ]  # fmt: skip
    assert typed(ws, 4)[4:7] == [(i, 12), (d, datetime(2024, 3, 30)), (f, 3.05)]
    assert ws["B2"].is_date and ws["F4"].number_format == "yyyy-mm-dd"
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["E"].width >= len("Simulated days")


def test_a_name_that_looks_like_a_formula_stays_text() -> None:
    body = a_ranking_body()
    body["regions"][0]["region"]["name"] = "=HYPERLINK(1)"
    cell = sheets(exports.ranking_xlsx(body))["Peringkat"]["D2"]
    assert (cell.data_type, cell.value) == ("s", "=HYPERLINK(1)")


# ------------------------------------------------------------------------------------------------ About


def test_the_ranking_about_sheet_says_what_the_figures_are_in_indonesian() -> None:
    ws = sheets(exports.ranking_xlsx(a_ranking_body()))["Tentang"]
    facts = {r[0].value: r[1].value for r in ws.iter_rows(max_col=2) if r[0].value}
    assert facts["Per tanggal"] == datetime(2025, 12, 31) and ws["B2"].is_date
    assert facts["Kerangka"] == "pp59_2022@2026.1"
    assert (facts["Filter provinsi"], facts["Filter jenis"], facts["Filter tingkat"]) == ("32", "semua", "semua")
    assert (facts["Wilayah dengan skor"], facts["Wilayah tercantum"], facts["Baris simulasi"]) == (27, 3, 1)
    assert facts["Sumber"] == "Pantau Kota Cerdas, API riwayat (/v1/ranking?on=2025-12-31)"
    text = about_text(ws)
    for words in ("skala 0-5 (PP 59/2022)", "snapshot penutupan", "hari lokalnya (WIB, WITA atau WIT)",
                  "Jalur masterplan", "di belakang jalur", "pengisian demo (pantau history seed-demo)",
                  "Sel kosong"):  # fmt: skip
        assert words in text, words


def test_the_history_about_sheet_gives_the_period_range_in_english() -> None:
    ws = sheets(exports.history_xlsx(a_series_body(), "en"))["About"]
    facts = {r[0].value: r[1].value for r in ws.iter_rows(max_col=2) if r[0].value}
    assert (facts["From"], facts["To"]) == (datetime(2024, 1, 1), datetime(2024, 3, 31))
    assert facts["Region"] == "Kota Bandung (32.73), Jawa Barat"
    assert (facts["Resolution"], facts["Periods"], facts["Periods without data"], facts["Simulated days"]) == (
        "monthly", 3, 1, 12)  # fmt: skip
    assert facts["Source"] == (
        "Pantau Kota Cerdas, history API (/v1/regions/32.73/history?from=2024-01-01&to=2024-03-31&resolution=month)"
    )
    text = about_text(ws)
    for words in ("0-5 scale (PP 59/2022)", "last closing snapshot", "local day (WIB, WITA or WIT)",
                  "Masterplan path", "behind the path", "demo's seeding (pantau history seed-demo)",
                  "Empty cell"):  # fmt: skip
        assert words in text, words


def test_the_ranking_about_sheet_in_english_and_the_history_one_in_indonesian() -> None:
    ranking = sheets(exports.ranking_xlsx(a_ranking_body(), "en"))
    assert list(ranking) == ["Ranking", "About"]
    assert "Pantau Kota Cerdas, history API (/v1/ranking?on=2025-12-31)" in about_text(ranking["About"])
    history = sheets(exports.history_xlsx(a_series_body()))
    assert list(history) == ["Riwayat", "Tentang"]
    text = about_text(history["Tentang"])
    assert "bulanan" in text and "snapshot penutupan terakhirnya" in text and "API riwayat" in text


# ------------------------------------------------------------------------------------------------ names


def test_the_file_names_and_media_types() -> None:
    ranking, series = a_ranking_body(), a_series_body()
    got = {
        (e.filename, e.media_type)
        for e in (
            exports.ranking_csv(ranking), exports.ranking_xlsx(ranking, "en"), exports.history_csv(series),
            exports.history_xlsx(series, "en"),
        )
    }  # fmt: skip
    assert got == {
        ("pantau-peringkat-2025-12-31.csv", "text/csv; charset=utf-8"),
        ("pantau-ranking-2025-12-31.xlsx", XLSX),
        ("pantau-riwayat-32.73-bulanan-2024-01-01-2024-03-31.csv", "text/csv; charset=utf-8"),
        ("pantau-history-32.73-monthly-2024-01-01-2024-03-31.xlsx", XLSX),
    }


def test_the_history_file_name_of_the_issue() -> None:
    series = a_series_body()
    series["from"], series["to"] = "2024-01-01", "2029-12-31"
    assert exports.history_csv(series).filename == "pantau-riwayat-32.73-bulanan-2024-01-01-2029-12-31.csv"
    series["resolution"] = "week"
    assert exports.history_xlsx(series, "en").filename == "pantau-history-32.73-weekly-2024-01-01-2029-12-31.xlsx"


# ------------------------------------------------------------------------------------------------ dispatch, bad input


def test_export_picks_the_format() -> None:
    ranking, series = a_ranking_body(), a_series_body()
    assert exports.export_ranking(ranking, "xlsx").content[:2] == b"PK"  # a zip: the workbook
    assert exports.export_ranking(ranking, "csv") == exports.ranking_csv(ranking)
    assert exports.export_history(series, "csv", "en") == exports.history_csv(series, "en")
    assert exports.export_history(series, "xlsx").filename.endswith(".xlsx")
    with pytest.raises(ValueError, match="format 'pdf'"):
        exports.export_ranking(ranking, "pdf")  # type: ignore[arg-type]


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="language 'fr'"):
        exports.ranking_csv(a_ranking_body(), "fr")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="language 'fr'"):
        exports.history_xlsx(a_series_body(), "fr")  # type: ignore[arg-type]


def test_the_body_is_not_changed() -> None:
    body = a_ranking_body()
    before = copy.deepcopy(body)
    exports.ranking_xlsx(body)
    exports.ranking_csv(body)
    assert body == before
