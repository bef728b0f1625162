"""Web pages benchmark (issue 14): the server time of `pantau web run`'s pages under concurrent clients, and
the bytes of the national page, over years of simulated daily history for all 514 regions.

Phases, in one run against the local PostgreSQL (loopback), in a database of the run's own (created for
the run, dropped at its end, also when it fails):
1. fill: --years of closing snapshots per region and one plan version per region (the national
   masterplan, so that every card has its path), as bench/history_query.py fills them;
2. `pantau history api` (its rate limit out of the way) and `pantau web run` on free ports, with the
   settings `make run` gives it (WEB_CACHE_S 30 s, WEB_PAST_CACHE_S 600 s, log level INFO).
   WEB_SCORING_URL and WEB_ALERTS_URL point at a free port nobody listens on: the card shows its
   "scoring unavailable" notice, so the card's indicator section is not measured. The first GET / after
   the start is timed on its own: a cold build (the upstream answers fetched, the page rendered, gzipped);
3. bytes: the national page on the wire (gzip) and uncompressed, the assets it loads (/static/pantau.css,
   /static/pantau.js, /static/favicon.svg) as sent with gzip: the first page's total (goal: < 1.5 MB,
   decimal). Sanity checks: the map's `<path` elements (514), the card's scoring notice;
4. for each --clients count, each workload for --seconds after --warmup seconds, each request with
   Accept-Encoding: gzip on keep-alive connections: `healthz` (baseline, no I/O), `national` (GET /,
   served from the 30 s rendered-page cache but for one build per 30 s), `national-uncached` (GET /?q=zz<a
   fresh random value>: the page's cache key holds its parsed parameters, so every request builds the page;
   a search that matches nothing still sends all 514 rows (hidden), so the page is as large; the upstream
   answers stay cached), `card` (GET /wilayah/{one of the 514 codes at random}: kept rendered for 30 s as
   the national page is, so a run mixes builds and hits, as the readers of make run get them; the
   profile below gives a card's build alone). Requests/s, client-side latency p50/p99/max
   (time.perf_counter, request sent to body read, body not decompressed), bytes per answer; the server's
   own time per route
   (pantau_web_request_duration_seconds: mean, share within 200 ms); the history API's requests and
   time per page; CPU of the web process, of the API, of its PostgreSQL backends and of this load
   generator; the web process's resident memory;
5. profile (--profile-builds, --profile-cards; 0 to skip): national-uncached's build and the card run here
   in-process (the app over httpx's ASGI transport, reading the same API; its log at INFO to web-*-profile.log)
   under cProfile: where a page's time goes (view model, map or chart SVG, template, gzip, upstream
   requests, log lines). Details go to .pantau/bench/web-*-profile.txt.

Every answer must be 200 (the run fails otherwise). Goals: p99 of national and card under 200 ms, client
and server time; first page under 1.5 MB compressed. The clients, the web process, the API and PostgreSQL
share the machine's cores: the ratios to the /healthz baseline of the same run are the figures to compare
between machines.

Usage: .venv/bin/python bench/web.py [--years 3] [--seconds 20] [--warmup 3] [--clients 1 8]
       [--workloads national national-uncached card] [--profile-builds 30]
       [--profile-cards 200] [--no-record]
Results are appended to bench/RESULTS.md unless --no-record.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gzip
import os
import pstats
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

import aiohttp
import orjson
import sqlalchemy as sa
from markupsafe import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import fresh_database, log, report, sample  # noqa: E402
from bench.history_query import (  # noqa: E402
    WORK,
    backends,
    cpu_seconds,
    fill,
    machine,
    ms,
    server_version,
    size,
    start_api,
    stop,
)
from schemas.framework import load_framework  # noqa: E402
from schemas.regions import default_registry  # noqa: E402
from services.history.config import HistorySettings  # noqa: E402
from services.history.db import create_engine  # noqa: E402
from services.web.messages import messages  # noqa: E402
from tests.integration.helpers import free_port, http_get  # noqa: E402

GOAL = 0.200  # p99 under 200 ms (issue 14)
FIRST_PAGE_GOAL = 1_500_000  # bytes, compressed
HISTOGRAM = "pantau_web_request_duration_seconds"
API_HISTOGRAM = "pantau_history_api_request_duration_seconds"
ASSETS = ("/static/pantau.css", "/static/pantau.js", "/static/favicon.svg")
GZIP = {"Accept-Encoding": "gzip"}

# ------------------------------------------------------------------------------------------- load


@dataclass(frozen=True)
class Workload:
    name: str
    route: str  # the route template the server's histogram labels it with
    label: str
    path: Callable[[random.Random], str]


def workloads(codes: Sequence[str]) -> dict[str, Workload]:
    return {w.name: w for w in [
        Workload("healthz", "/healthz", "/healthz, no I/O (baseline)", lambda _rng: "/healthz"),
        Workload("national", "/", "national page GET / (30 s page cache)", lambda _rng: "/"),
        Workload("national-uncached", "/",
                 "national page GET /?q=<random, matches nothing; every row still sent, hidden>, built every request",
                 lambda rng: f"/?q=zz{rng.getrandbits(64):016x}"),
        Workload("card", "/wilayah/{code}", "region card GET /wilayah/{random code}",
                 lambda rng: f"/wilayah/{rng.choice(codes)}"),
    ]}  # fmt: skip


@dataclass
class Run:
    workload: Workload
    clients: int
    wall: float
    latencies: list[float]
    sizes: list[int]
    server_count: float = 0.0
    server_sum: float = 0.0
    server_within_goal: float = 0.0
    api_count: float = 0.0  # the history API's requests meanwhile (its /metrics scrapes left out)
    api_sum: float = 0.0
    cpu_web: float = 0.0  # cores busy, on average over the run
    cpu_api: float = 0.0
    cpu_db: float = 0.0
    cpu_clients: float = 0.0
    rss: float = 0.0  # the web process's resident memory at the end of the run, bytes
    load: float = 0.0  # the machine's 1-minute load average at the end of the run
    sorted_latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall

    def pct(self, q: float) -> float:
        if not self.sorted_latencies:
            self.sorted_latencies = sorted(self.latencies)
        s = self.sorted_latencies
        return s[min(len(s) - 1, int(q * len(s)))]

    @property
    def p50(self) -> float:
        return self.pct(0.50)

    @property
    def p99(self) -> float:
        return self.pct(0.99)

    @property
    def max(self) -> float:
        return max(self.latencies)

    @property
    def mean_bytes(self) -> float:
        return sum(self.sizes) / len(self.sizes)

    @property
    def server_mean(self) -> float:
        return self.server_sum / self.server_count if self.server_count else float("nan")

    @property
    def within(self) -> float:
        return self.server_within_goal / self.server_count if self.server_count else float("nan")


def session(clients: int) -> aiohttp.ClientSession:
    """Keep-alive connections asking for gzip; the bodies as sent (not decompressed: a browser's work)."""
    connector = aiohttp.TCPConnector(limit=clients)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60), headers=GZIP,
                                 auto_decompress=False)  # fmt: skip


