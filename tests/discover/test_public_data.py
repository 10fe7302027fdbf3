"""verify on public DICOM that nobody here wrote: pydicom's test files and the deid-data
package (real CT, MR and vendor ultrasound). Default-profile output raises at most 2 alarms
per 100 files, and a name planted into one output is still caught."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import deid_data
import pydicom
import pytest

from pacsguard.discover.verify import verify_trees

pytestmark = pytest.mark.slow

SETS = {
    "pydicom": Path(pydicom.__file__).parent / "data" / "test_files",
    "deid-data": Path(deid_data.__file__).parent / "data",
}


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("public")
    src = root / "in"
    for name, path in SETS.items():
        shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    key = root / "k.key"
    key.write_text("7c" * 32 + "\n")
    out = root / "out"
    # A process of its own: earlier tests load the OCR runtime in this one, and its threads
    # do not survive the fork of deid's workers.
    run = subprocess.run([sys.executable, "-m", "pacsguard", "-q", "deid", str(src), str(out),
                          "--key-file", str(key), "--no-progress", "-j", "2"],
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode in (0, 1), run.stderr[-2000:]
    return src, out


def test_verify_on_both_sets_at_once_does_not_crash(public: tuple[Path, Path]) -> None:
    src, out = public
    report = verify_trees(src, out)  # as a user runs it: dciodvfy on a sample of pairs
    assert report.outputs >= 120 and report.originals >= 130
    # At most 2 alarms per 100 files, each one listed in docs/verify-scan.md.
    alarms = [f"{lk.path}: {lk.location} {lk.kind} ({lk.detail})" for lk in report.leaks]
    assert len(alarms) * 100 <= 2 * report.outputs, "\n".join(alarms)


def test_a_planted_name_is_caught(public: tuple[Path, Path], tmp_path: Path) -> None:
    src, out = public
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    target = None
    for path in sorted(copy.rglob("*.dcm")):
        ds = pydicom.dcmread(path)
        if ds.get("Modality") == "CT" and "ImageComments" not in ds:
            target = path
            break
    assert target is not None
    ds = pydicom.dcmread(target)
    ds.ImageComments = "reviewed for SIMPSON HOMER"  # the patient of deid-data's CT brain
    ds.save_as(target)
    leaks = verify_trees(src, copy, dciodvfy="off").leaks
    rel = target.relative_to(copy).as_posix()
    assert any(lk.path == rel and lk.location == "(0020,4000)" and lk.category == "name"
               for lk in leaks), leaks
