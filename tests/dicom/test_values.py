"""value_text: one element's value as text, for every caller."""

from __future__ import annotations

import io

import pytest
from pydicom import dcmread, dcmwrite
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from pacsguard.dicom.tags import (
    ACCESSION_NUMBER,
    IMAGE_TYPE,
    MODALITY,
    PATIENT_ID,
    PATIENT_NAME,
    PIXEL_DATA,
    ROWS,
    STUDY_INSTANCE_UID,
)
from pacsguard.dicom.values import value_text
from pacsguard.samples import PATIENTS, identifying_dataset


def test_absent_empty_none_and_sequence_read_as_empty() -> None:
    ds = Dataset()
    assert value_text(ds, PATIENT_ID) == ""
    ds.add_new(PATIENT_ID, "LO", None)
    ds.add_new(MODALITY, "CS", "")
    ds.add_new(0x00081140, "SQ", [Dataset()])  # Referenced Image Sequence
    for tag in (PATIENT_ID, MODALITY, 0x00081140):
        assert value_text(ds, tag) == "" and value_text(ds, tag, first=True) == ""
        assert value_text(ds, tag, stored=True) == ""


def test_multi_valued() -> None:
    ds = Dataset()
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    assert value_text(ds, IMAGE_TYPE) == "ORIGINAL\\PRIMARY\\AXIAL"
    assert value_text(ds, IMAGE_TYPE, first=True) == "ORIGINAL"
    ds.ImageType = []
    assert value_text(ds, IMAGE_TYPE) == value_text(ds, IMAGE_TYPE, first=True) == ""


def test_bytes_are_latin1_and_padding_is_stripped() -> None:
    ds = Dataset()
    ds.add_new(PIXEL_DATA, "OB", b"caf\xe9\x00")
    assert value_text(ds, PIXEL_DATA) == "café"
    ds.add_new(PATIENT_ID, "LO", "  PID-1 \x00")
    assert value_text(ds, PATIENT_ID) == value_text(ds, PATIENT_ID, first=True) == "PID-1"
    ds.add_new(ROWS, "US", 512)
    assert value_text(ds, ROWS) == "512"


def _stored() -> Dataset:
    """A dataset as read from a file: its elements still raw."""
    ds = identifying_dataset(PATIENTS[0], "CT", size=(8, 8))
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "MÜLLER^Jürgen"
    ds.AccessionNumber = "ACC1\\ACC2"  # multi-valued, as stored
    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    return dcmread(io.BytesIO(buf.getvalue()))


def test_stored_reads_bytes_without_decoding() -> None:
    ds = _stored()
    uid = value_text(ds, STUDY_INSTANCE_UID, stored=True)
    assert uid and isinstance(ds.get_item(STUDY_INSTANCE_UID), RawDataElement)  # not decoded
    assert value_text(ds, ACCESSION_NUMBER, stored=True) == "ACC1\\ACC2"
    assert value_text(ds, ACCESSION_NUMBER, stored=True, first=True) == "ACC1"
    assert value_text(ds, PATIENT_NAME, stored=True) == "MÜLLER^Jürgen".encode().decode("latin-1")
    # Decoded (the default): the character set applies, and the element is converted.
    assert value_text(ds, PATIENT_NAME) == "MÜLLER^Jürgen"
    assert not isinstance(ds.get_item(PATIENT_NAME), RawDataElement)
    assert value_text(ds, ACCESSION_NUMBER) == "ACC1\\ACC2"
    assert value_text(ds, STUDY_INSTANCE_UID) == uid


def test_an_undecodable_value_raises_unless_read_stored() -> None:
    ds = Dataset()
    ds[ROWS] = RawDataElement(Tag(ROWS), "US", 3, b"abc", 0, False, True)  # odd length for US
    assert value_text(ds, ROWS, stored=True) == "abc"
    with pytest.raises(Exception, match="bytes per value"):
        value_text(ds, ROWS)
