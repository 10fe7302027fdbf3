"""The streaming path (header parsed, pixel data copied by the kernel) writes the same bytes
as the full path, on our samples, on public files nobody here wrote, and on generated
datasets in every pixel data form; and falls back, with a reason, on what it does not take."""

from __future__ import annotations

import io
import os
from collections import Counter
from pathlib import Path

import deid_data
import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEGBaseline8Bit

from pacsguard.deid.keys import SecretKey
from pacsguard.dicom import payload as payload_mod
from pacsguard.dicom.payload import Payload
from pacsguard.dicom.streaming import FULL_PATH_REASONS
from pacsguard.outcome import Outcome
from pacsguard.pipeline import Deidentifier, InstanceResult
from pacsguard.profile import Policy
from pacsguard.samples import write_ct_series, write_demo_tree

KEY = SecretKey(b"\x5a" * 32, "test")
STREAM = Deidentifier(Policy(), KEY)
WHOLE = Deidentifier(Policy(), KEY, streaming=False)


def _both(path: Path) -> tuple[InstanceResult, InstanceResult]:
    streamed, whole = STREAM.process(path), WHOLE.process(path)
    assert streamed.outcome == whole.outcome, (path.name, streamed.reason, whole.reason)
    assert streamed.reason == whole.reason
    if streamed.written:
        assert streamed.name == whole.name
        assert streamed.data == whole.data, path.name  # byte for byte
    return streamed, whole


def _compare_tree(root: Path) -> Counter[str]:
    ways: Counter[str] = Counter()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        streamed, _ = _both(path)
        if streamed.written:
            ways[streamed.full_path or "streamed"] += 1
    return ways


def test_same_bytes_on_the_samples(tmp_path: Path) -> None:
    write_demo_tree(tmp_path / "demo")
    write_ct_series(tmp_path / "ct", n_slices=4, rows=64, cols=64)
    ways = _compare_tree(tmp_path)
    assert ways["streamed"] >= 10, ways
    assert ways["pixel-work"] >= 1, ways  # burned-in samples: the full path, cleaned
    assert set(ways) <= {"streamed", *FULL_PATH_REASONS}


@pytest.mark.parametrize(("folder", "least"), [
    (Path(pydicom.__file__).parent / "data" / "test_files", 20),
    (Path(deid_data.__file__).parent / "data", 1),  # mostly ultrasound: pixel work
], ids=["pydicom", "deid-data"])
def test_same_bytes_on_public_files(folder: Path, least: int) -> None:
    ways = _compare_tree(folder)
    assert ways["streamed"] >= least, ways
    # files the streaming path does not take are listed by reason, never lost
    assert set(ways) <= {"streamed", *FULL_PATH_REASONS}, ways


# -- generated files, every form of pixel data ------------------------------------------
FORMS = ["explicit", "implicit", "odd", "encapsulated", "trailing", "burned", "no-pixels"]


def _dataset(form: str, name: str, pid: str, comment: str, private: bool) -> Dataset:
    ds = Dataset()
    ds.PatientName = name
    ds.PatientID = pid
    ds.StudyDate = "20240102"
    ds.Modality = "MR"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    ds.SOPInstanceUID = f"1.2.826.0.1.3680043.10.9.{pid}"
    ds.StudyInstanceUID = f"1.2.826.0.1.3680043.10.9.{pid}.1"
    ds.SeriesInstanceUID = f"1.2.826.0.1.3680043.10.9.{pid}.2"
    ds.ImageComments = comment
    item = Dataset()
    item.PatientID = pid + "7"
    ds.OtherPatientIDsSequence = [item]
    if private:
        ds.add_new(0x00190010, "LO", "SIEMENS MR HEADER")
        ds.add_new(0x00191008, "CS", "IMAGE NUM 4")
    if form == "burned":
        ds.BurnedInAnnotation = "YES"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 4, 4, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    syntax = ImplicitVRLittleEndian if form == "implicit" else ExplicitVRLittleEndian
    if form == "odd":
        ds.Rows, ds.Columns = 3, 3  # 9 bytes: pydicom pads them to 10
        ds.PixelData = bytes(range(9))
    elif form == "encapsulated":
        syntax = JPEGBaseline8Bit
        ds.PhotometricInterpretation = "YBR_FULL_422"
        ds.PixelData = encapsulate([b"\xff\xd8" + bytes(range(30)) + b"\xff\xd9"])
        ds["PixelData"].VR = "OB"
    elif form != "no-pixels":
        ds.PixelData = bytes(range(16))
    if form == "trailing":
        ds.add_new(0xFFFCFFFC, "OB", b"\0" * 4)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    return ds


