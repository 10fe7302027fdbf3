"""End to end on the shared sample data: recall against its manifest, and the real engine's output."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from discover_fixtures import run_engine
from pacsguard.discover.verify import verify_trees
from pacsguard.samples import Manifest, write_demo_tree

IDENTIFIER_KINDS = {"value", "raw-bytes", "file-meta", "preamble", "file-bytes", "path",
                    "original-uid", "dangling-reference", "grouping", "date-shift", "pixel-text"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    root = tmp_path_factory.mktemp("demo") / "in"
    return root, write_demo_tree(root, 4, 0)


def test_untouched_copy_every_planted_place_is_found(demo: tuple[Path, Manifest],
                                                     tmp_path: Path) -> None:
    """A 'tool' that changes nothing: each identifier the manifest planted is found where it is."""
    root, manifest = demo
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    report = verify_trees(root, copy, dciodvfy=False, show_values=True)  # real paths
    where: dict[str, set[str]] = {}
    for leak in report.leaks:
        where.setdefault(leak.path, set()).add(leak.location)
    missing = []
    for entry in manifest.files:
        got = where.get(entry.path, set())
        if entry.kind == "non-dicom":
            assert any(loc.startswith("@") for loc in got), entry.path
            continue
        prefix = "DICOMDIR " if entry.kind == "DICOMDIR" else ""
        for place in entry.places:
            loc = "file-meta " + place[5:] if place.startswith("meta:") else prefix + place
            if loc not in got:
                missing.append((entry.path, loc))
        if entry.path_planted:
            parts = entry.path.split("/")
            named = {p for p in where for i in range(len(parts)) if p == "/".join(parts[: i + 1])}
            assert named, entry.path
    assert missing == []
    assert sum(len(e.places) for e in manifest.files) > 1500  # the check covered real ground


@pytest.mark.slow
def test_engine_output_leaks_no_identifier(demo: tuple[Path, Manifest], tmp_path: Path) -> None:
    root, _ = demo
    out = tmp_path / "out"
    run_engine(root, out, tmp_path, quarantine_ok=True)  # burned-in images are quarantined
    report = verify_trees(root, out)
    leaks = [leak for leak in report.leaks if leak.kind in IDENTIFIER_KINDS]
    assert leaks == []
    assert report.paired == report.outputs
    assert report.counts_out["patients"] == report.counts_in["patients"] == 4


def test_reports_of_an_untouched_copy_print_no_identifier(demo: tuple[Path, Manifest],
                                                          tmp_path: Path) -> None:
    """Thousands of leaks reported, and not one identifier in the JSON, HTML or terminal text."""
    import io

    from rich.console import Console

    from pacsguard.discover.render import verify_html, verify_terminal

    root, manifest = demo
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    report = verify_trees(root, copy, dciodvfy=False)
    assert len(report.leaks) > 1000
    buf = io.StringIO()
    verify_terminal(report, Console(file=buf, width=200), max_rows=100_000)
    texts = {"json": report.to_json(), "html": verify_html(report), "terminal": buf.getvalue()}
    secrets = {v for p in range(len(manifest.patients)) for v in manifest.all_identifiers(p)
               if len(v) >= 6}
    assert len(secrets) > 100
    for name, text in texts.items():
        low = text.lower()
        leaked = sorted(s for s in secrets if s.lower() in low)
        assert leaked == [], name
