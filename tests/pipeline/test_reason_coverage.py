"""Every reason code in the source, and every code the README names, has a case in
``test_reasons.py``: a new code without a case (or a stale case) fails the suite."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

from test_reasons import CASES, NOT_DEID

import pacsguard
import pacsguard.errors

SRC = Path(pacsguard.__file__).resolve().parent


def _rejection_classes() -> set[str]:
    names, todo = set(), [pacsguard.errors.FileRejected]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo += cls.__subclasses__()
    return names


_OUTCOMES = {"written", "quarantined", "skipped", "failed", "duplicate"}


def _is_code(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)
            and node.value.replace("-", "").isalpha() and node.value.islower()
            and node.value not in _OUTCOMES)


def _callee(node: ast.Call) -> str:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _sentence(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and " " in node.value)


#: Packages whose string pairs are not file reasons: audit's are network states.
NOT_SCANNED = ("audit/",)


def source_codes() -> dict[str, str]:
    """Reason codes in ``src``, each with one place it appears: the first argument of a
    FileRejected class (or of a function returning one), a code followed by its sentence in
    any call (an outcome built directly) or in a returned pair (the risk checks,
    ``known_cause``), and a constant given as ``reason``."""
    rejecting = _rejection_classes()
    found: dict[str, str] = {}
    for path in sorted(SRC.rglob("*.py")):
        where = path.relative_to(SRC).as_posix()
        if where.startswith(NOT_SCANNED):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        helpers = {f.name for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
                   and isinstance(f.returns, ast.Name) and f.returns.id in rejecting}
        for node in ast.walk(tree):
            codes: list[ast.expr] = []
            pairs: list[ast.expr] = []
            if isinstance(node, ast.Call):
                if node.args and _callee(node) in rejecting | helpers:
                    codes.append(node.args[0])
                pairs = node.args
                codes += [k.value for k in node.keywords if k.arg == "reason"]
            elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
                pairs = node.value.elts
            elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "reason" for t in node.targets):
                codes.append(node.value)
            codes += [a for a, b in pairwise(pairs) if _sentence(b)]
            for c in codes:
                if _is_code(c):
                    found.setdefault(str(c.value), where)  # type: ignore[attr-defined]
    return found


def test_every_code_in_the_source_has_a_case() -> None:
    codes = source_codes()
    assert {"bad-vr", "no-pixel-cleaner", "burned-in-annotation", "timeout"} <= set(codes)
    missing = {c: w for c, w in codes.items() if c not in CASES and c not in NOT_DEID}
    assert not missing, f"reason codes with no case in test_reasons.py: {missing}"
    stale = (set(CASES) | set(NOT_DEID)) - set(codes)
    assert not stale, f"cases for codes the source no longer has: {sorted(stale)}"


def _readme_codes() -> Iterator[str]:
    readme = (SRC.parents[1] / "README.md").read_text(encoding="utf-8")
    start = readme.index("Reason codes:")
    end = readme.index("Non-DICOM files and DICOMDIRs", start)
    yield from re.findall(r"`([a-z]+(?:-[a-z]+)*)`", readme[start:end])


def test_every_code_the_readme_names_has_a_case() -> None:
    named = set(_readme_codes())
    assert {"residual-identifier", "timeout", "parse-error"} <= named
    assert named - set(CASES) == set()
