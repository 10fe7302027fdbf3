"""Identifying sample datasets, one builder per kind.

Every dataset carries the patient's identifiers in the usual header places
(Patient, Study, Series, Equipment, Request modules) and, depending on the
kind, in free text, SR content, private blocks, overlays or an encapsulated
PDF. Everything is deterministic from ``(seed, patient, study_index, kind,
instance)``.
"""

from __future__ import annotations

import datetime as dt
import zlib

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, ExplicitVRLittleEndian

from pacsguard.dicom.tags import (
    OVERLAY_BIT_POSITION,
    OVERLAY_BITS_ALLOCATED,
    OVERLAY_COLUMNS,
    OVERLAY_DATA,
    OVERLAY_DESCRIPTION,
    OVERLAY_LABEL,
    OVERLAY_ORIGIN,
    OVERLAY_ROWS,
    OVERLAY_TYPE,
)
from pacsguard.samples.people import FakePatient
from pacsguard.samples.private import add_private_blocks
from pacsguard.samples.sr import add_sr_content
from pacsguard.samples.uids import sample_uid

__all__ = [
    "KINDS",
    "SERIES_NUMBERS",
    "SOP_CLASSES",
    "identifying_dataset",
    "instance_uids",
]

KINDS: tuple[str, ...] = ("CT", "MR", "SR", "US", "US-noflag", "SC", "PDF", "OVERLAY")

SOP_CLASSES: dict[str, str] = {
    "CT": "1.2.840.10008.5.1.4.1.1.2",
    "OVERLAY": "1.2.840.10008.5.1.4.1.1.2",
    "MR": "1.2.840.10008.5.1.4.1.1.4",
    "SR": "1.2.840.10008.5.1.4.1.1.88.33",  # Comprehensive SR
    "US": "1.2.840.10008.5.1.4.1.1.6.1",
    "US-noflag": "1.2.840.10008.5.1.4.1.1.6.1",
    "SC": "1.2.840.10008.5.1.4.1.1.7",
    "PDF": "1.2.840.10008.5.1.4.1.1.104.1",
}

# One series per kind and study; numbers as a console would assign them.
SERIES_NUMBERS: dict[str, int] = {
    "CT": 2,
    "OVERLAY": 3,
    "MR": 4,
    "US": 5,
    "US-noflag": 6,
    "SC": 7,
    "SR": 901,
    "PDF": 998,
}

_MODALITIES = {"OVERLAY": "CT", "US-noflag": "US", "SC": "OT", "PDF": "DOC"}
_DETACHED_PATIENT = "1.2.840.10008.3.1.2.1.1"  # retired, but real archives still send it
_DETACHED_STUDY = "1.2.840.10008.3.1.2.3.1"


def instance_uids(
    seed: int, patient: FakePatient, study_index: int, kind: str, instance: int = 1
) -> tuple[UID, UID, UID]:
    """(StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID) of one sample instance."""
    pid = patient.patient_id
    series = SERIES_NUMBERS[kind]
    return (
        sample_uid(seed, pid, study_index),
        sample_uid(seed, pid, study_index, series),
        sample_uid(seed, pid, study_index, series, instance),
    )


def _rng(seed: int, *parts: str | int) -> np.random.Generator:
    key = "|".join([str(seed), *(str(p) for p in parts)]).encode("utf-8")
    return np.random.default_rng(zlib.crc32(key))


def _free_text(patient: FakePatient, when: dt.date) -> str:
    return (
        f"Pt {patient.free_text_name}, DOB {patient.birth_date_text}, "
        f"tel {patient.phone}, seen {when.isoformat()}"
    )


