"""Walk every element of a dataset at any depth, with its location and its raw bytes.

The raw bytes are taken before pydicom converts an element, so the searches see what
is on disk (private, UN and unknown VRs included) as well as the decoded value.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from functools import lru_cache

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset
from pydicom.filereader import read_sequence
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.valuerep import PersonName

from pacsguard.dicom.tags import SPECIFIC_CHARACTER_SET
from pacsguard.discover.categories import removed_by_profile

__all__ = ["Element", "fmt_tag", "raw_text_values", "text_encoding",
           "text_values", "walk"]

@lru_cache(maxsize=8192)
def fmt_tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


class Element:
    """One element seen by :func:`walk`; its value is decoded only when asked for.

    Decoding (pydicom's conversion) is most of the cost of a walk, and most elements never
    need it: the searches read raw bytes, the index only decodes identifying attributes.
    """

    __slots__ = ("_ds", "_elem", "creator", "depth", "error", "location", "pattern", "raw",
                 "tag", "under_removed", "vr")

    def __init__(self, ds: Dataset, location: str, pattern: str, tag: int, vr: str,
                 raw: bytes | None, creator: str | None, depth: int, under_removed: bool,
                 elem: DataElement | None = None) -> None:
        self._ds = ds
        self._elem: DataElement | bool | None = elem if elem is not None else False
        self.location = location  #: e.g. ``(0040,A730)[0].(0040,A160)``
        self.pattern = pattern  #: without item numbers, ``(0040,A730)[*].(0040,A160)``
        self.tag = tag
        self.vr = vr  #: as stored, else the dictionary's; ``UN`` when unknown
        self.raw = raw  #: value bytes as stored, when the element was still raw
        self.creator = creator  #: private creator of a private data element
        self.depth = depth
        self.under_removed = under_removed  #: an enclosing sequence is removed by the profile
        self.error = False  #: decoding was tried and failed

    @property
    def elem(self) -> DataElement | None:
        """The decoded element, or None when its value cannot be decoded."""
        if self._elem is False:
            try:
                # Converted aside, never in place: a de-identifier walks the original before
                # it writes it, and a raw element left raw is written back byte for byte.
                # Standard sequences are the exception: the de-identifier decodes each of them
                # anyway (to clean its items), so decoding them once, in place, saves a parse.
                item = self._ds.get_item(self.tag)
                if not isinstance(item, RawDataElement):
                    self._elem = item
                elif self.vr == "SQ" and (self.tag >> 16) % 2 == 0:
                    self._elem = self._ds[self.tag]
                else:
                    self._elem = convert_raw_data_element(
                        item, encoding=self._ds._character_set, ds=self._ds)
            except Exception:  # an undecodable value must not stop anything; it is flagged
                self._elem = None
                self.error = True
        return self._elem if isinstance(self._elem, DataElement) else None


@lru_cache(maxsize=8192)
def _guess_vr(tag: int, stored: str | None) -> str:
    if stored:
        return str(stored)
    if (tag >> 16) % 2 == 1:
        return "UN"
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return "UN"


def walk(
    ds: Dataset, prefix: str = "", pattern: str = "", depth: int = 0, under_removed: bool = False
) -> Iterator[Element]:
    """Yield every element of ``ds`` depth-first, sequences included (then their items)."""
    for tag in list(ds.keys()):
        tag_i = int(tag)
        loc = f"{prefix}{fmt_tag(tag_i)}"
        pat = f"{pattern}{fmt_tag(tag_i)}"
        item = ds.get_item(tag)
        creator = _creator(ds, tag_i)
        if isinstance(item, RawDataElement):
            raw = item.value if isinstance(item.value, bytes) else None
            vr = _guess_vr(tag_i, item.VR)
            el = Element(ds, loc, pat, tag_i, vr, raw, creator, depth, under_removed)
        else:
            el = Element(ds, loc, pat, tag_i, str(item.VR), None, creator, depth, under_removed,
                         elem=item)
        items: Sequence | None = None
        if el.vr == "SQ" or (el.vr == "UN" and el.raw is None):
            elem = el.elem  # sequences are decoded to be walked
            if elem is not None and elem.VR == "SQ" and isinstance(elem.value, Sequence):
                items = elem.value
                el.vr = "SQ"
        if items is None and el.vr == "UN" and el.raw and el.raw[:4] == _ITEM:
            items = _un_sequence(el.raw, ds)
            if items is not None:
                el.vr = "SQ"
        yield el
        if items is not None:
            inner = under_removed or removed_by_profile(tag_i)
            for i, sub in enumerate(items):
                if isinstance(sub, Dataset):
                    yield from walk(sub, f"{loc}[{i}].", f"{pat}[*].", depth + 1, inner)


_ITEM = b"\xfe\xff\x00\xe0"


def _un_sequence(raw: bytes, parent: Dataset) -> Sequence | None:
    """Items of a UN element that holds an implicit VR sequence (the VR was lost), or None."""
    try:
        encoding = parent._character_set
        seq = read_sequence(io.BytesIO(raw), True, True, len(raw), encoding)
        for item in seq:
            for _ in item.keys():
                pass
        return seq if len(seq) else None
    except Exception:  # not a sequence after all: scanned as raw bytes
        return None


def _creator(ds: Dataset, tag: int) -> str | None:
    group, elem = tag >> 16, tag & 0xFFFF
    if group % 2 == 0 or elem < 0x1000:
        return None
    ctag = (group << 16) | (elem >> 8)
    if ctag not in ds:
        return ""
    try:
        value = ds[ctag].value
    except Exception:
        return ""
    return str(value).strip() if value is not None else ""


_SIMPLE = {"": "latin-1", "ISO_IR 6": "latin-1", "ISO 2022 IR 6": "latin-1",
           "ISO_IR 100": "latin-1", "ISO_IR 192": "utf-8"}


def text_encoding(ds: Dataset) -> str | None:
    """``latin-1`` or ``utf-8`` when every text value of ``ds`` can be read from its bytes
    with that codec (ASCII, Latin-1, UTF-8 character sets); None for the others (ISO 2022
    escapes, Cyrillic, ...), which need pydicom's decoding."""
    item = ds.get_item(SPECIFIC_CHARACTER_SET)
    if item is None:
        return "latin-1"
    raw = item.value
    if isinstance(raw, bytes):
        text = raw.decode("latin-1")
    elif isinstance(raw, list | tuple | MultiValue):
        text = "\\".join(str(v) for v in raw)
    else:
        text = str(raw or "")
    codecs = {_SIMPLE.get(t.strip()) for t in text.split("\\")}
    if None in codecs or len(codecs - {"latin-1"}) > 1:
        return None
    return "utf-8" if "utf-8" in codecs else "latin-1"


def raw_text_values(raw: bytes, encoding: str) -> list[str]:
    """The values of a text element straight from its stored bytes (no pydicom conversion).

    Only valid for ASCII-compatible single-byte or UTF-8 character sets, which the caller
    checks; padding (space, NUL) is stripped and multiple values split on backslash.
    """
    text = raw.decode(encoding, "replace")
    return [v for v in (part.strip(" \x00") for part in text.split("\\")) if v]


def text_values(elem: DataElement) -> list[str]:
    """The decoded value(s) of a textual element as strings ([] for binary/sequence VRs)."""
    if elem.VR in ("SQ", "OB", "OW", "OF", "OD", "OL", "OV", "UN", "FL", "FD", "SL", "SS", "UL",
                   "US", "SV", "UV", "AT", "US or SS", "OB or OW", "US or OW", "US or SS or OW"):
        return []
    value = elem.value
    if value is None or value == "":
        return []
    items = list(value) if isinstance(value, MultiValue | list | tuple) else [value]
    out: list[str] = []
    for v in items:
        if v is None:
            continue
        if isinstance(v, PersonName):
            out.append(str(v))
        elif isinstance(v, bytes):
            out.append(v.decode("latin-1"))
        else:
            out.append(str(v))
    return [s for s in out if s]
