"""Comprehensive SR content for the sample data.

The content tree mixes the places a structured report leaks identity: free
TEXT naming the patient, a PNAME subject name, DATE/DATETIME items, nested
CONTAINERs, an IMAGE reference and the evidence sequence pointing at the CT of
the same study.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from pacsguard.samples.people import FakePatient

__all__ = ["add_sr_content"]

_CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


def _code(value: str, scheme: str, meaning: str) -> Sequence:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return Sequence([item])


def _item(relationship: str, value_type: str, concept: tuple[str, str, str]) -> Dataset:
    item = Dataset()
    item.RelationshipType = relationship
    item.ValueType = value_type
    item.ConceptNameCodeSequence = _code(*concept)
    return item


def _text(relationship: str, concept: tuple[str, str, str], text: str) -> Dataset:
    item = _item(relationship, "TEXT", concept)
    item.TextValue = text
    return item


def _container(
    relationship: str, concept: tuple[str, str, str], children: list[Dataset]
) -> Dataset:
    item = _item(relationship, "CONTAINER", concept)
    item.ContinuityOfContent = "SEPARATE"
    item.ContentSequence = Sequence(children)
    return item


def add_sr_content(
    ds: Dataset, patient: FakePatient, study_index: int, ct: tuple[str, str, str]
) -> None:
    """Fill SR Document General and Content modules; ``ct`` = (study, series, SOP) UIDs."""
    ct_study, ct_series, ct_sop = ct
    when = patient.study_dates[study_index]
    previous = patient.study_dates[0] if study_index else when
    date, time = when.strftime("%Y%m%d"), patient.study_times[study_index]

    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "VERIFIED"
    observer = Dataset()
    observer.VerifyingObserverName = patient.performing_physician
    observer.VerifyingOrganization = patient.institution_name
    observer.VerificationDateTime = date + time
    observer.VerifyingObserverIdentificationCodeSequence = Sequence()
    ds.VerifyingObserverSequence = Sequence([observer])
    ds.ReferencedPerformedProcedureStepSequence = Sequence()
    ds.PerformedProcedureCodeSequence = Sequence()

    sop = Dataset()
    sop.ReferencedSOPClassUID = _CT_STORAGE
    sop.ReferencedSOPInstanceUID = ct_sop
    series = Dataset()
    series.SeriesInstanceUID = ct_series
    series.ReferencedSOPSequence = Sequence([sop])
    evidence = Dataset()
    evidence.StudyInstanceUID = ct_study
    evidence.ReferencedSeriesSequence = Sequence([series])
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence([evidence])

    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = _code("18748-4", "LN", "Diagnostic Imaging Report")
    ds.ContinuityOfContent = "SEPARATE"

    observer_name = _item("HAS OBS CONTEXT", "PNAME", ("121008", "DCM", "Person Observer Name"))
    observer_name.PersonName = patient.performing_physician
    subject_name = _item("HAS OBS CONTEXT", "PNAME", ("121029", "DCM", "Subject Name"))
    subject_name.PersonName = patient.name
    subject_id = _text("HAS OBS CONTEXT", ("121030", "DCM", "Subject ID"), patient.patient_id)
    birth = _item("HAS OBS CONTEXT", "DATE", ("121031", "DCM", "Subject Birth Date"))
    birth.Date = patient.birth_date_da
    started = _item("HAS OBS CONTEXT", "DATETIME", ("111526", "DCM", "DateTime Started"))
    started.DateTime = date + time

    image = _item("CONTAINS", "IMAGE", ("121080", "DCM", "Best illustration of finding"))
    image.ReferencedSOPSequence = Sequence([sop])
    prior_date = _item("CONTAINS", "DATE", ("111060", "DCM", "Study Date"))
    prior_date.Date = previous.strftime("%Y%m%d")
    comparison = _container(
        "CONTAINS",
        ("121064", "DCM", "Current Procedure Descriptions"),
        [
            _text(
                "CONTAINS",
                ("121065", "DCM", "Procedure Description"),
                f"Compared with exam {patient.accession_numbers[0]} of {previous.isoformat()}",
            ),
            prior_date,
        ],
    )
    findings = _container(
        "CONTAINS",
        ("121070", "DCM", "Findings"),
        [
            _text(
                "CONTAINS",
                ("121071", "DCM", "Finding"),
                f"Pt {patient.free_text_name} ({patient.patient_id}), born "
                f"{patient.birth_date_text}: 8 mm nodule right upper lobe, unchanged.",
            ),
            image,
            comparison,
        ],
    )
    impression = _container(
        "CONTAINS",
        ("121072", "DCM", "Impression"),
        [
            _text(
                "CONTAINS",
                ("121073", "DCM", "Impression"),
                f"Stable. Results phoned to {patient.phone} and sent to {patient.email}.",
            )
        ],
    )
    ds.ContentSequence = Sequence(
        [observer_name, subject_name, subject_id, birth, started, findings, impression]
    )
