"""The one reader: deid's strict read and scan/verify's read give the same reason codes."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from pacsguard.dicom import reader
from pacsguard.dicom.reader import (
    is_dicomdir,
    parse_dicom,
    parse_dicom_file,
    read_dicom,
    read_dicom_file,
)
from pacsguard.dicom.tags import PATIENT_NAME, PIXEL_DATA
from pacsguard.errors import FileRejected, LimitExceeded
from pacsguard.limits import Limits
from pacsguard.samples import PATIENTS, identifying_dataset


def _encode(ds: Dataset, *, meta: bool = True) -> bytes:
    buf = io.BytesIO()
    if meta:
        dcmwrite(buf, ds, enforce_file_format=True)
    else:  # a bare implicit VR dataset, as old ACR-NEMA files are
        dcmwrite(buf, ds, implicit_vr=True, little_endian=True)
    return buf.getvalue()


def _ct() -> bytes:
    return _encode(identifying_dataset(PATIENTS[0], "CT", size=(16, 16)))


def _write(tmp_path: Path, data: bytes, name: str = "case") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _code(read: Callable[[Path], object], path: Path) -> str:
    with pytest.raises(FileRejected) as caught:
        read(path)
    return f"{type(caught.value).__name__}:{caught.value.code}"


def _no_sop_class() -> bytes:
    ds = identifying_dataset(PATIENTS[0], "CT", size=(16, 16))
    del ds.SOPClassUID
    return _encode(ds)


def _no_pixels() -> bytes:
    ds = identifying_dataset(PATIENTS[0], "CT", size=(16, 16))
    del ds[PIXEL_DATA]
    return _encode(ds)


BAD = {
    "text": (b"hello, this is not DICOM at all\n" * 20, "NotDicom:not-dicom"),
    "empty": (b"", "NotDicom:not-dicom"),
    "prefix only": (b"\0" * 128 + b"DICM", "NotDicom:not-dicom"),
    "no SOP class": (_no_sop_class(), "NotDicom:not-dicom"),
    "bad VR": (_ct().replace(b"\x28\x00\x11\x00US", b"\x28\x00\x11\x00XX"), "CorruptDicom:bad-vr"),
    "meta cut short": (b"\0" * 128 + b"DICM\x02\x00\x10\x00UI\x40\x001.2", "CorruptDicom:truncated"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_both_reads_give_deids_reason(name: str, tmp_path: Path) -> None:
    data, expected = BAD[name]
    path = _write(tmp_path, data)
    assert _code(read_dicom, path) == expected
    assert _code(read_dicom_file, path) == expected
    assert _code(lambda p: parse_dicom(p.read_bytes()), path) == expected
    assert _code(lambda p: parse_dicom_file(p.read_bytes(), p), path) == expected


@pytest.mark.parametrize("where", ["in the pixels", "in the header", "before SOP Class UID"])
def test_truncated_is_refused_by_deid_and_kept_damaged_by_scan(where: str, tmp_path: Path) -> None:
    data = _ct()
    end = {"in the pixels": len(data) - 50, "in the header": data.find(b"\x10\x00\x20\x00") + 10,
           "before SOP Class UID": data.find(b"\x08\x00\x16\x00UI") + 3}[where]
    path = _write(tmp_path, data[:end])
    assert _code(read_dicom, path) == "CorruptDicom:truncated"
    df = read_dicom_file(path)
    assert df.damaged and len(df.ds) > 0  # what a cut file holds is still searched
    assert (PATIENT_NAME in df.ds) is (where != "before SOP Class UID")
    assert read_dicom_file(_write(tmp_path, data, "whole")).damaged is None


def test_a_file_cut_before_its_first_element_is_refused(tmp_path: Path) -> None:
    data = _ct()
    meta_end = 132 + 12 + int.from_bytes(data[140:144], "little")  # (0002,0000) gives it
    assert data[meta_end:meta_end + 2] == b"\x08\x00"  # the dataset's first element
    path = _write(tmp_path, data[:meta_end + 3])
    assert _code(read_dicom, path) == _code(read_dicom_file, path) == "CorruptDicom:truncated"


def test_image_attributes_without_pixel_data_are_truncated(tmp_path: Path) -> None:
    path = _write(tmp_path, _no_pixels())
    assert _code(read_dicom, path) == "CorruptDicom:truncated"
    assert read_dicom_file(path).damaged == "image attributes present but no pixel data"


def test_too_large_before_reading(tmp_path: Path) -> None:
    path = _write(tmp_path, _ct() + b"\0" * (1 << 20))
    for read in (read_dicom, read_dicom_file):
        with pytest.raises(LimitExceeded, match="too-large"):
            read(path, Limits(max_file_mb=1))  # type: ignore[operator]


def test_unreadable(tmp_path: Path) -> None:
    assert _code(read_dicom, tmp_path) == "CorruptDicom:unreadable"  # a folder
    assert _code(read_dicom_file, tmp_path) == "CorruptDicom:unreadable"


@pytest.mark.parametrize(("raised", "expected"), [
    (InvalidDicomError("no"), "NotDicom:not-dicom"), (ValueError("DUPONT"), "CorruptDicom:parse-error"),
    (OSError(5, "I/O error"), "CorruptDicom:unreadable")])
def test_pydicom_failures(raised: Exception, expected: str, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise raised

    monkeypatch.setattr(reader, "dcmread", fail)
    path = _write(tmp_path, _ct())
    assert _code(read_dicom, path) == _code(read_dicom_file, path) == expected
    with pytest.raises(FileRejected) as caught:
        read_dicom(path)
    assert "DUPONT" not in str(caught.value)  # a reason names no value


def test_deid_read_completes_the_file_meta(tmp_path: Path) -> None:
    ds = identifying_dataset(PATIENTS[0], "CT", size=(16, 16))
    ds.file_meta = FileMetaDataset()
    path = _write(tmp_path, _encode(ds, meta=False))
    read = read_dicom(path)
    assert read.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
    assert read.PatientName == ds.PatientName
    assert parse_dicom(path.read_bytes()).file_meta.TransferSyntaxUID == ImplicitVRLittleEndian


def test_scan_read_keeps_bytes_and_bulk_ranges(tmp_path: Path) -> None:
    ds = identifying_dataset(PATIENTS[0], "CT", size=(16, 16))
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    data = _encode(ds)
    df = read_dicom_file(_write(tmp_path, data))
    assert df.data == data and df.has_preamble and df.damaged is None
    [(lo, hi)] = df.bulk
    assert data[lo:hi] == ds.PixelData


def test_dicomdir_without_sop_class_is_read(tmp_path: Path) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    meta.MediaStorageSOPInstanceUID = "1.2.3"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.FileSetID = "SET1"
    ds.DirectoryRecordSequence = [Dataset()]
    path = _write(tmp_path, _encode(ds), "DICOMDIR")
    assert is_dicomdir(read_dicom(path)) and is_dicomdir(read_dicom_file(path).ds)
    assert not is_dicomdir(read_dicom(_write(tmp_path, _ct())))
