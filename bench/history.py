"""History writer benchmark (issue 13): the region-scores it keeps up with, and its lag after a 1M-score backlog.

Phases, all in one run against the local broker and the local PostgreSQL, in topics of the run's own:
1. baseline: --events synthetic indicator events (as bench/scoring.py makes them), then one scoring
   worker (`pantau scoring run`) drains them; the RegionScores it publishes per second while it works
   through that backlog (its pantau_region_scores_published_total, from its first event applied to its
   last). Then, caught up, --rate events/s (event time = now) for --live-seconds: its publication rate
   live. Its last score of each of the 514 regions becomes that region's template; the worker stops.
2. backlog: --scores RegionScore records (default 1,000,000) made from the templates, evaluated_at
   spread evenly over the --days before now (every region in turn, so each region's scores are
   days / (scores / 514) apart: with the defaults about 15 minutes, each in a 5-minute step of its
   own, about 21 local days each), events_applied counting up, the templates' reading times moved
   before the first of them; produced into fresh topics.
3. one history writer (`pantau history run`, a consumer group and a database of its own, created for
   the run and dropped at its end) drains the backlog: its lag (log end offsets minus the offsets it
   committed to the database) every --every seconds until 0, the time to drain, region-scores/s and
   rows/s (its /metrics), as ratios to phase 1's rates; the rows in the table against those the
   downsampling rules give for the scores produced.

Usage: .venv/bin/python bench/history.py [--events 1000000] [--scores 1000000] [--days 20] [--every 5]
       [--rate 2000] [--live-seconds 30] [--no-record]
Results are appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer
from aiokafka import TopicPartition as AioTopicPartition
from kafka import KafkaConsumer, TopicPartition

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import broker_with_topics, fresh_database, log, report, sample  # noqa: E402
from bench.scoring import cpu_seconds, peak_rss_mb, processed, produce, steady_feed  # noqa: E402
from pantau.feed import synthetic_events  # noqa: E402
from schemas.framework import load_framework  # noqa: E402
from schemas.regions import default_registry  # noqa: E402
from schemas.scores import RegionScore  # noqa: E402
from services.history.config import HistorySettings  # noqa: E402
from services.history.domain import closing_day, fine_slot  # noqa: E402
from services.scoring.config import ScoringSettings  # noqa: E402
from tests.integration.helpers import free_port, http_get  # noqa: E402

SCORES = "region-scores"
HISTORY = HistorySettings.model_fields
FINE_STEP: timedelta = HISTORY["fine_step"].default
FINE_RETENTION: timedelta = HISTORY["fine_retention"].default
LOGS = ROOT / ".pantau"


# ---------------------------------------------------------------------------------------------- phase 1


@dataclass(frozen=True)
class Baseline:
    backlog_rate: float  # RegionScores/s while the worker drained the event backlog
    events_rate: float  # events/s it applied meanwhile
    live_rate: float | None  # RegionScores/s at --rate events/s, caught up


def published(port: int) -> float:
    status, body = http_get(f"http://127.0.0.1:{port}/metrics", timeout=10.0)
    if status != 200:
        raise SystemExit(f"the scoring worker's /metrics answered {status}")
    return sample(body.decode(), "pantau_region_scores_published_total")


def scoring_baseline(bootstrap: str, prefix: str, fw: Any, regions: list[str], args: argparse.Namespace) -> Baseline:
    """Phase 1: the rates one scoring worker publishes RegionScores at, draining a backlog and live."""
    topic = prefix + "indicator-events"
    log(f"phase 1: {args.events:,} events over {len(regions)} regions into {topic}, then one scoring worker")
    secs = asyncio.run(produce(bootstrap, topic, synthetic_events(fw, regions, args.events), args.events))
    log(f"  producer: {args.events / secs:,.0f} events/s")
    port = free_port()
    state = LOGS / f"bench-history-scoring-{prefix.rstrip('-')}"
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "SCORING_TOPIC_PREFIX": prefix,
           "SCORING_APP_ID": f"bench-history-scoring-{prefix}", "SCORING_WEB_PORT": str(port),
           "SCORING_DATA_DIR": str(state), "PANTAU_LOG_FORMAT": "json",
           "SCORING_LOG_LEVEL": "WARNING"}  # fmt: skip
    with (LOGS / "bench-history-scoring.log").open("w") as logf:
        worker = subprocess.Popen([sys.executable, "-m", "pantau.cli", "scoring", "run"], env=env, stdout=logf,
                                  stderr=subprocess.STDOUT)  # fmt: skip
        try:
            first: tuple[float, float, float] | None = None  # (time, events, scores) at the first event seen
            last_log = 0.0
            deadline = time.monotonic() + 1800
            while True:
                if worker.poll() is not None:
                    raise SystemExit(f"the scoring worker exited ({worker.returncode}); see {logf.name}")
                if time.monotonic() > deadline:
                    raise SystemExit("the scoring worker did not apply the backlog within 30 minutes")
                n = processed(port)
                now = time.perf_counter()
                if n > 0 and first is None:
                    first = (now, n, published(port))
                if n >= args.events:
                    break
                if now - last_log > 5:
                    log(f"  scoring worker applied {max(n, 0):,.0f}/{args.events:,}")
                    last_log = now
                time.sleep(0.1)
            assert first is not None
            t_end, scores_end = time.perf_counter(), published(port)
            backlog_rate = (scores_end - first[2]) / (t_end - first[0])
            events_rate = (args.events - first[1]) / (t_end - first[0])
            log(f"  scoring worker: {events_rate:,.0f} events/s applied, {backlog_rate:,.0f} RegionScores/s published "
                f"({scores_end - first[2]:,.0f} in {t_end - first[0]:.1f} s)")  # fmt: skip
            live_rate = None
            if args.live_seconds > 0:
                time.sleep(3.0)  # the backlog's last publications first
                log(f"  live: {args.rate:,} events/s (event time = now) for {args.live_seconds} s")
                before, t0 = published(port), time.perf_counter()
                asyncio.run(steady_feed(bootstrap, topic, fw, regions, args.rate, args.live_seconds))
                live_rate = (published(port) - before) / (time.perf_counter() - t0)
                log(f"  scoring worker, live: {live_rate:,.0f} RegionScores/s published")
        finally:
            worker.terminate()
            worker.wait(60)
            shutil.rmtree(state, ignore_errors=True)  # its table state: of no use after the run
    return Baseline(backlog_rate, events_rate, live_rate)


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        ends = consumer.end_offsets([TopicPartition(topic, p) for p in parts])
        return {tp.partition: int(end) for tp, end in ends.items()}
    finally:
        consumer.close()


def published_in_topic(bootstrap: str, topic: str) -> int:
    return sum(end_offsets(bootstrap, topic).values())


async def last_by_key(bootstrap: str, topic: str) -> dict[str, bytes]:
    """The last value of each key now on ``topic`` (aiokafka: kafka-python reads 10 KiB records slowly)."""
    ends = end_offsets(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                max_partition_fetch_bytes=8 * 2**20, fetch_max_bytes=64 * 2**20)  # fmt: skip
    await consumer.start()
    try:
        tps = [AioTopicPartition(topic, p) for p in ends]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        last: dict[str, bytes] = {}
        left = {tp for tp in tps if ends[tp.partition] > 0}
        deadline = time.monotonic() + 300
        while left:
            if time.monotonic() > deadline:
                raise SystemExit(f"could not read {topic} to its end within 5 minutes")
            for tp, recs in (await consumer.getmany(timeout_ms=1000, max_records=10_000)).items():
                for rec in recs:
                    if rec.offset < ends[tp.partition]:
                        last[rec.key.decode()] = rec.value
                if recs and recs[-1].offset >= ends[tp.partition] - 1:
                    left.discard(tp)
        return last
    finally:
        await consumer.stop()


def templates(bootstrap: str, topic: str, regions: list[str]) -> dict[str, dict[str, Any]]:
    """The last RegionScore of each region on ``topic`` (each checked against the contract)."""
    last = asyncio.run(last_by_key(bootstrap, topic))
    missing = sorted(set(regions) - set(last))
    if missing:
        raise SystemExit(f"no score of {len(missing)} regions ({', '.join(missing[:5])}...): raise --events")
    out = {}
    for region in regions:
        RegionScore.model_validate_json(last[region])
        out[region] = orjson.loads(last[region])
    return out


# ---------------------------------------------------------------------------------------------- phase 2


@dataclass(frozen=True)
class Backlog:
    """``n`` scores of ``regions`` in turn, the i-th evaluated at ``start + i * dt``."""

    regions: list[str]
    n: int
    start: datetime
    dt: timedelta

    @classmethod
    def over(cls, regions: list[str], n: int, days: float, now: datetime) -> Backlog:
        dt = timedelta(days=days) / n
        return cls(regions, n, now - dt * n, dt)

    @property
    def spacing(self) -> timedelta:
        """Between two scores of one region."""
        return self.dt * len(self.regions)

    def records(self, templates: dict[str, dict[str, Any]]) -> Iterator[tuple[bytes, bytes]]:
        docs = [(r.encode(), moved_before(templates[r], self.start)) for r in self.regions]
        applied = [d["events_applied"] for _k, d in docs]
        count = len(docs)
        at = self.start
        for i in range(self.n):
            key, doc = docs[i % count]
            doc["evaluated_at"] = at
            doc["events_applied"] = applied[i % count] + i // count
            yield key, orjson.dumps(doc)
            at += self.dt

    def expected_rows(self, now: datetime) -> tuple[int, int]:
        """(fine, day) rows the downsampling rules keep for these scores: distinct steps (within the
        retention at ``now``) and distinct local days, per region."""
        fine: set[tuple[int, datetime]] = set()
        days: set[tuple[int, object]] = set()
        at = self.start
        count = len(self.regions)
        cutoff = now - FINE_RETENTION
        for i in range(self.n):
            slot = fine_slot(at, FINE_STEP)
            if slot >= cutoff:
                fine.add((i % count, slot))
            days.add((i % count, closing_day(at, self.regions[i % count])))
            at += self.dt
        return len(fine), len(days)


def moved_before(doc: dict[str, Any], start: datetime) -> dict[str, Any]:
    """A copy of a RegionScore document whose readings are moved by as much as its evaluation time is
    moved to ``start``: none of them later than any evaluation time of the backlog."""
    out: dict[str, Any] = orjson.loads(orjson.dumps(doc))
    shift = start - datetime.fromisoformat(doc["evaluated_at"])
    for ind in out["indicators"]:
        if ind.get("observed_at"):
            ind["observed_at"] = (datetime.fromisoformat(ind["observed_at"]) + shift).isoformat()
    return out


def check_disk(scores: int, record_bytes: float, row_bytes: float) -> str:
    """Refuse to start a backlog the disk cannot hold; the estimate, for the setup line."""
    from pantau.config import PlatformSettings
    from pantau.kafka_local import LocalKafka
    from pantau.postgres_local import LocalPostgres

    kafka_need = scores * record_bytes * 1.1
    db_need = scores * row_bytes * 3  # heap, index and WAL
    need: dict[int, list[float]] = {}
    where: dict[int, Path] = {}
    platform, history = PlatformSettings(), HistorySettings()
    for path, bytes_ in ((None if platform.external_kafka else LocalKafka.from_settings(platform).data_dir, kafka_need),
                         (None if history.external_database else LocalPostgres.from_settings(history).data_dir,
                          db_need)):  # fmt: skip
        if path is None:
            continue
        probe = path if path.exists() else ROOT
        dev = probe.stat().st_dev
        need.setdefault(dev, []).append(bytes_)
        where[dev] = probe
    for dev, amounts in need.items():
        free = shutil.disk_usage(where[dev]).free
        if sum(amounts) + 5e9 > free:
            raise SystemExit(f"the backlog needs about {sum(amounts) / 1e9:,.1f} GB on {where[dev]} and "
                             f"{free / 1e9:,.1f} GB are free (5 GB kept spare): lower --scores")  # fmt: skip
        log(
            f"  disk: about {sum(amounts) / 1e9:,.1f} GB needed on the file system of {where[dev]}, "
            f"{free / 1e9:,.1f} GB free"
        )
    return f"Kafka ~{kafka_need / 1e9:,.1f} GB, PostgreSQL ~{db_need / 1e9:,.1f} GB estimated"


# ---------------------------------------------------------------------------------------------- phase 3


@dataclass
class Drain:
    started: float = 0.0  # perf_counter when the writer was started
    first_commit: float | None = None  # seconds from the start to its first committed offset
    drained: float | None = None  # seconds from the start to lag 0
    lag: list[tuple[float, int]] = field(default_factory=list)  # (seconds from the start, lag)
    stored: float = 0.0  # region-scores records stored (its metrics)
    rows: dict[str, float] = field(default_factory=dict)  # rows written per table (its metrics)
    cpu: float = 0.0  # CPU seconds of the writer during the drain
    db_cpu: float = 0.0  # CPU seconds of its PostgreSQL backends during the drain
    rss: float = 0.0
    table: dict[str, int] = field(default_factory=dict)  # rows in score_snapshots per resolution
    sizes: tuple[int, int] = (0, 0)  # score_snapshots (with indexes) and the database, bytes
    load: list[float] = field(default_factory=list)  # the machine's 1-minute load average at each lag sample

    @property
    def busy(self) -> float:
        """From the first commit to lag 0: the writer at work."""
        assert self.drained is not None and self.first_commit is not None
        return self.drained - self.first_commit


COMMITTED = sa.text("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE consumer = :g AND topic = :t")


def committed(engine: sa.Engine, group: str, topic: str) -> int:
    """Offsets the writer committed to its database (0 before its migrations made the table)."""
    try:
        with engine.connect() as conn:
            return int(conn.execute(COMMITTED, {"g": group, "t": topic}).scalar_one())
    except sa.exc.ProgrammingError:  # the table is not there yet
        return 0


def backend_cpu(engine: sa.Engine, database: str, seen: dict[int, tuple[float, float]]) -> None:
    """Update ``seen`` (pid -> (first, last) CPU seconds) with the writer's PostgreSQL backends."""
    with engine.connect() as conn:
        pids = conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND application_name = "
                                    "'pantau-history'"), {"d": database}).scalars().all()  # fmt: skip
    for pid in pids:
        try:
            now = cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
        seen[pid] = (seen.get(pid, (now, now))[0], now)