async def hammer(base: str, w: Workload, clients: int, seconds: float, rng: random.Random) -> Run:
    """``clients`` clients, each sending its next request when the last is read."""
    latencies: list[float] = []
    sizes: list[int] = []
    async with session(clients) as s:

        async def client(deadline: float) -> None:
            while time.perf_counter() < deadline:
                url = base + w.path(rng)
                t0 = time.perf_counter()
                async with s.get(url) as resp:
                    body = await resp.read()
                latencies.append(time.perf_counter() - t0)
                if resp.status != 200:
                    raise SystemExit(f"GET {url} answered {resp.status}: {body[:300]!r}")
                sizes.append(len(body))

        t0 = time.perf_counter()
        await asyncio.gather(*(client(t0 + seconds) for _ in range(clients)))
        return Run(w, clients, time.perf_counter() - t0, latencies, sizes)


def rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return float(line.split()[1]) * 1024
    return 0.0


@dataclass(frozen=True)
class Processes:
    web_base: str
    api_base: str
    web_pid: int
    api_pid: int


def delta(before: str, after: str, name: str, **labels: str) -> float:
    return sample(after, name, **labels) - sample(before, name, **labels)


async def measure(p: Processes, w: Workload, clients: int, seconds: float, warmup: float, rng: random.Random,
                  engine: sa.Engine) -> Run:  # fmt: skip
    """A warm-up (not counted), then the measured run with the servers' histograms and CPU around it."""
    if warmup > 0:
        await hammer(p.web_base, w, clients, warmup, rng)
    async with aiohttp.ClientSession() as s:

        async def scrape(base: str) -> str:
            async with s.get(base + "/metrics") as resp:
                return await resp.text()

        db = backends(engine)
        web0, api0 = await scrape(p.web_base), await scrape(p.api_base)
        cpu0, own0 = cpu_seconds([p.web_pid, p.api_pid, *db]), time.process_time()
        run = await hammer(p.web_base, w, clients, seconds, rng)
        db_after = backends(engine)
        cpu1, own1 = cpu_seconds([p.web_pid, p.api_pid, *db, *db_after]), time.process_time()
        web1, api1 = await scrape(p.web_base), await scrape(p.api_base)
    # The scrapes are /metrics requests: the route label keeps them apart at the web; at the API they
    # are taken out.
    run.server_count = delta(web0, web1, HISTOGRAM + "_count", route=w.route)
    run.server_sum = delta(web0, web1, HISTOGRAM + "_sum", route=w.route)
    run.server_within_goal = delta(web0, web1, HISTOGRAM + "_bucket", route=w.route, le=str(GOAL))
    for attr, suffix in (("api_count", "_count"), ("api_sum", "_sum")):
        total = delta(api0, api1, API_HISTOGRAM + suffix) - delta(api0, api1, API_HISTOGRAM + suffix, route="/metrics")
        setattr(run, attr, total)
    run.cpu_web = (cpu1.get(p.web_pid, 0.0) - cpu0.get(p.web_pid, 0.0)) / run.wall
    run.cpu_api = (cpu1.get(p.api_pid, 0.0) - cpu0.get(p.api_pid, 0.0)) / run.wall
    run.cpu_db = sum(v - cpu0.get(pid, 0.0) for pid, v in cpu1.items() if pid not in (p.web_pid, p.api_pid)) / run.wall
    run.cpu_clients = (own1 - own0) / run.wall
    run.rss = rss(p.web_pid)
    run.load = os.getloadavg()[0]
    return run


