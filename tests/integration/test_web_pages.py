"""The web pages as a person uses them: ``pantau web run`` in front of ``pantau history api`` on the real
PostgreSQL, rows written by the history writer's own store, a real browser (Playwright driving Debian's
Chromium) and axe-core (npm, pinned in package-lock.json) checking accessibility.

What is checked: the national page draws the 514 shapes and ranks the regions written here in the order
worked out below; a search for "Bandung" finds the three Bandungs, with JavaScript (as you type) and
without (the form); Kota Bandung's card shows its six dimensions and the chart of its history against its
plan's path; the CSV export parses back to the figures on the page; the English switch sticks; errors
are pages in the reader's language; the scores can be restricted; no request leaves the machine and no
CSP violation happens. Screenshots go to test-output/web/.

The figures: Kota Bandung's index is 2.0 in January 2025 rising by 0.04 a month (its closing snapshot on
the 15th) to 2.0 + 0.04 * 22 = 2.88 in November 2026; its plan's path runs from 2.5 on 2025-12-31 to 3.0
on 2026-12-31, so on 2026-12-02 (say) it is behind. Kabupaten Bandung (32.04) stands at 2.6, Kabupaten
Bandung Barat (32.17) at 1.9, Kabupaten Aceh Selatan (11.01) at 3.1: the ranking is 11.01, 32.73, 32.04,
32.17, and the 510 others have no data.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, sync_playwright

from pantau.config import REPO_ROOT
from services.history.adapters.postgres import PostgresStore
from services.history.domain import Batch, Downsampling, Row, Source, plan_row, snapshot_rows, transition_row
from services.history.service.ports import Advance
from tests.history_support import a_masterplan, a_region_score, an_alert_event
from tests.integration.helpers import ServiceProcess, free_port, history_schema, wait_for

pytestmark = pytest.mark.integration

FRAMEWORK = "pp59_2022@2026.1"
SCREENSHOTS = REPO_ROOT / "test-output" / "web"
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
LEVEL_NAMES = {1: "Rintisan", 2: "Terkelola", 3: "Terdefinisi", 4: "Terpadu dan Terukur", 5: "Optimum"}
DIMENSIONS = ["governance", "economy", "branding", "living", "society", "environment"]
TODAY = datetime.now(UTC).date()
ALERT_ID = "32.73:economy:behind_trajectory:20261120T0800"


def months() -> list[date]:
    """The 15th of every month from January 2025 up to the last one before today."""
    out, d = [], date(2025, 1, 15)
    while d < TODAY:
        out.append(d)
        d = date(d.year + d.month // 12, d.month % 12 + 1, 15)
    return out


def bandung_index(n: int) -> float:
    return round(2.0 + 0.04 * n, 6)


def a_score(code: str, day: date, index: float) -> Any:
    level = 1 + min(4, int(index))  # the PP 59/2022 bands: 0-1 level 1 ... 4-5 level 5
    dims = [{"dimension_id": d, "score": round(index + (i - 2.5) / 10, 6), "coverage": 1.0, "status": "ok",
             "elements": []} for i, d in enumerate(DIMENSIONS)]  # fmt: skip
    return a_region_score(region_code=code, province_code=code[:2], framework=FRAMEWORK, index=index, level=level,
                          level_name=LEVEL_NAMES[level], coverage=1.0, dimensions=dims,
                          evaluated_at=datetime(day.year, day.month, day.day, 5, tzinfo=UTC))  # fmt: skip


def written(engine: sa.Engine) -> None:
    rows: list[Row] = []
    now = datetime.now(UTC)
    n = 0
    scores = [a_score("32.73", d, bandung_index(i)) for i, d in enumerate(months())]
    last = months()[-1]
    scores += [a_score("32.04", last, 2.6), a_score("32.17", last, 1.9), a_score("11.01", last, 3.1)]
    for score in scores:
        rows += snapshot_rows(score, Source("region-scores", 0, n), Downsampling(), now)
        n += 1
    plan = a_masterplan(framework_id="pp59_2022", plan_id="bandung-2029", programme={
        "cohort_year": 2017, "masterplan_adopted": True, "adopted_on": "2018-03-01"}, milestones=[
        {"due": "2025-12-31", "targets": {"index": 2.5}, "label": "Tahap 1"},
        {"due": "2026-12-31", "targets": {"index": 3.0}, "label": "Tahap 2"},
        {"due": "2029-12-31", "targets": {"index": 4.0}, "label": "Tahap akhir"}])  # fmt: skip
    rows.append(plan_row(plan, Source("masterplan-milestones", 0, 0, int(datetime(2024, 6, 1, tzinfo=UTC).timestamp()
                                                                        * 1000)), now))  # fmt: skip
    driver = {"indicator_id": "ECO_GRDP_GROWTH", "score": 0.5, "weight": 1.0, "pull": 0.42}
    alert = an_alert_event(alert_id=ALERT_ID, transition_id="f" * 24, target="economy", kind="behind_trajectory",
                           severity="critical", at=datetime(2026, 11, 20, 8, tzinfo=UTC), current=2.0, expected=2.9,
                           gap=0.9, drivers=[driver], remedy="Raise economy by 0.90 points.")  # fmt: skip
    rows.append(transition_row(alert, Source("maturity-alerts", 0, 0)))
    PostgresStore(engine, consumer="pantau-history").write(Batch.of(rows), [Advance(("region-scores", 0), None, n)])


@dataclass
class Site:
    url: str
    web: ServiceProcess
    api: ServiceProcess


def _up(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def start_web(tmp: Path, history_url: str, **env: str) -> tuple[str, ServiceProcess]:
    port = free_port()
    closed = f"http://127.0.0.1:{free_port()}"  # scoring and alerts are not running here: a port nobody holds
    full = {"WEB_PORT": str(port), "WEB_HISTORY_URL": history_url, "WEB_SCORING_URL": closed,
            "WEB_ALERTS_URL": closed, "PANTAU_HOME": str(tmp), **env}  # fmt: skip
    proc = ServiceProcess(["web", "run"], full, tmp / f"web-{port}.log").start()
    url = f"http://127.0.0.1:{port}"
    wait_for("the web pages to answer /healthz", lambda: _up(url), 60)
    return url, proc


@pytest.fixture(scope="module")
def site(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("web")
    with history_schema(postgres_url, "web") as (database, engine):
        written(engine)
        port = free_port()
        api = ServiceProcess(["history", "api"], {"PANTAU_DATABASE_URL": database, "HISTORY_API_PORT": str(port),
                                                  "PANTAU_HOME": str(tmp)}, tmp / "api.log").start()  # fmt: skip
        wait_for("the history API", lambda: _up(f"http://127.0.0.1:{port}"), 60)
        url, web = start_web(tmp, f"http://127.0.0.1:{port}")
        try:
            yield Site(url, web, api)
        finally:
            assert web.stop() == 0, web.tail()
            assert api.stop() == 0, api.tail()
        log = web.log.read_text(errors="replace")
        assert '"level": "error"' not in log, log[-3000:]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Watched:
    page: Page
    outside: list[str]
    csp: list[str]


@pytest.fixture
def page(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    p = context.new_page()
    watched = Watched(p, [], [])
    p.on(
        "request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:")) else watched.outside.append(r.url)
    )
    p.on("console", lambda m: watched.csp.append(m.text) if "Content Security Policy" in m.text else None)
    yield watched
    context.close()
    assert watched.outside == [], "a page fetched something from outside this machine"
    assert watched.csp == [], "the pages broke their own Content-Security-Policy"


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=name != "beranda")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A and AA violations on the page as it is now."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa',
        'wcag21a', 'wcag21aa']}}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact,
        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary)})))""")
    return list(result)


