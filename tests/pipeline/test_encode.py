"""``encode`` writes raw and ASCII text elements itself: the bytes must be pydicom's
(``dcmwrite`` in the file format), element for element, whatever the values, character set
and VR encoding. Compared on generated datasets read back from a file, then changed."""

from __future__ import annotations

import copy
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom import dcmread, dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from pacsguard.dicom.settings import pydicom_scope
from pacsguard.pipeline.encode import encode

TEXT_VRS = {"ImageType": "CS", "StudyDate": "DA", "StudyTime": "TM", "AcquisitionDateTime": "DT",
            "StudyDescription": "LO", "StationName": "SH", "ImageComments": "LT",
            "ReferringPhysicianTelephoneNumbers": "SH", "RetrieveURL": "UR",
            "FrameOfReferenceUID": "UI", "AdditionalPatientHistory": "LT"}
values = st.one_of(
    st.text(alphabet="ABCDEFGHIJ0123456789 .-^", max_size=21),
    st.text(max_size=9),  # any character: pydicom's own path
    st.lists(st.text(alphabet="ABC123", max_size=7), max_size=4),
    st.just(""), st.none())


def _read_back(ds: Dataset, syntax: str) -> Dataset:
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    return dcmread(io.BytesIO(buf.getvalue()))


@settings(max_examples=150, deadline=None)
@given(changes=st.dictionaries(st.sampled_from(sorted(TEXT_VRS)), values, max_size=8),
       implicit=st.booleans(), charset=st.sampled_from([None, "ISO_IR 100", "ISO_IR 192"]))
def test_encode_gives_pydicoms_bytes(changes: dict[str, object], implicit: bool,
                                     charset: str | None) -> None:
    ds = Dataset()
    if charset:
        ds.SpecificCharacterSet = charset
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4"
    ds.StudyDescription = "KEPT AS IT WAS "
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.StationName = "ODD"
    ds.Rows = 2
    with pydicom_scope():
        ds = _read_back(ds, ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian)
        for keyword, value in changes.items():
            if keyword in ds:
                del ds[keyword]  # a changed element: a DataElement, no longer raw
            if value is not None:
                ds.add_new(keyword, TEXT_VRS[keyword], value)
        expected = io.BytesIO()
        try:
            dcmwrite(expected, copy.deepcopy(ds), enforce_file_format=True)
        except Exception as exc:  # a value no writer can encode: encode refuses it too
            with pytest.raises(type(exc)):
                encode(ds)
            return
        data, bulk = encode(ds)
    assert data == expected.getvalue()
    assert bulk == []