def _write(ds: Dataset, path: Path) -> None:
    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    raw = buf.getvalue()
    if "PixelData" in ds and len(ds.PixelData) % 2:  # an odd length as some writers leave it
        at = raw.rfind(b"\xe0\x7f\x10\x00OB\x00\x00")
        assert at > 0 and raw[at + 8:at + 12] == (10).to_bytes(4, "little")
        raw = raw[:at + 8] + (9).to_bytes(4, "little") + raw[at + 12:-1]
    path.write_bytes(raw)


word = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=4, max_size=9)
digits = st.text(alphabet="0123456789", min_size=6, max_size=9)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(form=st.sampled_from(FORMS), family=word, pid=digits, private=st.booleans())
def test_same_bytes_on_generated_files(tmp_path: Path, form: str, family: str, pid: str,
                                       private: bool) -> None:
    path = tmp_path / "in.dcm"
    _write(_dataset(form, f"{family}^ANNE", pid, f"seen by {family}", private), path)
    streamed, _ = _both(path)
    expected = {"explicit": "", "implicit": "", "encapsulated": "", "odd": "pixel-encoding",
                "trailing": "after-pixel-data", "burned": "pixel-work",
                "no-pixels": "no-pixel-data"}[form]
    if streamed.written:
        assert streamed.full_path == expected
        assert family not in streamed.data.decode("latin-1")  # type: ignore[union-attr]


# -- the copy itself -------------------------------------------------------------------
@pytest.fixture
def streamed(tmp_path: Path) -> tuple[Path, InstanceResult]:
    write_ct_series(tmp_path / "ct", n_slices=1, rows=64, cols=64)
    path = next((tmp_path / "ct").rglob("*.dcm"))
    result = STREAM.process(path)
    assert result.written and result.full_path == "" and result.payload is not None
    assert result.payload.tail is not None
    return path, result


@pytest.mark.parametrize("way", ["copy_file_range", "sendfile", "buffered"])
def test_every_copy_method_gives_the_same_file(streamed: tuple[Path, InstanceResult],
                                               tmp_path: Path, way: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _, result = streamed
    assert result.payload is not None
    unsupported = {"copy_file_range": [], "sendfile": ["copy_file_range"],
                   "buffered": ["copy_file_range", "sendfile"]}[way]
    for name in unsupported:
        def refuse(*_: object) -> int:
            raise OSError(18, "cross-device")  # EXDEV: the next way is tried
        monkeypatch.setattr(os, name, refuse)
    with open(tmp_path / "out.dcm", "wb") as fh:
        result.payload.write_to(fh)
    assert (tmp_path / "out.dcm").read_bytes() == WHOLE.process(streamed[0]).data


def test_an_input_changed_before_the_copy_is_never_half_copied(
        streamed: tuple[Path, InstanceResult], tmp_path: Path) -> None:
    path, result = streamed
    assert result.payload is not None
    with open(path, "ab") as fh:
        fh.write(b"\0\0")
    with pytest.raises(OSError), open(tmp_path / "out.dcm", "wb") as out:
        result.payload.write_to(out)
    with pytest.raises(OSError):
        result.payload.read()


def test_a_short_source_is_an_error_not_a_short_file(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.write_bytes(b"x" * 100)
    with open(tmp_path / "dst", "wb") as dst, open(src, "rb") as fh, pytest.raises(OSError):
        payload_mod._copy_range(fh.fileno(), dst.fileno(), 50, 80)


def test_a_whole_payload_is_just_its_bytes(tmp_path: Path) -> None:
    with open(tmp_path / "a", "wb") as fh:
        Payload(b"DATA").write_to(fh)
    assert (tmp_path / "a").read_bytes() == b"DATA" and Payload(b"DATA").size == 4


def test_a_burned_in_file_still_fails_closed(tmp_path: Path) -> None:
    path = tmp_path / "b.dcm"
    _write(_dataset("burned", "DOE^ANNE", "123456", "x", False), path)
    result = Deidentifier(Policy(clean_pixels=False), KEY).process(path)
    assert result.outcome is Outcome.QUARANTINED and result.reason == "burned-in-annotation"