# ------------------------------------------------------------------------------------------ bytes


@dataclass(frozen=True)
class Bytes:
    page_wire: int
    page_plain: int
    assets: dict[str, int]  # path -> bytes on the wire
    encodings: dict[str, str]  # path -> its Content-Encoding ('' none)
    map_paths: int
    all_paths: int
    card_notice: bool
    uncached_plain: int  # the page of the national-uncached workload, uncompressed
    map_bytes: int  # the map's SVG in the page, uncompressed

    @property
    def first_page(self) -> int:
        return self.page_wire + sum(self.assets.values())


MAP_SVG = re.compile(rb'<svg[^>]*class="[^"]*\bchoropleth\b[^"]*"[^>]*>.*?</svg>', re.S)


async def bytes_of(base: str, code: str) -> Bytes:
    """The national page and its assets as sent with gzip; the page's map; one card's scoring notice."""
    async with session(1) as s:

        async def get(path: str, **headers: str) -> tuple[bytes, str]:
            async with s.get(base + path, headers=headers or None) as resp:
                body = await resp.read()
                if resp.status != 200:
                    raise SystemExit(f"GET {path} answered {resp.status}: {body[:300]!r}")
                return body, resp.headers.get("Content-Encoding", "")

        wire, enc = await get("/")
        plain = gzip.decompress(wire) if enc == "gzip" else wire
        direct, _ = await get("/", **{"Accept-Encoding": "identity"})
        if direct != plain:
            raise SystemExit("GET / without gzip is not the gzipped page, decompressed")
        assets, encodings = {}, {"/": enc}
        for path in ASSETS:
            body, encodings[path] = await get(path)
            assets[path] = len(body)
        uncached, uenc = await get("/?q=zzbytes")
        uncached_plain = len(gzip.decompress(uncached) if uenc == "gzip" else uncached)
        card, cenc = await get(f"/wilayah/{code}")
        card_text = (gzip.decompress(card) if cenc == "gzip" else card).decode()
    maps = MAP_SVG.findall(plain)
    notice = str(escape(messages("id")("region.indicators.unavailable")))
    return Bytes(len(wire), len(plain), assets, encodings, sum(m.count(b"<path") for m in maps),
                 plain.count(b"<path"), notice in card_text, uncached_plain, sum(map(len, maps)))  # fmt: skip


