"""Ingest benchmark: events/s accepted over HTTP, in batches and one by one, against a raw producer.

Phases, all in one run against the local broker (loopback), on fresh topics:
1. baseline: a raw aiokafka producer (acks=all, idempotent) writes the batch phase's events, keyed by
   region, into a topic of the same shape (12 partitions): the rate Kafka and the client allow here;
2. HTTP batches: the same events POSTed to `pantau ingest run` in batches of --batch (500), by
   --concurrency clients on keep-alive connections; events/s and per-request latency p50/p99;
3. HTTP one by one: --single other events, one per request, same clients;
4. NGSI-LD: --notify other events as KeyPerformanceIndicator entities (normalised), in Orion-LD
   notifications of --entities each, POSTed to /v1/ngsi-ld/notify by the same clients.

A 2xx is counted only when every event of the request was accepted (the service answers 2xx only
after the broker acknowledged). The load generator shares the machine's cores with the service and
the broker: the ratio to the raw producer (measured in the same run) is the figure to compare.

Usage: .venv/bin/python bench/ingest.py [--events 200000] [--single 10000] [--batch 500]
       [--notify 20000] [--entities 100] [--concurrency 4] [--no-record]
Results are appended to bench/RESULTS.md unless --no-record.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import drop_topics_at_exit, log, report  # noqa: E402
from pantau.config import PlatformSettings  # noqa: E402
from pantau.feed import synthetic_events  # noqa: E402
from pantau.kafka_local import LocalKafka, wait_for_broker  # noqa: E402
from schemas.framework import load_framework  # noqa: E402
from schemas.regions import default_registry  # noqa: E402
from services.ingest.domain.auth import ALL, Scope  # noqa: E402
from services.ingest.publishers import add_publisher  # noqa: E402
from tests.integration.helpers import create_topics, free_port, http_get  # noqa: E402

Record = tuple[bytes, bytes]


def broker() -> str:
    """The bootstrap address of the broker to measure against (the local one is started if need be)."""
    settings = PlatformSettings()
    if not settings.external_kafka:
        LocalKafka.from_settings(settings).up()
    wait_for_broker(settings.bootstrap_servers)
    return settings.bootstrap_servers


async def raw_produce(bootstrap: str, topic: str, records: Sequence[Record]) -> float:
    """Seconds for an idempotent acks=all aiokafka producer to write ``records`` (all acknowledged)."""
    p = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2,
                         max_batch_size=256 * 1024)  # fmt: skip
    await p.start()
    try:
        t0 = time.perf_counter()
        futures = [await p.send(topic, value=v, key=k) for k, v in records]
        await asyncio.gather(*futures)
        return time.perf_counter() - t0
    finally:
        await p.stop()


async def post_all(url: str, key: str, bodies: list[tuple[bytes, int]], concurrency: int) -> tuple[float, list[float]]:
    """POST every (body, n_events) with ``concurrency`` clients; (seconds, request latencies)."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    latencies: list[float] = []
    queue: asyncio.Queue[tuple[bytes, int]] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)

    async def client(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body, n = queue.get_nowait()
            t0 = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as resp:
                answer = await resp.read()
            latencies.append(time.perf_counter() - t0)
            if resp.status != 200 or orjson.loads(answer)["accepted"] != n:
                raise SystemExit(f"ingest answered {resp.status}: {answer[:500]!r}")

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
        return time.perf_counter() - t0, latencies


def notifications(events: Sequence[Record], per: int) -> list[tuple[bytes, int]]:
    """The events as NGSI-LD KeyPerformanceIndicator entities, ``per`` to an Orion-LD notification."""
    entities = []
    for _k, v in events:
        ev = orjson.loads(v)
        kpi = {"type": "Property", "value": ev["value"], "observedAt": ev["observed_at"]}
        entities.append({"id": f"urn:ngsi-ld:KeyPerformanceIndicator:{ev['event_id']}",
                         "type": "KeyPerformanceIndicator", "kpiValue": kpi,
                         "name": {"type": "Property", "value": ev["indicator_id"]},
                         "area": {"type": "Property", "value": ev["region_code"]}})  # fmt: skip
    out = []
    for i in range(0, len(entities), per):
        data = entities[i : i + per]
        note = {
            "id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}",
            "type": "Notification",
            "subscriptionId": "urn:ngsi-ld:Subscription:bench",
            "data": data,
        }
        out.append((orjson.dumps(note), len(data)))
    return out


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def _ms(values: list[float], q: float) -> str:
    return f"{pct(values, q) * 1000:.1f}"


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=200_000, help="events of the batch phase (and the baseline)")
    ap.add_argument("--single", type=int, default=10_000, help="events of the one-by-one phase")
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--notify", type=int, default=20_000, help="events of the NGSI-LD phase")
    ap.add_argument("--entities", type=int, default=100, help="entities per NGSI-LD notification")
    ap.add_argument("--concurrency", type=int, default=4, help="concurrent HTTP clients")
    ap.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = ap.parse_args()

    bootstrap = broker()
    prefix = f"bench-{uuid.uuid4().hex[:6]}-"
    create_topics(bootstrap, prefix)
    drop_topics_at_exit(bootstrap, prefix)
    fw = load_framework()
    regions = sorted(default_registry().regions)
    batch_events = list(synthetic_events(fw, regions, args.events, seed=1))
    single_events = list(synthetic_events(fw, regions, args.single, seed=2))
    notify_events = list(synthetic_events(fw, regions, args.notify, seed=3))

    log(f"phase 1: raw aiokafka producer, {args.events:,} events into {prefix}indicator-events.raw")
    raw_rate = args.events / asyncio.run(raw_produce(bootstrap, prefix + "indicator-events.raw", batch_events))
    log(f"  raw producer: {raw_rate:,.0f} events/s")

    work = ROOT / ".pantau" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    pub_file = work / f"publishers-{prefix}yaml"
    _pub, key = add_publisher(pub_file, "bench", "bench", Scope(regions=(ALL,), indicators=(ALL,)))
    port = free_port()
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "INGEST_TOPIC_PREFIX": prefix,
           "INGEST_PORT": str(port), "INGEST_PUBLISHERS_FILE": str(pub_file), "INGEST_MAX_BATCH": str(args.batch),
           "INGEST_RATE_LIMIT": "100000000/minute", "INGEST_VALIDATOR": "false", "PANTAU_LOG_FORMAT": "json",
           "PANTAU_LOG_LEVEL": "WARNING"}  # fmt: skip
    logf = (work / f"ingest-{prefix}log").open("w")
    service = subprocess.Popen([sys.executable, "-m", "pantau.cli", "ingest", "run"], env=env, stdout=logf,
                               stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while http_get(url + "/readyz")[0] != 200:
            if time.monotonic() > deadline or service.poll() is not None:
                raise SystemExit(f"the ingest service did not get ready; see {logf.name}")
            time.sleep(0.2)

        log(f"phase 2: HTTP, batches of {args.batch}, {args.concurrency} clients")
        bodies = [(b"[" + b",".join(v for _k, v in batch_events[i : i + args.batch]) + b"]",
                   len(batch_events[i : i + args.batch])) for i in range(0, len(batch_events), args.batch)]  # fmt: skip
        secs, batch_lat = asyncio.run(post_all(url + "/v1/events", key, bodies, args.concurrency))
        batch_rate = args.events / secs
        log(f"  batches: {batch_rate:,.0f} events/s; request p50 {pct(batch_lat, 0.5) * 1000:.1f} ms, "
            f"p99 {pct(batch_lat, 0.99) * 1000:.1f} ms")  # fmt: skip

        log(f"phase 3: HTTP, one event per request, {args.concurrency} clients")
        secs, single_lat = asyncio.run(post_all(url + "/v1/events", key, [(v, 1) for _k, v in single_events],
                                                args.concurrency))  # fmt: skip
        single_rate = args.single / secs
        log(f"  one by one: {single_rate:,.0f} events/s; request p50 {pct(single_lat, 0.5) * 1000:.1f} ms, "
            f"p99 {pct(single_lat, 0.99) * 1000:.1f} ms")  # fmt: skip

        log(f"phase 4: NGSI-LD notifications of {args.entities} entities, {args.concurrency} clients")
        notes = notifications(notify_events, args.entities)
        secs, notify_lat = asyncio.run(post_all(url + "/v1/ngsi-ld/notify", key, notes, args.concurrency))
        notify_rate = args.notify / secs
        log(f"  notifications: {notify_rate:,.0f} entities/s; request p50 {pct(notify_lat, 0.5) * 1000:.1f} ms")
        rss = peak_rss_mb(service.pid)
    finally:
        service.terminate()
        service.wait(60)

    report("Ingest", f"Kafka local single node; one `pantau ingest run` (uvicorn, one process); "
           f"{args.concurrency} aiohttp clients on the same machine.", [
        (f"raw aiokafka producer, {args.events:,} events (baseline)", f"{raw_rate:,.0f} events/s"),
        (f"HTTP, batches of {args.batch} ({args.events:,} events)", f"{batch_rate:,.0f} events/s"),
        ("**ratio batches / raw producer**", f"**{batch_rate / raw_rate:.3f}**"),
        ("batch request latency p50 / p99", f"{_ms(batch_lat, 0.5)} / {_ms(batch_lat, 0.99)} ms"),
        (f"HTTP, one event per request ({args.single:,} events)", f"{single_rate:,.0f} events/s"),
        ("**ratio one by one / raw producer**", f"**{single_rate / raw_rate:.3f}**"),
        ("single request latency p50 / p99", f"{_ms(single_lat, 0.5)} / {_ms(single_lat, 0.99)} ms "
                                              f"(mean {statistics.fmean(single_lat) * 1000:.1f})"),
        (f"NGSI-LD notifications of {args.entities} entities ({args.notify:,} entities)",
         f"{notify_rate:,.0f} entities/s"),
        ("**ratio notifications / raw producer**", f"**{notify_rate / raw_rate:.3f}**"),
        ("notification latency p50 / p99", f"{_ms(notify_lat, 0.5)} / {_ms(notify_lat, 0.99)} ms"),
        ("ingest peak RSS", f"{rss:,.0f} MiB"),
    ], record=not args.no_record)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