def figure(text: str) -> float:
    """A number as the Indonesian pages write it: ``2,88`` -> 2.88."""
    return float(text.strip().replace(".", "").replace(",", "."))


# ------------------------------------------------------------------------------------------- tests


def test_the_national_page_draws_the_map_and_ranks_the_regions(site: Site, page: Watched) -> None:
    p = page.page
    response = p.goto(site.url + "/")
    assert response is not None and response.status == 200
    assert p.get_attribute("html", "lang") == "id"
    assert p.locator("h1").inner_text() == "Kematangan kota cerdas Indonesia"
    assert p.locator("svg.choropleth path").count() == 514
    assert p.locator("svg.choropleth a").count() == 514  # every shape leads to its card
    bandung_shape = p.locator('svg.choropleth path[data-code="32.73"]')
    n = len(months()) - 1
    assert bandung_shape.locator("title").text_content() == (
        f"Kota Bandung: indeks {bandung_index(n):.2f} dari 5, per {months()[-1].day} {month_id(months()[-1])} "
        f"{months()[-1].year}".replace(".", ",")
    )
    rows = p.locator("table.ranking tbody tr")
    assert rows.count() == 514
    top = [rows.nth(i).get_attribute("data-code") for i in range(5)]
    assert top[:4] == ["11.01", "32.73", "32.04", "32.17"]
    assert figure(rows.nth(1).locator("td").nth(3).inner_text()) == pytest.approx(bandung_index(n))
    # The programme: 251 of 263 assisted (Kominfo, 2017-2024).
    assert "251" in p.locator("section.programme").inner_text() and "263" in p.locator("section.programme").inner_text()
    shot(p, "beranda")
    # The map's switch: coloured by level, each region's tooltip says its level.
    switch = p.locator("form.measure-switch")
    switch.get_by_label("Tingkat", exact=True).check()
    switch.get_by_role("button", name="Tampilkan").click()
    p.wait_for_url(re.compile(r"measure=level"))
    assert p.locator('svg.choropleth path[data-code="11.01"] title').text_content() == (
        f"Kabupaten Aceh Selatan: Tingkat 4 (Terpadu dan Terukur), per {months()[-1].day} {month_id(months()[-1])} "
        f"{months()[-1].year}"
    )
    # A click on a region opens its card.
    p.locator('svg.choropleth a:has(path[data-code="32.73"])').click()
    p.wait_for_url(re.compile(r"/wilayah/32\.73$"))


