"""deploy/compose and deploy/k8s: every YAML parses, nothing drifts from deploy/prometheus and
deploy/grafana, and the manifests name what exists: commands, files, ports, probe paths, the environment
variables the settings read, the partition count."""

from __future__ import annotations

import ast
import asyncio
import functools
import itertools
import json
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
import yaml
from prometheus_client import CollectorRegistry
from pydantic import AliasChoices, SecretStr
from pydantic_settings import BaseSettings

from pantau.cli import app
from pantau.config import PlatformSettings
from schemas.framework import load_framework
from schemas.programme import default_programme
from schemas.regions import default_registry
from schemas.topics import DEFAULT_PARTITIONS, topic
from services.alerts.config import AlertsSettings
from services.alerts.notify.config import NotifySettings
from services.history.api import ApiMetrics, HistoryApi, create_app
from services.history.config import HistorySettings, masked
from services.history.service.ports import DatabaseUnavailable
from services.history.service.queries import HistoryQueries
from services.ingest.config import IngestSettings
from services.ops import k8s_manifests as k8s_build
from services.scoring.config import ScoringSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose"
YAML_FILES = sorted([*K8S.rglob("*.yaml"), *COMPOSE.rglob("*.yml"), *COMPOSE.rglob("*.yaml"),
                     *(DEPLOY / "prometheus").rglob("*.yml"), *(DEPLOY / "grafana").rglob("*.yml")])  # fmt: skip
PLACEHOLDER = "replace-me"


@dataclass(frozen=True)
class Workload:
    """What one Deployment runs: its command, the settings the process reads (its service's first), the field
    of the port it listens on, the topics its consumer group reads (none: no group, it scales freely) and
    the module that serves its paths."""

    command: tuple[str, ...]
    settings: tuple[type[BaseSettings], ...]
    port_field: str
    inputs: tuple[str, ...]
    serves: str

    @property
    def default_port(self) -> int:
        return int(self.settings[0].model_fields[self.port_field].default)


WORKLOADS = {
    "pantau-ingest": Workload(("ingest", "run"), (IngestSettings, PlatformSettings), "web_port",
                              ("indicator-events.raw",), "services/ingest/web.py"),
    "pantau-scoring": Workload(("scoring", "run"), (ScoringSettings, PlatformSettings), "web_port",
                               ("indicator-events",), "services/scoring/web.py"),
    "pantau-alerts": Workload(("alerts", "run"), (AlertsSettings, NotifySettings, PlatformSettings), "web_port",
                              ("region-scores", "masterplan-milestones"), "services/alerts/web.py"),
    "pantau-history": Workload(("history", "run"), (HistorySettings, PlatformSettings), "web_port",
                               ("region-scores", "maturity-alerts", "masterplan-milestones"),
                               "services/history/web.py"),
    "pantau-history-api": Workload(("history", "api"), (HistorySettings, PlatformSettings), "api_port", (),
                                   "services/history/api.py"),
}  # fmt: skip
#: Prometheus job (a Service's name) -> its port: the default of the service's settings.
JOBS = {name: w.default_port for name, w in WORKLOADS.items()}
ALL_SETTINGS = {cls for w in WORKLOADS.values() for cls in w.settings}


@functools.cache  # the board ConfigMaps are large; nothing here changes the parsed documents
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


# ---------------------------------------------------------------- what the settings read


