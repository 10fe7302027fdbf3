"""The few facts per file that the set-level checks need (grouping, references, dates)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

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
    0x00081155,  # Referenced SOP Instance UID
    0x00041511,  # Referenced SOP Instance UID in File (DICOMDIR)
    0x3006_0024,  # Referenced Frame of Reference UID
    0x00200052,  # Frame of Reference UID (in a sequence)
    0x0020000D,  # Study Instance UID (in a sequence)
    0x0020000E,  # Series Instance UID (in a sequence)
})
_DICOMDIR = "1.2.840.10008.1.3.10"


def _top(ds: Dataset, tag: int) -> str:
    """A top-level value as text, '' when absent or empty (explicit tag, no attribute magic).

    Read from the stored bytes when still raw (the attributes asked for are ASCII: UIDs,
    IDs, codes), else from the decoded value.
    """
    item = ds.get_item(tag)
    if item is None:
        return ""
    if isinstance(item, RawDataElement) and isinstance(item.value, bytes) and item.VR != "SQ":
        return item.value.decode("latin-1").strip(" \x00")
    try:
        value = ds[tag].value
    except Exception:
        return ""
    if value is None:
        return ""
    return str(value).strip()


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
    pid = _top(ds, 0x00100020)
    patient = pid if pid else _top(ds, 0x00100010)
    sop_class = _top(ds, 0x00080016) or _top(meta, 0x00020002)
    pixel_hash = ""
    if 0x7FE00010 in ds:
        try:
            item = ds.get_item(0x7FE00010)
            pix = item.value if item is not None else None
            if isinstance(pix, bytes):
                # Head, tail and length identify an image well enough to pair it, at a
                # fraction of the cost of hashing hundreds of kilobytes per file.
                sample = pix[:32768] + pix[-32768:] + len(pix).to_bytes(8, "little")
                pixel_hash = hashlib.blake2b(sample, digest_size=16).hexdigest()
        except Exception:
            pixel_hash = ""
    weak = (sop_class, _top(ds, 0x00080060), _top(ds, 0x00200013), _top(ds, 0x00280010),
            _top(ds, 0x00280011))
    rec = FileRecord(
        rel=rel, patient=patient, study=_top(ds, 0x0020000D), series=_top(ds, 0x0020000E),
        sop=_top(ds, 0x00080018), sop_class=sop_class, frame_of_ref=_top(ds, 0x00200052),
        strong=(*weak, pixel_hash) if pixel_hash else (), weak=weak,
        is_dicomdir=_top(meta, 0x00020002) == _DICOMDIR,
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
        if el.tag in REF_TAGS and (el.depth > 0 or el.tag == 0x00041511):
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
_TIME_OF = {
    0x00080020: 0x00080030, 0x00080021: 0x00080031, 0x00080022: 0x00080032,
    0x00080023: 0x00080033, 0x00080024: 0x00080034, 0x00080025: 0x00080035,
    0x00100030: 0x00100032, 0x00400244: 0x00400245, 0x00400250: 0x00400251,
    0x00400002: 0x00400003, 0x00400004: 0x00400005, 0x00181012: 0x00181014,
    0x00181200: 0x00181201, 0x0040A121: 0x0040A122, 0x00321000: 0x00321001,
    0x00321010: 0x00321011, 0x00321040: 0x00321041, 0x00321050: 0x00321051,
}


def _parse_tm(text: str) -> dt.time | None:
    digits = text.strip().split(".")[0].split("+")[0].split("-")[0]
    if len(digits) < 2 or not digits.isdigit():
        return None
    try:
        return dt.time(int(digits[:2]), int(digits[2:4] or 0), int(digits[4:6] or 0))
    except ValueError:
        return None
