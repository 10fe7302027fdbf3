"""Words of the DICOM standard: as a single word, never an identifier.

Built from pydicom's data dictionary (attribute names and keywords) and UID registry, so a
station called "DEFAULT" or an operator field holding "Observer" raises no alarm. Only
single words of whole values are concerned: name parts of people are judged per patient
(:class:`pacsguard.discover.identifiers.IdentInfo`), and IDs, dates, UIDs and contacts are
identifiers whatever they spell.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["is_vocabulary", "vocabulary"]

_WORD = re.compile(r"[A-Za-z]{3,}")
_CAMEL = re.compile(r"[A-Z][a-z]+|[A-Z]+(?![a-z])|[a-z]+")


@lru_cache(maxsize=1)
def vocabulary() -> frozenset[bytes]:
    """Lower-case words of the standard's attribute and UID names (about 2,000)."""
    from pydicom._dicom_dict import DicomDictionary
    from pydicom._uid_dict import UID_dictionary

    words: set[str] = set()
    for entry in DicomDictionary.values():
        words.update(w.lower() for w in _WORD.findall(entry[2]))
        words.update(w.lower() for w in _CAMEL.findall(entry[4]) if len(w) >= 3)
    for uid_entry in UID_dictionary.values():
        words.update(w.lower() for w in _WORD.findall(uid_entry[0]))
    return frozenset(w.encode("ascii") for w in words)


def is_vocabulary(key: bytes) -> bool:
    """``key`` (a normalised single word) is a word of the standard."""
    return key in vocabulary()
