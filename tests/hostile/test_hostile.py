"""Hostile inputs through the real ``pacsguard deid`` (subprocess, -j2): for every case no
traceback, no processing-error, the original unchanged, bounded worker memory, and every
written file passes verify against its original."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tests.hostile.campaign import Result, campaign
from tests.hostile.gen import CATEGORIES, Case

from pacsguard.discover.verify import verify_trees

RSS_LIMIT_MB = 512


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Case], Result, Path]:
    work = tmp_path_factory.mktemp("hostile")
    cases, result = campaign(22, work, "--no-clean-pixels", seed=13)
    return cases, result, work


def test_no_traceback_no_processing_error(run: tuple[list[Case], Result, Path]) -> None:
    cases, result, _ = run
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.code == 1  # some quarantined, nothing else went wrong
    missing = [c.name for c in cases if c.name not in result.outcomes]
    assert not missing
    errors = sorted(n for n, (_, r, _) in result.outcomes.items() if r == "processing-error")
    assert not errors
    assert not result.changed  # originals are never modified
    assert result.worker_rss_mb < RSS_LIMIT_MB
    # Every category is exercised, and most kinds of defect get their own precise reason.
    reasons = result.reasons()
    for code in ("truncated", "bad-vr", "bad-length", "bad-structure", "bad-encapsulation",
                 "bad-transfer-syntax", "pixel-geometry", "nesting-too-deep", "deflate-bomb",
                 "bad-deflate", "too-many-elements", "too-many-frames"):
        assert reasons[code], code


@pytest.mark.parametrize("category", CATEGORIES)
def test_written_files_pass_verify(run: tuple[list[Case], Result, Path], category: str) -> None:
    cases, result, work = run
    failed = []
    for c in cases:
        outcome, _, output = result.outcomes[c.name]
        if c.category != category or outcome != "written":
            continue
        report = verify_trees(work / "in" / c.category / c.name, work / "out" / output,
                              dciodvfy="off", workers=1)
        if report.leaks:
            failed.append((c.name, sorted({leak.kind for leak in report.leaks})))
    assert not failed


def test_verify_indexes_every_hostile_original(run: tuple[list[Case], Result, Path]) -> None:
    # verify reads the same hostile files as originals, all at once: it reports, it does not
    # crash. (Across the tree it may flag what no single file's guard can know: a mutant whose
    # Patient's Name was destroyed keeps in its text a name that another mutant still holds.)
    _, result, work = run
    report = verify_trees(work / "in", work / "out", dciodvfy="off", workers=2)
    written = sum(1 for o, _, _ in result.outcomes.values() if o == "written")
    assert report.originals > written > 0 and report.outputs == written


@pytest.mark.slow
def test_larger_campaign_with_pixel_cleaning(tmp_path: Path) -> None:
    pytest.importorskip("rapidocr_onnxruntime")
    cases, result = campaign({"pixel-geometry": 120, "encapsulation": 60, "preamble": 40,
                              "deflate": 30, "byte-flip": 150}, tmp_path, seed=99)
    assert "Traceback" not in result.stderr
    assert "processing-error" not in result.reasons()
    assert len(result.outcomes) == len(cases) and not result.changed
    assert result.worker_rss_mb < RSS_LIMIT_MB


def test_journal_has_one_row_per_case(run: tuple[list[Case], Result, Path]) -> None:
    cases, _, work = run
    db = sqlite3.connect(work / "out.pacsguard" / "journal.sqlite")
    (count,) = db.execute("SELECT COUNT(*) FROM files").fetchone()
    db.close()
    assert count == len(cases)
