"""Search one output file for indexed identifiers, everywhere they can hide.

Looked at: the decoded value of every element at any depth; the raw bytes of every element
(private, UN, unknown VRs: what is on disk, before any decoding); the file meta and the
128-byte preamble; DICOMDIR records (they are datasets like any other); file and folder
names; and, as a safety net, every byte of the file outside pixel and overlay data, so that
nothing between or after elements escapes. Non-DICOM files are searched byte by byte.
"""

from __future__ import annotations

from collections.abc import Iterable

from pacsguard.discover.categories import NUMERIC_VRS, TEXT_VRS
from pacsguard.discover.elements import Element, is_bulk, text_encoding, text_values, walk
from pacsguard.discover.findings import Leak
from pacsguard.discover.identifiers import IdentifierIndex
from pacsguard.discover.matcher import norm_bytes, norm_text
from pacsguard.discover.walk import DicomFile

__all__ = ["DICOMDIR_CLASS", "search_bytes", "search_dicom", "search_names"]

DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
#: Which token categories an element of a given VR may legitimately be searched for.
_ONLY = {"UI": frozenset({"uid"}), "DA": frozenset({"date"}), "DT": frozenset({"date"})}


class _Collector:
    def __init__(self, index: IdentifierIndex, rel: str, show_values: bool) -> None:
        self.index = index
        self.rel = rel
        self.show = show_values
        self.leaks: dict[tuple[str, str], Leak] = {}
        self.explained: set[bytes] = set()
        self.simple_charset = False

    def hit(self, keys: Iterable[bytes], location: str, kind: str, detail: str = "",
            allowed: frozenset[str] | None = None) -> None:
        for key in keys:
            info = self.index.info.get(key)
            if info is None:
                continue
            if allowed is not None and info.category not in allowed:
                continue
            self.explained.add(key)
            if (location, kind) in self.leaks:
                continue
            kind_used = "original-uid" if info.category == "uid" and kind == "value" else kind
            self.leaks[(location, kind)] = Leak(
                path=self.rel, location=location, kind=kind_used, category=info.category,
                detail=detail or f"{info.category} from {info.source}",
                value=info.value if self.show else None,
            )


def _scan_element(col: _Collector, el: Element, prefix: str, kind: str) -> None:
    m = col.index.matcher
    loc = prefix + el.location
    if is_bulk(el.tag) or el.vr == "SQ":
        return
    detail = f'private creator "{el.creator}"' if el.creator else ""
    if el.vr in NUMERIC_VRS:
        # Numbers are not searched (an instance number equal to a patient ID is no leak), but
        # their bytes must not be reported by the whole-file safety net either.
        if el.raw:
            col.explained.update(m.keys_in_bytes(el.raw))
        return
    # A private VR comes from a guess (private dictionary) or from the writer: no restriction.
    allowed = _ONLY.get(el.vr) if el.creator is None else None
    if col.simple_charset and el.raw is not None and el.vr in TEXT_VRS:
        # ASCII-compatible character set: the stored bytes are the text. Searching them is
        # the decoded search (the index holds Latin-1 and UTF-8 forms), without decoding.
        col.hit(m.keys_in_bytes(el.raw), loc, kind, detail, allowed)
        return
    found_decoded: list[bytes] = []
    if el.elem is not None:
        for text in text_values(el.elem):
            found_decoded.extend(m.keys_in_text(text))
        col.hit(found_decoded, loc, kind, detail, allowed)
    if el.raw:
        raw_keys = [k for k in m.keys_in_bytes(el.raw) if k not in found_decoded]
        if (loc, kind) in col.leaks:  # already reported from the decoded value
            col.explained.update(raw_keys)
            return
        raw_kind = "raw-bytes" if kind == "value" else kind
        if el.elem is None or el.vr in ("UN", "OB", "OW") or el.creator is not None:
            col.hit(raw_keys, loc, raw_kind, detail or f"raw bytes of a {el.vr} element", allowed)
        else:
            col.hit(raw_keys, loc, raw_kind, detail or "raw bytes", allowed)


def _simple_charset(df: DicomFile) -> bool:
    """True when text values are stored as ASCII, Latin-1 or UTF-8, little endian."""
    if 0x00020010 in df.file_meta and str(df.file_meta[0x00020010].value) == "1.2.840.10008.1.2.2":
        return False  # big endian: keep the decoding path
    return text_encoding(df.ds) is not None


def search_dicom(df: DicomFile, rel: str, index: IdentifierIndex, show_values: bool,
                 elements: list[Element] | None = None) -> list[Leak]:
    """Every leak in one parsed output file (names are searched by :func:`search_names`).

    ``elements`` is the already walked dataset, when the caller has it.
    """
    col = _Collector(index, rel, show_values)
    col.simple_charset = _simple_charset(df)
    m = index.matcher
    if df.has_preamble:
        col.hit(m.keys_in_bytes(df.data[:128]), "preamble", "preamble")
    bulk = df.bulk
    for el in walk(df.file_meta):
        _scan_element(col, el, "file-meta ", "file-meta")
    sop_class = str(df.file_meta.get("MediaStorageSOPClassUID", ""))
    prefix = "DICOMDIR " if sop_class == DICOMDIR_CLASS else ""
    for el in elements if elements is not None else walk(df.ds):
        _scan_element(col, el, prefix, "value")
    # Safety net: the whole file outside pixel/overlay bulk data.
    start = 0
    for lo, hi in [*bulk, (len(df.data), len(df.data))]:
        chunk = df.data[start:lo]
        for off, key in m.finditer(norm_bytes(chunk)):
            # Element bytes run into the next tag (``PETIT^Anne`` + ``\xfe\xff``), so a
            # shorter key may match here where the element scan matched a longer one.
            if key not in index.info or any(key in e for e in col.explained):
                continue
            col.explained.add(key)
            info = index.info[key]
            col.leaks[(f"@{start + off}", "file-bytes")] = Leak(
                path=rel, location=f"@{start + off}", kind="file-bytes", category=info.category,
                detail="bytes outside any parsed element",
                value=info.value if show_values else None,
            )
        start = max(start, hi)
    return list(col.leaks.values())


def search_bytes(data: bytes, rel: str, index: IdentifierIndex, show_values: bool) -> list[Leak]:
    """Leaks in a file that is not DICOM (a CSV map left behind, a text log, ...)."""
    col = _Collector(index, rel, show_values)
    for off, key in index.matcher.finditer(norm_bytes(data)):
        if key in col.explained:
            continue
        col.explained.add(key)
        col.hit([key], f"@{off}", "file-bytes", "in a file that is not DICOM")
    return list(col.leaks.values())


def search_names(rel_paths: Iterable[str], index: IdentifierIndex, show_values: bool,
                 ) -> list[Leak]:
    """Leaks in file and folder names (each folder reported once)."""
    leaks: list[Leak] = []
    seen_dirs: set[str] = set()
    m = index.matcher
    for rel in rel_paths:
        parts = rel.split("/")
        for i, part in enumerate(parts):
            is_file = i == len(parts) - 1
            where = "/".join(parts[: i + 1])
            if not is_file:
                if where in seen_dirs:
                    continue
                seen_dirs.add(where)
            keys = [k for _, k in m.finditer(norm_text(part))]
            if keys:
                info = index.info[keys[0]]
                leaks.append(Leak(
                    path=where, location="file name" if is_file else "folder name", kind="path",
                    category=info.category, detail=f"{info.category} in a path component",
                    value=info.value if show_values else None,
                ))
    return leaks
