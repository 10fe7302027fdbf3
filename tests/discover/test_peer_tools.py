"""verify on the outputs of two other de-identification tools, installed in throwaway venvs.

What each tool leaves was measured on these originals (dicognito 0.19.0, dicom-anonymizer
2.1.0); the test pins those versions and asserts verify finds exactly those leaks:
dicognito keeps private tags (LO and UN), free text (Image Comments, SR text) and the
file meta source AE title; dicom-anonymizer keeps the original UIDs inside the SR evidence
sequence, merges both patients into one, and keeps the source AE title.
The venvs are cached under .peers/venvs so reruns are quick.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pacsguard.discover.verify import verify_trees

pytestmark = pytest.mark.slow

VENVS = Path(__file__).resolve().parents[2] / ".peers" / "venvs"
PINS = {"dicognito": "dicognito==0.19.0", "dicom-anonymizer": "dicom-anonymizer==2.1.0"}
_EVIDENCE = "(0040,A375)[0].(0008,1115)[0]"


def venv_python(name: str) -> Path:
    """The venv's python, created and filled with the pinned tool on first use."""
    root = VENVS / name
    python = root / "bin" / "python"
    pin = PINS[name]
    if python.exists():
        probe = subprocess.run([str(python), "-m", "pip", "show", pin.split("==")[0]],
                               capture_output=True, text=True, check=False)
        if f"Version: {pin.split('==')[1]}" in probe.stdout:
            return python
    VENVS.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(root)], check=True)
    proc = subprocess.run([str(python), "-m", "pip", "install", "-q", pin],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"cannot install {pin} from the package registry: {proc.stderr[-300:]}")
    return python


def offline(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a third-party tool with no network at all (it must not download anything)."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) not available to cut the network")
    return subprocess.run(["unshare", "-n", *cmd], capture_output=True, text=True, timeout=300,
                          check=False, stdin=subprocess.DEVNULL)


def _summary(leaks: list) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(leak.kind, leak.location) for leak in leaks if leak.kind != "validity"}


def test_dicognito_leaves_private_tags_and_free_text(originals: Path, tmp_path: Path) -> None:
    python = venv_python("dicognito")
    out = tmp_path / "out"
    proc = offline([str(python), "-m", "dicognito", "-o", str(out), "--seed", "7", "--quiet",
                    str(originals)])
    assert proc.returncode == 0, proc.stderr[-1000:]
    report = verify_trees(originals, out)
    assert _summary(report.leaks) == {
        ("value", "(0011,1010)"),  # private LO: the name
        ("value", "(0011,1011)"),  # private LO: the patient ID
        ("raw-bytes", "(0013,1010)"),  # private UN: the other patient ID, as bytes
        ("value", "(0020,4000)"),  # Image Comments: free text naming the patient
        ("value", "(0040,A730)[0].(0040,A160)"),  # SR text naming the patient
        ("file-meta", "file-meta (0002,0016)"),  # source AE title (the station)
    }
    assert report.paired == 6  # pairing worked without any key


def test_dicom_anonymizer_leaves_uids_in_evidence_sequences(originals: Path,
                                                            tmp_path: Path) -> None:
    python = venv_python("dicom-anonymizer")
    # It only reads the files directly inside its input folder: give it a flat copy.
    flat = tmp_path / "flat"
    flat.mkdir()
    for i, path in enumerate(sorted(originals.rglob("*.dcm"))):
        shutil.copy(path, flat / f"f{i}.dcm")
    out = tmp_path / "out"
    out.mkdir()
    tool = python.parent / "dicom-anonymizer"
    proc = offline([str(tool), str(flat), str(out)])
    assert proc.returncode == 0, proc.stderr[-1000:]
    report = verify_trees(flat, out)
    sr = {leak.path for leak in report.leaks if leak.kind == "original-uid"}
    assert len(sr) == 1
    assert _summary(report.leaks) == {
        ("original-uid", f"{_EVIDENCE}.(0008,1199)[0].(0008,1155)"),
        ("original-uid", f"{_EVIDENCE}.(0020,000E)"),
        ("original-uid", "(0040,A375)[0].(0020,000D)"),
        ("grouping", "patient"),  # both patients end up with one identity
        ("file-meta", "file-meta (0002,0016)"),
    }
    if shutil.which("dciodvfy"):
        assert any(leak.kind == "validity" for leak in report.leaks)