def writer_metrics(port: int) -> str:
    status, body = http_get(f"http://127.0.0.1:{port}/metrics", timeout=10.0)
    return body.decode() if status == 200 else ""


def drain(bootstrap: str, prefix: str, url: str, total: int, args: argparse.Namespace) -> Drain:
    """Phase 3: start one history writer on the backlog and follow its lag until 0."""
    group = f"bench-history-{prefix}"
    port = free_port()
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "HISTORY_TOPIC_PREFIX": prefix,
           "HISTORY_GROUP_ID": group, "PANTAU_DATABASE_URL": url, "PANTAU_LOG_FORMAT": "json",
           "HISTORY_LOG_LEVEL": "WARNING"}  # fmt: skip
    if args.max_batch:
        env["HISTORY_MAX_BATCH"] = str(args.max_batch)
    engine = sa.create_engine(url, connect_args={"application_name": "pantau-bench"})
    database = sa.make_url(url).database
    assert database is not None
    topic = prefix + SCORES
    out = Drain()
    backends: dict[int, tuple[float, float]] = {}
    with (LOGS / "bench-history-writer.log").open("w") as logf:
        out.started = time.perf_counter()
        writer = subprocess.Popen([sys.executable, "-m", "pantau.cli", "history", "run", "--web-port", str(port)],
                                  env=env, stdout=logf, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            next_tick, cpu0 = 0.0, 0.0
            prev: tuple[float, int] = (0.0, total)
            deadline = out.started + args.timeout
            while True:
                if writer.poll() is not None:
                    raise SystemExit(f"the history writer exited ({writer.returncode}); see {logf.name}")
                now = time.perf_counter()
                if now > deadline:
                    raise SystemExit(f"the history writer did not drain the backlog within {args.timeout:.0f} s")
                elapsed = now - out.started
                done = committed(engine, group, topic)
                lag = total - done
                if done > 0 and out.first_commit is None:
                    out.first_commit = elapsed
                    cpu0 = cpu_seconds(writer.pid)
                    log(f"  first commit {elapsed:.1f} s after the start")
                if out.first_commit is not None:
                    backend_cpu(engine, database, backends)
                if elapsed >= next_tick or lag == 0:
                    out.lag.append((elapsed, lag))
                    out.load.append(os.getloadavg()[0])
                    rate = (prev[1] - lag) / max(elapsed - prev[0], 1e-9)
                    since = f"  ({rate:,.0f} records/s since {prev[0]:.1f} s)" if out.lag[1:] else ""
                    log(f"  {elapsed:6.1f} s  lag {lag:>10,}{since}")
                    prev = (elapsed, lag)
                    next_tick += args.every
                if lag == 0:
                    out.drained = elapsed
                    break
                time.sleep(0.25)
            out.cpu = cpu_seconds(writer.pid) - cpu0
            out.db_cpu = sum(last - first for first, last in backends.values())
            out.rss = peak_rss_mb(writer.pid)
            text = writer_metrics(port)
            out.stored = sample(text, "pantau_history_records_total", topic=SCORES, outcome="stored")
            out.rows = {t: sample(text, "pantau_history_rows_written_total", table=t)
                        for t in ("score_snapshots", "alert_transitions", "plan_versions")}  # fmt: skip
            letters = sample(text, "pantau_history_records_total", topic=SCORES, outcome="dead_letter")
            if letters:
                log(f"  warning: {letters:,.0f} records went to the dead-letter topic; see {logf.name}")
        finally:
            writer.terminate()
            writer.wait(60)
    with engine.connect() as conn:
        out.table = {str(r): int(n) for r, n in conn.execute(sa.text(
            "SELECT resolution, count(*) FROM score_snapshots GROUP BY resolution"))}  # fmt: skip
        sizes = conn.execute(sa.text("SELECT pg_total_relation_size('score_snapshots'), "
                                     "pg_database_size(current_database())")).one()  # fmt: skip
        out.sizes = (int(sizes[0]), int(sizes[1]))
    engine.dispose()
    return out


def lag_row(lag: list[tuple[float, int]], points: int = 12) -> str:
    """About ``points`` samples of the lag series, evenly spread, the first and the last always."""
    if len(lag) <= points:
        picked = lag
    else:
        stride = (len(lag) - 1) / (points - 1)
        picked = [lag[round(k * stride)] for k in range(points)]
    return "; ".join(f"{t:,.0f} s {n:,}" for t, n in picked)


# ---------------------------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000, help="indicator events of the scoring baseline")
    ap.add_argument("--scores", type=int, default=1_000_000, help="RegionScore records of the backlog")
    ap.add_argument("--days", type=float, default=20.0,
                    help="the backlog's evaluation times spread over this many days before now; within the "
                         f"fine retention ({FINE_RETENTION.days} days) each score may be a fine snapshot")  # fmt: skip
    ap.add_argument("--every", type=float, default=5.0, help="seconds between lag samples")
    ap.add_argument("--rate", type=int, default=2000, help="events/s of the live part of the baseline")
    ap.add_argument("--live-seconds", type=int, default=30, help="length of the live part (0: skip it)")
    ap.add_argument("--max-batch", type=int, default=0,
                    help=f"HISTORY_MAX_BATCH of the writer (default {HISTORY['max_batch'].default})")  # fmt: skip
    ap.add_argument("--timeout", type=float, default=7200.0, help="longest the writer may take to drain (s)")
    ap.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the topics and the database are cleaned up
    LOGS.mkdir(exist_ok=True)

    fw = load_framework()
    regions = sorted(default_registry().regions)
    bootstrap, prefix = broker_with_topics("bench-history")
    base = scoring_baseline(bootstrap, prefix, fw, regions, args)
    docs = templates(bootstrap, prefix + SCORES, regions)
    sizes = [len(orjson.dumps(d)) for d in docs.values()]
    dims = [len(orjson.dumps(d["dimensions"])) for d in docs.values()]
    record_bytes, dims_bytes = sum(sizes) / len(sizes), sum(dims) / len(dims)
    log(f"  {len(docs)} templates, RegionScore records of {record_bytes / 1024:,.1f} KiB on average "
        f"({len(fw.indicators)} indicators, {len(docs[regions[0]]['dimensions'])} dimensions)")  # fmt: skip

    _, backlog_prefix = broker_with_topics("bench-history")
    topic = backlog_prefix + SCORES
    backlog = Backlog.over(regions, args.scores, args.days, datetime.now(UTC) - timedelta(minutes=1))
    log(f"phase 2: {args.scores:,} RegionScores into {topic}, evaluated_at from {backlog.start:%Y-%m-%d %H:%M} UTC, "
        f"one per region every {backlog.spacing.total_seconds() / 60:,.1f} min")  # fmt: skip
    disk = check_disk(args.scores, record_bytes, dims_bytes + 400)
    secs = asyncio.run(produce(bootstrap, topic, backlog.records(docs), args.scores))
    total = published_in_topic(bootstrap, topic)
    if total != args.scores:
        raise SystemExit(f"{total:,} records on {topic}, {args.scores:,} produced")
    log(f"  producer: {args.scores / secs:,.0f} RegionScores/s ({args.scores * record_bytes / secs / 1e6:,.0f} MB/s)")

    log("phase 3: one history writer drains the backlog")
    with fresh_database("bench_history") as url:
        d = drain(bootstrap, backlog_prefix, url, total, args)
    fine, day = backlog.expected_rows(datetime.now(UTC))
    assert d.drained is not None and d.first_commit is not None
    score_rate, rows = d.stored / d.busy, sum(d.rows.values())
    row_rate = rows / d.busy
    log(f"  drained in {d.drained:,.1f} s: {score_rate:,.0f} region-scores/s, {row_rate:,.0f} rows/s")

    live = ScoringSettings.model_fields["publish_interval"].default
    catchup = ScoringSettings.model_fields["catchup_publish_interval"].default
    setup = (f"Kafka local single node, PostgreSQL {server_version(url_of_server())} local; one scoring worker "
             f"(publish interval {live}s caught up, {catchup}s behind), then one history writer (max batch "
             f"{args.max_batch or HISTORY['max_batch'].default}, fine step {FINE_STEP.total_seconds() / 60:.0f} min, "
             f"fine retention {FINE_RETENTION.days} days), in a database of its own; {disk}.")  # fmt: skip
    report("History writer", setup, [
        ("scoring baseline: events applied", f"{args.events:,} over {len(regions)} regions, "
                                             f"{base.events_rate:,.0f} events/s"),
        ("**baseline: RegionScores/s one scoring worker publishes, draining the events**",
         f"**{base.backlog_rate:,.0f}/s**"),
        *([] if base.live_rate is None else [
            (f"... caught up, at {args.rate:,} events/s (event time = now)", f"{base.live_rate:,.0f}/s")]),
        ("backlog", f"{args.scores:,} RegionScores ({record_bytes / 1024:,.1f} KiB each, {len(fw.indicators)} "
                    f"indicators), 514 regions, one per region every {backlog.spacing.total_seconds() / 60:,.1f} "
                    f"min over {args.days:g} days; produced at {args.scores / secs:,.0f}/s"),
        ("writer: start -> first commit", f"{d.first_commit:,.1f} s"),
        ("writer: start -> lag 0 (time to drain)", f"{d.drained:,.1f} s"),
        (f"lag every {args.every:g} s (selection: seconds from the start, records)", lag_row(d.lag)),
        ("writer, first commit -> lag 0: region-scores consumed", f"{score_rate:,.0f}/s ({d.stored:,.0f} stored)"),
        ("... rows written (fine + daily upserts)", f"{row_rate:,.0f}/s ({rows:,.0f})"),
        ("**ratio writer region-scores/s / scoring publish rate (backlog)**",
         f"**{score_rate / base.backlog_rate:.1f}**"),
        *([] if base.live_rate is None else [
            ("**ratio writer region-scores/s / scoring publish rate (live)**",
             f"**{score_rate / base.live_rate:.1f}**")]),
        ("ratio writer rows/s / scoring publish rate (backlog)", f"{row_rate / base.backlog_rate:.1f}"),
        ("rows in score_snapshots (expected by the downsampling rules)",
         f"{d.table.get('fine', 0):,} fine ({fine:,}), {d.table.get('day', 0):,} daily ({day:,})"),
        ("score_snapshots with its indexes; the database",
         f"{d.sizes[0] / 2**20:,.0f} MiB; {d.sizes[1] / 2**20:,.0f} MiB"),
        ("CPU during the drain: writer; its PostgreSQL backends",
         f"{d.cpu / d.busy:.0%} of a core; {d.db_cpu / d.busy:.0%} of a core"),
        ("writer peak RSS", f"{d.rss:,.0f} MiB"),
        ("machine load (1-min load average over the drain: min / mean / max; 2 cores)",
         f"{min(d.load):.1f} / {sum(d.load) / len(d.load):.1f} / {max(d.load):.1f}"),
    ], record=not args.no_record)  # fmt: skip
    if (d.table.get("fine", 0), d.table.get("day", 0)) != (fine, day):
        log("  warning: the rows in the table differ from those expected")
        return 1
    return 0


def url_of_server() -> str:
    return HistorySettings().url()


def server_version(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SHOW server_version")).scalar_one()).split()[0]
    finally:
        engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