def month_id(d: date) -> str:
    return ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
            "November", "Desember"][d.month - 1]  # fmt: skip


def test_a_search_for_bandung_finds_the_three_bandungs(site: Site, page: Watched) -> None:
    p = page.page
    p.goto(site.url + "/")
    p.get_by_label("Cari nama atau kode").fill("Bandung")
    visible = p.locator("table.ranking tbody tr:not([hidden])")
    wait_for("the table to filter as one types", lambda: visible.count() == 3, 10, every=0.2)
    assert sorted(visible.nth(i).get_attribute("data-code") or "" for i in range(3)) == ["32.04", "32.17", "32.73"]
    assert p.locator("[data-filter-count]").inner_text() == "Menampilkan 3 dari 514 kabupaten/kota."
    # Without JavaScript: the same form, submitted, filters on the server.
    html = requests.get(site.url + "/", params={"q": "kota bandung"}, timeout=10).text
    shown = [code for code, tag in re.findall(r'<tr data-code="([\d.]+)"([^>]*)>', html) if " hidden" not in tag]
    assert shown == ["32.73"]  # every row is sent; the others are hidden
    p.get_by_role("link", name="Kota Bandung", exact=True).click()
    p.wait_for_url(re.compile(r"/wilayah/32\.73$"))
    # By name: the card's own address.
    r = requests.get(site.url + "/wilayah/kota-bandung", timeout=10, allow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (308, "/wilayah/32.73")
    r = requests.get(site.url + "/wilayah/bandung", timeout=10, allow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/?q=bandung")


def test_the_card_shows_the_dimensions_the_chart_the_plan_and_the_alert(site: Site, page: Watched) -> None:
    p = page.page
    response = p.goto(site.url + "/wilayah/32.73")
    assert response is not None and response.status == 200
    assert "Kota Bandung" in p.locator("h1").inner_text()
    n = len(months()) - 1
    assert figure(p.locator('[data-figure="index"]').inner_text()) == pytest.approx(bandung_index(n))
    dims = p.locator("table.dimensions tbody tr")
    assert dims.count() == 6
    assert [dims.nth(i).locator("th").inner_text() for i in range(6)] == [
        "Tata Kelola Cerdas", "Ekonomi Cerdas", "Branding Cerdas", "Kehidupan Cerdas", "Masyarakat Cerdas",
        "Lingkungan Cerdas"]  # fmt: skip
    # governance is index - 0.25 (the dimension scores written above: index + (i - 2.5) / 10)
    assert figure(dims.nth(0).locator("td").nth(0).inner_text()) == pytest.approx(bandung_index(n) - 0.25)
    chart = p.locator("svg.history-chart")
    assert chart.count() == 1
    points = (chart.locator("polyline.series-history").get_attribute("points") or "").split()
    assert len(points) == len(months())  # one closing index per month written
    assert chart.locator("polyline.series-path").count() == 1
    assert chart.locator(".milestone").count() >= 2  # 2025-12-31 and 2026-12-31 in the chart's range; 2029 too
    # The open alert, its figures named, its driver and remedy in Indonesian.
    alerts = p.locator("ul.alerts li.alert")
    assert alerts.count() == 1
    text = alerts.inner_text()
    assert "Tertinggal dari jalur: ekonomi" in text
    assert "Selisih terhadap jalur (poin)" in text and "+0,90" in text
    assert "Naikkan skor ekonomi sebesar 0,90 poin" in text
    # The programme: cohort 2017, the masterplan adopted on 1 March 2018, the region's own plan.
    programme = p.locator("section[aria-labelledby=program]").inner_text()
    assert "2017" in programme and "ditetapkan 1 Maret 2018" in programme and "bandung-2029" in programme
    # The scoring service is not running here: the indicators say so, the rest of the card stands.
    assert "layanan penilaian tidak menjawab" in p.locator("section[aria-labelledby=indikator]").inner_text()
    shot(p, "kartu-kota-bandung")
    assert axe_violations(p) == []
    # Its alert's page, read-only without the link's token.
    p.locator("ul.alerts li.alert h3 a").first.click()
    p.wait_for_url(re.compile(r"/peringatan/"))
    assert "Kota Bandung" in p.locator("h1").inner_text()
    assert p.get_by_role("button", name="Akui peringatan ini").count() == 0
    shot(p, "peringatan")
    assert axe_violations(p) == []


def test_the_ranking_csv_parses_back_to_the_numbers_on_the_page(site: Site, page: Watched) -> None:
    p = page.page
    p.goto(site.url + "/")
    shown = {}
    rows = p.locator("table.ranking tbody tr")
    for i in range(4):
        row = rows.nth(i)
        shown[row.get_attribute("data-code")] = figure(row.locator("td").nth(3).inner_text())
    with p.expect_download() as info:
        p.get_by_role("link", name="CSV", exact=True).first.click()
    path = info.value.path()
    assert info.value.suggested_filename.endswith(".csv")
    table = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))
    header, body = table[0], table[1:]
    code, index = (
        header.index(next(h for h in header if "Kode" in h)),
        header.index(next(h for h in header if h.startswith("Indeks"))),
    )
    exported = {r[code]: float(r[index].replace(",", ".")) for r in body if r[index]}
    assert exported == pytest.approx(shown)
    # The history of a region as XLSX opens in openpyxl with the months written.
    r = requests.get(site.url + "/wilayah/32.73/riwayat.xlsx", params={"from": "2025-01-01"}, timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(r.content)).worksheets[0]
    assert sheet.max_row - 1 >= len(months())


