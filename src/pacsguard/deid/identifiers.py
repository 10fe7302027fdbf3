"""Collect one file's own identifying values, before anything is masked.

They drive text cleaning (Clean Descriptors, Clean Structured Content), the leak guard that
re-reads every written file, and the pixel text matcher. How a name becomes the spellings
looked for is :func:`pacsguard.discover.forms.name_forms`'s business.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.valuerep import PersonName

from pacsguard.dicom.tags import (
    ACCESSION_NUMBER,
    ADMISSION_ID,
    CONSULTING_PHYSICIAN_NAME,
    INSTITUTION_ADDRESS,
    INSTITUTION_NAME,
    MEDICAL_RECORD_LOCATOR,
    NAME_OF_PHYSICIANS_READING_STUDY,
    OPERATORS_NAME,
    OTHER_PATIENT_IDS,
    OTHER_PATIENT_IDS_SEQUENCE,
    OTHER_PATIENT_NAMES,
    PATIENT_ADDRESS,
    PATIENT_BIRTH_DATE,
    PATIENT_BIRTH_NAME,
    PATIENT_ID,
    PATIENT_MOTHER_BIRTH_NAME,
    PATIENT_NAME,
    PATIENT_TELECOM_INFORMATION,
    PATIENT_TELEPHONE_NUMBERS,
    PERFORMED_PROCEDURE_STEP_ID,
    PERFORMING_PHYSICIAN_NAME,
    PHYSICIANS_OF_RECORD,
    REFERRING_PHYSICIAN_NAME,
    REQUESTING_PHYSICIAN,
    RESPONSIBLE_PERSON,
    SCHEDULED_PERFORMING_PHYSICIAN_NAME,
)
from pacsguard.discover.charsets import readings
from pacsguard.discover.forms import is_name_word, name_forms
from pacsguard.discover.identifiers import charset_terms
from pacsguard.errors import FailClosed

_PERSON_TAGS = (
    PATIENT_NAME, OTHER_PATIENT_NAMES, PATIENT_BIRTH_NAME, PATIENT_MOTHER_BIRTH_NAME, RESPONSIBLE_PERSON,
    REFERRING_PHYSICIAN_NAME,
    PERFORMING_PHYSICIAN_NAME,
    NAME_OF_PHYSICIANS_READING_STUDY,
    OPERATORS_NAME,
    PHYSICIANS_OF_RECORD,
    CONSULTING_PHYSICIAN_NAME,
    REQUESTING_PHYSICIAN,
    SCHEDULED_PERFORMING_PHYSICIAN_NAME,
)
_ID_TAGS = (PATIENT_ID, OTHER_PATIENT_IDS, ACCESSION_NUMBER, MEDICAL_RECORD_LOCATOR, ADMISSION_ID,
            PERFORMED_PROCEDURE_STEP_ID)  # the last: Performed Procedure Step ID


@dataclass
class FileIdentifiers:
    """The identifying strings of one file, grouped by kind."""

    names: set[str] = field(default_factory=set)  #: name parts (single words)
    full_names: set[str] = field(default_factory=set)  #: whole names, several spellings
    ids: set[str] = field(default_factory=set)
    birth_dates: set[str] = field(default_factory=set)  #: YYYYMMDD
    phones: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    addresses: set[str] = field(default_factory=set)
    institutions: set[str] = field(default_factory=set)

    def key(self) -> tuple[tuple[str, ...], ...]:
        """A hashable summary: files of one patient usually share it (caches use it)."""
        return tuple(tuple(sorted(g)) for g in (
            self.names, self.full_names, self.ids, self.birth_dates, self.phones, self.emails,
            self.addresses, self.institutions))

    def all_strings(self) -> Iterator[str]:
        for group in (self.full_names, self.names, self.ids, self.birth_dates, self.phones,
                      self.emails, self.addresses, self.institutions):
            yield from group


def _values(ds: Dataset, tag: int, terms: tuple[str, ...] = ()) -> list[str]:
    item = ds.get_item(tag)
    if item is None:
        return []
    if isinstance(item, RawDataElement) and isinstance(item.value, bytes):
        # Every plausible reading of the stored bytes: a name stored in another character
        # set than the declared one must still be found in the text it is copied into.
        found = readings(item.value, terms)
        if not found.reliable:
            raise FailClosed("charset-undecodable", f"({tag >> 16:04X},{tag & 0xFFFF:04X}) "
                             "cannot be read in its declared Specific Character Set")
        parts = [p.strip().strip("\x00").strip() for t in found.texts for p in t.split("\\")]
        return list(dict.fromkeys(p for p in parts if p))
    elem = ds.get(tag)
    if elem is None or elem.VR == "SQ" or elem.value in (None, "", b""):
        return []
    value = elem.value
    items: Iterable[object] = value if isinstance(value, list | tuple) or (
        hasattr(value, "__iter__") and not isinstance(value, str | bytes | PersonName)
    ) else [value]
    out = []
    for v in items:
        s = v.decode("latin-1") if isinstance(v, bytes) else str(v)
        s = s.strip().strip("\x00").strip()
        if s:
            out.append(s)
    return out


def _add_person(ids: FileIdentifiers, raw: str) -> None:
    whole, words = name_forms(raw)
    ids.full_names.update(whole)
    ids.names.update(w for w in words if is_name_word(w))


def collect(ds: Dataset, *, institutions: bool = True, names: Iterable[str] = ()
            ) -> FileIdentifiers:
    """Every identifying value of the patient (and staff) found in the top level of ``ds``
    and in its Other Patient IDs Sequence, plus ``names``: the person names found deeper
    (SR content, nested staff), which text must be cleaned of too.

    Raises :class:`FailClosed` (``charset-undecodable``) when a name or an ID cannot be read
    in the declared character set: text cannot be cleaned of a name nobody can read.
    """
    ids = FileIdentifiers()
    terms = charset_terms(ds)
    for tag in _PERSON_TAGS:
        for v in _values(ds, tag, terms):
            _add_person(ids, v)
    for name in names:
        _add_person(ids, name)
    for tag in _ID_TAGS:
        for v in _values(ds, tag, terms):
            if len(v) >= 2:
                ids.ids.add(v)
    seq = ds.get(OTHER_PATIENT_IDS_SEQUENCE)
    for item in (seq.value if seq is not None and seq.VR == "SQ" else None) or []:
        for v in _values(item, PATIENT_ID):
            ids.ids.add(v)
    ids.birth_dates.update(v for v in _values(ds, PATIENT_BIRTH_DATE) if len(v) == 8)
    for v in _values(ds, PATIENT_TELEPHONE_NUMBERS):
        ids.phones.add(v)
    for v in _values(ds, PATIENT_TELECOM_INFORMATION):
        for token in re.split(r"[\s;,]+", v):
            if "@" in token:
                ids.emails.add(token)
            elif sum(c.isdigit() for c in token) >= 6:
                ids.phones.add(token)
    for v in _values(ds, PATIENT_ADDRESS):
        ids.addresses.add(v)
    if institutions:
        for tag in (INSTITUTION_NAME, INSTITUTION_ADDRESS):
            ids.institutions.update(_values(ds, tag))
    return ids
