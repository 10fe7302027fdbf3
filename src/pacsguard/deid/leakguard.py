"""The last check before a file is written: would ``pacsguard verify`` flag it?

It is verify's own search (:mod:`pacsguard.discover`), run on one file: the original is
indexed as verify indexes originals, the bytes about to be written are searched as verify
searches outputs, under the options they declare. A hit quarantines the file
(``residual-identifier``): if verify would flag a written file, the guard caught it first.
Two differences, both of which only the de-identifier can know: attributes the policy keeps
by name (``[actions] X = "keep"``) are the user's choice, and a date that is another date
of the same file moved by this patient's shift is the shift at work.
"""

from __future__ import annotations

from pathlib import Path

from pydicom.dataset import Dataset

from pacsguard.discover.dates import shift_explains
from pacsguard.discover.elements import text_values, walk
from pacsguard.discover.findings import Leak
from pacsguard.discover.identifiers import IdentifierIndex
from pacsguard.discover.search import search_dicom
from pacsguard.discover.walk import parse_dicom
from pacsguard.profile.policy import Policy

__all__ = ["LeakGuard", "person_names"]

_OUTPUT = Path("output.dcm")  # a name for messages: the guard never reads a path


class LeakGuard:
    """Index an original before masking, then search the bytes written for it."""

    def __init__(self, policy: Policy) -> None:
        self._kept = policy.kept_tags()

    @staticmethod
    def index(ds: Dataset) -> IdentifierIndex:
        """The identifiers of one original, as verify would index it (before masking)."""
        index = IdentifierIndex()
        index.add_dataset(ds, "self")
        return index.shed()

    def find(self, index: IdentifierIndex, data: bytes, shift_days: int | None) -> Leak | None:
        """The first leak verify would report in ``data`` (a whole file), or None."""
        df = parse_dicom(data, _OUTPUT)
        leaks, weak = search_dicom(df, _OUTPUT.name, index, False)
        dates = {i.value for i in index.info.values() if i.category == "date"}
        for leak in sorted([*leaks, *(w for w, _ in weak)]):
            if _leaf(leak.location) in self._kept:
                continue
            if leak.category == "date" and shift_days and self._shifted(df.ds, leak, index,
                                                                        shift_days, dates):
                continue
            return leak
        return None

    @staticmethod
    def _shifted(ds: Dataset, leak: Leak, index: IdentifierIndex, days: int,
                 originals: set[str]) -> bool:
        """Is every original date found at the leak's location explained by the shift?"""
        for el in walk(ds):
            if el.location != leak.location or el.elem is None:
                continue
            keys = {k for text in text_values(el.elem) for k in index.matcher.keys_in_text(text)}
            found = {info.value for k in keys if (info := index.lookup(k)) is not None
                     and info.category == "date"}
            return bool(found) and all(shift_explains(d, days, originals) for d in found)
        return False


def person_names(index: IdentifierIndex) -> list[str]:
    """The whole person names of an original, at any depth (text is cleaned of them)."""
    return sorted({i.value for i in index.info.values()
                   if not i.weak and any(s.vr == "PN" for s in i.sources)})


def _leaf(location: str) -> int:
    """The tag at the end of a location such as ``(0040,A730)[0].(0040,A160)``."""
    text = location[-11:]
    try:
        return (int(text[1:5], 16) << 16) | int(text[6:10], 16)
    except ValueError:
        return -1