def test_the_english_switch_sticks(site: Site, page: Watched) -> None:
    p = page.page
    p.goto(site.url + "/")
    p.get_by_role("link", name="English").click()
    p.wait_for_url(re.compile(r"lang=en"))
    assert p.get_attribute("html", "lang") == "en"
    assert p.locator("h1").inner_text() == "Smart-city maturity in Indonesia"
    shot(p, "home-en")
    assert axe_violations(p) == []
    p.goto(site.url + "/wilayah/32.73")  # no lang in the address: the cookie keeps English
    assert p.get_attribute("html", "lang") == "en"
    assert "The six dimensions" in p.locator("main").inner_text()
    n = len(months()) - 1
    assert p.locator('[data-figure="index"]').inner_text() == f"{bandung_index(n):.2f}"
    p.get_by_role("link", name="Bahasa Indonesia").click()
    assert p.get_attribute("html", "lang") == "id"


def test_every_page_sends_the_security_headers_and_no_inline_code(site: Site) -> None:
    for path in ("/", "/provinsi/32", "/wilayah/32.73", f"/peringatan/{ALERT_ID}", "/tidak-ada"):
        r = requests.get(site.url + path, timeout=30)
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
        assert not re.search(r"<script(?![^>]*\bsrc=)", r.text), path  # every script is a file of the site
        assert not re.search(r"\sstyle=|\son[a-z]+=", r.text), path
    r = requests.get(site.url + "/", headers={"Accept-Encoding": "gzip"}, timeout=30, stream=True)
    assert r.headers["content-encoding"] == "gzip"
    assert len(r.raw.read(decode_content=False)) < 1_500_000  # the first page, map included, compressed


def test_errors_are_pages_in_the_readers_language(site: Site, page: Watched) -> None:
    cases = [("/wilayah/99.99", 404, "Kabupaten/kota tidak ditemukan"), ("/tidak-ada", 404, "Halaman tidak ditemukan"),
             ("/provinsi/99", 404, "Provinsi tidak ditemukan"), ("/?level=9", 400, "Terjadi kesalahan"),
             ("/?on=kemarin", 400, "Terjadi kesalahan")]  # fmt: skip
    for path, status, title in cases:
        response = page.page.goto(site.url + path)
        assert response is not None and response.status == status, path
        assert page.page.locator("h1").inner_text() == title, path
        assert "Traceback" not in page.page.content()
    r = requests.get(site.url + "/?on=kemarin&lang=en", timeout=10)
    assert r.status_code == 400 and "The date &#39;kemarin&#39; in &#39;on&#39; is not valid" in r.text


