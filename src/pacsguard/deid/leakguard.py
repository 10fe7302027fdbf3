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

from pacsguard.dicom.reader import DicomFile, parse_dicom_file
from pacsguard.dicom.tags import SOP_CLASS_UID
from pacsguard.discover.dates import shifted_locations
from pacsguard.discover.findings import Leak
from pacsguard.discover.identifiers import ElementMemo, IdentifierIndex
from pacsguard.discover.search import search_bytes, search_dicom
from pacsguard.errors import NotDicom
from pacsguard.profile.policy import Policy

__all__ = ["LeakGuard", "person_names"]

_OUTPUT = Path("output.dcm")  # a name for messages: the guard never reads a path


class LeakGuard:
    """Index an original before masking, then search the bytes written for it."""

    def __init__(self, policy: Policy) -> None:
        self._kept = policy.kept_tags()
        self._memo = ElementMemo()  # the files of a series repeat most of their values

    def index(self, ds: Dataset) -> IdentifierIndex:
        """The identifiers of one original, as verify would index it (before masking)."""
        index = IdentifierIndex()
        index.add_dataset(ds, "self", memo=self._memo)
        return index.shed()

    def find(self, index: IdentifierIndex, data: bytes, shift_days: int | None,
             around: bytes = b"", written: Dataset | None = None,
             bulk: list[tuple[int, int]] | None = None) -> Leak | None:
        """The first leak verify would report in ``data`` (a whole file), or None.

        ``written``, ``bulk``: the dataset ``data`` was encoded from and where the writer put
        its pixel and overlay values; then its elements are searched as they are rather than
        parsed again from ``data`` (whose every byte outside them is still searched).
        ``around``: when ``data`` is a header whose pixel data follows from the input file,
        that element's bytes outside its value (searched as verify's byte pass would)."""
        if around:
            hit = next(iter(sorted(search_bytes(around, _OUTPUT.name, index, False))), None)
            if hit is not None:
                return hit
        if written is not None and bulk is not None:
            if SOP_CLASS_UID not in written:  # a policy removed it: verify reads such a
                # file as bytes, and so does the guard
                return next(iter(sorted(search_bytes(data, _OUTPUT.name, index, False))), None)
            df = DicomFile(path=_OUTPUT, data=data, ds=written, bulk=bulk)  # type: ignore[arg-type]
        else:
            try:
                df = parse_dicom_file(data, _OUTPUT)
            except NotDicom:
                return next(iter(sorted(search_bytes(data, _OUTPUT.name, index, False))), None)
        leaks, weak = search_dicom(df, _OUTPUT.name, index, False)
        found = sorted(lk for lk in [*leaks, *(w for w, _ in weak)]
                       if _leaf(lk.location) not in self._kept)
        dated = {lk.location for lk in found if lk.category == "date"}
        if dated and shift_days:
            explained = shifted_locations(df.ds, dated, index, shift_days)
            found = [lk for lk in found
                     if not (lk.category == "date" and lk.location in explained)]
        return found[0] if found else None


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
