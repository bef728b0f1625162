"""History query benchmark (issue 13): latency of `pantau history api` under concurrent clients, over years
of simulated daily history for all 514 regions.

Phases, in one run against the local PostgreSQL (loopback), in a database of the run's own (created for
the run, dropped at its end, also when it fails):
1. fill: --years of closing snapshots per region, one 'day' row per local day, scored at 23:59:59 local
   time and marked simulated; the six dimensions with the framework's elements, coverage, index and
   level rolled up as the scorer rolls them up; copied in with COPY, then VACUUM ANALYZE. One plan
   version per region: the national masterplan (schemas/data/masterplan-national-2029.yaml), so that
   every answer carries its path;
2. `pantau history api` on a free port (its rate limit out of the way);
3. for each --clients count: the baseline, GET /healthz (one SELECT 1), then each workload for
   --seconds after --warmup seconds: `daily` a random region's daily series over the whole history,
   `ranking` the 514-region ranking as of a random day of it, `monthly` a random region's monthly series
   over it. Requests/s, client-side latency p50/p99 (time.perf_counter, request sent to answer read),
   bytes per answer; the server's own time (pantau_history_api_request_duration_seconds: mean, share
   within 100 ms); CPU of the API process, of its PostgreSQL backends and of this load generator;
4. profile (--profile, or when a p99 misses the goal of 100 ms): each query run here in-process, as the
   route runs it, under cProfile (where the time goes: SQL and fetch, rows to views, bodies, JSON), and
   EXPLAIN (ANALYZE, BUFFERS) of its SQL. Details go to .pantau/bench/history-query-*.txt.

The clients, the API (one uvicorn process) and PostgreSQL share the machine's cores: the ratios to the
/healthz baseline of the same run are the figures to compare between machines.

Usage: .venv/bin/python bench/history_query.py [--years 5] [--seconds 30] [--warmup 3] [--clients 1 8]
       [--workloads daily ranking monthly] [--profile] [--no-record]
Results are appended to bench/RESULTS.md unless --no-record.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import platform
import pstats
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TextIO

import aiohttp
import orjson
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import fresh_database, log, report, sample  # noqa: E402
from schemas.framework import Element, Framework, load_framework  # noqa: E402
from schemas.masterplan import DEFAULT_MASTERPLAN_FILE, load_masterplan_file, resolve_plans  # noqa: E402
from schemas.regions import RegionRegistry, default_registry  # noqa: E402
from schemas.timezones import zone_of_region  # noqa: E402
from services.history.adapters.postgres import PLAN_INSERT  # noqa: E402
from services.history.adapters.reads import LATEST_ON, REGION_DAYS  # noqa: E402
from services.history.config import HistorySettings  # noqa: E402
from services.history.db import create_engine, migrate  # noqa: E402
from services.history.domain.periods import Resolution  # noqa: E402
from services.history.domain.rows import Source, plan_row  # noqa: E402
from tests.integration.helpers import free_port, http_get  # noqa: E402

GOAL = 0.100  # p99 under 100 ms (issue 13)
HISTOGRAM = "pantau_history_api_request_duration_seconds"
WORK = ROOT / ".pantau" / "bench"
COPY_COLUMNS = ("region_code", "province_code", "framework_id", "framework_version", "resolution", "at", "day",
                "index", "level", "level_name", "coverage", "status", "dimensions", "events_applied",
                "simulated")  # fmt: skip
CLOSE = timedelta(hours=23, minutes=59, seconds=59)

# ------------------------------------------------------------------------------------------- fill


@dataclass(frozen=True)
class ElementShape:
    id: str
    weight: float
    stale_coverage: tuple[float, ...]  # the element's coverage with its k-th indicator stale


@dataclass(frozen=True)
class DimensionShape:
    id: str
    weight: float
    elements: tuple[ElementShape, ...]


def shapes(fw: Framework) -> tuple[DimensionShape, ...]:
    def element(e: Element) -> ElementShape:
        total = sum(i.weight for i in e.indicators)
        return ElementShape(e.id, e.weight, tuple((total - i.weight) / total for i in e.indicators))

    return tuple(DimensionShape(d.id, d.weight, tuple(element(e) for e in d.elements)) for d in fw.dimensions)


def roll_up(parts: Sequence[tuple[float, float, float | None]], minimum: float) -> tuple[float, float | None, bool]:
    """(coverage, score, ok) of a parent from its (weight, coverage, score) children, as the scorer rolls up:
    coverage the weighted mean of the children's, score the weighted mean of the scored children's."""
    total = covered = scored_w = weighted = 0.0
    for w, c, s in parts:
        total += w
        covered += w * c
        if s is not None:
            scored_w += w
            weighted += w * s
    coverage = min(1.0, covered / total)
    score = min(5.0, max(0.0, weighted / scored_w)) if scored_w else None
    ok = coverage >= minimum and score is not None
    return coverage, score if ok else None, ok


class RegionPast:
    """A believable daily history of one region: a per-region start and yearly slope, a slow wobble of
    its own (AR(1)), per-dimension and per-element offsets, day-to-day noise; now and then a stale
    indicator (lower coverage), rarely an element without any fresh reading (no score)."""

    STALE = 0.02  # chance that a given indicator of an element is stale on a day
    OUTAGE = 0.001  # chance that none of an element's indicators is fresh on a day

    def __init__(self, code: str, fw: Framework, dims: tuple[DimensionShape, ...], seed: int) -> None:
        self.code, self.fw, self.dims = code, fw, dims
        self.rng = random.Random(f"{seed}:{code}")
        rng = self.rng
        self.start, self.slope = rng.uniform(0.7, 2.6), rng.uniform(0.03, 0.4)
        self.offsets: dict[str, float] = {}
        for d in dims:
            dim_offset = rng.gauss(0, 0.3)
            self.offsets |= {e.id: dim_offset + rng.gauss(0, 0.35) for e in d.elements}
        self.events = rng.randint(500, 5000)
        self.wobble = 0.0

    def closing(self, years: float) -> tuple[float | None, float, bool, list[dict[str, object]]]:
        """The next day's (index, coverage, ok, dimensions as stored), ``years`` after the first day."""
        rng, minimum, stale, outage = self.rng, self.fw.minimum_coverage, self.STALE, self.OUTAGE
        self.wobble = 0.985 * self.wobble + rng.gauss(0, 0.02)
        quality = self.start + self.slope * years + self.wobble
        dims: list[dict[str, object]] = []
        dim_parts = []
        for d in self.dims:
            elements: list[dict[str, object]] = []
            el_parts = []
            for e in d.elements:
                draw = rng.random()
                if draw < outage:
                    cov = 0.0
                else:
                    k = int((draw - outage) / stale)
                    cov = e.stale_coverage[k] if k < len(e.stale_coverage) else 1.0
                ok = cov >= minimum and cov > 0
                value = min(5.0, max(0.0, quality + self.offsets[e.id] + rng.gauss(0, 0.05))) if ok else None
                elements.append({"element_id": e.id, "score": value, "coverage": cov,
                                 "status": "ok" if ok else "insufficient_data"})  # fmt: skip
                el_parts.append((e.weight, cov, value))
            cov, score, ok = roll_up(el_parts, minimum)
            dims.append({"dimension_id": d.id, "score": score, "coverage": cov,
                         "status": "ok" if ok else "insufficient_data", "elements": elements})  # fmt: skip
            dim_parts.append((d.weight, cov, score))
        cov, index, ok = roll_up(dim_parts, minimum)
        self.events += rng.randint(30, 60)
        return index, cov, ok, dims