def _base(
    patient: FakePatient, kind: str, seed: int, study_index: int, instance: int
) -> FileDataset:
    study_uid, series_uid, sop_uid = instance_uids(seed, patient, study_index, kind, instance)
    when = patient.study_dates[study_index]
    date, time = when.strftime("%Y%m%d"), patient.study_times[study_index]

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(SOP_CLASSES[kind])
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.SourceApplicationEntityTitle = patient.station_name
    ds = FileDataset("", Dataset(), file_meta=meta, preamble=b"\0" * 128)

    if patient.charset:
        ds.SpecificCharacterSet = patient.charset
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = sop_uid
    ds.InstanceCreationDate = date
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = date
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = time
    ds.AccessionNumber = patient.accession_numbers[study_index]
    ds.Modality = _MODALITIES.get(kind, kind)
    ds.Manufacturer = "Example Medical Systems"
    ds.InstitutionName = patient.institution_name
    ds.InstitutionAddress = patient.institution_address
    ds.ReferringPhysicianName = patient.referring_physician
    ds.StationName = patient.station_name
    description = patient.study_descriptions[study_index]
    # The last study of each patient got a description typed with the patient's ID in it.
    if study_index == len(patient.study_dates) - 1:
        description = f"{description} {patient.patient_id}"
    ds.StudyDescription = description
    ds.SeriesDescription = f"T2 SAG {patient.free_text_name}" if kind == "MR" else kind
    ds.PerformingPhysicianName = patient.performing_physician
    ds.OperatorsName = patient.operator_name
    ds.ManufacturerModelName = "Sample 9000"

    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.IssuerOfPatientID = patient.institution_name[:64]
    other = []
    for other_id in patient.other_ids:
        item = Dataset()
        item.PatientID = other_id
        item.IssuerOfPatientID = "NATIONAL"
        item.TypeOfPatientID = "TEXT"
        other.append(item)
    ds.OtherPatientIDsSequence = Sequence(other)
    if patient.other_names:
        ds.OtherPatientNames = list(patient.other_names)
    ds.PatientBirthDate = patient.birth_date_da
    ds.PatientSex = patient.sex
    ds.PatientAge = patient.age_at(when)
    ds.PatientAddress = patient.address
    ds.PatientTelephoneNumbers = patient.phone
    ds.PatientMotherBirthName = patient.mother_birth_name
    ds.AdditionalPatientHistory = f"Contact {patient.email}; {_free_text(patient, when)}"
    ds.PatientComments = f"ID {patient.patient_id} / {', '.join(patient.other_ids)}"
    ref_patient = Dataset()
    ref_patient.ReferencedSOPClassUID = _DETACHED_PATIENT
    ref_patient.ReferencedSOPInstanceUID = sample_uid(seed, patient.patient_id, "patient")
    ds.ReferencedPatientSequence = Sequence([ref_patient])

    ds.DeviceSerialNumber = patient.device_serial
    ds.SoftwareVersions = "1.0"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = f"{study_index + 1}"
    ds.SeriesNumber = SERIES_NUMBERS[kind]
    ds.InstanceNumber = instance

    request = Dataset()
    request.AccessionNumber = patient.accession_numbers[study_index]
    request.RequestedProcedureID = f"RP-{patient.accession_numbers[study_index]}"
    request.ScheduledProcedureStepID = f"SPS-{patient.patient_id}-{study_index + 1}"
    request.RequestedProcedureDescription = patient.study_descriptions[study_index]
    ref_study = Dataset()
    ref_study.ReferencedSOPClassUID = _DETACHED_STUDY
    ref_study.ReferencedSOPInstanceUID = study_uid
    request.ReferencedStudySequence = Sequence([ref_study])
    ds.RequestAttributesSequence = Sequence([request])
    return ds


def _image_pixel(ds: Dataset, pixels: NDArray[np.generic], bits_stored: int) -> None:
    ds.SamplesPerPixel = 1 if pixels.ndim == 2 else pixels.shape[2]
    ds.PhotometricInterpretation = "MONOCHROME2" if pixels.ndim == 2 else "RGB"
    if pixels.ndim == 3:
        ds.PlanarConfiguration = 0
    ds.Rows, ds.Columns = int(pixels.shape[0]), int(pixels.shape[1])
    ds.BitsAllocated = pixels.dtype.itemsize * 8
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.tobytes()


def ct_pixels(rows: int, cols: int, rng: np.random.Generator) -> NDArray[np.uint16]:
    """A body-like disc (about 40 HU) in air, with noise; stored values = HU + 1024."""
    yy, xx = np.mgrid[0:rows, 0:cols]
    disc = ((yy - rows / 2) / (rows * 0.42)) ** 2 + ((xx - cols / 2) / (cols * 0.36)) ** 2 <= 1
    noise = rng.normal(0, 12, size=(rows, cols))
    values = np.where(disc, 1064, 24) + noise
    return np.clip(values, 0, 4095).astype(np.uint16)


