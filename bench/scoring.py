"""Scoring benchmark (issue: one worker >= 10k events/s against the real broker).

Phases, all in one run against the local broker:
1. produce N synthetic events over all 514 regions into fresh topics;
2. baseline: a raw aiokafka consumer reads the whole topic (no processing);
3. one scoring worker (`pantau scoring run`) processes the same topic from the start;
   sustained events/s from its first to its last event, and its peak RSS;
4. latency: a steady load (default 2,000 events/s, event time = now) into the caught-up worker;
   p50/p99 of pantau_event_to_score_latency_seconds;
5. the same with a second worker in the group (scale-out is Kafka's own), over both workers;
6. recovery: with the steady load running and the worker holding all 514 regions, stop it and start
   it again at once, first cleanly (SIGTERM, the baseline), then with SIGKILL, then with SIGKILL and
   the new worker a dynamic group member (as before static membership); the time from the signal to
   the new worker being caught up (its lag at most half a second of the load).

Usage: .venv/bin/python bench/scoring.py [--events 1000000] [--rate 2000] [--latency-seconds 60]
       [--no-second-worker] [--no-recovery]
Results are appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from kafka import KafkaConsumer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import broker_with_topics, log, report  # noqa: E402
from pantau.feed import event_bytes, synthetic_events, typical_range  # noqa: E402
from schemas.framework import load_framework  # noqa: E402
from schemas.regions import default_registry  # noqa: E402
from services.scoring.config import ScoringSettings  # noqa: E402
from services.scoring.metrics import LATENCY_BUCKETS  # noqa: E402
from tests.integration.helpers import free_port, http_get  # noqa: E402


async def produce(bootstrap: str, topic: str, records, total: int) -> float:
    p = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=20,
                         max_batch_size=512 * 1024)  # fmt: skip
    await p.start()
    try:
        t0 = time.perf_counter()
        pending = []
        for i, (k, v) in enumerate(records, 1):
            pending.append(await p.send(topic, key=k, value=v))
            if i % 100_000 == 0:
                await asyncio.gather(*pending)
                pending.clear()
                log(f"  produced {i:,}/{total:,}")
        await asyncio.gather(*pending)
        return time.perf_counter() - t0
    finally:
        await p.stop()


async def raw_read(bootstrap: str, topic: str, total: int) -> float:
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                         auto_offset_reset="earliest", max_poll_records=10_000)  # fmt: skip
    await c.start()
    try:
        meta = KafkaConsumer(bootstrap_servers=bootstrap)
        parts = meta.partitions_for_topic(topic) or set()
        meta.close()
        if not parts:
            raise SystemExit(f"no partitions for {topic}")
        c.assign([TopicPartition(topic, p) for p in parts])
        n = 0
        t0 = None
        while n < total:
            batch = await c.getmany(timeout_ms=1000, max_records=10_000)
            for recs in batch.values():
                if recs and t0 is None:
                    t0 = time.perf_counter()
                n += len(recs)
        return n / (time.perf_counter() - (t0 or time.perf_counter()))
    finally:
        await c.stop()


async def steady_feed(bootstrap: str, topic: str, fw, regions: list[str], rate: int, seconds: float) -> None:
    """``rate`` events/s of live indicators, event time = now, for ``seconds``.

    aiokafka, paced every 10 ms: the load generator shares the machine's two cores with the worker
    and the broker, so it must be cheap (kafka-python's producer took most of a core at 2,000/s).
    """
    rng = random.Random(3)
    live = [i for i in fw.indicators if i.aggregation.method != "latest"]
    ranges = {i.id: typical_range(i) for i in live}
    p = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2)
    await p.start()
    try:
        t0 = time.perf_counter()
        sent = 0
        while (elapsed := time.perf_counter() - t0) < seconds:
            now = datetime.now(UTC)
            while sent < int(elapsed * rate):
                ind = live[sent % len(live)]
                region = regions[rng.randrange(len(regions))]
                lo, hi = ranges[ind.id]
                await p.send(topic, key=region.encode(), value=event_bytes(region, ind, rng.uniform(lo, hi), now))
                sent += 1
            await asyncio.sleep(0.01)
        await p.flush()
    finally:
        await p.stop()


def processed(port: int) -> float:
    # /healthz is cheap; scraping /metrics ten times a second would load the worker being measured.
    status, body = http_get(f"http://127.0.0.1:{port}/healthz")
    return float(json.loads(body)["processed"]) if status == 200 else -1.0


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quantile_from_histogram(text: str, name: str, q: float) -> float:
    buckets = []
    for line in text.splitlines():
        if line.startswith(name + "_bucket{"):
            le = line.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), float(line.rsplit(" ", 1)[1])))
    buckets.sort()
    total = buckets[-1][1]
    if total == 0:
        return float("nan")
    rank = q * total
    prev_le, prev_c = 0.0, 0.0
    for le, c in buckets:
        if c >= rank:
            if le == float("inf"):
                return float("inf")  # beyond the top bucket
            return prev_le + (le - prev_le) * ((rank - prev_c) / max(c - prev_c, 1e-9))
        prev_le, prev_c = le, c
    return buckets[-1][0]


def share_within(text: str, name: str, le: float) -> float:
    """The share of observations at or below the bucket bound ``le`` (an exact count, no interpolation)."""
    counts = {}
    for line in text.splitlines():
        if line.startswith(name + "_bucket{"):
            bound = line.split('le="')[1].split('"')[0]
            counts[float("inf") if bound == "+Inf" else float(bound)] = float(line.rsplit(" ", 1)[1])
    total = counts.get(float("inf"), 0.0)
    return counts[le] / total if total else float("nan")


def histogram_delta(before: str, after: str, name: str) -> str:
    """The bucket lines of histogram ``name`` in ``after`` minus those in ``before`` (Prometheus text)."""
    old = {ln.rsplit(" ", 1)[0]: float(ln.rsplit(" ", 1)[1]) for ln in before.splitlines()
           if ln.startswith(name + "_bucket{")}  # fmt: skip
    out = []
    for line in after.splitlines():
        if line.startswith(name + "_bucket{"):
            key, value = line.rsplit(" ", 1)
            out.append(f"{key} {float(value) - old.get(key, 0.0)}")
    return "\n".join(out)


def _ms(seconds: float) -> str:
    top = LATENCY_BUCKETS[-1]
    return f"> {top * 1000:,.0f} ms (beyond the top bucket)" if seconds > top else f"{seconds * 1000:,.0f} ms"


@dataclass(frozen=True)
class Latency:
    p50: float
    p99: float
    within: float  # share within 500 ms
    age_p99: float
    cpu: float  # CPU of the workers during the phase, in cores


def merged_histograms(texts: list[str]) -> str:
    """Bucket lines of several workers' histogram deltas, summed per bucket."""
    total: dict[str, float] = {}
    for text in texts:
        for line in text.splitlines():
            key, value = line.rsplit(" ", 1)
            total[key] = total.get(key, 0.0) + float(value)
    return "\n".join(f"{k} {v}" for k, v in total.items())


def measure_latency(bootstrap: str, topic: str, fw, regions: list[str], args: argparse.Namespace,
                    workers: dict[int, int]) -> Latency:  # fmt: skip
    """Feed ``args.rate`` events/s for ``args.latency_seconds``; the latency over ``workers`` (port -> pid)."""
    name, age_name = "pantau_event_to_score_latency_seconds", "pantau_scoring_record_age_seconds"
    before = {port: http_get(f"http://127.0.0.1:{port}/metrics")[1].decode() for port in workers}
    cpu0, t0 = sum(cpu_seconds(pid) for pid in workers.values()), time.monotonic()
    asyncio.run(steady_feed(bootstrap, topic, fw, regions, args.rate, args.latency_seconds))
    cpu = (sum(cpu_seconds(pid) for pid in workers.values()) - cpu0) / (time.monotonic() - t0)
    time.sleep(max(2.0, args.publish_interval * 4))
    after = {port: http_get(f"http://127.0.0.1:{port}/metrics")[1].decode() for port in workers}
    lat = merged_histograms([histogram_delta(before[p], after[p], name) for p in workers])
    age = merged_histograms([histogram_delta(before[p], after[p], age_name) for p in workers])
    result = Latency(quantile_from_histogram(lat, name, 0.50), quantile_from_histogram(lat, name, 0.99),
                     share_within(lat, name, 0.5), quantile_from_histogram(age, age_name, 0.99), cpu)  # fmt: skip
    buckets = [ln.rsplit(" ", 1) for ln in lat.splitlines()]
    shown = ", ".join(f"{k.split('=')[1][1:-2]}s {float(v):,.0f}" for k, v in buckets)
    log(f"  latency histogram (cumulative): {shown}")
    log(f"  latency p50 {_ms(result.p50)}, p99 {_ms(result.p99)}, {result.within:.2%} within 500 ms; "
        f"CPU {result.cpu:.0%} of a core")  # fmt: skip
    return result


def wait_until_split(ports: list[int], timeout: float = 120.0) -> None:
    """Until every worker holds partitions of the source topic and together they hold all 12."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = []
        for port in ports:
            text = http_get(f"http://127.0.0.1:{port}/metrics")[1].decode()
            held.append({ln.split('partition="')[1].split('"')[0] for ln in text.splitlines()
                         if ln.startswith("pantau_scoring_consumer_lag_messages{")})  # fmt: skip
        if all(held) and len(set().union(*held)) == 12 and sum(map(len, held)) == 12:
            log(f"  partitions split {' / '.join(str(len(h)) for h in held)}")
            return
        time.sleep(0.5)
    raise SystemExit("the workers did not split the partitions within 2 minutes")


def lag_by_partition(port: int) -> dict[str, float] | None:
    """The worker's consumer lag per source partition, or None while it does not answer."""
    status, body = http_get(f"http://127.0.0.1:{port}/metrics", timeout=1.0)
    if status != 200:
        return None
    return {ln.split('partition="')[1].split('"')[0]: float(ln.rsplit(" ", 1)[1]) for ln in body.decode().splitlines()
            if ln.startswith("pantau_scoring_consumer_lag_messages{")}  # fmt: skip


@dataclass(frozen=True)
class Restart:
    """Seconds from the signal to: the old process gone, the new one answering HTTP, holding all 12
    partitions, and caught up; and the largest lag seen meanwhile."""

    gone: float
    web: float
    assigned: float
    caught_up: float
    lag_peak: float


def measure_restart(worker: subprocess.Popen, sig: int, start: Callable[[], subprocess.Popen], port: int,
                    caught_up_at: float, timeout: float = 120.0) -> tuple[subprocess.Popen, Restart]:  # fmt: skip
    """Send ``sig`` to ``worker``, start its replacement as soon as it is gone (as a supervisor would),
    and poll the new worker every 50 ms until its total lag is at most ``caught_up_at`` records."""
    t0 = time.monotonic()
    worker.send_signal(sig)
    worker.wait(60)
    gone = time.monotonic() - t0
    new = start()
    web = assigned = None
    peak = 0.0
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        lags = lag_by_partition(port)
        now = time.monotonic() - t0
        if lags is not None and web is None:
            web = now
        if lags is not None and len(lags) == 12:
            assigned = assigned or now
            total = sum(lags.values())
            peak = max(peak, total)
            if total <= caught_up_at:
                return new, Restart(gone, web or now, assigned, now, peak)
        time.sleep(0.05)
    raise SystemExit(f"the restarted worker was not caught up within {timeout:.0f} s (last lag {lags})")


def wait_until_holding_all(port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(lag_by_partition(port) or {}) == 12:
            return
        time.sleep(0.5)
    raise SystemExit("the worker did not hold the 12 partitions within 2 minutes")


#: Phase 6's restarts: name, signal, settings of the new worker.
RESTARTS = (("sigterm", signal.SIGTERM, {}), ("sigkill", signal.SIGKILL, {}),
            ("sigkill_dynamic", signal.SIGKILL, {"SCORING_STATIC_MEMBERSHIP": "false"}))  # fmt: skip


def measure_recovery(bootstrap: str, topic: str, fw, regions: list[str], args: argparse.Namespace,
                     worker: subprocess.Popen, start: Callable[[dict[str, str]], subprocess.Popen],
                     port: int) -> tuple[subprocess.Popen, dict[str, Restart | float]]:  # fmt: skip
    """Phase 6: a clean restart (the baseline), a SIGKILL restart, and a SIGKILL restart as a dynamic
    group member, each under the steady load."""
    caught_up_at = args.rate * 0.5
    out: dict[str, Restart | float] = {}
    for name, sig, env in RESTARTS:
        feed = threading.Thread(target=lambda: asyncio.run(steady_feed(bootstrap, topic, fw, regions, args.rate, 50)))
        feed.start()
        time.sleep(5.0)  # steady: the lag now is the worker's normal one
        steady = []
        for _ in range(20):
            steady.append(sum((lag_by_partition(port) or {}).values()))
            time.sleep(0.1)
        worker, r = measure_restart(worker, sig, lambda env=env: start(env), port, caught_up_at)
        log(f"  {name}: gone {r.gone:.2f} s, web {r.web:.2f} s, 12 partitions {r.assigned:.2f} s, caught up "
            f"{r.caught_up:.2f} s (lag <= {caught_up_at:,.0f}; peak {r.lag_peak:,.0f}; steady before "
            f"{max(steady):,.0f})")  # fmt: skip
        out[name] = r
        out[f"{name}_steady_lag"] = max(steady)
        feed.join()
    return worker, out


def recovery_rows(recovery: dict[str, Restart | float], rate: int) -> list[tuple[str, str]]:
    rows = []
    for name, what in (("sigterm", "restart after SIGTERM (baseline)"), ("sigkill", "restart after SIGKILL"),
                       ("sigkill_dynamic", "restart after SIGKILL, as a dynamic member (before)")):  # fmt: skip
        r = recovery[name]
        assert isinstance(r, Restart)
        rows.append((f"{what}: signal -> caught up (lag <= {rate * 0.5:,.0f})",
                     f"{r.caught_up:.1f} s (process gone {r.gone:.1f} s, HTTP {r.web:.1f} s, "
                     f"12 partitions {r.assigned:.1f} s; lag peak {r.lag_peak:,.0f}, "
                     f"steady {recovery[name + '_steady_lag']:,.0f})"))  # fmt: skip
    term, kill, dynamic = recovery["sigterm"], recovery["sigkill"], recovery["sigkill_dynamic"]
    assert isinstance(term, Restart) and isinstance(kill, Restart) and isinstance(dynamic, Restart)
    rows.append(("**ratio SIGKILL / SIGTERM recovery**", f"**{kill.caught_up / term.caught_up:.2f}**"))
    rows.append(("**ratio SIGKILL static / dynamic member**", f"**{kill.caught_up / dynamic.caught_up:.2f}**"))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--rate", type=int, default=2000, help="events/s of the latency phase")
    ap.add_argument("--latency-seconds", type=int, default=60)
    ap.add_argument(
        "--publish-interval",
        type=float,
        default=ScoringSettings.model_fields["publish_interval"].default,
        help="SCORING_PUBLISH_INTERVAL for the run (coalescing bounds the latency); default: the service's",
    )
    ap.add_argument("--store", default="rocksdb", choices=["rocksdb", "memory"])
    ap.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    ap.add_argument("--no-second-worker", dest="second_worker", action="store_false",
                    help="skip phase 5 (latency with a second worker in the group)")  # fmt: skip
    ap.add_argument("--no-recovery", dest="recovery", action="store_false",
                    help="skip phase 6 (restart after SIGTERM and SIGKILL, time to caught up)")  # fmt: skip
    args = ap.parse_args()

    bootstrap, prefix = broker_with_topics("bench")
    topic = prefix + "indicator-events"
    fw = load_framework()
    regions = sorted(default_registry().regions)

    log(f"phase 1: producing {args.events:,} events over {len(regions)} regions into {topic}")
    secs = asyncio.run(produce(bootstrap, topic, synthetic_events(fw, regions, args.events), args.events))
    produce_rate = args.events / secs
    log(f"  producer: {produce_rate:,.0f} events/s")

    log("phase 2: raw aiokafka consumer baseline")
    raw_rate = asyncio.run(raw_read(bootstrap, topic, args.events))
    log(f"  raw read: {raw_rate:,.0f} events/s")

    log("phase 3: one scoring worker")
    port = free_port()
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "SCORING_TOPIC_PREFIX": prefix,
           "SCORING_APP_ID": f"bench-scoring-{prefix}", "SCORING_WEB_PORT": str(port),
           "SCORING_DATA_DIR": str(ROOT / ".pantau" / "bench"), "SCORING_STORE": args.store,
           "SCORING_PUBLISH_INTERVAL": str(args.publish_interval), "PANTAU_LOG_FORMAT": "json",
           "SCORING_LOG_LEVEL": "WARNING"}  # fmt: skip
    logf = (ROOT / ".pantau" / "bench-scoring.log").open("w")

    workers: list[subprocess.Popen] = []  # every worker started, stopped at the end if still running

    def start_worker(extra: dict[str, str] | None = None) -> subprocess.Popen:
        argv = [sys.executable, "-m", "pantau.cli", "scoring", "run"]
        workers.append(subprocess.Popen(argv, env={**env, **(extra or {})}, stdout=logf, stderr=subprocess.STDOUT))
        return workers[-1]

    worker = start_worker()
    try:
        t_first = None
        last_log = 0.0
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            n = processed(port)
            now = time.perf_counter()
            if n > 0 and t_first is None:
                t_first, n_first = now, n
            if n >= args.events:
                break
            if now - last_log > 5:
                log(f"  worker processed {max(n, 0):,.0f}/{args.events:,}")
                last_log = now
            time.sleep(0.1)
        else:
            raise SystemExit("the worker did not finish within 30 minutes")
        t_end = time.perf_counter()
        score_rate = (args.events - n_first) / (t_end - t_first)
        rss_after_throughput = peak_rss_mb(worker.pid)
        log(f"  scoring worker: {score_rate:,.0f} events/s, peak RSS {rss_after_throughput:,.0f} MiB")

        one = None
        if args.latency_seconds > 0:
            log(f"phase 4: latency at {args.rate:,} events/s for {args.latency_seconds}s (event time = now)")
            # Let the publications of phase 3's last records happen first: their latency includes the
            # time they waited in the topic before the worker started, and must not count here.
            time.sleep(max(3.0, args.publish_interval * 3))
            one = measure_latency(bootstrap, topic, fw, regions, args, {port: worker.pid})
        rss = peak_rss_mb(worker.pid)
        two = None
        if args.second_worker:
            log(f"phase 5: a second worker joins; latency at {args.rate:,} events/s over both")
            port2 = free_port()
            env2 = {**env, "SCORING_WEB_PORT": str(port2), "SCORING_DATA_DIR": str(ROOT / ".pantau" / "bench2")}
            logf2 = (ROOT / ".pantau" / "bench-scoring-2.log").open("w")
            worker2 = subprocess.Popen([sys.executable, "-m", "pantau.cli", "scoring", "run"], env=env2,
                                       stdout=logf2, stderr=subprocess.STDOUT)  # fmt: skip
            workers.append(worker2)
            wait_until_split([port, port2])
            time.sleep(5.0)  # the moved partitions' states restored, their scores published
            two = measure_latency(bootstrap, topic, fw, regions, args, {port: worker.pid, port2: worker2.pid})
        recovery = None
        if args.recovery:
            log(f"phase 6: restarts under {args.rate:,} events/s, {len(regions)} regions held: SIGTERM, then SIGKILL")
            if len(workers) > 1:
                workers[1].terminate()
                workers[1].wait(60)
                wait_until_holding_all(port)
            worker, recovery = measure_recovery(bootstrap, topic, fw, regions, args, worker, start_worker, port)
    finally:
        running = [w for w in workers if w.poll() is None]
        for w in running:
            w.terminate()
        for w in running:
            w.wait(60)

    catchup = ScoringSettings.model_fields["catchup_publish_interval"].default
    setup = (f"Kafka local single node; store {args.store}; publish interval {args.publish_interval}s when caught up, "
             f"{catchup}s while behind.")  # fmt: skip
    report("Scoring", setup, [
        ("events", f"{args.events:,} over {len(regions)} regions, {len(fw.indicators)} indicators"),
        ("producer (aiokafka, acks=all, idempotent)", f"{produce_rate:,.0f} events/s"),
        ("raw aiokafka consumer (baseline)", f"{raw_rate:,.0f} events/s"),
        ("one scoring worker, sustained", f"{score_rate:,.0f} events/s"),
        ("**ratio worker / raw consumer**", f"**{score_rate / raw_rate:.3f}**"),
        *([] if one is None else [
            (f"latency at {args.rate:,} events/s, p50", _ms(one.p50)),
            (f"latency at {args.rate:,} events/s, p99", _ms(one.p99)),
            ("events whose score was published within 500 ms (exact, from the 0.5 s bucket)", f"{one.within:.2%}"),
            ("of which in Kafka and the fetch (record age when applied, p99 of batches)", _ms(one.age_p99)),
            ("worker CPU during the latency phase", f"{one.cpu:.0%} of a core"),
        ]),
        ("worker peak RSS", f"{rss:,.0f} MiB"),
        *([] if two is None else [
            (f"two workers (one more joined), latency at {args.rate:,} events/s, p50 / p99",
             f"{_ms(two.p50)} / {_ms(two.p99)}"),
            ("... within 500 ms; CPU of the two workers", f"{two.within:.2%}; {two.cpu:.0%} of a core"),
        ]),
        *([] if recovery is None else recovery_rows(recovery, args.rate)),
    ], record=not args.no_record)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