def copy_lines(code: str, fw: Framework, dims: tuple[DimensionShape, ...], first: date, days: int,
               seed: int) -> Iterator[bytes]:  # fmt: skip
    """The region's rows in COPY's text format (tab-separated, \\N for NULL)."""
    past = RegionPast(code, fw, dims, seed)
    offset = zone_of_region(code).utcoffset(None)
    assert offset is not None
    head = f"{code}\t{code[:2]}\t{fw.id}\t{fw.version}\tday\t"
    for n in range(days):
        day = first + timedelta(days=n)
        index, cov, ok, dimensions = past.closing(n / 365.25)
        at = datetime.combine(day, datetime.min.time()) + CLOSE - offset
        level = fw.level_for(index) if ok and index is not None else None
        lv = f"{level.level}\t{level.name}" if level else "\\N\t\\N"
        status = "ok" if ok else "insufficient_data"
        score = "\\N" if index is None else repr(index)
        yield (f"{head}{at.isoformat()}+00\t{day.isoformat()}\t{score}\t{lv}\t{cov!r}\t{status}\t".encode()
               + orjson.dumps(dimensions) + f"\t{past.events}\tt\n".encode())  # fmt: skip


def fill(url: str, fw: Framework, registry: RegionRegistry, first: date, days: int, seed: int) -> dict[str, float]:
    """Migrate the run's database, copy every region's days in and the plans; VACUUM ANALYZE. Figures."""
    migrate(url)
    engine = create_engine(url, connect_args={"application_name": "bench-history-query-fill"})
    codes = sorted(registry.regions)
    dims = shapes(fw)
    t0 = time.perf_counter()
    rows = 0
    copy_sql = f"COPY score_snapshots ({', '.join(COPY_COLUMNS)}) FROM STDIN"
    try:
        with engine.connect() as conn:
            driver = conn.connection.driver_connection
            assert driver is not None
            with driver.cursor() as cur, cur.copy(copy_sql) as copy:  # one transaction for the whole table
                for k, code in enumerate(codes, start=1):
                    chunk = b"".join(copy_lines(code, fw, dims, first, days, seed))
                    assert b"\\" not in chunk.replace(b"\\N", b""), "a value COPY would read as an escape"
                    copy.write(chunk)
                    rows += days
                    if k % 32 == 0 or k == len(codes):
                        secs = time.perf_counter() - t0
                        log(f"  fill: {k}/{len(codes)} regions, {rows:,} rows, {rows / secs:,.0f} rows/s")
            driver.commit()
        copied = time.perf_counter() - t0
        plans = resolve_plans([load_masterplan_file(DEFAULT_MASTERPLAN_FILE, fw, registry)], registry)
        seen_ms = int(datetime.combine(first, datetime.min.time(), UTC).timestamp() * 1000)
        now = datetime.now(UTC)
        values = [plan_row(plans[c], Source("masterplan-milestones", 0, n, seen_ms), now).values()
                  for n, c in enumerate(codes)]  # fmt: skip
        with engine.begin() as conn:
            conn.execute(PLAN_INSERT, values)
        log(f"  {len(values)} plan versions ({plans[codes[0]].plan_id}); VACUUM ANALYZE")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE score_snapshots"))
            conn.execute(sa.text("VACUUM ANALYZE plan_versions"))
            size = conn.execute(sa.text("SELECT pg_total_relation_size('score_snapshots')")).scalar_one()
            stored = conn.execute(sa.text("SELECT count(*) FROM score_snapshots")).scalar_one()
        assert stored == rows, f"{stored} rows stored, {rows} copied"
        return {"rows": rows, "copy_seconds": copied, "seconds": time.perf_counter() - t0, "bytes": float(size)}
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------------- load


