"""The sample set's output tree under a fixed key, pinned by one digest.

Refactors (issue 9: one pipeline for every copy path) must keep every output byte: this test
fails on any change to what ``deid`` writes for the built-in sample data. A change on purpose
updates ``EXPECTED`` in the same commit, and the commit says why. Pixel cleaning is off: OCR
results depend on the CPU's precision (bfloat16 or float32), the header path does not.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pacsguard.cli import main
from pacsguard.samples import write_demo_tree

EXPECTED = "49f18fa90081489a95b517424d5b11ddbb59935cca033ce1c7048fc0fd508bd7"


def tree_digest(out: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in out.rglob("*") if p.is_file() and p.suffix == ".dcm"):
        h.update(path.relative_to(out).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def test_sample_output_is_byte_identical(tmp_path: Path, key_file: Path) -> None:
    src = tmp_path / "in"
    write_demo_tree(src, patients=4, seed=0)
    out = tmp_path / "out"
    assert main(["-q", "deid", str(src), str(out), "--key-file", str(key_file), "-j", "2",
                 "--no-clean-pixels", "--no-progress"]) == 1  # the samples include quarantines
    assert tree_digest(out) == EXPECTED
