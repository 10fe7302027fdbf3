"""Layers import only downward (docs/architecture.md): a module may import its own package,
the foundation and the packages of lower layers, never a higher or a sibling layer. Imports
inside functions count too: a lazy import is still a dependency."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "pacsguard"

#: Lowest first. Within the foundation, modules import each other; elsewhere a package sees
#: only itself and the layers below.
LAYERS: list[frozenset[str]] = [
    frozenset({"errors", "outcome", "limits", "dicom"}),  # foundation
    frozenset({"profile", "report", "samples"}),  # the rules; rendering plain data; sample data
    frozenset({"discover"}),  # what identifies someone: index, match, judge, scan, verify
    frozenset({"deid", "pixels"}),  # header actions; burned-in text
    frozenset({"discover.checks"}),  # scan and verify: they read burned-in text with pixels
    frozenset({"pipeline", "io"}),  # one instance in, one outcome out; sources and sinks
    frozenset({"batch"}),  # scheduling, journal, commit
    frozenset({"audit", "gateway"}),  # services and exposure checks
    frozenset({"cli"}),
]
EXEMPT = {"__init__", "__main__"}  # the package's lazy public API and entry point
#: discover holds the definition of an identifier (below deid and pixels, which use it) and
#: the checks built on it (above them): these modules are the checks.
CHECKS = {"scan", "verify", "passes", "pixelcheck", "render"}


def layer_of(unit: str) -> int:
    for i, layer in enumerate(LAYERS):
        if unit in layer:
            return i
    raise AssertionError(f"pacsguard.{unit} is in no layer: add it to LAYERS and to "
                         "docs/architecture.md")


def unit_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    if rel.parts[0] == "discover" and rel.stem in CHECKS:
        return "discover.checks"
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def unit_of_module(dotted: str) -> str | None:
    parts = dotted.split(".")
    if parts[0] != "pacsguard" or len(parts) < 2:
        return None
    if parts[1] == "discover" and len(parts) > 2 and parts[2] in CHECKS:
        return "discover.checks"
    return parts[1]


def imported_units(path: Path) -> set[str]:
    """The pacsguard top-level units a module imports (``__version__`` from the root is free)."""
    package = ".".join(("pacsguard", *path.relative_to(SRC).parts[:-1]))
    return units_in(path.read_text(encoding="utf-8"), package)


def units_in(text: str, package: str) -> set[str]:
    tree = ast.parse(text)
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names = [".".join([*base, node.module or ""]).rstrip(".")]
            else:
                names = [node.module or ""]
            if names == ["pacsguard"]:
                names = [f"pacsguard.{a.name}" for a in node.names if a.name != "__version__"]
        if (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module"
                and node.args and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)):
            names = [node.args[0].value]  # importlib.import_module("pacsguard.x") counts too
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # "from pacsguard.discover import verify" names a module, not an attribute
            names += [f"{node.module}.{a.name}" for a in node.names if a.name != "__version__"]
        for name in names:
            unit = unit_of_module(name)
            if unit is not None:
                found.add(unit)
    return found


MODULES = sorted(p for p in SRC.rglob("*.py") if unit_of(p) not in EXEMPT)


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(SRC)) for p in MODULES])
def test_imports_go_only_downward(path: Path) -> None:
    unit = unit_of(path)
    mine = layer_of(unit)
    bad = []
    for other in sorted(imported_units(path) - {unit}):
        theirs = layer_of(other)
        if theirs > mine or (theirs == mine and mine != 0):
            bad.append(f"{other} (layer {theirs})")
    assert not bad, f"{path.relative_to(SRC)} (layer {mine}: {unit}) imports upward or sideways: {bad}"


def test_the_checker_sees_upward_imports() -> None:
    # The test above must be able to fail: lazy, relative and root imports are all seen.
    text = ("from . import html\n"
            "def f() -> None:\n"
            "    from pacsguard.batch.runner import DeidRunner\n"
            "    from pacsguard import __version__, pipeline\n"
            "    from ..deid import engine\n"
            "    importlib.import_module('pacsguard.audit')\n"
            "    from pacsguard.discover import verify\n")
    assert units_in(text, "pacsguard.report") == {"report", "batch", "pipeline", "deid", "audit",
                                                  "discover", "discover.checks"}
    assert layer_of("batch") > layer_of("report")
    assert layer_of("discover.checks") > layer_of("pixels") > layer_of("discover")


def test_the_foundation_needs_only_the_standard_library_and_pydicom() -> None:
    # What every other layer stands on installs with the core dependencies alone.
    foundation = [p for p in MODULES if layer_of(unit_of(p)) == 0]
    assert len(foundation) >= 10
    for path in foundation:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                tops = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                assert top in sys.stdlib_module_names or top in {"__future__", "pacsguard",
                                                                 "pydicom"}, (path, top)
