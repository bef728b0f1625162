"""deploy/compose and deploy/k8s: every YAML parses, nothing drifts from deploy/prometheus and
deploy/grafana, and the manifests name what exists (commands, files, ports, the partition count)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from pantau.cli import app
from schemas.topics import DEFAULT_PARTITIONS, topic
from services.ops import k8s_manifests as k8s_build

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose"
YAML_FILES = sorted([*K8S.rglob("*.yaml"), *COMPOSE.rglob("*.yml"), *COMPOSE.rglob("*.yaml"),
                     *(DEPLOY / "prometheus").rglob("*.yml"), *(DEPLOY / "grafana").rglob("*.yml")])  # fmt: skip
JOBS = {"pantau-ingest": 8080, "pantau-scoring": 6066, "pantau-alerts": 6067}


def k8s_docs() -> list[dict[str, Any]]:
    resources = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    return [d for r in resources for d in yaml.safe_load_all((K8S / r).read_text()) if d]


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in k8s_docs() if d["kind"] == kind}


def cli_commands() -> set[tuple[str, ...]]:
    """Every `pantau ...` command path, e.g. ("scoring", "run")."""
    group = typer.main.get_command(app)
    out: set[tuple[str, ...]] = set()

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        out.add(path)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, (*path, name))

    walk(group, ())
    return out


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_parses(path: Path) -> None:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert docs, f"{path} is empty"


def test_generated_k8s_files_do_not_drift() -> None:
    stale = k8s_build.stale_files()
    assert not stale, f"deploy/k8s/generated drifted: {stale}; run `pantau manifests`"


def test_prometheus_rule_holds_exactly_the_rule_files() -> None:
    (rule,) = of_kind("PrometheusRule").values()
    from_files = [g for p in sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))
                  for g in yaml.safe_load(p.read_text())["groups"]]  # fmt: skip
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["spec"]["groups"] == from_files


def test_dashboard_configmaps_hold_exactly_the_boards() -> None:
    maps = {n: d for n, d in of_kind("ConfigMap").items() if d["metadata"]["labels"].get("grafana_dashboard") == "1"}
    in_maps = {name: json.loads(text) for d in maps.values() for name, text in d["data"].items()}
    boards = {p.name: json.loads(p.read_text()) for p in (DEPLOY / "grafana" / "dashboards").glob("*.json")}
    assert in_maps == boards


def test_kustomization_lists_every_manifest() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    on_disk = {str(p.relative_to(K8S)) for p in K8S.rglob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


def test_deployments_run_real_commands_within_the_partition_count() -> None:
    deployments = of_kind("Deployment")
    assert set(deployments) == set(JOBS)
    commands = cli_commands()
    inputs = {"pantau-ingest": "indicator-events.raw", "pantau-scoring": "indicator-events",
              "pantau-alerts": "region-scores"}  # fmt: skip
    for name, d in deployments.items():
        assert 1 <= d["spec"]["replicas"] <= topic(inputs[name]).partitions == DEFAULT_PARTITIONS, name
        (container,) = d["spec"]["template"]["spec"]["containers"]
        assert tuple(container["args"]) in commands, f"{name}: pantau {' '.join(container['args'])} does not exist"
        assert container["ports"][0]["containerPort"] == JOBS[name]
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert d["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_services_are_named_after_the_prometheus_jobs() -> None:
    services = of_kind("Service")
    assert set(services) == set(JOBS), "the ServiceMonitor's job label is the Service's name"
    for name, s in services.items():
        assert s["spec"]["ports"][0]["port"] == JOBS[name]
        assert s["spec"]["selector"] == {"app.kubernetes.io/name": name}


def test_configuration_comes_from_the_configmap_and_the_secret() -> None:
    config = of_kind("ConfigMap")["pantau-config"]["data"]
    assert {"KAFKA_BOOTSTRAP_SERVERS", "SCORING_WEB_HOST", "ALERTS_WEB_HOST", "INGEST_HOST"} <= set(config)
    secrets = of_kind("Secret")
    assert {"pantau-secrets", "pantau-contacts"} <= set(secrets)
    refs = {r["secretRef"]["name"] for d in of_kind("Deployment").values()
            for c in d["spec"]["template"]["spec"]["containers"] for r in c["envFrom"] if "secretRef" in r}  # fmt: skip
    assert refs == {"pantau-secrets"}


def test_compose_runs_real_commands_and_mounts_what_exists() -> None:
    compose = yaml.safe_load((COMPOSE / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"kafka", "ingest", "scoring", "alerts", "prometheus", "alertmanager", "grafana"} <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    commands = cli_commands()
    for name in ("topics", "masterplan", "ingest", "scoring", "alerts", "simulate"):
        cmd = tuple(itertools.takewhile(lambda a: not a.startswith("-"), services[name]["command"]))
        assert cmd in commands, f"{name}: pantau {' '.join(cmd)} does not exist"
    for svc in services.values():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE / source).resolve().exists(), f"compose mounts a missing {source}"
    assert (COMPOSE / services["scoring"]["build"]["dockerfile"].replace("deploy/compose/", "")).exists()


def test_compose_prometheus_scrapes_the_compose_services() -> None:
    cfg = yaml.safe_load((COMPOSE / "prometheus.yml").read_text())
    targets = {j["job_name"]: j["static_configs"][0]["targets"] for j in cfg["scrape_configs"]}
    for job, port in JOBS.items():
        assert targets[job] == [f"{job.removeprefix('pantau-')}:{port}"]
