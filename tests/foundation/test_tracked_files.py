"""Running the app must not modify tracked files: a UI build in a fresh copy of the repository,
on a machine whose npm has no settings of its own (an empty HOME), leaves `git status` clean."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.checkout import copy_tracked_files


def _git(cwd, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.mark.slow
def test_a_fresh_build_leaves_tracked_files_alone(tmp_path):
    # The committed tree plus this worktree's changes to tracked files, as a new repository.
    checkout = copy_tracked_files(tmp_path / "checkout")
    _git(checkout, "init", "-q")
    _git(checkout, "add", "-A")
    _git(checkout, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "fresh")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_config")}
    env |= {"HOME": str(home), "DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}"}
    result = subprocess.run([sys.executable, "-m", "crm_booking", "build-frontend", "--force"],
                            cwd=checkout, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert (checkout / ".web" / "build" / "client" / "app" / "index.html").exists()
    assert _git(checkout, "status", "--porcelain") == ""


BUILD_OUTPUT = (".egg-info/", "/.web/", "/__pycache__/", "/.states/", "/data/", "/node_modules/")


def test_no_build_output_is_tracked() -> None:
    """What an install, a build or a run writes is never committed: a tracked egg-info was
    rewritten by every install and left `git status` dirty."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    tracked = _git(root, "ls-files").splitlines()
    assert [f for f in tracked if any(part in f"/{f}" for part in BUILD_OUTPUT)] == []