# ---------------------------------------------------------------------------------------- profile

#: The parts of a page's time: (label, file suffix, function), by cumulative time.
PARTS = {
    "national": [("view model (views.national_page)", "web/views.py", "national_page"),
                 ("map SVG (render_map)", "web/map.py", "render_map"),
                 ("template (Site.html: Jinja)", "web/app.py", "html"),
                 ("gzip (level 6, on the event loop)", "gzip.py", "compress"),
                 ("upstream answers (cached)", "web/app.py", "national_bodies")],
    "card": [("upstream requests (httpx, JSON)", "web/upstream.py", "_get"),
             ("view model (views.region_card)", "web/views.py", "region_card"),
             ("chart SVG (history_chart)", "web/chart.py", "history_chart"),
             ("template (Site.html: Jinja)", "web/app.py", "html"),
             ("gzip (GZipMiddleware)", "middleware/gzip.py", "_compress_body"),
             ("log lines (logging.Logger.handle)", "logging/__init__.py", "handle")],
}  # fmt: skip


@dataclass(frozen=True)
class Profiled:
    label: str
    calls: int
    per_call: float  # seconds a page, without the profiler
    parts: list[tuple[str, float]]  # part -> its share of the page under the profiler


async def profile_pages(api_base: str, dead: int, builds: int, cards: int, codes: Sequence[str],
                        out: Path) -> list[Profiled]:  # fmt: skip
    """The app in this process over httpx's ASGI transport, its log at INFO as `pantau web run` has it (to
    ``out`` with .log): ``builds`` GET /?q=zz<fresh> and ``cards`` GET /wilayah/{random code}, timed, then the same
    again under cProfile (in this thread: the routes are async, so they run in it)."""
    import contextlib

    import httpx

    from services.runtime import logs
    from services.web.app import create_app
    from services.web.config import WebSettings
    from services.web.server import build_site

    nobody = f"http://127.0.0.1:{dead}"
    settings = WebSettings(history_url=api_base, scoring_url=nobody, alerts_url=nobody)
    assert settings.history_url == api_base, settings.history_url
    with out.with_suffix(".log").open("w") as sink, contextlib.redirect_stderr(sink):
        logs.configure(settings.log_level, "json")
        site = build_site(settings)
        app = create_app(site)
        rng = random.Random(11)
        n = 0
        found: list[Profiled] = []
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web",
                                         headers=GZIP) as client:  # fmt: skip

                async def get(path: str) -> None:
                    r = await client.get(path)
                    if r.status_code != 200:
                        raise SystemExit(f"in-process GET {path} answered {r.status_code}; see "
                                         f"{out.with_suffix('.log')}")  # fmt: skip

                async def build() -> None:
                    nonlocal n
                    n += 1
                    await get(f"/?q=zzprofile{n}")

                async def card() -> None:
                    await get(f"/wilayah/{rng.choice(codes)}")

                with out.open("w") as f:
                    for name, page, calls in (("national", build, builds), ("card", card, cards)):
                        if calls <= 0:
                            continue
                        for _ in range(3):
                            await page()  # warm: the upstream answers, the template
                        t0 = time.perf_counter()
                        for _ in range(calls):
                            await page()
                        per_call = (time.perf_counter() - t0) / calls
                        prof = cProfile.Profile()
                        prof.enable()
                        for _ in range(calls):
                            await page()
                        prof.disable()
                        stats = pstats.Stats(prof, stream=f)
                        table = stats.stats  # type: ignore[attr-defined]
                        total = sum(v[2] for v in table.values())
                        parts = [(label, sum(v[3] for (file, _ln, fn), v in table.items() if fn == func
                                             and file.endswith(suffix)) / total)
                                 for label, suffix, func in PARTS[name]]  # fmt: skip
                        f.write(f"\n===== {name}: {calls} pages, {per_call * 1000:.1f} ms a page without the "
                                "profiler\n")  # fmt: skip
                        stats.sort_stats("cumulative").print_stats(40)
                        stats.sort_stats("tottime").print_stats(30)
                        found.append(Profiled(name, calls, per_call, parts))
        finally:
            await site.upstream.close()
    return found


