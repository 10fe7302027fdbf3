"""One risky-pixels predicate: deid, verify and scan agree on which images may carry text."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from pacsguard.dicom.reader import read_dicom_file as read_dicom
from pacsguard.discover.passes import index_chunk
from pacsguard.discover.risk import pixel_risk
from pacsguard.discover.scan import scan_tree
from pacsguard.profile import Policy

CT_CLASS = "1.2.840.10008.5.1.4.1.1.2"
SC_CLASS = "1.2.840.10008.5.1.4.1.1.7"


def _image(path: Path, modality: str, burned: str | None, sop_class: str = CT_CLASS) -> Path:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = uid = generate_uid()
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = sop_class, uid, modality
    ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "P1", generate_uid(), generate_uid()
    if burned is not None:
        ds.BurnedInAnnotation = burned
    ds.Rows = ds.Columns = 2
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit, ds.PixelRepresentation = 7, 0
    ds.PixelData = b"\0" * 4
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def _verdicts(tmp_path: Path, modality: str, burned: str | None, sop_class: str = CT_CLASS
              ) -> tuple[bool, bool, bool]:
    """(deid quarantines it without a pixel cleaner, verify reads its pixels, scan flags it)."""
    path = _image(tmp_path / "tree" / "a.dcm", modality, burned, sop_class)
    deid = pixel_risk(read_dicom(path).ds, Policy()) is not None
    verify = "a.dcm" in index_chunk(str(path.parent), [str(path)], 4).risky
    scan = any(r.flag == "burned-in-annotation" for r in scan_tree(path.parent).risks.values())
    return deid, verify, scan


@pytest.mark.parametrize("modality", ["US", "XC", "ES", "SC", "OT"])
def test_a_burning_modality_without_burned_in_annotation_is_risky_for_all(
        tmp_path: Path, modality: str) -> None:
    assert _verdicts(tmp_path, modality, None) == (True, True, True)


@pytest.mark.parametrize(("modality", "burned", "sop_class", "risky"), [
    ("US", "NO", CT_CLASS, False),
    ("CT", "YES", CT_CLASS, True),
    ("CT", None, CT_CLASS, False),
    ("CT", None, SC_CLASS, True),  # a Secondary Capture: a screen capture
    ("GM", None, CT_CLASS, False),  # not among the default burned_in_modalities
])
def test_deid_verify_and_scan_agree(tmp_path: Path, modality: str, burned: str | None,
                                    sop_class: str, risky: bool) -> None:
    assert _verdicts(tmp_path, modality, burned, sop_class) == (risky, risky, risky)


def test_the_modality_set_is_the_policys() -> None:
    ds = Dataset()
    ds.Modality, ds.PixelData = "GM", b"\0" * 4
    assert pixel_risk(ds) is None
    code, _ = pixel_risk(ds, Policy(burned_in_modalities=frozenset({"GM"}))) or ("", "")
    assert code == "burned-in-annotation-unknown"