def _plane(ds: Dataset, instance: int, spacing: float = 0.7) -> None:
    ds.PatientPosition = "HFS"
    ds.ImagePositionPatient = [-180.0, -180.0, round(-100.0 + 2.5 * instance, 2)]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [spacing, spacing]
    ds.SliceThickness = 2.5
    ds.SliceLocation = round(-100.0 + 2.5 * instance, 2)
    ds.PositionReferenceIndicator = ""


def _ct(
    ds: FileDataset,
    patient: FakePatient,
    seed: int,
    study_index: int,
    instance: int,
    size: tuple[int, int],
) -> None:
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.BodyPartExamined = "CHEST"  # unpaired: dciodvfy wants Laterality absent here
    ds.AcquisitionNumber = 1
    ds.AcquisitionDate = ds.StudyDate
    ds.AcquisitionTime = ds.StudyTime
    ds.KVP = 120
    ds.DataCollectionDiameter = 500
    ds.ReconstructionDiameter = 360
    ds.ConvolutionKernel = "STANDARD"
    ds.FrameOfReferenceUID = sample_uid(seed, patient.patient_id, study_index, "for")
    _plane(ds, instance)
    ds.ImageComments = _free_text(patient, patient.study_dates[study_index])
    pixels = ct_pixels(size[0], size[1], _rng(seed, patient.patient_id, study_index, instance))
    _image_pixel(ds, pixels, 12)
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.RescaleType = "HU"
    ds.WindowCenter = 40
    ds.WindowWidth = 400


