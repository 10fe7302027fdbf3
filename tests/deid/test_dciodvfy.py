"""De-identification adds no dciodvfy error (Debian's dicom3tools) to any output."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from pacsguard.cli import main
from pacsguard.samples import write_demo_tree

pytestmark = [pytest.mark.slow, pytest.mark.peers]
DCIODVFY = shutil.which("dciodvfy")


def _errors(path: Path) -> set[str]:
    proc = subprocess.run([DCIODVFY or "dciodvfy", str(path)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, errors="replace", timeout=60)
    out = set()
    for line in proc.stderr.splitlines():
        if line.startswith("Error"):
            # Compare the kind of error and the attribute, not the (changed) values.
            text = line.split(" - ")[1] if " - " in line else line
            out.add(re.sub(r"<[^>]*>|\[[^\]]*\]|=\s*'[^']*'|\d+", "#", text))
    return out


@pytest.mark.skipif(DCIODVFY is None, reason="dciodvfy not installed (scripts/peers.sh)")
@pytest.mark.parametrize("profile", ["default", "basic"])
def test_deid_adds_no_dciodvfy_error(tmp_path: Path, key_file: Path, profile: str) -> None:
    src = tmp_path / "in"
    write_demo_tree(src, patients=2, seed=11)
    out = tmp_path / "out"
    main(["-q", "deid", str(src), str(out), "--key-file", str(key_file), "--profile", profile])
    rows = sqlite3.connect(tmp_path / "out.pacsguard" / "journal.sqlite").execute(
        "SELECT input, output FROM files WHERE outcome = 'written'").fetchall()
    assert len(rows) >= 10
    added = {}
    checked = 0
    for original, rel in rows:
        before = _errors(Path(original))
        if any("read failed" in e for e in before):
            continue  # dciodvfy cannot read the original (deflated transfer syntax)
        checked += 1
        new = _errors(out / rel) - before
        if new:
            added[rel] = sorted(new)
    assert not added, added
    assert checked >= 10
