"""The leak guard is verify's search: it fires where verify would, and nowhere else.

Odd character sets and Person Name forms (the fuzz campaign's leaks) are either cleaned out
of the text they were copied into, or quarantined; a written file never keeps the name.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from pacsguard.cli import main
from pacsguard.deid.leakguard import LeakGuard
from pacsguard.discover.verify import verify_trees

SURNAME = "KOWALSKI"


def write_file(path: Path, *, name: bytes = b"KOWALSKI^JAN", charset: str | None = "ISO_IR 100",
               comments: str = "Seen KOWALSKI JAN today", kernel: str = "B30f") -> Path:
    """A small CT image whose Patient's Name is stored as the raw bytes ``name``."""
    placeholder = b"Q" * (len(name) + len(name) % 2)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.file_meta.MediaStorageSOPInstanceUID = uid = generate_uid(entropy_srcs=[str(path)])
    if charset is not None:
        ds.SpecificCharacterSet = charset
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.2", uid
    ds.StudyInstanceUID = generate_uid(entropy_srcs=["study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=["series"])
    ds.Modality, ds.PatientID, ds.PatientBirthDate = "CT", "PID-55821", "19580212"
    ds.PatientName = placeholder.decode()
    ds.StudyDate, ds.ImageComments, ds.ConvolutionKernel = "20240105", comments, kernel
    ds.BurnedInAnnotation = "NO"
    ds.Rows = ds.Columns = 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.PixelData = bytes(128)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    data = path.read_bytes()
    path.write_bytes(data.replace(placeholder, name + b" " * (len(placeholder) - len(name))))
    return path


def deid(src: Path, out: Path, key_file: Path, *extra: str) -> dict[str, object]:
    code = main(["-q", "deid", str(src), str(out), "--key-file", str(key_file), "-j", "1",
                 "--no-progress", *extra])
    assert code in (0, 1)
    summary: dict[str, object] = json.loads((out / "pacsguard-summary.json").read_text())
    return summary


def test_guard_quarantines_what_verify_would_flag(tmp_path: Path, key_file: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # The patient ID copied into an attribute the profile keeps (Convolution Kernel, K).
    src = tmp_path / "in"
    write_file(src / "a.dcm", kernel="PID-55821")
    summary = deid(src, tmp_path / "out", key_file)
    assert summary["reasons"] == {"residual-identifier": 1}
    listed = (tmp_path / "out.pacsguard" / "quarantine.tsv").read_text()
    assert "(0018,1210)" in listed and "PatientID (0010,0020)" in listed
    assert "PID-55821" not in listed  # the reason names the place, never the value
    # Without the guard the file is written, and verify flags exactly that place.
    monkeypatch.setattr(LeakGuard, "find", lambda *a, **k: None)
    unguarded = tmp_path / "unguarded"
    assert deid(src, unguarded, key_file)["outcomes"]["written"] == 1  # type: ignore[index]
    report = verify_trees(src, unguarded, dciodvfy="off")
    assert {lk.location for lk in report.leaks} == {"(0018,1210)"}
    assert report.leaks[0].source == "PatientID (0010,0020)" and report.leaks[0].action == "D"
    shutil.rmtree(unguarded)  # a leak on purpose: the session's crosscheck must not count it


def test_a_clean_file_is_written_and_verifies(tmp_path: Path, key_file: Path) -> None:
    src = tmp_path / "in"
    write_file(src / "a.dcm")
    summary = deid(src, tmp_path / "out", key_file)
    assert summary["outcomes"]["written"] == 1  # type: ignore[index]
    assert verify_trees(src, tmp_path / "out", dciodvfy="off").leaks == []


CHARSET_CASES = {
    "utf16-under-latin1": ("KOWALSKI^JAN".encode("utf-16-le"), "ISO_IR 100"),
    "iso2022-escapes": (b"\x1b(BKOWALSKI\x1b-A^JAN", "ISO 2022 IR 100"),
    "utf8-under-ascii": ("KOWALSKÍ^JAN".encode(), None),
    "invalid-utf8": (b"KOWALSKI\xff\xfe^JAN", "ISO_IR 192"),
    "unknown-charset": ("KOWALSKÍ^JAN".encode("latin-1"), "ISO_IR 999"),
    "junk-after-nul": (b"KOWALSKI^JAN\x00\x8f\x9fZQ", "ISO_IR 100"),
    "pn-many-groups": (b"KOWALSKI^JAN=KOW^J=K^J=EXTRA^ONE", None),
    "pn-many-components": (b"KOWALSKI^JAN^A^B^C^D^E^F", None),
    "pn-repeated": (b"KOWALSKI^JAN\\KOWALSKI^JAN", None),
    "pn-nul-inside": (b"KOWAL\x00SKI^JAN", None),
}


@pytest.mark.parametrize("case", sorted(CHARSET_CASES))
def test_odd_charsets_and_names_never_leak(case: str, tmp_path: Path, key_file: Path) -> None:
    raw, charset = CHARSET_CASES[case]
    src = tmp_path / "in"
    comments = "Seen KOWAL SKI today" if case == "pn-nul-inside" else "Seen KOWALSKI JAN today"
    write_file(src / "a.dcm", name=raw, charset=charset, comments=comments)
    out = tmp_path / "out"
    summary = deid(src, out, key_file)
    reasons = summary["reasons"]
    written = list(out.rglob("*.dcm"))
    if written:
        data = written[0].read_bytes().upper()
        assert b"KOWALSKI" not in data and "KOWALSKI".encode("utf-16-le") not in data
        assert verify_trees(src, out, dciodvfy="off").leaks == []
    else:
        assert reasons in ({"charset-undecodable": 1}, {"residual-identifier": 1}), reasons
    if case in ("invalid-utf8", "unknown-charset"):
        assert reasons == {"charset-undecodable": 1}  # never guessed at and written


def test_verify_flags_the_name_where_a_tool_left_it(tmp_path: Path) -> None:
    # verify, not deid: a copy made by another tool keeps the UTF-16 name in the comments.
    src = tmp_path / "in"
    write_file(src / "a.dcm", name="KOWALSKI^JAN".encode("utf-16-le"), comments="KOWALSKI")
    copy = tmp_path / "copy"
    shutil.copytree(src, copy)
    locations = {lk.location for lk in verify_trees(src, copy, dciodvfy="off").leaks}
    assert "(0020,4000)" in locations


@pytest.mark.parametrize("kernel", ["B30f", "PID-55821"])
def test_an_output_without_sop_class_is_searched_as_bytes(kernel: str, tmp_path: Path,
                                                           key_file: Path) -> None:
    # A policy may remove SOP Class UID: the output is then no DICOM object for the reader,
    # and the guard searches its bytes, as verify does with such a file.
    src = tmp_path / "in"
    write_file(src / "a.dcm", kernel=kernel)
    policy = tmp_path / "policy.toml"
    policy.write_text('[actions]\nSOPClassUID = "remove"\n')
    summary = deid(src, tmp_path / "out", key_file, "--policy", str(policy))
    if kernel == "B30f":
        assert summary["outcomes"]["written"] == 1  # type: ignore[index]
    else:  # the patient ID kept in Convolution Kernel, found in the bytes
        assert summary["reasons"] == {"residual-identifier": 1}