@dataclass(frozen=True)
class Workload:
    name: str
    route: str  # the route template the server's histogram labels it with
    label: str
    path: Callable[[random.Random], str]


def workloads(codes: Sequence[str], first: date, last: date, today: date) -> dict[str, Workload]:
    span = (last - first).days

    def series(resolution: str) -> Callable[[random.Random], str]:
        return lambda rng: (f"/v1/regions/{rng.choice(codes)}/history?from={first}&to={today}"
                            f"&resolution={resolution}")  # fmt: skip

    years = f"{(today - first).days / 365.25:.0f}-year"
    return {w.name: w for w in [
        Workload("healthz", "/healthz", "/healthz, one SELECT 1 (baseline)", lambda _rng: "/healthz"),
        Workload("daily", "/v1/regions/{code}/history", f"a region's {years} daily series", series("day")),
        Workload("ranking", "/v1/ranking", "the 514-region ranking as of a day",
                 lambda rng: f"/v1/ranking?on={first + timedelta(days=rng.randrange(span + 1))}"),
        Workload("monthly", "/v1/regions/{code}/history", f"a region's {years} monthly series", series("month")),
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
    cpu_api: float = 0.0  # cores busy, on average over the run
    cpu_db: float = 0.0
    cpu_clients: float = 0.0
    load: float = 0.0  # the machine's 1-minute load average at the end of the run

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall

    def pct(self, q: float) -> float:
        s = sorted(self.latencies)
        return s[min(len(s) - 1, int(q * len(s)))]

    @property
    def p50(self) -> float:
        return self.pct(0.50)

    @property
    def p99(self) -> float:
        return self.pct(0.99)

    @property
    def mean_bytes(self) -> float:
        return sum(self.sizes) / len(self.sizes)


async def hammer(base: str, w: Workload, clients: int, seconds: float, rng: random.Random) -> Run:
    """``clients`` clients on keep-alive connections, each sending its next request when the last is read."""
    latencies: list[float] = []
    sizes: list[int] = []
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:

        async def client(deadline: float) -> None:
            while time.perf_counter() < deadline:
                url = base + w.path(rng)
                t0 = time.perf_counter()
                async with session.get(url) as resp:
                    body = await resp.read()
                latencies.append(time.perf_counter() - t0)
                if resp.status != 200:
                    raise SystemExit(f"GET {url} answered {resp.status}: {body[:300]!r}")
                sizes.append(len(body))

        t0 = time.perf_counter()
        await asyncio.gather(*(client(t0 + seconds) for _ in range(clients)))
        return Run(w, clients, time.perf_counter() - t0, latencies, sizes)


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Sequence[int]) -> dict[int, float]:
    """User + system CPU seconds of each process of ``pids`` still running."""
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return out


def backends(engine: sa.Engine) -> list[int]:
    """The PostgreSQL backends serving the API (its pool's connections)."""
    with engine.connect() as conn:
        q = sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = 'pantau-history-api'")
        return [int(p) for p in conn.execute(q).scalars()]


async def measure(base: str, w: Workload, clients: int, seconds: float, warmup: float, rng: random.Random,
                  api_pid: int, engine: sa.Engine) -> Run:  # fmt: skip
    """A warm-up (not counted), then the measured run with the server's histogram and CPU around it."""
    if warmup > 0:
        await hammer(base, w, clients, warmup, rng)
    async with aiohttp.ClientSession() as session:

        async def scrape() -> str:
            async with session.get(base + "/metrics") as resp:
                return await resp.text()

        db = backends(engine)
        before = await scrape()
        cpu0, own0 = cpu_seconds([api_pid, *db]), time.process_time()
        run = await hammer(base, w, clients, seconds, rng)
        db_after = backends(engine)
        cpu1, own1 = cpu_seconds([api_pid, *db, *db_after]), time.process_time()
        after = await scrape()
    # The scrapes themselves are /metrics requests: the route label keeps them apart.
    for attr, name, labels in (("server_count", "_count", {}), ("server_sum", "_sum", {}),
                               ("server_within_goal", "_bucket", {"le": str(GOAL)})):  # fmt: skip
        delta = sample(after, HISTOGRAM + name, route=w.route, **labels) - sample(
            before, HISTOGRAM + name, route=w.route, **labels
        )
        setattr(run, attr, delta)
    run.cpu_api = (cpu1.get(api_pid, 0.0) - cpu0.get(api_pid, 0.0)) / run.wall
    run.cpu_db = sum(v - cpu0.get(pid, 0.0) for pid, v in cpu1.items() if pid != api_pid) / run.wall
    run.cpu_clients = (own1 - own0) / run.wall
    run.load = os.getloadavg()[0]
    return run


def ms(seconds: float) -> str:
    v = seconds * 1000
    return f"{v:,.1f}" if v < 100 else f"{v:,.0f}"


def size(n: float) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else (f"{n / 1e3:.1f} kB" if n >= 1e3 else f"{n:.0f} B")


# ---------------------------------------------------------------------------------------- profile


@dataclass(frozen=True)
class Profiled:
    label: str
    per_call: float  # seconds per call, without the profiler
    parts: list[tuple[str, float]]  # part of the call -> its share of the time under the profiler
    explain_ms: float
    explain_plan: str


#: The parts of a query's time in the profile: (label, file suffix, function), by cumulative time.
_FETCH = [("of which JSONB to Python (json.loads)", "psycopg/types/json.py", "load"),
          ("of which rows to Closing", "adapters/reads.py", "_closing")]  # fmt: skip
_BODY = [("JSON (model_dump_json)", "pydantic/main.py", "model_dump_json")]
PARTS = {
    "daily": [("SQL and fetch", "adapters/reads.py", "region_days"), *_FETCH,
              ("series() (periods, path)", "domain/views.py", "series"),
              ("of which masterplan path (path_on)", "domain/views.py", "path_on"),
              ("response bodies (pydantic)", "history/api.py", "series_body"), *_BODY],
    "ranking": [("SQL and fetch", "adapters/reads.py", "latest_on"), *_FETCH,
                ("ranking()", "domain/views.py", "ranking"),
                ("response bodies (pydantic)", "history/api.py", "ranking_body"), *_BODY],
}  # fmt: skip
PARTS["monthly"] = PARTS["daily"]


def profile(url: str, names: Sequence[str], codes: Sequence[str], first: date, last: date, today: date,
            calls: int, out: Path) -> list[Profiled]:  # fmt: skip
    """Each query as its route runs it (the queries, the body, its JSON), here, in-process: cProfile runs in
    this thread only, and a sync FastAPI route would run in a worker thread of the server's."""
    from services.history.api import json_answer
    from services.history.bootstrap import bootstrap_api

    settings = HistorySettings(**{"PANTAU_DATABASE_URL": url})  # type: ignore[arg-type]
    svc = bootstrap_api(settings)
    engine: sa.Engine = svc.queries.reads.engine  # type: ignore[attr-defined]
    fw = svc.queries.framework_key(None)[1]
    rng = random.Random(7)
    found: list[Profiled] = []
    try:

        def daily(resolution: Resolution) -> Callable[[], bytes]:
            def call() -> bytes:
                s = svc.queries.region_series(rng.choice(codes), first, today, resolution)
                return bytes(json_answer(svc.series_body(s)).body)

            return call

        def ranking() -> bytes:
            on = first + timedelta(days=rng.randrange((last - first).days + 1))
            st = svc.queries.standing(on)
            return bytes(json_answer(svc.ranking_body(st, None, None, None)).body)

        funcs = {"daily": daily(Resolution.DAY), "monthly": daily(Resolution.MONTH), "ranking": ranking}
        with out.open("w") as f:
            for name in names:
                call = funcs[name]
                for _ in range(3):
                    call()  # warm: plans cache, pool, statement caches
                t0 = time.perf_counter()
                for _ in range(calls):
                    call()
                per_call = (time.perf_counter() - t0) / calls
                prof = cProfile.Profile()
                prof.enable()
                for _ in range(calls):
                    call()
                prof.disable()
                stats = pstats.Stats(prof, stream=f)
                table = stats.stats  # type: ignore[attr-defined]
                total = sum(v[2] for v in table.values())
                parts = [(label, sum(v[3] for (file, _ln, fn), v in table.items() if fn == func
                                     and file.endswith(suffix)) / total)
                         for label, suffix, func in PARTS[name]]  # fmt: skip
                f.write(f"\n===== {name}: {calls} calls, {per_call * 1000:.1f} ms a call without the profiler\n")
                stats.sort_stats("cumulative").print_stats(30)
                stats.sort_stats("tottime").print_stats(20)
                on = first + (last - first) / 2
                explain_ms, plan = explain(engine, name, codes[len(codes) // 2], codes, fw, first, today, on, f)
                found.append(Profiled(name, per_call, parts, explain_ms, plan))
                log(f"  profile {name}: {ms(per_call)} ms a call; {shares(found[-1])}; EXPLAIN ANALYZE "
                    f"{explain_ms:.1f} ms")  # fmt: skip
    finally:
        engine.dispose()
    return found


def shares(p: Profiled) -> str:
    """The parts as shares of the call, and those shares of its unprofiled time in ms."""
    return ", ".join(f"{label} {share:.0%} (~{ms(share * p.per_call)} ms)" for label, share in p.parts)


def explain(engine: sa.Engine, name: str, region: str, codes: Sequence[str], fw: tuple[str, str], first: date,
            today: date, on: date, f: TextIO) -> tuple[float, str]:  # fmt: skip
    """EXPLAIN (ANALYZE, BUFFERS) of the query's statement: its execution time (ms) and the plan's top node."""
    if name == "ranking":
        stmt, params = LATEST_ON, {"codes": list(codes), "fid": fw[0], "fver": fw[1], "on": on}
    else:
        stmt, params = REGION_DAYS, {"region": region, "fid": fw[0], "fver": fw[1], "start": first, "end": today}
    with engine.connect() as conn:
        lines = [r[0] for r in conn.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS) " + stmt.text), params)]
    print(f"\n----- EXPLAIN (ANALYZE, BUFFERS) {name}:\n" + "\n".join(lines), file=f)
    took = next(float(x.split(":")[1].split()[0]) for x in lines if x.startswith("Execution Time"))
    return took, lines[0].split("  (cost")[0].strip()


# ------------------------------------------------------------------------------------------- main


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor() or "?")  # fmt: skip
    mem = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
    return f"{os.cpu_count()} x {cpu}, {mem / 1024**2:.0f} GiB RAM"


def server_version(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SHOW server_version")).scalar_one()).split()[0]
    finally:
        engine.dispose()


def start_api(url: str, tag: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    env = {**os.environ, "PANTAU_DATABASE_URL": url, "HISTORY_API_PORT": str(port),
           "HISTORY_API_RATE_LIMIT": "100000000/minute", "HISTORY_LOG_LEVEL": "WARNING",
           "PANTAU_LOG_FORMAT": "json"}  # fmt: skip
    logfile = WORK / f"history-query-{tag}.log"
    with logfile.open("w") as out:
        api = subprocess.Popen([sys.executable, "-m", "pantau.cli", "history", "api", "--port", str(port)],
                               env=env, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while http_get(base + "/healthz")[0] != 200:
        if time.monotonic() > deadline or api.poll() is not None:
            api.terminate()
            raise SystemExit(f"the history API did not get ready; see {logfile}")
        time.sleep(0.2)
    return api, base, logfile


def stop(api: subprocess.Popen[bytes]) -> None:
    if api.poll() is None:
        api.terminate()
        try:
            api.wait(30)
        except subprocess.TimeoutExpired:
            api.kill()
            api.wait(10)


def check_answers(base: str, ws: dict[str, Workload], days: int) -> None:
    """One answer of each workload looked at: the points, the regions, the path (the plans were read)."""
    rng = random.Random(0)
    for name, w in ws.items():
        status, body = http_get(base + w.path(rng), timeout=60)
        if status != 200:
            raise SystemExit(f"{name}: GET {w.path(rng)} answered {status}: {body[:300]!r}")
        doc = orjson.loads(body)
        if name == "daily":
            scored = [p for p in doc["points"] if p["closing"]]
            assert len(scored) == days, f"{len(scored)} days with a closing snapshot, {days} stored"
            assert scored[-1]["expected"].get("index") is not None, "no masterplan path in the series"
        elif name == "ranking":
            assert doc["count"] == doc["scored"] == 514 and doc["regions"][0]["rank"] == 1, doc["count"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--years", type=int, default=5, help="years of daily history per region (ending yesterday)")
    ap.add_argument("--seconds", type=float, default=30.0, help="measured duration of each workload")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds of each workload before it is measured")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8], help="concurrent clients (one run each)")
    ap.add_argument("--workloads", nargs="+", choices=["daily", "ranking", "monthly"],
                    default=["daily", "ranking", "monthly"])  # fmt: skip
    ap.add_argument("--profile", action="store_true", help="profile the queries even when the goal is met")
    ap.add_argument("--profile-calls", type=int, default=30, help="calls of each query under the profiler")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = ap.parse_args()

    def on_sigterm(_sig: int, _frame: FrameType | None) -> None:
        raise SystemExit("stopped by SIGTERM")  # so that the API is stopped and the database dropped

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

    with fresh_database("bench_history_q") as url:
        log(f"phase 1: {len(codes)} regions x {days:,} days ({first} to {last}) = {len(codes) * days:,} rows")
        filled = fill(url, fw, registry, first, days, args.seed)
        log(f"  filled in {filled['seconds']:.0f} s ({filled['rows'] / filled['copy_seconds']:,.0f} rows/s copied); "
            f"score_snapshots {filled['bytes'] / 2**30:.2f} GiB")  # fmt: skip
        pg = server_version(url)

        log("phase 2: pantau history api")
        api, base, logfile = start_api(url, tag)
        ws = workloads(codes, first, last, today)
        chosen = ["healthz", *args.workloads]
        runs: list[Run] = []
        engine = create_engine(url, connect_args={"application_name": "bench-history-query"})
        try:
            check_answers(base, {n: ws[n] for n in args.workloads}, days)
            rng = random.Random(args.seed)
            for clients in args.clients:
                for name in chosen:
                    log(f"phase 3: {name}, {clients} client(s), {args.seconds:.0f} s")
                    run = asyncio.run(measure(base, ws[name], clients, args.seconds, args.warmup, rng, api.pid,
                                              engine))  # fmt: skip
                    runs.append(run)
                    log(f"  {run.rate:,.1f} req/s; p50 {ms(run.p50)} ms, p99 {ms(run.p99)} ms; "
                        f"{size(run.mean_bytes)}/answer; server mean "
                        f"{ms(run.server_sum / max(run.server_count, 1))} ms; CPU API {run.cpu_api:.0%}, "
                        f"PostgreSQL {run.cpu_db:.0%}, clients {run.cpu_clients:.0%}; load {run.load:.1f}")  # fmt: skip
        finally:
            engine.dispose()
            stop(api)
            log(f"stopped the API (log: {logfile})")

        missed = [r for r in runs if r.workload.name != "healthz" and r.p99 >= GOAL]
        profiled: list[Profiled] = []
        if args.profile or missed:
            names = [n for n in args.workloads if args.profile or any(r.workload.name == n for r in missed)]
            out = WORK / f"history-query-{tag}-profile.txt"
            log(f"phase 4: profile of {', '.join(names)} in-process ({args.profile_calls} calls each) -> {out}")
            profiled = profile(url, names, codes, first, last, today, args.profile_calls, out)

    rows: list[tuple[str, str]] = [
        ("history", f"{len(codes)} regions x {days:,} days ({first} to {last}) = {filled['rows']:,.0f} closing "
                    f"snapshots, simulated; score_snapshots {filled['bytes'] / 2**30:.2f} GiB; filled (COPY) at "
                    f"{filled['rows'] / filled['copy_seconds']:,.0f} rows/s"),
    ]  # fmt: skip
    for clients in args.clients:
        base_run = next(r for r in runs if r.clients == clients and r.workload.name == "healthz")
        for r in (r for r in runs if r.clients == clients):
            who = f"{clients} client{'s' if clients > 1 else ''}: {r.workload.label}"
            rows.append((who + ": req/s; p50 / p99", f"{r.rate:,.1f} req/s; {ms(r.p50)} / {ms(r.p99)} ms"))
            if r is not base_run:
                rows.append(("... **ratio to /healthz: p50; p99; req/s**",
                             f"**{r.p50 / base_run.p50:,.1f}; {r.p99 / base_run.p99:,.1f}; "
                             f"{r.rate / base_run.rate:.4f}**"))  # fmt: skip
            within = r.server_within_goal / r.server_count if r.server_count else float("nan")
            cpu = f"{r.cpu_api:.0%} / {r.cpu_db:.0%} / {r.cpu_clients:.0%} of a core"
            rows.append(("... answer; server time mean, share within 100 ms; CPU API / PostgreSQL / clients; "
                         "machine load", f"{size(r.mean_bytes)}; {ms(r.server_sum / max(r.server_count, 1))} ms, "
                         f"{within:.1%}; {cpu}; {r.load:.1f}"))  # fmt: skip
    for clients in args.clients:
        judged = [r for r in runs if r.clients == clients and r.workload.name != "healthz"]
        verdict = "; ".join(f"{r.workload.name} {'met' if r.p99 < GOAL else '**missed**'} ({ms(r.p99)} ms)"
                            for r in judged)  # fmt: skip
        rows.append((f"goal p99 < 100 ms, {clients} client{'s' if clients > 1 else ''}", verdict))
    for p in profiled:
        rows.append((f"profile {p.label}, in-process: a call; shares under cProfile (~ms of the call)",
                     f"{ms(p.per_call)} ms; {shares(p)}"))  # fmt: skip
        rows.append(("... EXPLAIN ANALYZE of its SQL", f"{p.explain_ms:.1f} ms ({p.explain_plan})"))
    report("History query API", f"{machine()}; PostgreSQL {pg} local (loopback); one `pantau history api` (uvicorn, "
           f"one process); aiohttp clients on the same machine; {args.seconds:.0f} s a workload after "
           f"{args.warmup:.0f} s of warm-up.", rows, record=not args.no_record)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
