"""A fresh copy of the repository's tracked files (with this worktree's edits), as a deploy or
a fresh clone would have them."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.servers import ROOT


def copy_tracked_files(target: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(source.read_bytes())
    return target
