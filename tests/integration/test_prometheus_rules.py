"""promtool and amtool (Debian's prometheus and prometheus-alertmanager) on deploy/'s configuration.

- ``promtool check config`` on every Prometheus configuration (deploy/prometheus, deploy/compose),
  which also checks the rule files they load;
- ``promtool check rules`` on the rule files;
- ``promtool test rules`` on deploy/prometheus/tests: every alert not firing, then firing; every
  recording rule's value (tests/unit/test_deploy_rules.py checks that nothing is left untested);
- ``amtool check-config`` on the Alertmanager configuration.

A missing binary fails (never skips) and says how to install it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pantau.prometheus_local import (
    LocalPrometheus,
    PrometheusError,
    PrometheusNotInstalled,
    find_binary,
    render_config,
    write_config,
)
from tests.integration.helpers import free_port

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
CONFIGS = [PROMETHEUS / "prometheus.yml", DEPLOY / "compose" / "prometheus.yml"]
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.yml"))
TEST_FILES = sorted((PROMETHEUS / "tests").glob("*.yml"))


def run(tool: str, *args: str | Path, cwd: Path = PROMETHEUS) -> str:
    binary = find_binary(tool)  # PrometheusNotInstalled: "apt-get install prometheus"
    out = subprocess.run([str(binary), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120)
    text = out.stdout + out.stderr
    assert out.returncode == 0, f"{tool} {' '.join(map(str, args))} failed ({out.returncode}):\n{text}"
    return text


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_promtool_check_config(config: Path) -> None:
    text = run("promtool", "check", "config", config, cwd=config.parent)
    assert f"SUCCESS: {len(RULE_FILES)} rule files found" in text


def test_promtool_check_rules() -> None:
    assert RULE_FILES
    text = run("promtool", "check", "rules", *RULE_FILES)
    assert text.count("SUCCESS") == len(RULE_FILES)


@pytest.mark.parametrize("test_file", TEST_FILES, ids=lambda p: p.name)
def test_promtool_test_rules(test_file: Path) -> None:
    text = run("promtool", "test", "rules", test_file.relative_to(PROMETHEUS))
    assert "SUCCESS" in text and "FAILED" not in text


def test_amtool_check_config() -> None:
    text = run("amtool", "check-config", PROMETHEUS / "alertmanager.yml")
    assert "SUCCESS" in text


def test_promtool_reports_a_failing_test(tmp_path: Path) -> None:
    """The harness itself: a wrong expectation must make promtool fail, not pass quietly."""
    original = (PROMETHEUS / "tests" / "pipeline.alerts.test.yml").read_text()
    broken = original.replace("severity: critical", "severity: page", 1).replace("../rules/", f"{PROMETHEUS}/rules/")
    (tmp_path / "broken.test.yml").write_text(broken)
    out = subprocess.run([str(find_binary("promtool")), "test", "rules", "broken.test.yml"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode != 0 and "FAILED" in out.stdout + out.stderr


# ------------------------------------------------------------------ pantau/prometheus_local.py


def test_local_prometheus_loads_the_rules_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    cfg = render_config(targets={"pantau-scoring": ["127.0.0.1:1"]}, scrape_interval="1s",
                        evaluation_interval="1s", alertmanagers=[])  # fmt: skip
    prom = LocalPrometheus(write_config(cfg, tmp_path / "prometheus.yml"), tmp_path / "tsdb", port=free_port())
    with prom:
        assert prom.running()
        groups = prom.api("rules")["groups"]
        assert {g["name"] for g in groups} == {
            "pantau-maturity.rules",
            "pantau-pipeline.rules",
            "pantau-pipeline.alerts",
        }
        assert prom.query("vector(1)")[0]["value"][1] == "1"
        with pytest.raises(PrometheusError, match="parse error"):
            prom.query("sum(")
    assert prom.proc is not None and prom.proc.returncode == 0, prom.tail()
    assert not prom.running()


def test_local_prometheus_explains_a_missing_binary(tmp_path: Path) -> None:
    with pytest.raises(PrometheusNotInstalled, match="apt-get install prometheus"):
        find_binary("prometheus-that-is-not-installed")
    config = tmp_path / "p.yml"
    config.write_text("global: {}\n")
    prom = LocalPrometheus(config, tmp_path / "tsdb", binary=tmp_path / "missing" / "prometheus")
    with pytest.raises(PrometheusNotInstalled, match="does not exist; install Debian's package"):
        prom.start(timeout=10)
    assert not prom.running()


def test_local_prometheus_reports_a_bad_config_with_its_log(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("scrape_configs:\n  - job_name: x\n    scrape_interval: not-a-duration\n")
    prom = LocalPrometheus(bad, tmp_path / "tsdb", port=free_port())
    with pytest.raises(PrometheusError, match="exited with code") as err:
        prom.start(timeout=30)
    assert "not-a-duration" in str(err.value)
