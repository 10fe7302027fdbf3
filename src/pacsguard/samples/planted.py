"""Which known identifiers a sample dataset actually carries, and where.

The builders plant identifiers; this module reads them back from the built
dataset (not from the bytes on disk), so tests can check the written bytes
against it independently.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from pacsguard.dicom.tags import OVERLAY_DATA, PIXEL_DATA
from pacsguard.samples.people import FakePatient

__all__ = ["find_planted", "identifier_set"]

_TEXT_VRS = frozenset(
    {
        "AE",
        "AS",
        "CS",
        "DA",
        "DS",
        "DT",
        "IS",
        "LO",
        "LT",
        "PN",
        "SH",
        "ST",
        "TM",
        "UC",
        "UI",
        "UR",
        "UT",
    }
)
_SKIP = frozenset({PIXEL_DATA, OVERLAY_DATA})  # pixel and overlay bits: no text in there


def identifier_set(patient: FakePatient) -> dict[str, list[str]]:
    """Every identifying string of ``patient``, by category, in the forms the builders use."""
    dates = [patient.birth_date_da, patient.birth_date_text, patient.birth_date.isoformat()]
    for day in patient.study_dates:
        dates += [day.strftime("%Y%m%d"), day.isoformat()]
    return {
        "names": [
            patient.name,
            patient.free_text_name,
            *patient.other_names,
            patient.mother_birth_name,
            patient.referring_physician,
            patient.performing_physician,
            patient.operator_name,
        ],
        "ids": [patient.patient_id, *patient.other_ids],
        "dates": dates,
        "phones": [patient.phone],
        "addresses": [patient.address],
        "emails": [patient.email],
        "accession_numbers": list(patient.accession_numbers),
        "institutions": [
            patient.institution_name,
            patient.institution_address,
            patient.station_name,
            patient.device_serial,
        ],
        "uids": [],
    }


def _texts(ds: Dataset, path: str, encoding: str) -> Iterator[tuple[str, str]]:
    for elem in ds:
        yield from _elem_texts(elem, path, encoding)


def _elem_texts(elem: DataElement, path: str, encoding: str) -> Iterator[tuple[str, str]]:
    tag = BaseTag(elem.tag)
    where = f"{path}({tag.group:04X},{tag.element:04X})"
    if tag in _SKIP or elem.value is None:
        return
    if elem.VR == "SQ":
        for index, item in enumerate(elem.value):
            yield from _texts(item, f"{where}[{index}].", encoding)
    elif elem.VR in _TEXT_VRS:
        values = elem.value if elem.VM > 1 else [elem.value]
        yield where, "\\".join(str(v) for v in values)
    elif isinstance(elem.value, bytes):  # UN, OB: raw text may hide in there
        yield where, elem.value.decode(encoding, errors="replace")


def find_planted(
    ds: Dataset, identifiers: dict[str, list[str]], encoding: str
) -> tuple[list[str], list[str]]:
    """Return (identifier strings found, tag paths holding them) in ``ds`` and its file meta.

    Tag paths look like ``(0040,0275)[0].(0040,1001)``; file meta elements are
    prefixed with ``meta:``.
    """
    wanted = sorted({value for values in identifiers.values() for value in values if value})
    found: set[str] = set()
    places: list[str] = []
    sources = [("", ds)]
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        sources.insert(0, ("meta:", meta))
    for prefix, source in sources:
        for where, text in _texts(source, prefix, encoding):
            hits = [value for value in wanted if value in text]
            if hits:
                found.update(hits)
                places.append(where)
    return sorted(found), places
