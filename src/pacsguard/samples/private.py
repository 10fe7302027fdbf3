"""Private blocks planted in the sample data.

The vendor creators and element offsets below were picked from The Cancer
Imaging Archive private tag knowledge base (2024-02-01 edition) and are
hard-coded here so the sample data never reads reference files at run time.
``"ACME HOSPITAL PACS 1.0"`` is deliberately absent from that knowledge base:
it stands for the unknown in-house creator a safe-private option must drop.
"""

from __future__ import annotations

from typing import NamedTuple

from pydicom.dataset import Dataset

from pacsguard.samples.people import FakePatient

__all__ = ["ACME_CREATOR", "PRIVATE_TAGS", "PlantedPrivate", "add_private_blocks"]

ACME_CREATOR = "ACME HOSPITAL PACS 1.0"


class PlantedPrivate(NamedTuple):
    """One private element the builders write.

    ``disposition`` is the TCIA knowledge-base action (``k`` keep, ``d`` delete,
    ``h`` hash, ``o`` offset date) or ``None`` for the unknown ACME creator.
    ``field`` names what the value holds (see :func:`private_value`).
    ``kinds`` lists the dataset kinds that carry it. ``nested`` is True for the
    element that sits inside the ACME private sequence item.
    """

    group: int
    creator: str
    offset: int
    vr: str
    disposition: str | None
    field: str
    kinds: tuple[str, ...]
    nested: bool = False

    @property
    def tag(self) -> int:
        """The tag in a block reserved at ``(gggg,0010)`` (builders always use 0x10)."""
        return (self.group << 16) | 0x1000 | self.offset


_CT = ("CT", "OVERLAY")
_MR = ("MR",)
_ACME = ("CT", "OVERLAY", "MR", "SC")

PRIVATE_TAGS: tuple[PlantedPrivate, ...] = (
    # GE CT: TCIA says keep the detector cell count, offset the acquisition date.
    PlantedPrivate(0x0019, "GEMS_ACQU_01", 0x02, "SL", "k", "number", _CT),
    PlantedPrivate(0x0019, "GEMS_ACQU_01", 0x9D, "DT", "o", "study_datetime", _CT),
    # GE PET/CT identification block: delete hospital name, hash exam ID, offset datetime.
    PlantedPrivate(0x0009, "GEMS_PETD_01", 0x02, "LO", "d", "patient_id", _CT),
    PlantedPrivate(0x0009, "GEMS_PETD_01", 0x05, "DT", "o", "study_datetime", _CT),
    PlantedPrivate(0x0009, "GEMS_PETD_01", 0x07, "LO", "h", "accession", _CT),
    PlantedPrivate(0x0009, "GEMS_PETD_01", 0x10, "LO", "d", "institution", _CT),
    PlantedPrivate(0x0009, "GEMS_PETD_01", 0x16, "SL", "k", "number", _CT),
    # Siemens (note the two spaces in the creator): the patient's name, ID and
    # birth date are deleted, the modification date offset, the weight kept.
    PlantedPrivate(0x0013, "SIEMENS CM VA0  CMS", 0x10, "DA", "o", "study_date", _MR),
    PlantedPrivate(0x0013, "SIEMENS CM VA0  CMS", 0x20, "PN", "d", "name", _MR),
    PlantedPrivate(0x0013, "SIEMENS CM VA0  CMS", 0x22, "LO", "d", "patient_id", _MR),
    PlantedPrivate(0x0013, "SIEMENS CM VA0  CMS", 0x30, "DA", "d", "birth_date", _MR),
    PlantedPrivate(0x0013, "SIEMENS CM VA0  CMS", 0x31, "DS", "k", "weight", _MR),
    # Unknown creator: name, ID, the name again as UN, and a private sequence
    # whose item nests a private element with the ID.
    PlantedPrivate(0x0033, ACME_CREATOR, 0x10, "LO", None, "name", _ACME),
    PlantedPrivate(0x0033, ACME_CREATOR, 0x11, "LO", None, "patient_id", _ACME),
    PlantedPrivate(0x0033, ACME_CREATOR, 0x12, "UN", None, "name", _ACME),
    PlantedPrivate(0x0033, ACME_CREATOR, 0x13, "SQ", None, "sequence", _ACME),
    PlantedPrivate(0x0033, ACME_CREATOR, 0x11, "LO", None, "patient_id", _ACME, nested=True),
    PlantedPrivate(0x0033, ACME_CREATOR, 0x14, "LT", None, "note", _ACME),
)


def private_value(field: str, patient: FakePatient, study_index: int) -> str | int | bytes | float:
    """The value a planted private element of ``field`` holds for this patient/study."""
    date = patient.study_dates[study_index].strftime("%Y%m%d")
    values: dict[str, str | int | bytes | float] = {
        "number": 888,
        "weight": "72.5",
        "name": patient.name,
        "patient_id": patient.patient_id,
        "birth_date": patient.birth_date_da,
        "study_date": date,
        "study_datetime": date + patient.study_times[study_index],
        "accession": patient.accession_numbers[study_index],
        "institution": patient.institution_name,
        "note": f"Worklist match {patient.free_text_name} / {patient.patient_id}",
    }
    return values[field]


def add_private_blocks(ds: Dataset, kind: str, patient: FakePatient, study_index: int) -> None:
    """Add every :data:`PRIVATE_TAGS` entry meant for ``kind`` to ``ds``."""
    for entry in PRIVATE_TAGS:
        if kind not in entry.kinds or entry.nested:
            continue
        block = ds.private_block(entry.group, entry.creator, create=True)
        if entry.vr == "SQ":
            item = Dataset()
            for inner in PRIVATE_TAGS:
                if inner.nested and inner.creator == entry.creator:
                    inner_block = item.private_block(inner.group, inner.creator, create=True)
                    value = private_value(inner.field, patient, study_index)
                    inner_block.add_new(inner.offset, inner.vr, value)
            block.add_new(entry.offset, "SQ", [item])
        elif entry.vr == "UN":
            # Stored as raw bytes: a tool that only looks at decoded text misses it.
            text = str(private_value(entry.field, patient, study_index))
            raw = text.encode(patient.encoding)
            block.add_new(entry.offset, "UN", raw + b" " * (len(raw) % 2))
        else:
            block.add_new(entry.offset, entry.vr, private_value(entry.field, patient, study_index))
