"""Output validity: dciodvfy (dicom3tools) errors that the original did not have.

dciodvfy's messages quote values (``DA [1] = <2024-01-01>``): they are normalised before
comparison and display, keeping only the message template and the attribute names.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pacsguard.discover.findings import Leak

__all__ = ["dciodvfy_available", "dciodvfy_errors", "new_errors"]

# <...> after these words names an attribute or module; anywhere else it quotes a value.
_VALUE = re.compile(r"(?<!Element=)(?<!Module=)(?<!Macro=)(?<!attribute )<[^<>]*>")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUM = re.compile(r"\[\d+\]")
# A value cut by a line break inside it (a CR in free text), and bare UIDs (they are remapped).
_CUT = re.compile(r"(?<!Element=)(?<!Module=)(?<!Macro=)(?<!attribute )<[^<>]*$")
_UID = re.compile(r"(?<![\w.])\d+(?:\.\d+){2,}(?![\w.])")


def dciodvfy_available() -> bool:
    return shutil.which("dciodvfy") is not None


def _normalise(line: str) -> str:
    line = _CUT.sub("<>", _VALUE.sub("<>", line))
    line = _UID.sub("<uid>", _QUOTED.sub("''", line))
    return " ".join(_NUM.sub("[]", line).split())


def dciodvfy_errors(path: Path) -> set[str]:
    """Normalised ``Error -`` lines of dciodvfy for ``path`` (empty set when it is clean)."""
    exe = shutil.which("dciodvfy")
    if exe is None:
        return set()
    try:
        proc = subprocess.run([exe, str(path)], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return {"Error - dciodvfy could not run"}
    text = (proc.stderr + proc.stdout).decode("latin-1")
    out = set()
    for line in text.splitlines():
        if line.startswith("Error - "):
            out.add(_normalise(line))
    return out


def new_errors(pairs: list[tuple[Path, Path, str]], workers: int = 2) -> list[Leak]:
    """dciodvfy errors present in each output and absent from its original.

    ``pairs`` holds ``(original path, output path, output rel)``. The original is only
    checked when its output has errors, which saves half the runs on good outputs.
    """
    if not dciodvfy_available() or not pairs:
        return []

    def one(item: tuple[Path, Path, str]) -> list[Leak]:
        orig, out, rel = item
        errs = dciodvfy_errors(out)
        if not errs:
            return []
        fresh = errs - dciodvfy_errors(orig)
        return [Leak(path=rel, location="dciodvfy", kind="validity", detail=e[:300])
                for e in sorted(fresh)]

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [leak for leaks in pool.map(one, pairs) for leak in leaks]
