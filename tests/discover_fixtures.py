"""Originals with identifiers in many places, a minimal reference de-identifier, and leak planting.

The originals carry identifiers in: PatientName, OtherPatientNames, PatientID, OtherPatientIDs,
birth date, address, phone, referring/performing physician, operator, institution, accession
number, study/series/content dates, UIDs, a nested request sequence (2 levels), an evidence
sequence (3 levels) in an SR, SR free text, private tags (LO and UN VR), free-text comments,
the file meta (source AE title), and file and folder names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CT_CLASS = "1.2.840.10008.5.1.4.1.1.2"
SR_CLASS = "1.2.840.10008.5.1.4.1.1.88.11"


@dataclass(frozen=True)
class Person:
    name: str
    pid: str
    birth: str
    other_name: str
    other_id: str
    address: str
    phone: str
    referring: str
    operator: str
    institution: str
    station_ae: str
    accession: str
    request_id: str
    study_date: str


ALICE = Person(
    name="ZEBRAFINCH^QUENTIN", pid="PGX-449127", birth="19610314", other_name="WREN^QUENTINA",
    other_id="OPX-771265", address="17 Rue Vaneau Montreuil", phone="+336 1298 4471",
    referring="HOLLOWAY^MARGUERITE", operator="PLOVER^TOBIAS", institution="Clinique Belvedere Sud",
    station_ae="BELVCT01", accession="ACC7731902", request_id="RPX55218", study_date="20240115",
)
BOB = Person(
    name="KINGSNORTH^ODALYS", pid="PGX-902233", birth="19750802", other_name="FERNHAM^ODA",
    other_id="OPX-118804", address="4 Allee des Tilleuls Vitry", phone="+337 4120 6635",
    referring="ASHCOMBE^LEOPOLD", operator="PLOVER^TOBIAS", institution="Clinique Belvedere Sud",
    station_ae="BELVCT01", accession="ACC4409127", request_id="RPX77304", study_date="20240322",
)


def _meta(sop_class: str, sop_uid: str, ae: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.1"
    meta.SourceApplicationEntityTitle = ae
    return meta


def _patient(ds: Dataset, p: Person) -> None:
    ds.PatientName = p.name
    ds.PatientID = p.pid
    ds.PatientBirthDate = p.birth
    ds.PatientSex = "O"
    ds.OtherPatientNames = p.other_name
    ds.OtherPatientIDs = p.other_id
    ds.PatientAddress = p.address
    ds.PatientTelephoneNumbers = p.phone
    ds.ReferringPhysicianName = p.referring
    ds.OperatorsName = p.operator
    ds.InstitutionName = p.institution
    ds.AccessionNumber = p.accession
    ds.StudyDate = p.study_date
    ds.StudyTime = "101500"
    ds.StudyID = "S1"


def build_ct(p: Person, study: str, series: str, number: int, frame: str) -> Dataset:
    sop = generate_uid()
    ds = Dataset()
    ds.file_meta = _meta(CT_CLASS, sop, p.station_ae)
    ds.preamble = b"\0" * 128
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CT_CLASS
    ds.SOPInstanceUID = sop
    _patient(ds, p)
    ds.SeriesDate = p.study_date
    ds.ContentDate = p.study_date
    ds.AcquisitionDate = p.study_date
    ds.ContentTime = "101700"
    ds.Modality = "CT"
    ds.Manufacturer = "ACME"
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.FrameOfReferenceUID = frame
    ds.PositionReferenceIndicator = ""
    ds.SeriesNumber = 1
    ds.InstanceNumber = number
    ds.PatientPosition = "HFS"
    ds.Laterality = ""
    ds.ImageComments = f"Patient {p.name.split('^')[0].title()} anxious"
    req = Dataset()
    req.RequestedProcedureID = p.request_id
    req.ScheduledProcedureStepID = p.request_id + "S"
    code = Dataset()
    code.CodeValue = "XR1"
    code.CodingSchemeDesignator = "99ACME"
    code.CodeMeaning = "CT chest"
    req.ScheduledProtocolCodeSequence = Sequence([code])
    ds.RequestAttributesSequence = Sequence([req])
    # Private block: an LO copy of the name and an ID, creator unknown to the KB.
    blk = ds.private_block(0x0011, "ACME_PHI 1.0", create=True)
    blk.add_new(0x10, "LO", p.name.replace("^", " "))
    blk.add_new(0x11, "LO", p.pid)
    # UN VR: the value's VR is lost, the bytes are on disk as is.
    ds.add(DataElement(0x00130010, "LO", "ACME_RAW 2"))
    ds.add(DataElement(0x00131010, "UN", f"{p.other_id}\0".encode()))
    ds.ImagePositionPatient = [0, 0, number]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [1, 1]
    ds.SliceThickness = 1
    ds.KVP = 120
    ds.Rows = ds.Columns = 16
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.RescaleIntercept = 0
    ds.RescaleSlope = 1
    seed = int(hashlib.sha256(f"{p.pid}{number}{series}".encode()).hexdigest()[:8], 16)
    pixels = np.random.default_rng(seed).integers(0, 4095, (16, 16), dtype=np.uint16)
    ds.PixelData = pixels.tobytes()
    return ds


def build_sr(p: Person, study: str, series: str, ref: Dataset) -> Dataset:
    sop = generate_uid()
    ds = Dataset()
    ds.file_meta = _meta(SR_CLASS, sop, p.station_ae)
    ds.preamble = b"\0" * 128
    ds.SOPClassUID = SR_CLASS
    ds.SOPInstanceUID = sop
    _patient(ds, p)
    ds.ContentDate = p.study_date
    ds.ContentTime = "120000"
    ds.Modality = "SR"
    ds.Manufacturer = "ACME"
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.SeriesNumber = 9
    ds.InstanceNumber = 1
    ds.ValueType = "CONTAINER"
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "UNVERIFIED"
    concept = Dataset()
    concept.CodeValue = "18748-4"
    concept.CodingSchemeDesignator = "LN"
    concept.CodeMeaning = "Diagnostic Imaging Report"
    ds.ConceptNameCodeSequence = Sequence([concept])
    ds.ContinuityOfContent = "SEPARATE"
    item = Dataset()
    item.RelationshipType = "CONTAINS"
    item.ValueType = "TEXT"
    item.ConceptNameCodeSequence = Sequence([concept])
    given = p.name.split("^")[1].title()
    family = p.name.split("^")[0].title()
    item.TextValue = f"Seen for {given} {family}, born {p.birth[6:]}/{p.birth[4:6]}/{p.birth[:4]}."
    ds.ContentSequence = Sequence([item])
    sop_ref = Dataset()
    sop_ref.ReferencedSOPClassUID = CT_CLASS
    sop_ref.ReferencedSOPInstanceUID = ref.SOPInstanceUID
    ser_ref = Dataset()
    ser_ref.SeriesInstanceUID = ref.SeriesInstanceUID
    ser_ref.ReferencedSOPSequence = Sequence([sop_ref])
    study_ref = Dataset()
    study_ref.StudyInstanceUID = ref.StudyInstanceUID
    study_ref.ReferencedSeriesSequence = Sequence([ser_ref])
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence([study_ref])
    return ds


def write(ds: Dataset, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def make_originals(root: Path) -> dict[str, list[Path]]:
    """Two patients: Alice has a CT series (3) and an SR; Bob a CT series (2)."""
    out: dict[str, list[Path]] = {"alice": [], "bob": []}
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    folder = root / "ZEBRAFINCH_Quentin" / "CT"
    cts = []
    for n in (1, 2, 3):
        ds = build_ct(ALICE, study, series, n, frame)
        cts.append(ds)
        out["alice"].append(write(ds, folder / f"IMG{n:04d}.dcm"))
    sr = build_sr(ALICE, study, generate_uid(), cts[0])
    out["alice"].append(write(sr, root / "ZEBRAFINCH_Quentin" / "SR" / "REPORT.dcm"))
    study_b, series_b, frame_b = generate_uid(), generate_uid(), generate_uid()
    for n in (1, 2):
        ds = build_ct(BOB, study_b, series_b, n, frame_b)
        out["bob"].append(write(ds, root / "PGX-902233" / f"IMG{n:04d}.dcm"))
    return out


# ------------------------------------------------------------------------------------------
# A deliberately simple de-identifier: enough to produce a clean copy before the real engine.

_REMOVE = (0x00101000, 0x00101001, 0x00101002, 0x00101040, 0x00102154, 0x00080090, 0x00081070,
           0x00080080, 0x00204000, 0x00080050, 0x00100030, 0x00200010)
_DATES = (0x00080020, 0x00080021, 0x00080022, 0x00080023)


def simple_deid(src: Path, dst: Path, shift: dict[str, int] | None = None) -> None:
    uid_map: dict[str, str] = {}
    shift = shift or {ALICE.pid: -1000, BOB.pid: -2000}

    def new_uid(old: str) -> str:
        digest = hashlib.sha256(old.encode()).hexdigest()[:30]
        return uid_map.setdefault(old, "2.25." + str(int(digest, 16)))

    def fix(ds: Dataset, days: int) -> None:
        for elem in list(ds):
            if elem.VR == "SQ":
                for item in elem.value:
                    fix(item, days)
            elif elem.VR == "UI" and elem.tag not in (0x00080016, 0x00081150):
                elem.value = new_uid(str(elem.value))

    for i, path in enumerate(sorted(p for p in src.rglob("*") if p.is_file())):
        from pydicom import dcmread

        ds = dcmread(path)
        pid = str(ds.PatientID)
        days = shift[pid]
        ds.remove_private_tags()
        for tag in _REMOVE:
            if tag in ds:
                del ds[tag]
        for tag in _DATES:
            if tag in ds:
                day = dt.datetime.strptime(str(ds[tag].value), "%Y%m%d").date()
                ds[tag].value = (day + dt.timedelta(days=days)).strftime("%Y%m%d")
        ds.PatientName = "Subject^" + ("A" if pid == ALICE.pid else "B")
        ds.PatientID = "SUBJ-" + ("A" if pid == ALICE.pid else "B")
        ds.ReferringPhysicianName = ""
        ds.OperatorsName = ""
        ds.AccessionNumber = ""
        ds.PatientBirthDate = ""
        if 0x00400275 in ds:
            del ds[0x00400275]
        if 0x0040A730 in ds:
            for item in ds[0x0040A730].value:
                item.TextValue = "Report text removed."
        fix(ds, days)
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.SourceApplicationEntityTitle = "PACSGUARD"
        ds.InstitutionName = ""
        out = dst / ("S" + ds.PatientID[-1]) / f"{i:04d}.dcm"
        write(ds, out)


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


# ------------------------------------------------------------------------------------------
# Helpers and fixtures shared by tests/discover and tests/cli (their conftest.py files import
# the fixtures: a conftest applies to its own folder only).

def run_engine(src: Path, dst: Path, key_dir: Path, quarantine_ok: bool = False) -> None:
    """Run ``pacsguard deid``; exit 1 (some files quarantined) is accepted when asked."""
    key = key_dir / "secret.key"
    if not key.exists():
        subprocess.run([sys.executable, "-m", "pacsguard", "keygen", str(key)], check=True,
                       capture_output=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pacsguard", "-q", "deid", str(src), str(dst), "--key-file",
         str(key), "-j", "1", "--no-progress"], capture_output=True, text=True, check=False)
    assert proc.returncode in ((0, 1) if quarantine_ok else (0,)), proc.stderr


def find_outputs(out: Path, roles: dict[str, str]) -> dict[str, Path]:
    """Role -> output file: CT images by their pixel bytes, the SR by its modality."""
    found: dict[str, Path] = {}
    for path in out.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        if str(ds.get("Modality", "")) == "SR":
            found["sr"] = path
        elif "PixelData" in ds:
            found[roles[hashlib.sha256(ds.PixelData).hexdigest()]] = path
    return found


@pytest.fixture(scope="session")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("orig") / "in"
    make_originals(root)
    return root


@pytest.fixture(scope="session")
def clean_output(originals: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("clean")
    out = base / "out"
    run_engine(originals, out, base)
    return out


@pytest.fixture(scope="session")
def roles(originals: Path) -> dict[str, str]:
    """Pixel hash -> role ('alice-1', 'bob-2', ...) of the original CT images."""
    out = {}
    for path in originals.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        if ds.Modality == "CT":
            who = "alice" if str(ds.PatientID).endswith("449127") else "bob"
            out[hashlib.sha256(ds.PixelData).hexdigest()] = f"{who}-{ds.InstanceNumber}"
    return out
