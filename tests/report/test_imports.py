"""report/ renders plain data: it imports no domain module (only itself and the foundation)."""

from __future__ import annotations

import ast
from pathlib import Path

import pacsguard.report

_ALLOWED = ("pacsguard.report", "pacsguard.errors")


def test_report_imports_no_domain_module() -> None:
    folder = Path(pacsguard.report.__file__).parent
    found = set()
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    ours = {m for m in found if m == "pacsguard" or m.startswith("pacsguard.")}
    assert ours and all(m.startswith(_ALLOWED) for m in ours), sorted(ours)
