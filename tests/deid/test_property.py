"""Property: for random datasets, no original identifier value survives anywhere in the
de-identified file's bytes (default policy and bare Basic Profile)."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from pacsguard.deid.engine import HeaderEngine
from pacsguard.deid.keys import SecretKey
from pacsguard.profile import Policy

KEY = SecretKey(b"\x11" * 32, "test")
ENGINES = [HeaderEngine(Policy(), KEY), HeaderEngine(Policy(options=frozenset()), KEY)]

word = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=6, max_size=10)
digits = st.text(alphabet="0123456789", min_size=7, max_size=10)
date = st.dates().map(lambda d: d.strftime("%Y%m%d"))


def _build(family: str, given_: str, pid: str, acc: str, dob: str, other: str, phone: str,
           place: int) -> Dataset:
    ds = Dataset()
    ds.PatientName = f"{family}^{given_}"
    ds.PatientID = pid
    ds.PatientBirthDate = dob
    ds.AccessionNumber = acc[:16]
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = f"1.2.3.{pid}"
    ds.StudyInstanceUID = f"1.2.3.{pid}.1"
    ds.SeriesInstanceUID = f"1.2.3.{pid}.2"
    ds.Modality = "CT"
    text = f"{given_} {family} id {pid} tel {phone} born {dob[6:]}/{dob[4:6]}/{dob[:4]}"
    places = [("StudyDescription", text[:64]), ("ImageComments", text),
              ("PatientComments", text), ("AdditionalPatientHistory", text)]
    setattr(ds, *places[place % len(places)])
    item = Dataset()
    item.PatientID = other
    item.IssuerOfPatientID = family
    ds.OtherPatientIDsSequence = [item]
    req = Dataset()
    req.RequestedProcedureDescription = f"for {family}"
    req.AccessionNumber = acc[:16]
    ds.RequestAttributesSequence = [req]
    ds.add_new(0x00330010, "LO", "ACME HOSPITAL PACS 1.0")
    ds.add_new(0x00331010, "LO", f"{family} {pid}")
    ds.add_new(0x00331011, "UN", f"{given_} ".encode())
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.SourceApplicationEntityTitle = family[:16]
    return ds


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(family=word, given_=word, pid=digits, acc=digits, dob=date, other=digits, phone=digits,
       place=st.integers(0, 3), which=st.integers(0, 1))
def test_no_identifier_survives(family: str, given_: str, pid: str, acc: str, dob: str,
                                other: str, phone: str, place: int, which: int) -> None:
    # Words pacsguard writes itself (its name, dummy values, tokens) are not leaks.
    own = "PACSGUARD ANONYMIZED ANONYMOUS REMOVED [NAME] [ID] [DATE] [DOB] [PHONE] DCM"
    assume(family not in own and given_ not in own)
    ds = _build(family, given_, pid, acc, dob, other, phone, place)
    ENGINES[which].deidentify(ds)
    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    blob = buf.getvalue().decode("latin-1").upper()
    for value in (family, given_, pid, acc, dob, other, f"1.2.3.{pid}"):
        assert value.upper() not in blob, value
