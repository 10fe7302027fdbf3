"""Text burned into the pixels of an output is read (when a detector is installed) and matched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from pacsguard.discover.verify import verify_trees
from pacsguard.pixels import detector_available

SC_CLASS = "1.2.840.10008.5.1.4.1.1.7"


def _detector() -> bool:
    return bool(detector_available("rapidocr"))


def _sc(path: Path, pixels: np.ndarray, uids: tuple[str, str, str], name: str) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SC_CLASS
    meta.MediaStorageSOPInstanceUID = uids[2]
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = SC_CLASS
    ds.SOPInstanceUID = uids[2]
    ds.StudyInstanceUID, ds.SeriesInstanceUID = uids[0], uids[1]
    ds.PatientName = name
    ds.PatientID = "PGX-449127" if name.startswith("ZEBRA") else "SUBJ-1"
    ds.Modality = "OT"
    ds.ConversionType = "WSD"
    ds.InstanceNumber = 1
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


@pytest.mark.slow
@pytest.mark.skipif(not _detector(), reason="no text detector (pip install '.[ocr]')")
def test_name_burned_into_output_pixels_is_found(tmp_path: Path) -> None:
    import cv2

    blank = np.full((96, 384), 20, dtype=np.uint8)
    _sc(tmp_path / "in" / "a.dcm", blank, (generate_uid(), generate_uid(), generate_uid()),
        "ZEBRAFINCH^QUENTIN")
    burned = blank.copy()
    cv2.putText(burned, "ZEBRAFINCH QUENTIN", (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 255, 2)
    # Same pixels as the original except the text: pairing falls back to the weak fingerprint.
    _sc(tmp_path / "out" / "b.dcm", burned, (generate_uid(), generate_uid(), generate_uid()),
        "SUBJ^ONE")
    report = verify_trees(tmp_path / "in", tmp_path / "out", pixel_detector="rapidocr")
    assert {(leak.path, leak.kind) for leak in report.leaks} == {("b.dcm", "pixel-text")}
    assert report.leaks[0].location == "(7FE0,0010) frame 0"
    assert "ran with rapidocr on 1 image" in report.pixel_check
    # Without a detector the check is reported as skipped, never silently passed.
    skipped = verify_trees(tmp_path / "in", tmp_path / "out", pixel_detector=None)
    assert skipped.leaks == [] and skipped.pixel_check.startswith("skipped")