def _nested(annotation: Any) -> type[BaseSettings] | None:
    """The settings class a field holds (KafkaConnection, built from its own KAFKA_* variables)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
        return annotation
    return None


def field_env_names(cls: type[BaseSettings], name: str) -> set[str]:
    """The variables one field is read from (upper case; pydantic-settings matches them case-blind here)."""
    alias = cls.model_fields[name].validation_alias
    if isinstance(alias, str):
        return {alias.upper()}  # an alias is the variable's whole name: no prefix
    if isinstance(alias, AliasChoices):
        return {c.upper() for c in alias.choices if isinstance(c, str)}
    return {f"{cls.model_config.get('env_prefix') or ''}{name}".upper()}


def env_names(cls: type[BaseSettings]) -> set[str]:
    """Every variable ``cls`` reads, those of its nested settings included."""
    names: set[str] = set()
    for name, field in cls.model_fields.items():
        names |= field_env_names(cls, name)
        if sub := _nested(field.annotation):
            names |= env_names(sub)
    return names


def secret_env_names(cls: type[BaseSettings]) -> set[str]:
    """The variables of ``cls`` typed ``SecretStr``: they come from a Secret, never from a ConfigMap."""
    names: set[str] = set()
    for name, field in cls.model_fields.items():
        if field.annotation is SecretStr or SecretStr in typing.get_args(field.annotation):
            names |= field_env_names(cls, name)
        if sub := _nested(field.annotation):
            names |= secret_env_names(sub)
    return names


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (c,) = deployment["spec"]["template"]["spec"]["containers"]
    return c


def _values(doc: dict[str, Any]) -> dict[str, str]:
    return {**doc.get("data", {}), **doc.get("stringData", {})}


def pod_env(deployment: dict[str, Any]) -> dict[str, str]:
    """The environment of a Deployment's container, resolved from the ConfigMaps and Secrets of the manifests.

    A reference to a key the manifests do not hold fails unless it is optional (then the variable is unset).
    """
    sources = {"configMap": of_kind("ConfigMap"), "secret": of_kind("Secret")}
    c = container(deployment)
    env: dict[str, str] = {}
    for ref in c.get("envFrom", []):
        (kind,) = (k.removesuffix("Ref") for k in ref)
        name = next(iter(ref.values()))["name"]
        assert name in sources[kind], f"envFrom names a missing {kind} {name}"
        env |= _values(sources[kind][name])
    for var in c.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
            continue
        ((kind, ref),) = ((k.removesuffix("KeyRef"), v) for k, v in var["valueFrom"].items())
        held = _values(sources[kind].get(ref["name"], {}))
        if ref["key"] in held:
            env[var["name"]] = held[ref["key"]]
        else:
            assert ref.get("optional"), f"{var['name']}: {kind} {ref['name']} holds no key {ref['key']}"
    return env


def served_paths(module: str) -> set[str]:
    """The paths a service's web module names (its routes are string constants: "/healthz", "/metrics")."""
    tree = ast.parse((ROOT / module).read_text())
    return {n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.startswith("/")}  # fmt: skip


# ---------------------------------------------------------------- parsing and drift


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


# ---------------------------------------------------------------- the Deployments


