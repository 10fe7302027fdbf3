"""One element's value as text: the one helper every module reads attributes through."""

from __future__ import annotations

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

__all__ = ["value_text"]


def value_text(ds: Dataset, tag: int, *, first: bool = False, stored: bool = False) -> str:
    """The value of ``tag`` in ``ds`` (not in its sequences) as text, '' when absent, empty or
    a sequence.

    Values are joined with ``\\`` as DICOM stores them (``first``: only the first one);
    bytes are read as Latin-1; padding (white space, then NULs, then white space) is stripped
    from both ends.

    By default the element is decoded as pydicom decodes it (character set included), and a
    value that cannot be decoded raises: the de-identifier must not guess a name.
    ``stored``: an element not yet decoded is read from its stored bytes instead (spaces and
    NULs stripped) and stays undecoded, so this cannot fail: scan and verify take the grouping
    keys of hostile files this way (only ASCII attributes are asked for so).
    """
    if stored:
        item = ds.get_item(tag)
        if isinstance(item, RawDataElement):
            if item.VR == "SQ" or not isinstance(item.value, bytes):
                return ""
            text = item.value.decode("latin-1")
            return (text.split("\\", 1)[0] if first else text).strip(" \x00")
    return _text(ds, tag, first)


def _text(ds: Dataset, tag: int, first: bool) -> str:
    elem = ds.get(tag)
    if elem is None or elem.value is None or elem.VR == "SQ":
        return ""
    value = elem.value
    if isinstance(value, MultiValue | list | tuple):
        if first:
            value = value[0] if value else ""
        else:
            return _strip("\\".join(_one(v) for v in value))
    return _strip(_one(value))


def _one(value: object) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _strip(text: str) -> str:
    return text.strip().strip("\x00").strip()
