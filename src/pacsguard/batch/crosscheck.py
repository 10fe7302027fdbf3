"""A test aid: list every file ``deid`` writes, so that a test session can run ``verify`` on
each of them afterwards (the guard and verify must agree; ``tests/conftest.py``).

Off unless ``PACSGUARD_CROSSCHECK`` names a file. The list names input paths: it is for
test sessions only, never for real data.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["ENV", "note_written"]

ENV = "PACSGUARD_CROSSCHECK"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def note_written(source: str, output: Path, kept: frozenset[int]) -> None:
    """Append ``source``, ``output``, both digests (a test may change them later) and the
    tags the policy keeps by name (the guard leaves them to the user; verify reports them)."""
    target = os.environ.get(ENV)
    if not target:
        return
    src = Path(source)
    tags = ",".join(f"{t:08X}" for t in sorted(kept))
    line = (f"{src.resolve()}\t{_digest(src)}\t{output.resolve()}\t{_digest(output)}"
            f"\t{tags}\n")
    with open(target, "a", encoding="utf-8", errors="surrogateescape") as fh:
        fh.write(line)