def test_deployments_run_real_commands_within_the_partition_count() -> None:
    deployments = of_kind("Deployment")
    assert set(deployments) == set(WORKLOADS)
    commands = cli_commands()
    for name, d in deployments.items():
        w, c = WORKLOADS[name], container(d)
        assert tuple(c["args"]) == w.command, name
        assert w.command in commands, f"{name}: pantau {' '.join(w.command)} does not exist"
        replicas = d["spec"]["replicas"]
        assert replicas >= 1, name
        for source in w.inputs:  # a consumer group: members beyond the partitions sit idle
            assert replicas <= topic(source).partitions == DEFAULT_PARTITIONS, f"{name}: {source}"
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert d["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_deployments_listen_where_their_settings_say(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each container's settings, built from the environment the manifests give it, validate and bind all
    interfaces on the container port, which is the settings' default (the Services and jobs use it)."""
    for var in set().union(*(env_names(cls) for cls in ALL_SETTINGS)):
        monkeypatch.delenv(var, raising=False)
    for name, d in of_kind("Deployment").items():
        w, env = WORKLOADS[name], pod_env(d)
        with monkeypatch.context() as m:
            for var, value in env.items():
                m.setenv(var, value)
            built = [cls() for cls in w.settings]
        (port,) = container(d)["ports"]
        assert port["name"] == "http"
        assert getattr(built[0], w.port_field) == port["containerPort"] == w.default_port, name
        assert built[0].web_host == "0.0.0.0", f"{name} would listen on loopback only: probes fail"


def test_probes_ask_paths_the_service_serves() -> None:
    for name, d in of_kind("Deployment").items():
        c, w = container(d), WORKLOADS[name]
        probes = {k: c[k] for k in ("readinessProbe", "livenessProbe")}
        assert set(probes) == {"readinessProbe", "livenessProbe"}, name
        for kind, probe in probes.items():
            target = probe.get("httpGet") or probe["tcpSocket"]
            assert target["port"] == "http", f"{name} {kind}"
            if "httpGet" in probe:
                assert target["path"] in served_paths(w.serves), f"{name} {kind}: {w.serves} serves no {target['path']}"


class _DatabaseDown:
    def ping(self) -> None:
        raise DatabaseUnavailable("connection refused")


def test_the_history_api_stays_alive_but_leaves_the_service_while_its_database_is_down() -> None:
    """Its /healthz answers 503 without the database: readiness may ask it, liveness must not (a restart
    would not bring the database back). Neither probe needs an API key."""
    framework = load_framework()
    queries = HistoryQueries(_DatabaseDown(), default_registry(), framework.key,  # type: ignore[arg-type]
                             [lv.level for lv in framework.levels])  # fmt: skip
    svc = HistoryApi(queries, default_registry(), default_programme(), [d.id for d in framework.dimensions],
                     frozenset({"a-key"}), "20/second", ApiMetrics(CollectorRegistry()))  # fmt: skip
    c = container(of_kind("Deployment")["pantau-history-api"])
    probes = {"readinessProbe": 503, "livenessProbe": 200}
    paths = {kind: c[kind]["httpGet"]["path"] for kind in probes if "httpGet" in c[kind]}  # tcpSocket: up is enough

    async def ask() -> dict[str, int]:
        transport = httpx.ASGITransport(app=create_app(svc))
        async with httpx.AsyncClient(transport=transport, base_url="http://pantau-history-api:6069") as client:
            return {kind: (await client.get(path)).status_code for kind, path in paths.items()}

    assert "readinessProbe" in paths
    assert asyncio.run(ask()) == {kind: probes[kind] for kind in paths}


def test_the_history_writer_is_probed_on_healthz() -> None:
    """The writer's /healthz stays 200 in a database outage (services/history/web.py): both probes ask it."""
    c = container(of_kind("Deployment")["pantau-history"])
    assert c["readinessProbe"]["httpGet"]["path"] == c["livenessProbe"]["httpGet"]["path"] == "/healthz"


# ---------------------------------------------------------------- Services and scraping


def test_services_are_named_after_the_prometheus_jobs() -> None:
    services = of_kind("Service")
    assert set(services) == set(JOBS), "the ServiceMonitor's job label is the Service's name"
    for name, s in services.items():
        (port,) = s["spec"]["ports"]
        assert port["port"] == JOBS[name]
        assert port["name"] == port["targetPort"] == "http"
        assert s["spec"]["selector"] == {"app.kubernetes.io/name": name}
        assert s["metadata"]["labels"]["app.kubernetes.io/name"] == name, "the ServiceMonitor selects this label"


def test_the_service_monitor_scrapes_every_job() -> None:
    (monitor,) = of_kind("ServiceMonitor").values()
    (expr,) = monitor["spec"]["selector"]["matchExpressions"]
    assert expr["key"] == "app.kubernetes.io/name" and expr["operator"] == "In"
    assert set(expr["values"]) == set(JOBS)
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "http"
    for name, w in WORKLOADS.items():
        assert endpoint["path"] in served_paths(w.serves), f"{name} serves no {endpoint['path']}"
    local = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {j["job_name"] for j in local["scrape_configs"] if j["job_name"].startswith("pantau-")}
    assert jobs == set(JOBS), "deploy/prometheus/prometheus.yml and deploy/k8s scrape other jobs"


# ---------------------------------------------------------------- configuration and secrets


def test_configuration_comes_from_the_configmap_and_the_secrets() -> None:
    config = of_kind("ConfigMap")["pantau-config"]["data"]
    assert {"KAFKA_BOOTSTRAP_SERVERS", "SCORING_WEB_HOST", "ALERTS_WEB_HOST", "INGEST_HOST",
            "HISTORY_WEB_HOST"} <= set(config)  # fmt: skip
    secrets = of_kind("Secret")
    assert {"pantau-secrets", "pantau-contacts", "pantau-history"} <= set(secrets)
    deployments = of_kind("Deployment")
    refs = {r["secretRef"]["name"] for d in deployments.values() for r in container(d)["envFrom"]
            if "secretRef" in r}  # fmt: skip
    assert refs == {"pantau-secrets"}
    for name, d in deployments.items():
        assert {"configMapRef": {"name": "pantau-config"}} in container(d)["envFrom"], name


def test_every_variable_given_is_one_the_settings_read() -> None:
    """A misspelt name is ignored silently (extra="ignore"): every ConfigMap key shared by all containers is
    read by some service's settings, every other variable by the settings of the container that gets it."""
    read = set().union(*(env_names(cls) for cls in ALL_SETTINGS))
    unknown = set(of_kind("ConfigMap")["pantau-config"]["data"]) - read
    assert not unknown, f"pantau-config sets what no settings read: {sorted(unknown)}"
    shared = set(of_kind("ConfigMap")["pantau-config"]["data"])
    for name, d in of_kind("Deployment").items():
        own = set().union(*(env_names(cls) for cls in WORKLOADS[name].settings))
        unknown = set(pod_env(d)) - shared - own
        assert not unknown, f"{name} gets what its settings do not read: {sorted(unknown)}"
        explicit = {v["name"] for v in container(d).get("env", [])}
        assert explicit <= own, f"{name}: {sorted(explicit - own)}"


def test_secrets_are_in_secrets_and_only_placeholders_in_the_repo() -> None:
    secret_names = set().union(*(secret_env_names(cls) for cls in ALL_SETTINGS))
    assert {"PANTAU_DATABASE_URL", "HISTORY_API_KEYS", "ALERTS_ACK_SECRET", "KAFKA_SASL_PASSWORD"} <= secret_names
    in_config = secret_names & set(of_kind("ConfigMap")["pantau-config"]["data"])
    assert not in_config, f"secrets in a ConfigMap: {sorted(in_config)}"
    for name, s in of_kind("Secret").items():
        for key, value in s.get("stringData", {}).items():
            if key in secret_names:
                assert PLACEHOLDER in value, f"{name}/{key} must hold a placeholder, not a real secret"


def test_the_history_store_is_reached_through_the_secret() -> None:
    """Both history processes read PANTAU_DATABASE_URL from the Secret pantau-history (its documented key);
    only the API reads HISTORY_API_KEYS, optional: without it no key is needed."""
    held = of_kind("Secret")["pantau-history"]["stringData"]
    assert set(held) == {"PANTAU_DATABASE_URL"}
    url = HistorySettings.model_validate({"PANTAU_DATABASE_URL": held["PANTAU_DATABASE_URL"]}).safe_url
    assert url.startswith("postgresql+psycopg://") and masked(held["PANTAU_DATABASE_URL"]) == url
    deployments = of_kind("Deployment")
    for name in ("pantau-history", "pantau-history-api"):
        env = {v["name"]: v["valueFrom"]["secretKeyRef"] for v in container(deployments[name])["env"]}
        assert env["PANTAU_DATABASE_URL"] == {"name": "pantau-history", "key": "PANTAU_DATABASE_URL"}, name
    api_env = {v["name"]: v["valueFrom"]["secretKeyRef"] for v in container(deployments["pantau-history-api"])["env"]}
    assert api_env["HISTORY_API_KEYS"] == {"name": "pantau-history", "key": "HISTORY_API_KEYS", "optional": True}
    writer_env = {v["name"] for v in container(deployments["pantau-history"])["env"]}
    assert "HISTORY_API_KEYS" not in writer_env


# ---------------------------------------------------------------- deploy/compose


def test_compose_runs_real_commands_and_mounts_what_exists() -> None:
    compose = yaml.safe_load((COMPOSE / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"kafka", "ingest", "scoring", "alerts", "prometheus", "alertmanager", "grafana"} <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    commands = cli_commands()
    for name in ("topics", "masterplan", "ingest", "scoring", "alerts", "history", "history-api", "simulate"):
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
