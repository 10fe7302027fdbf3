"""Every DICOM test file shipped with pydicom goes through: written, or quarantined or
skipped with a reason; never a crash, never a processing error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pydicom.data
import pytest

from pacsguard.cli import main


@pytest.mark.slow  # OCR cleans the many OT/SC/US files (about 2.5 min on 2 cores)
def test_all_pydicom_test_files(tmp_path: Path, key_file: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    # The files pydicom ships in its wheel (get_testdata_files would download more: no).
    shipped = Path(pydicom.data.__file__).parent / "test_files"
    skip = (".py", ".json", ".txt", ".gz", ".bz2", ".pyc")
    files = sorted(p for p in shipped.rglob("*") if p.is_file() and p.suffix not in skip)
    for i, f in enumerate(files):
        shutil.copy(f, src / f"{i:04d}")
    out = tmp_path / "out"
    code = main(["-q", "deid", str(src), str(out), "--key-file", str(key_file), "-j", "2"])
    assert code in (0, 1)
    summary = json.loads((out / "pacsguard-summary.json").read_text())
    counts = summary["outcomes"]
    assert sum(counts.values()) == len(files)
    assert counts["failed"] == 0
    assert counts["written"] >= 40
    assert "processing-error" not in summary["reasons"], summary["reasons"]
    rows = (tmp_path / "out.pacsguard" / "quarantine.tsv").read_text().splitlines()[1:]
    assert all(r.split("\t")[2] for r in rows if r.split("\t")[1] == "quarantined")