def test_the_province_page_lists_its_regions_and_alerts(site: Site, page: Watched) -> None:
    p = page.page
    p.goto(site.url + "/provinsi/32")
    assert p.locator("h1").inner_text() == "Provinsi Jawa Barat"
    assert p.locator("svg.choropleth path").count() == 27  # Jawa Barat's 18 kabupaten and 9 kota
    codes = [p.locator("table.ranking tbody tr").nth(i).get_attribute("data-code") for i in range(3)]
    assert codes == ["32.73", "32.04", "32.17"]
    assert p.locator("ul.alerts li.alert").count() == 1
    shot(p, "provinsi-jawa-barat")
    assert axe_violations(p) == []


def test_the_scores_can_be_restricted_and_a_service_down_is_a_friendly_503(site: Site, tmp_path: Path) -> None:
    api_url = site.web.env["WEB_HISTORY_URL"]
    url, proc = start_web(tmp_path, api_url, WEB_VIEWERS="kantor:rahasia-daerah")
    try:
        r = requests.get(url + "/", timeout=10)
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
        assert "Perlu masuk" in r.text
        assert requests.get(url + "/", auth=("kantor", "salah"), timeout=10).status_code == 401
        assert requests.get(url + "/", auth=("kantor", "rahasia-daerah"), timeout=30).status_code == 200
        # The alert pages stay open: their links carry their own signed token.
        assert requests.get(url + f"/peringatan/{ALERT_ID}", timeout=10).status_code == 200
    finally:
        assert proc.stop() == 0
    down, proc = start_web(tmp_path, f"http://127.0.0.1:{free_port()}")
    try:
        r = requests.get(down + "/", timeout=30)
        assert r.status_code == 503 and "Layanan sedang tidak tersedia" in r.text and "history" in r.text
        assert r.headers["retry-after"] == "10"
        assert "Traceback" not in r.text
    finally:
        assert proc.stop() == 0
    assert json.loads(requests.get(site.url + "/healthz", timeout=5).text)["status"] == "ok"


def test_a_broken_answer_behind_the_page_is_a_friendly_500(tmp_path: Path) -> None:
    """A service that answers nonsense (200 with a JSON list where a ranking belongs): the page fails on the
    server, the reader gets the 500 page in their language, the log has the error with its cause."""
    import http.server
    import threading

    class Nonsense(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"[]"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Nonsense)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url, proc = start_web(tmp_path, f"http://127.0.0.1:{server.server_address[1]}")
        try:
            for lang, title in (("id", "Kesalahan pada server"), ("en", "Server error")):
                r = requests.get(url + "/", params={"lang": lang}, timeout=30)
                assert r.status_code == 500 and f"<h1>{title}</h1>" in r.text, r.text[:500]
                assert "Traceback" not in r.text and "TypeError" not in r.text and "KeyError" not in r.text
        finally:
            assert proc.stop() == 0
        log = proc.log.read_text(errors="replace")
        assert log.count('"event": "web.page_failed"') == 2  # each fault logged once, with its cause
        assert "Exception in ASGI application" not in log
    finally:
        server.shutdown()


def test_the_button_with_the_alerts_service_down_is_a_503_page_that_says_so(site: Site, page: Watched) -> None:
    """The acknowledge button's form reaches the page; the alerts service behind it (not running here) is
    named in a 503 page, and nothing claims the alert was acknowledged."""
    p = page.page
    response = p.goto(f"{site.url}/peringatan/{ALERT_ID}?token=any.token")
    assert response is not None and response.status == 200
    p.get_by_role("button", name="Akui peringatan ini").click()
    p.wait_for_load_state()
    assert p.locator("h1").inner_text() == "Layanan sedang tidak tersedia"
    assert "alerts" in p.locator("main").inner_text() and "diakui" not in p.locator("main").inner_text()
    r = requests.post(f"{site.url}/ack/{ALERT_ID}", headers={"Accept": "application/json"}, timeout=10)
    assert r.status_code == 403 and "token" in r.json()["error"]  # a ticketing system without the link's token
