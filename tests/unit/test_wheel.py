"""The wheel is the whole application (docs/decisions/0007-one-application-wheel.md): built, installed
into an empty environment and started from a directory outside the checkout, every service finds
its data, and the command line runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SMOKE = """
import sys
from pathlib import Path
import schemas, services, pantau
inside = Path(sys.argv[1]).resolve()
for mod in (schemas, services, pantau):
    assert inside in Path(mod.__file__).resolve().parents, (mod.__name__, mod.__file__)
from schemas.framework import load_framework
from schemas.programme import default_programme
from schemas.regions import default_registry
from services.alerts import pages
assert len(default_registry().regions) == 514
assert load_framework(None).indicators
assert default_programme().cohorts
assert "PantauScoringLatencyHigh" in pages.RUNBOOK.read_text(), pages.RUNBOOK
assert inside in pages.RUNBOOK.resolve().parents, pages.RUNBOOK
print("ok")
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    uv = [found] if (found := shutil.which("uv")) else ["python3", "-m", "uv"]  # as the Makefile finds it
    built = subprocess.run([*uv, "build", "--wheel", "--quiet", "-o", str(out)], cwd=ROOT, capture_output=True,
                           text=True)  # fmt: skip
    assert built.returncode == 0, built.stderr
    [wheel] = out.glob("pantau-*.whl")
    return wheel


def test_the_wheel_holds_every_file_the_packages_read(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    data = [p.relative_to(ROOT).as_posix() for top in ("schemas", "services", "pantau") for p in (ROOT / top).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]  # fmt: skip
    missing = sorted(set(data) - names)
    assert not missing, f"not in the wheel: {missing}"
    assert "services/alerts/runbook.md" in names
    assert {n.split("/")[0] for n in names} == {
        "pantau",
        "schemas",
        "services",
        wheel.name.split("-")[0] + "-0.1.0.dist-info",
    }


def test_installed_alone_it_starts_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(env_dir), "platbase": str(env_dir)}))
    zipfile.ZipFile(wheel).extractall(site)  # a pure wheel: installing it is unpacking it
    # The locked dependencies come from the project's environment, but not the project itself.
    deps = Path(sysconfig.get_path("purelib"))
    (site / "pantau-deps.pth").write_text(str(deps) + "\n")
    python = env_dir / "bin" / "python"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": "/usr/bin:/bin", "PANTAU_HOME": str(tmp_path / "home"), "HOME": str(tmp_path)}
    smoke = subprocess.run([str(python), "-c", SMOKE, str(site)], cwd=elsewhere, env=env, capture_output=True,
                           text=True)  # fmt: skip
    assert smoke.returncode == 0, smoke.stderr
    cli = subprocess.run([str(python), "-m", "pantau.cli", "--help"], cwd=elsewhere, env=env, capture_output=True,
                         text=True)  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert "masterplan" in cli.stdout and "ingest" in cli.stdout
