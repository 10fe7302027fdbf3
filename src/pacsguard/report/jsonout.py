"""Write reports to files atomically (a crash never leaves half a report), or to stdout."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pacsguard.errors import OutputError
from pacsguard.report.files import write_atomic

__all__ = ["write_json", "write_text"]


def write_text(text: str, dest: Path | str) -> None:
    """Write ``text`` to ``dest`` (``-`` is stdout), creating its folder if needed."""
    if str(dest) == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    path = Path(dest)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write report {path.name}: {exc.strerror}") from exc
    write_atomic(path, text)


def write_json(obj: Any, dest: Path | str) -> None:
    """Write ``obj`` (a JSON-able value, or an already serialised string) as JSON."""
    text = obj if isinstance(obj, str) else json.dumps(obj, indent=2, ensure_ascii=False)
    write_text(text, dest)
