"""pacsguard.dicom is the lowest layer: it imports nothing of pacsguard above it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pacsguard.dicom

_ALLOWED = ("pacsguard.dicom", "pacsguard.errors", "pacsguard.limits", "pydicom")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            # ``from pacsguard import __version__``: the package root holds only the version
            # and a table of lazy exports, and is imported before any of its modules anyway.
            if node.module == "pacsguard" and [a.name for a in node.names] == ["__version__"]:
                continue
            found.add(node.module)
    return found


def test_dicom_imports_only_stdlib_pydicom_errors_and_limits() -> None:
    modules = sorted(Path(pacsguard.dicom.__file__).parent.glob("*.py"))
    assert len(modules) >= 8
    for path in modules:
        for name in _imports(path):
            top = name.split(".")[0]
            ok = top in sys.stdlib_module_names or top == "__future__" or name.startswith(
                _ALLOWED)
            assert ok, f"{path.name} imports {name}"