def shares(p: Profiled) -> str:
    return ", ".join(f"{label} {share:.0%} (~{ms(share * p.per_call)} ms)" for label, share in p.parts)


# ------------------------------------------------------------------------------------------- main


def start_web(api_base: str, tag: str) -> tuple[subprocess.Popen[bytes], str, Path, int]:
    """`pantau web run` on a free port with the default cache settings; scoring and alerts at a dead port."""
    port, dead = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEB_")}
    env |= {"WEB_HISTORY_URL": api_base, "WEB_SCORING_URL": f"http://127.0.0.1:{dead}",
            "WEB_ALERTS_URL": f"http://127.0.0.1:{dead}", "PANTAU_LOG_FORMAT": "json"}  # fmt: skip
    logfile = WORK / f"web-{tag}.log"
    with logfile.open("w") as out:
        web = subprocess.Popen([sys.executable, "-m", "pantau.cli", "web", "run", "--port", str(port)], env=env,
                               stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while http_get(base + "/healthz")[0] != 200:
        if time.monotonic() > deadline or web.poll() is not None:
            stop(web)
            raise SystemExit(f"the web pages did not get ready; see {logfile}")
        time.sleep(0.2)
    return web, base, logfile, dead


def first_build(base: str) -> float:
    """The first GET / after the start: nothing cached (the upstream answers, the template, the page)."""
    import urllib.request

    req = urllib.request.Request(base + "/", headers=GZIP)
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as resp:
        resp.read()
        status = resp.status
    took = time.perf_counter() - t0
    if status != 200:
        raise SystemExit(f"GET / answered {status}")
    return took


HOST = re.compile(r"https?://127\.0\.0\.1:\d+")
CODES = re.compile(r"\b\d{2}\.\d{2}\b")
QUERY = re.compile(r"\?\S*")


def log_summary(logfile: Path) -> tuple[Counter[str], list[str]]:
    """The web process's log lines by level and event (addresses, region codes and queries folded); the
    warnings and errors but the expected one (the card's scoring part unavailable)."""
    seen: Counter[str] = Counter()
    bad: list[str] = []
    for line in logfile.read_text(errors="replace").splitlines():
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            seen["(not JSON)"] += 1
            bad.append(line[:300])
            continue
        level, event = str(rec.get("level", "?")), str(rec.get("event", "?"))
        seen[f"{level} {QUERY.sub('', CODES.sub('{code}', HOST.sub('', event)))}"] += 1
        if level in ("warning", "error", "critical") and event != "web.part_unavailable":
            bad.append(line[:300])
    return seen, bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--years", type=int, default=3, help="years of daily history per region (ending yesterday)")
    ap.add_argument("--seconds", type=float, default=20.0, help="measured duration of each workload")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds of each workload before it is measured")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8], help="concurrent clients (one run each)")
    ap.add_argument("--workloads", nargs="+", choices=["national", "national-uncached", "card"],
                    default=["national", "national-uncached", "card"])  # fmt: skip
    ap.add_argument("--profile-builds", type=int, default=30,
                    help="national page builds profiled in-process at the end (0: none)")  # fmt: skip
    ap.add_argument("--profile-cards", type=int, default=200,
                    help="region cards (random codes) profiled in-process at the end (0: none)")  # fmt: skip
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = ap.parse_args()

    def on_sigterm(_sig: int, _frame: FrameType | None) -> None:
        raise SystemExit("stopped by SIGTERM")  # so that the servers are stopped and the database dropped

    signal.signal(signal.SIGTERM, on_sigterm)
    WORK.mkdir(parents=True, exist_ok=True)
    fw = load_framework(HistorySettings().framework_file)
    registry = default_registry()
    codes = sorted(registry.regions)
    today = datetime.now(UTC).date()
    last = today - timedelta(days=1)
    days = round(365.25 * args.years)
    first = last - timedelta(days=days - 1)
    tag = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")

    with fresh_database("bench_web") as url:
        log(f"phase 1: {len(codes)} regions x {days:,} days ({first} to {last}) = {len(codes) * days:,} rows")
        filled = fill(url, fw, registry, first, days, args.seed)
        log(f"  filled in {filled['seconds']:.0f} s; score_snapshots {filled['bytes'] / 2**30:.2f} GiB")
        pg = server_version(url)

        log("phase 2: pantau history api, pantau web run")
        api, api_base, api_log = start_api(url, f"web-{tag}")
        web: subprocess.Popen[bytes] | None = None
        engine = create_engine(url, connect_args={"application_name": "bench-web"})
        runs: list[Run] = []
        profiled: list[Profiled] = []
        try:
            web, web_base, web_log, dead = start_web(api_base, tag)
            cold = first_build(web_base)
            log(f"  web on {web_base} (scoring/alerts at :{dead}, nobody there); first GET /: {ms(cold)} ms")
            procs = Processes(web_base, api_base, web.pid, api.pid)

            log("phase 3: bytes of the first page")
            b = asyncio.run(bytes_of(web_base, "32.73"))
            log(f"  national page {size(b.page_wire)} gzip ({size(b.page_plain)} plain), first page "
                f"{size(b.first_page)}; map <path> {b.map_paths} (page {b.all_paths}); card notice "
                f"{b.card_notice}")  # fmt: skip
            if b.map_paths != len(codes):
                raise SystemExit(f"the national map has {b.map_paths} <path> elements, not {len(codes)}")
            if not b.card_notice:
                raise SystemExit("the card does not show the scoring-unavailable notice")

            ws = workloads(codes)
            rng = random.Random(args.seed)
            for clients in args.clients:
                for name in ["healthz", *args.workloads]:
                    log(f"phase 4: {name}, {clients} client(s), {args.seconds:.0f} s")
                    run = asyncio.run(measure(procs, ws[name], clients, args.seconds, args.warmup, rng, engine))
                    runs.append(run)
                    log(f"  {run.rate:,.1f} req/s; p50 {ms(run.p50)} ms, p99 {ms(run.p99)} ms, max {ms(run.max)} ms; "
                        f"{size(run.mean_bytes)}/answer; server mean {ms(run.server_mean)} ms, {run.within:.1%} "
                        f"within 200 ms; API {run.api_count / max(run.server_count, 1):.2f} req/page; CPU web "
                        f"{run.cpu_web:.0%}, API {run.cpu_api:.0%}, PostgreSQL {run.cpu_db:.0%}, clients "
                        f"{run.cpu_clients:.0%}; web RSS {size(run.rss)}; load {run.load:.1f}")  # fmt: skip
            stop(web)
            if args.profile_builds > 0 or args.profile_cards > 0:
                out = WORK / f"web-{tag}-profile.txt"
                log(f"phase 5: profile of {args.profile_builds} national page builds and {args.profile_cards} cards "
                    f"in-process -> {out}")  # fmt: skip
                profiled = asyncio.run(profile_pages(api_base, dead, args.profile_builds, args.profile_cards, codes,
                                                     out))  # fmt: skip
                for pr in profiled:
                    log(f"  {pr.label}: {ms(pr.per_call)} ms a page; {shares(pr)}")
        finally:
            engine.dispose()
            if web is not None:
                stop(web)
            stop(api)
            log(f"stopped the web pages and the API (logs: {WORK}/web-{tag}.log, {api_log})")
        seen, bad = log_summary(web_log)
        for line in bad[:10]:
            log(f"  web log: {line}")

    rows: list[tuple[str, str]] = [
        ("history", f"{len(codes)} regions x {days:,} days ({first} to {last}) = {filled['rows']:,.0f} closing "
                    f"snapshots, simulated, and {len(codes)} plan versions; score_snapshots "
                    f"{filled['bytes'] / 2**30:.2f} GiB"),
        ("national page, on the wire (gzip) / uncompressed",
         f"{size(b.page_wire)} / {size(b.page_plain)}, of which the map's SVG {size(b.map_bytes)} "
         f"({b.map_bytes / b.page_plain:.0%}), {b.map_paths} `<path>` (514 expected); GET /?q=zz... "
         f"{size(b.uncached_plain)} uncompressed"),
        ("assets it loads, on the wire: " + ", ".join(ASSETS),
         ", ".join(f"{size(n)}{' gzip' if b.encodings[p] == 'gzip' else ' (not compressed)'}"
                   for p, n in b.assets.items())),
        ("**first page, compressed (goal < 1.5 MB)**",
         f"**{size(b.first_page)}: {'met' if b.first_page < FIRST_PAGE_GOAL else 'missed'}**"),
        ("first GET / after the start (nothing cached: 3 rankings and the progress fetched, rendered, gzipped)",
         f"{ms(cold)} ms"),
    ]  # fmt: skip
    for clients in args.clients:
        base_run = next(r for r in runs if r.clients == clients and r.workload.name == "healthz")
        for r in (r for r in runs if r.clients == clients):
            who = f"{clients} client{'s' if clients > 1 else ''}: {r.workload.label}"
            rows.append((who + ": req/s; p50 / p99 / max",
                         f"{r.rate:,.1f} req/s; {ms(r.p50)} / {ms(r.p99)} / {ms(r.max)} ms"))  # fmt: skip
            if r is not base_run:
                rows.append(("... **ratio to /healthz: p50; p99; req/s**",
                             f"**{r.p50 / base_run.p50:,.1f}; {r.p99 / base_run.p99:,.1f}; "
                             f"{r.rate / base_run.rate:.4f}**"))  # fmt: skip
            api_per = f"{r.api_count / r.server_count:.2f} req, {ms(r.api_sum / r.server_count)} ms" if (
                r.server_count) else "-"  # fmt: skip
            cpu = f"{r.cpu_web:.0%} / {r.cpu_api:.0%} / {r.cpu_db:.0%} / {r.cpu_clients:.0%} of a core"
            rows.append(("... answer; server time mean, share within 200 ms; history API per page; CPU web / API / "
                         "PostgreSQL / clients; web RSS; load",
                         f"{size(r.mean_bytes)}; {ms(r.server_mean)} ms, {r.within:.1%}; {api_per}; {cpu}; "
                         f"{size(r.rss)}; {r.load:.1f}"))  # fmt: skip
    for clients in args.clients:
        verdicts = []
        for r in (r for r in runs if r.clients == clients and r.workload.name != "healthz"):
            met = r.p99 < GOAL and r.within >= 0.99
            what = f"(client {ms(r.p99)} ms, server {r.within:.1%} within 200 ms)"
            if r.workload.name == "national-uncached":
                verdicts.append(f"uncached build (not a goal: one build per 30 s) {'within' if met else 'over'} {what}")
            else:
                verdicts.append(f"{r.workload.name} {'met' if met else '**missed**'} {what}")
        rows.append((f"goal p99 < 200 ms (client, server), {clients} client{'s' if clients > 1 else ''}",
                     "; ".join(verdicts)))  # fmt: skip
    for pr in profiled:
        what = "national page build (GET /?q=zz...)" if pr.label == "national" else "region card (random code)"
        rows.append((f"profile of a {what}, in-process, {pr.calls} pages: a page; shares under cProfile (~ms)",
                     f"{ms(pr.per_call)} ms; {shares(pr)}"))  # fmt: skip
    events = ", ".join(f"{k}: {v:,}" for k, v in seen.most_common(8))
    rows.append(("web log, most frequent (level event: lines)",
                 f"{events}; {len(bad)} warnings/errors besides the scoring notice's"))  # fmt: skip
    report("Web pages (issue 14)", f"{machine()}; PostgreSQL {pg} local (loopback); one `pantau history api` and one "
           f"`pantau web run` (uvicorn, one process each; default WEB_CACHE_S 30 s: the national page is served "
           f"from its rendered-page cache but for one build per 30 s, hence `national-uncached`); scoring and "
           f"alerts not running, so the card shows its scoring-unavailable notice and its indicator section is "
           f"not measured; aiohttp clients on the same machine, Accept-Encoding gzip; {args.seconds:.0f} s a "
           f"workload after {args.warmup:.0f} s of warm-up.", rows, record=not args.no_record)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
