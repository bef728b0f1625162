"""``pantau run``, ``pantau simulate`` and ``pantau sinks``: the platform on this machine, with its stand-ins."""

from __future__ import annotations

from typing import Annotated

import typer

from pantau.cli.output import fail, platform_settings, say


def register(root: typer.Typer) -> None:
    root.command("run")(run)
    root.command("simulate")(simulate)
    root.command("sinks")(sinks)


from pantau.cli.masterplan import alerts_settings  # noqa: E402


def run() -> None:
    """Run the platform on the embedded default: local Kafka, topics and services. Ctrl-C stops it."""
    from pantau.kafka_local import KafkaSetupError
    from pantau.run import run_platform

    try:
        code = run_platform(platform_settings())
    except KafkaSetupError as exc:
        fail(str(exc))
    raise typer.Exit(code)


def simulate(
    rate: Annotated[float, typer.Option(help="Live events per second over all regions.")] = 500.0,
    regions: Annotated[str, typer.Option(help="'all', or comma-separated region codes.")] = "all",
    drift: Annotated[float, typer.Option(help="Share of regions that drift behind and recover.")] = 0.05,
    drift_regions: Annotated[str, typer.Option(help="Comma-separated codes that drift (overrides --drift).")] = "",
    cycle: Annotated[float, typer.Option(help="Seconds of one steady/collapse/recovery cycle.")] = 240.0,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: until Ctrl-C).")
    ] = None,
    to: Annotated[
        str, typer.Option(help="'raw' (through the ingest validator) or 'events' (straight to scoring).")
    ] = "raw",
    seed: Annotated[int, typer.Option(help="Seed of the per-region qualities.")] = 7,
) -> None:
    """Feed a live simulation: real BPS baselines for every region plus live indicators; some drift behind."""
    import random

    from pantau import simulate as sim
    from schemas.framework import load_framework
    from schemas.regions import default_registry

    settings = platform_settings()
    reg = default_registry()
    codes = sorted(reg.regions) if regions == "all" else [c.strip() for c in regions.split(",") if c.strip()]
    unknown = [c for c in codes if c not in reg]
    if unknown or not codes:
        fail(f"--regions: unknown region code(s) {', '.join(unknown) or '(none given)'}")
    if drift_regions:
        drifting = {c.strip() for c in drift_regions.split(",") if c.strip()}
        if bad := sorted(c for c in drifting if c not in codes):
            fail(f"--drift-regions: {', '.join(bad)} not among the simulated regions")
    else:
        drifting = set(random.Random(seed).sample(codes, round(len(codes) * max(0.0, min(1.0, drift)))))
    if to not in ("raw", "events"):
        fail("--to must be 'raw' or 'events'")
    if rate <= 0 or cycle <= 0:
        fail("--rate and --cycle must be positive")
    topic = alerts_settings().topic("indicator-events.raw" if to == "raw" else "indicator-events")
    shown = ", ".join(sorted(drifting)[:10]) + (" ..." if len(drifting) > 10 else "")
    say(f"simulating {len(codes)} regions at {rate:g} events/s into {topic}; "
               f"{len(drifting)} drift (cycle {cycle:g}s): {shown}")  # fmt: skip
    plan = sim.Plan(regions=codes, drifting=frozenset(drifting), rate=rate, cycle=cycle, seed=seed)
    n = sim.run(load_framework(alerts_settings().framework_file), plan, settings.kafka, topic, duration)
    say(f"sent {n} events")


def sinks(
    smtp_port: Annotated[int, typer.Option(help="SMTP port of the local mailbox.")] = 8025,
    webhook_port: Annotated[int, typer.Option(help="Port of the local webhook receiver.")] = 8099,
) -> None:
    """Local stand-ins for the heads' inboxes: an SMTP mailbox and a webhook log under PANTAU_HOME."""
    from pantau.sinks import serve

    settings = platform_settings()
    serve(settings.home, smtp_port, webhook_port)
