"""Packaging: dependencies declared in pyproject.toml, the lock made from them, and a
`crm-booking` command installed with the project."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support.checkout import copy_tracked_files
from tests.support.servers import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def name_of(requirement: str) -> str:
    return re.split(r"[\[=<>!~; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def declared() -> set[str]:
    groups = PYPROJECT["dependency-groups"]
    return {name_of(r) for r in PYPROJECT["project"]["dependencies"] + groups["test"] + groups["dev"]}


def test_the_lock_is_compiled_from_pyproject_and_pins_every_declared_dependency():
    lock = (ROOT / "requirements.lock").read_text()
    assert "uv pip compile pyproject.toml --group test --group dev" in lock.splitlines()[1]
    pinned = {name_of(line) for line in lock.splitlines() if re.match(r"^[A-Za-z0-9]", line)}
    assert declared() <= pinned, declared() - pinned
    assert {"prometheus-client", "pytest", "ruff"} <= declared()


def test_requirements_in_lists_the_same_packages_while_it_is_kept():
    lines = (ROOT / "requirements.in").read_text().splitlines()
    listed = {name_of(line) for line in lines if line.strip() and not line.startswith("#")}
    assert listed == declared()


def test_the_console_command_points_at_the_cli():
    assert PYPROJECT["project"]["scripts"] == {"crm-booking": "crm_booking.cli:main"}
    from crm_booking.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"serve", "worker", "backup", "restore", "migrate", "seed"} <= set(commands)


@pytest.mark.slow
def test_an_editable_install_gives_a_working_crm_booking_command(tmp_path: Path):
    """What scripts/bootstrap.sh does, in a throwaway venv that borrows the locked packages from
    this one (so nothing is installed into the shared venv)."""
    project = copy_tracked_files(tmp_path / "project")
    venv = tmp_path / "venv"
    uv = Path(sys.executable).parent / "uv"
    subprocess.run([str(uv), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    borrowed = next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    (site / "borrowed-locked-packages.pth").write_text(borrowed + "\n")
    installed = subprocess.run([str(uv), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
                                "--no-deps", "-e", str(project)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    command = venv / "bin" / "crm-booking"
    assert command.exists()
    helped = subprocess.run([str(command), "--help"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert "backup" in helped.stdout and "serve" in helped.stdout
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import crm_booking; print(crm_booking.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, check=True).stdout
    assert where.strip().startswith(str(project))  # editable: the checkout itself is imported