def _overlay(ds: FileDataset, patient: FakePatient) -> None:
    rows, cols = int(ds.Rows), int(ds.Columns)
    bits = np.zeros((rows, cols), dtype=np.uint8)
    bits[rows // 8 : rows // 8 + 3, cols // 8 : cols - cols // 8] = 1  # an underline
    bits[rows // 4 : rows // 2, cols // 4] = 1  # and an arrow shaft
    packed = np.packbits(bits.ravel(), bitorder="little").tobytes()
    ds.add_new(OVERLAY_ROWS, "US", rows)
    ds.add_new(OVERLAY_COLUMNS, "US", cols)
    ds.add_new(OVERLAY_DESCRIPTION, "LO", f"Marked by {patient.performing_physician} for {patient.name}")
    ds.add_new(OVERLAY_TYPE, "CS", "G")
    ds.add_new(OVERLAY_ORIGIN, "SS", [1, 1])
    ds.add_new(OVERLAY_BITS_ALLOCATED, "US", 1)
    ds.add_new(OVERLAY_BIT_POSITION, "US", 0)
    ds.add_new(OVERLAY_LABEL, "LO", f"{patient.free_text_name} {patient.patient_id}")
    ds.add_new(OVERLAY_DATA, "OW", packed + b"\0" * (len(packed) % 2))


def _mr(
    ds: FileDataset,
    patient: FakePatient,
    seed: int,
    study_index: int,
    instance: int,
    size: tuple[int, int],
) -> None:
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
    ds.ScanningSequence = "SE"
    ds.SequenceVariant = "NONE"
    ds.ScanOptions = ""
    ds.MRAcquisitionType = "2D"
    ds.RepetitionTime = 500
    ds.EchoTime = 15
    ds.EchoTrainLength = 1
    ds.MagneticFieldStrength = 1.5
    ds.ImagedNucleus = "1H"
    ds.BodyPartExamined = "KNEE"
    ds.Laterality = "R"
    ds.AcquisitionNumber = 1
    ds.FrameOfReferenceUID = sample_uid(seed, patient.patient_id, study_index, "for-mr")
    _plane(ds, instance, spacing=0.5)
    ds.ImageComments = f"Patient {patient.name} ({patient.patient_id}) tel {patient.phone}"
    rng = _rng(seed, patient.patient_id, study_index, "mr", instance)
    pixels = np.clip(rng.normal(600, 150, size=size), 0, 4095).astype(np.uint16)
    _image_pixel(ds, pixels, 12)


def _us(
    ds: FileDataset, patient: FakePatient, seed: int, study_index: int, instance: int, flag: bool
) -> None:
    ds.ImageType = ["ORIGINAL", "PRIMARY", "ABDOMINAL"]
    ds.PatientOrientation = ""
    ds.Laterality = ""
    ds.LossyImageCompression = "00"
    if flag:
        ds.BurnedInAnnotation = "YES"
    ds.ImageComments = _free_text(patient, patient.study_dates[study_index])
    rng = _rng(seed, patient.patient_id, study_index, "us", flag, instance)
    grey = rng.integers(0, 200, size=(64, 80), dtype=np.uint8)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    rgb[2:8, 2:60, :] = (255, 255, 0)  # where a real console burns the name in
    _image_pixel(ds, np.ascontiguousarray(rgb), 8)


def _sc(ds: FileDataset, patient: FakePatient, seed: int, study_index: int, instance: int) -> None:
    ds.ConversionType = "WSD"
    ds.PatientOrientation = ""
    ds.Laterality = ""  # unknown body part: type 2C, dciodvfy wants it present (empty)
    ds.DateOfSecondaryCapture = ds.StudyDate
    ds.TimeOfSecondaryCapture = ds.StudyTime
    ds.ImageComments = (
        f"Screenshot for {patient.email}, {_free_text(patient, patient.study_dates[study_index])}"
    )
    rng = _rng(seed, patient.patient_id, study_index, "sc", instance)
    _image_pixel(ds, rng.integers(0, 255, size=(48, 64), dtype=np.uint8), 8)


def tiny_pdf(lines: list[str]) -> bytes:
    """A minimal valid one-page PDF showing ``lines`` (Latin-1) in Helvetica."""
    text = "".join(
        f"BT /F1 11 Tf 40 {760 - 16 * i} Td ({line}) Tj ET\n" for i, line in enumerate(lines)
    )
    stream = text.encode("latin-1", errors="replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _pdf(ds: FileDataset, patient: FakePatient, study_index: int) -> None:
    when = patient.study_dates[study_index]
    ds.ConversionType = "WSD"
    ds.AcquisitionDateTime = ds.StudyDate + ds.StudyTime
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = f"Report {patient.free_text_name}"
    ds.ConceptNameCodeSequence = Sequence()
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    pdf = tiny_pdf(
        [
            f"Patient: {patient.free_text_name}  ID: {patient.patient_id}",
            f"Born: {patient.birth_date_text}  Phone: {patient.phone}",
            f"Exam {patient.accession_numbers[study_index]} on {when.isoformat()}",
        ]
    )
    ds.EncapsulatedDocumentLength = len(pdf)
    ds.EncapsulatedDocument = pdf + b"\0" * (len(pdf) % 2)


def identifying_dataset(
    patient: FakePatient,
    kind: str,
    *,
    seed: int = 0,
    study_index: int = 0,
    instance: int = 1,
    size: tuple[int, int] = (64, 64),
) -> FileDataset:
    """Build one identifying sample instance of ``kind`` (see :data:`KINDS`).

    Parameters
    ----------
    patient
        Whose identifiers to plant (usually one of :data:`PATIENTS`).
    kind
        ``CT``, ``MR``, ``SR``, ``US``, ``US-noflag``, ``SC``, ``PDF`` or ``OVERLAY``.
    seed
        Seeds UIDs and pixel noise; same arguments give the same dataset.
    study_index
        Which of the patient's studies (date, accession number) it belongs to.
    instance
        InstanceNumber; also varies UIDs, slice position and noise.
    size
        (rows, columns) of CT, OVERLAY and MR pixel data.

    Returns
    -------
    FileDataset
        With file meta (Explicit VR Little Endian), ready for ``dcmwrite``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown sample kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not 0 <= study_index < len(patient.study_dates):
        raise ValueError(f"study_index out of range 0..{len(patient.study_dates) - 1}")
    ds = _base(patient, kind, seed, study_index, instance)
    if kind in ("CT", "OVERLAY"):
        _ct(ds, patient, seed, study_index, instance, size)
        if kind == "OVERLAY":
            _overlay(ds, patient)
    elif kind == "MR":
        _mr(ds, patient, seed, study_index, instance, size)
    elif kind in ("US", "US-noflag"):
        _us(ds, patient, seed, study_index, instance, flag=kind == "US")
    elif kind == "SC":
        _sc(ds, patient, seed, study_index, instance)
    elif kind == "PDF":
        _pdf(ds, patient, study_index)
    else:  # SR
        ct_study, ct_series, ct_sop = instance_uids(seed, patient, study_index, "CT", 1)
        add_sr_content(ds, patient, study_index, (ct_study, ct_series, ct_sop))
    add_private_blocks(ds, kind, patient, study_index)
    return ds
