"""Alerts benchmark: from the event that crosses a threshold to the webhook received (goal p99 <= 2 s).

In one run against the local broker:
1. baseline: the Kafka hop alone, produce -> a plain aiokafka consumer, p50/p99 under the same load;
2. a scoring worker and an alerts worker (pending_for 0, so an alert fires on the score that shows
   it) with a plan path at 3.0 for every region, under a steady background load (default 2,000
   events/s of good readings over all 514 regions, tiny three-indicator framework);
3. probes: one region at a time gets readings far below its path; the time from producing them to
   the firing webhook arriving at a local receiver is the latency; the region is then recovered.

Usage: .venv/bin/python bench/alerts.py [--rate 2000] [--probes 30] [--no-record]
Results are appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import broker_with_topics, log, report  # noqa: E402
from schemas.regions import default_registry  # noqa: E402
from services.scoring.config import ScoringSettings  # noqa: E402
from tests.integration.helpers import TINY_FRAMEWORK, free_port, http_get  # noqa: E402

SECRET = "whsec_cGFudGF1LWJlbmNoLXdlYmhvb2stc2VjcmV0LTAx"
GOOD = {"GOV_UPTIME": ("percent", 99.5), "GOV_RESPONSE_HOURS": ("hours", 20.0), "ENV_PM25": ("ug/m3", 4.0)}
BAD = {"GOV_UPTIME": ("percent", 91.0), "GOV_RESPONSE_HOURS": ("hours", 96.0), "ENV_PM25": ("ug/m3", 80.0)}


def event(region: str, ind: str, unit: str, value: float) -> bytes:
    doc = {"event_id": str(uuid.uuid4()), "region_code": region, "indicator_id": ind, "value": value, "unit": unit,
           "observed_at": datetime.now(UTC).isoformat(), "source": "bench"}  # fmt: skip
    return json.dumps(doc).encode()


class Receiver:
    """Records the arrival time of the first firing webhook per region."""

    def __init__(self) -> None:
        self.firing: dict[str, float] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
                if body.get("state") == "firing":
                    outer.firing.setdefault(body["region_code"], time.time())
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


async def background(bootstrap: str, topic: str, regions: list[str], rate: int, stop: asyncio.Event,
                     skip: set[str]) -> None:  # fmt: skip
    p = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2)
    await p.start()
    try:
        t0, sent, inds = time.perf_counter(), 0, list(GOOD.items())
        while not stop.is_set():
            while sent < int((time.perf_counter() - t0) * rate):
                region = regions[sent % len(regions)]
                if region not in skip:
                    ind, (unit, value) = inds[sent % 3]
                    await p.send(topic, key=region.encode(), value=event(region, ind, unit, value))
                sent += 1
            await asyncio.sleep(0.01)
    finally:
        await p.stop()


async def kafka_hop(bootstrap: str, topic: str, n: int) -> list[float]:
    """Produce -> consume latency of single records on the loaded broker (the baseline)."""
    c = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"hop-{uuid.uuid4().hex[:6]}",
                         auto_offset_reset="latest")  # fmt: skip
    p = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await c.start()
    await p.start()
    try:
        await asyncio.sleep(3)  # assignment
        out = []
        for i in range(n):
            t = time.time()
            await (await p.send(topic, key=b"hop", value=str(i).encode()))
            while True:
                got = await c.getmany(timeout_ms=2000)
                if any(r.value == str(i).encode() for recs in got.values() for r in recs):
                    out.append(time.time() - t)
                    break
            await asyncio.sleep(0.05)
        return out
    finally:
        await c.stop()
        await p.stop()


def q(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))]


async def probe_all(args: argparse.Namespace, bootstrap: str, prefix: str, regions: list[str],
                    recv: Receiver) -> tuple[list[float], list[float]]:  # fmt: skip
    probes = random.Random(5).sample(regions, args.probes)
    stop = asyncio.Event()
    load = asyncio.create_task(background(bootstrap, prefix + "indicator-events", regions, args.rate, stop,
                                          set(probes)))  # fmt: skip
    await asyncio.sleep(20)  # every region scored and above its path
    hop = await kafka_hop(bootstrap, prefix + "indicator-events.dlq", 30)  # a topic nothing else writes here
    p = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await p.start()
    lat: list[float] = []
    try:
        for n, region in enumerate(probes, 1):
            t = time.time()
            for ind, (unit, value) in BAD.items():
                await p.send(prefix + "indicator-events", key=region.encode(), value=event(region, ind, unit, value))
            await p.flush()
            deadline = time.time() + 30
            while region not in recv.firing and time.time() < deadline:
                await asyncio.sleep(0.01)
            if region in recv.firing:
                lat.append(recv.firing[region] - t)
                log(f"  probe {n}/{len(probes)} {region}: {lat[-1] * 1000:,.0f} ms")
            else:
                log(f"  probe {n}/{len(probes)} {region}: no notification within 30 s")
            await asyncio.sleep(1.0)
    finally:
        await p.stop()
        stop.set()
        await load
    return lat, hop


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # so that the workers it started are stopped (finally below)


def main() -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=int, default=2000, help="background events/s")
    ap.add_argument("--probes", type=int, default=30)
    ap.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = ap.parse_args()
    bootstrap, prefix = broker_with_topics("benchal")
    regions = sorted(default_registry().regions)
    tmp = Path(tempfile.mkdtemp(prefix="pantau-bench-alerts-"))
    fw = tmp / "tiny.yaml"
    fw.write_text(TINY_FRAMEWORK)
    (tmp / "plan.yaml").write_text("format: pantau-masterplan/1\nframework_id: tiny\nnational_default:\n"
                                   "  plan_id: flat\n  milestones:\n    - {due: 2020-01-01, targets: {index: 3.0}}\n"
                                   "    - {due: 2035-01-01, targets: {index: 3.0}}\n")  # fmt: skip
    recv = Receiver()
    (tmp / "contacts.yaml").write_text(json.dumps({"version": 1, "national": {
        "name": "bench", "webhooks": [{"url": recv.url + "/hook", "secret": SECRET}]}}))  # fmt: skip
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PANTAU_LOG_FORMAT": "json"}
    subprocess.run([sys.executable, "-m", "pantau.cli", "masterplan", "load", str(tmp / "plan.yaml")], check=True,
                   env={**env, "ALERTS_TOPIC_PREFIX": prefix, "ALERTS_FRAMEWORK_FILE": str(fw)})  # fmt: skip
    sport, aport = free_port(), free_port()
    procs = [
        subprocess.Popen([sys.executable, "-m", "pantau.cli", "scoring", "run"], env={
            **env, "SCORING_TOPIC_PREFIX": prefix, "SCORING_APP_ID": f"b-{prefix}", "SCORING_WEB_PORT": str(sport),
            "SCORING_DATA_DIR": str(tmp / "scoring"), "SCORING_FRAMEWORK_FILE": str(fw),
            "SCORING_LOG_LEVEL": "WARNING"}, stdout=(tmp / "scoring.log").open("w"), stderr=subprocess.STDOUT),
        subprocess.Popen([sys.executable, "-m", "pantau.cli", "alerts", "run"], env={
            **env, "ALERTS_TOPIC_PREFIX": prefix, "ALERTS_APP_ID": f"ba-{prefix}", "ALERTS_WEB_PORT": str(aport),
            "ALERTS_DATA_DIR": str(tmp / "alerts"), "ALERTS_FRAMEWORK_FILE": str(fw), "ALERTS_PENDING_FOR": "PT0S",
            "ALERTS_CONTACTS_FILE": str(tmp / "contacts.yaml"), "ALERTS_LOG_LEVEL": "WARNING"},
            stdout=(tmp / "alerts.log").open("w"), stderr=subprocess.STDOUT),
    ]  # fmt: skip
    try:
        for port in (sport, aport):
            deadline = time.time() + 120
            while http_get(f"http://127.0.0.1:{port}/healthz")[0] != 200:
                if time.time() > deadline:
                    raise SystemExit(f"a worker did not start; logs in {tmp}")
                time.sleep(0.5)
        log(f"background {args.rate:,} events/s; {args.probes} probes (logs in {tmp})")
        lat, hop = asyncio.run(probe_all(args, bootstrap, prefix, regions, recv))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(60)
    if not lat:
        raise SystemExit("no probe was notified")
    interval = ScoringSettings.model_fields["publish_interval"].default
    setup = f"Kafka local single node; scoring publish interval {interval} s (default); alerts pending_for 0 s."
    report("Alerts", setup, [
        ("background load", f"{args.rate:,} events/s over {len(regions)} regions"),
        ("baseline: one Kafka hop (produce -> consume, acks=all), p50 / p99",
         f"{q(hop, 0.5) * 1000:,.0f} / {q(hop, 0.99) * 1000:,.0f} ms"),
        ("event crossing a threshold -> firing webhook received, p50", f"{q(lat, 0.5) * 1000:,.0f} ms"),
        (f"... p99 ({len(lat)} of {args.probes} probes notified)", f"{q(lat, 0.99) * 1000:,.0f} ms"),
        ("**ratio p50 / Kafka hop p50**", f"**{q(lat, 0.5) / statistics.median(hop):.1f}**"),
    ], record=not args.no_record)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
