"""The few facts per file that the set-level checks need (grouping, references, dates)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydicom.dataset import Dataset
from pydicom.uid import MediaStorageDirectoryStorage

from pacsguard.dicom.tags import (
    COLUMNS,
    FRAME_OF_REFERENCE_UID,
    INSTANCE_NUMBER,
    MEDIA_STORAGE_SOP_CLASS_UID,
    MODALITY,
    PATIENT_ID,
    PATIENT_NAME,
    PIXEL_DATA,
    REFERENCED_FRAME_OF_REFERENCE_UID,
    REFERENCED_SOP_INSTANCE_UID,
    REFERENCED_SOP_INSTANCE_UID_IN_FILE,
    ROWS,
    SERIES_INSTANCE_UID,
    SOP_CLASS_UID,
    SOP_INSTANCE_UID,
    STUDY_INSTANCE_UID,
    tag_for,
)
from pacsguard.dicom.values import value_text
from pacsguard.discover.elements import (
    Element,
    fmt_tag,
    raw_text_values,
    text_encoding,
    text_values,
)
from pacsguard.discover.identifiers import parse_da

__all__ = ["REF_TAGS", "FileRecord", "make_record"]

#: UID attributes that point at another object when they sit inside a sequence.
REF_TAGS = frozenset({
    REFERENCED_SOP_INSTANCE_UID,
    REFERENCED_SOP_INSTANCE_UID_IN_FILE,  # in a DICOMDIR
    REFERENCED_FRAME_OF_REFERENCE_UID,
    FRAME_OF_REFERENCE_UID,  # in a sequence
    STUDY_INSTANCE_UID,  # in a sequence
    SERIES_INSTANCE_UID,  # in a sequence
})


@dataclass
class FileRecord:
    """Grouping keys, fingerprints, UID references and dates of one file."""

    rel: str
    patient: str
    study: str
    series: str
    sop: str
    sop_class: str
    frame_of_ref: str
    strong: tuple[str, ...]
    weak: tuple[str, ...]
    is_dicomdir: bool = False
    refs: list[tuple[str, str]] = field(default_factory=list)
    #: location -> (date, time of day when known: a DT value, or the DA's companion TM)
    dates: dict[str, tuple[dt.date, dt.time | None]] = field(default_factory=dict)

    def defined_uids(self) -> set[str]:
        return {u for u in (self.sop, self.series, self.study, self.frame_of_ref) if u}


def make_record(ds: Dataset, meta: Dataset, rel: str, elements: Iterable[Element]) -> FileRecord:
    """Build the record of one file from its dataset and its already walked elements."""
    # Stored bytes, never decoded: these are ASCII, and a hostile value must not stop the record.
    def top(tag: int, of: Dataset = ds) -> str:
        return value_text(of, tag, stored=True)

    pid = top(PATIENT_ID)
    patient = pid if pid else top(PATIENT_NAME)
    sop_class = top(SOP_CLASS_UID) or top(MEDIA_STORAGE_SOP_CLASS_UID, meta)
    pixel_hash = ""
    if PIXEL_DATA in ds:
        try:
            item = ds.get_item(PIXEL_DATA)
            pix = item.value if item is not None else None
            if isinstance(pix, bytes):
                # Head, tail and length identify an image well enough to pair it, at a
                # fraction of the cost of hashing hundreds of kilobytes per file.
                sample = pix[:32768] + pix[-32768:] + len(pix).to_bytes(8, "little")
                pixel_hash = hashlib.blake2b(sample, digest_size=16).hexdigest()
        except Exception:
            pixel_hash = ""
    weak = (sop_class, top(MODALITY), top(INSTANCE_NUMBER), top(ROWS), top(COLUMNS))
    rec = FileRecord(
        rel=rel, patient=patient, study=top(STUDY_INSTANCE_UID), series=top(SERIES_INSTANCE_UID),
        sop=top(SOP_INSTANCE_UID), sop_class=sop_class, frame_of_ref=top(FRAME_OF_REFERENCE_UID),
        strong=(*weak, pixel_hash) if pixel_hash else (), weak=weak,
        is_dicomdir=top(MEDIA_STORAGE_SOP_CLASS_UID, meta) == MediaStorageDirectoryStorage,
    )
    times: dict[str, str] = {}
    days: list[tuple[Element, str]] = []
    encoding = text_encoding(ds)
    for el in elements:
        if not (el.tag in REF_TAGS or el.vr in ("DA", "DT", "TM")):
            continue
        if encoding and el.raw is not None:
            values = raw_text_values(el.raw, encoding)
        elif el.elem is not None:
            values = text_values(el.elem)
        else:
            continue
        if el.tag in REF_TAGS and (el.depth > 0 or el.tag == REFERENCED_SOP_INSTANCE_UID_IN_FILE):
            for v in values:
                rec.refs.append((el.location, v.strip()))
        elif el.vr in ("DA", "DT", "TM") and len(values) == 1:
            if el.vr == "TM":
                times[el.location] = values[0]
            else:
                days.append((el, values[0]))
    for el, value in days:
        day = parse_da(value)
        if day is None:
            continue
        if el.vr == "DT":
            clock = _parse_tm(value.strip()[8:])
        else:
            companion = _TIME_OF.get(el.tag)
            head = el.location[: -len("(gggg,eeee)")]
            text = times.get(f"{head}{fmt_tag(companion)}") if companion else None
            clock = _parse_tm(text) if text else None
        rec.dates[el.location] = (day, clock)
    return rec


#: The TM attribute that gives a DA attribute its time of day.
_TIME_OF = {tag_for(date): tag_for(time) for date, time in (
    ("StudyDate", "StudyTime"), ("SeriesDate", "SeriesTime"),
    ("AcquisitionDate", "AcquisitionTime"), ("ContentDate", "ContentTime"),
    ("OverlayDate", "OverlayTime"), ("CurveDate", "CurveTime"),
    ("PatientBirthDate", "PatientBirthTime"),
    ("PerformedProcedureStepStartDate", "PerformedProcedureStepStartTime"),
    ("PerformedProcedureStepEndDate", "PerformedProcedureStepEndTime"),
    ("ScheduledProcedureStepStartDate", "ScheduledProcedureStepStartTime"),
    ("ScheduledProcedureStepEndDate", "ScheduledProcedureStepEndTime"),
    ("DateOfSecondaryCapture", "TimeOfSecondaryCapture"),
    ("DateOfLastCalibration", "TimeOfLastCalibration"), ("Date", "Time"),
    ("ScheduledStudyStartDate", "ScheduledStudyStartTime"),
    ("ScheduledStudyStopDate", "ScheduledStudyStopTime"),
    ("StudyArrivalDate", "StudyArrivalTime"), ("StudyCompletionDate", "StudyCompletionTime"),
)}


def _parse_tm(text: str) -> dt.time | None:
    digits = text.strip().split(".")[0].split("+")[0].split("-")[0]
    if len(digits) < 2 or not digits.isdigit():
        return None
    try:
        return dt.time(int(digits[:2]), int(digits[2:4] or 0), int(digits[4:6] or 0))
    except ValueError:
        return None
