"""Search one output file for indexed identifiers, everywhere they can hide.

Looked at: the decoded value of every element at any depth; the raw bytes of every element
(private, UN, unknown VRs: what is on disk, before any decoding); the file meta and the
128-byte preamble; DICOMDIR records (they are datasets like any other); file and folder
names; and, as a safety net, every byte of the file outside pixel and overlay data, so that
nothing between or after elements escapes. Non-DICOM files are searched byte by byte.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydicom.uid import ExplicitVRBigEndian

from pacsguard.dicom.reader import DicomFile
from pacsguard.dicom.tags import ENCAPSULATED_DOCUMENT, TRANSFER_SYNTAX_UID, is_bulk, tag_for
from pacsguard.discover.categories import NUMERIC_VRS, TEXT_VRS
from pacsguard.discover.elements import Element, text_encoding, text_values, walk
from pacsguard.discover.findings import Leak
from pacsguard.discover.identifiers import IdentifierIndex, IdentInfo, source_label
from pacsguard.discover.judge import PERSONAL, Source, declared_options, identifies, location_keeps
from pacsguard.discover.matcher import norm_bytes, norm_text
from pacsguard.profile.options import Option

__all__ = ["DICOMDIR_CLASS", "search_bytes", "search_dicom", "search_names"]

DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
#: Which token categories an element of a given VR may legitimately be searched for.
_ONLY = {"UI": frozenset({"uid"}), "DA": frozenset({"date"}), "DT": frozenset({"date"})}
_MARK_LOCATIONS = ("(0012,0063)", "(0012,0064)")  # De-identification Method, its codes


class _Collector:
    """Turns matcher hits into leaks, each judged by :mod:`pacsguard.discover.judge`.

    ``weak`` holds the hits of weak identifiers (single words of person names) with their
    key: they are leaks only in files of the patients they came from, which the caller
    settles (verify after pairing outputs with originals, the leak guard at once).
    """

    def __init__(self, index: IdentifierIndex, rel: str, show_values: bool,
                 options: frozenset[Option] = frozenset()) -> None:
        self.index = index
        self.rel = rel
        self.show = show_values
        self.options = options
        self.leaks: dict[tuple[str, str], Leak] = {}
        self.weak: list[tuple[Leak, bytes]] = []
        self.explained: set[bytes] = set()
        self.simple_charset = False
        #: the element being searched holds terminology (a CS value, a code): only names of
        #: several words, contacts and UIDs can be leaks there
        self.terms = False

    def hit(self, keys: Iterable[bytes], location: str, kind: str, detail: str = "",
            allowed: frozenset[str] | None = None, keeps: bool = False) -> None:
        for key in keys:
            info = self.index.lookup(key)
            if info is None:
                continue
            if allowed is not None and info.category not in allowed:
                continue
            self.explained.add(key)
            if self.terms and (info.weak or info.category not in _IN_TERMS):
                continue
            if (location, kind) in self.leaks:
                continue
            verdict = self._judge(info, keeps)
            if verdict is None:
                continue
            src, action = verdict
            kind_used = "original-uid" if info.category == "uid" and kind == "value" else kind
            why = f"{info.category} from {source_label(src)}"
            if action not in ("private", "C"):
                why += f", which the profile {_VERBS.get(action, 'removes')}"
            elif action == "C":
                why += ", which cleaning must remove"
            leak = Leak(
                path=self.rel, location=location, kind=kind_used, category=info.category,
                detail=f"{why}; {detail}" if detail else why,
                value=info.value if self.show else None,
                source=source_label(src), action=action,
            )
            if info.weak:
                self.weak.append((leak, key))
            else:
                self.leaks[(location, kind)] = leak

    def _judge(self, info: IdentInfo, keeps: bool) -> tuple[Source, str] | None:
        """The source that makes ``info`` an identifier here, with its action, or None."""
        for src in sorted(info.sources):
            ok, action = identifies(src, self.options)
            if ok and (not keeps or src.category in PERSONAL):
                return src, action
        return None


_VERBS = {"X": "removes", "Z": "empties", "D": "replaces", "U": "replaces"}
_BINARY_VRS = frozenset({"OB", "OW", "OF", "OD", "OL", "OV", "OB or OW", "US or OW"})
_TEXT_BEARING = frozenset({ENCAPSULATED_DOCUMENT})  # a PDF or CDA holds text
_IN_TERMS = frozenset({"name", "contact", "uid"})
#: Code Sequence Macro attributes (PS3.3 Table 8.8-1): code values, meanings, schemes.
CODE_TAGS = frozenset(tag_for(k) for k in (
    "CodeValue", "CodingSchemeDesignator", "CodingSchemeVersion", "CodeMeaning", "MappingResource",
    "ContextGroupVersion", "ContextGroupLocalVersion", "ContextGroupExtensionFlag",
    "ContextGroupExtensionCreatorUID", "ContextIdentifier", "ContextUID", "MappingResourceUID",
    "LongCodeValue", "URNCodeValue", "EquivalentCodeSequence", "MappingResourceName"))


def _scan_element(col: _Collector, el: Element, prefix: str, kind: str) -> None:
    m = col.index.matcher
    loc = prefix + el.location
    if is_bulk(el.tag) or el.vr == "SQ":
        return
    if loc.startswith(_MARK_LOCATIONS):
        return  # the De-identification Method says which profile ran: the tool's own words
    detail = f'private creator "{el.creator}"' if el.creator else ""
    if el.vr in NUMERIC_VRS or (el.vr in _BINARY_VRS and el.creator is None
                                and el.tag not in _TEXT_BEARING):
        # Numbers and standard binary data (LUTs, waveforms) are not searched (an instance
        # number equal to a patient ID is no leak, digits turn up in any binary table), but
        # their bytes must not be reported by the whole-file safety net either.
        if el.raw:
            col.explained.update(m.keys_in_bytes(el.raw))
        return
    keeps = kind == "value" and location_keeps(el.pattern, el.tag, el.creator, col.options)
    col.terms = el.creator is None and (el.vr == "CS" or el.tag in CODE_TAGS)
    # A private VR comes from a guess (private dictionary) or from the writer: no restriction.
    allowed = _ONLY.get(el.vr) if el.creator is None else None
    if col.simple_charset and el.raw is not None and el.vr in TEXT_VRS:
        # ASCII-compatible character set: the stored bytes are the text. Searching them is
        # the decoded search (the index holds Latin-1 and UTF-8 forms), without decoding.
        col.hit(m.keys_in_bytes(el.raw), loc, kind, detail, allowed, keeps)
        return
    found_decoded: list[bytes] = []
    if el.elem is not None:
        for text in text_values(el.elem):
            found_decoded.extend(m.keys_in_text(text))
        col.hit(found_decoded, loc, kind, detail, allowed, keeps)
    if el.raw:
        raw_keys = [k for k in m.keys_in_bytes(el.raw) if k not in found_decoded]
        if (loc, kind) in col.leaks:  # already reported from the decoded value
            col.explained.update(raw_keys)
            return
        raw_kind = "raw-bytes" if kind == "value" else kind
        if el.elem is None or el.vr in ("UN", "OB", "OW") or el.creator is not None:
            col.hit(raw_keys, loc, raw_kind, detail or f"raw bytes of a {el.vr} element",
                    allowed, keeps)
        else:
            col.hit(raw_keys, loc, raw_kind, detail or "raw bytes", allowed, keeps)


def _simple_charset(df: DicomFile) -> bool:
    """True when text values are stored as ASCII, Latin-1 or UTF-8, little endian."""
    meta = df.file_meta
    if TRANSFER_SYNTAX_UID in meta and str(meta[TRANSFER_SYNTAX_UID].value) == ExplicitVRBigEndian:
        return False  # big endian: keep the decoding path
    return text_encoding(df.ds) is not None


def search_dicom(df: DicomFile, rel: str, index: IdentifierIndex, show_values: bool,
                 elements: list[Element] | None = None) -> tuple[list[Leak], list[tuple[Leak, bytes]]]:
    """Every leak in one parsed output file (names are searched by :func:`search_names`),
    judged under the options the file declares; and the weak hits (see :class:`_Collector`).

    ``elements`` is the already walked dataset, when the caller has it.
    """
    col = _Collector(index, rel, show_values, declared_options(df.ds))
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
            if index.lookup(key) is None or any(key in e for e in col.explained):
                continue
            col.hit([key], f"@{start + off}", "file-bytes", "bytes outside any parsed element")
        start = max(start, hi)
    return list(col.leaks.values()), col.weak


def search_bytes(data: bytes, rel: str, index: IdentifierIndex, show_values: bool) -> list[Leak]:
    """Leaks in a file that is not DICOM (a CSV map left behind, a text log, ...)."""
    col = _Collector(index, rel, show_values)
    for off, key in index.matcher.finditer(norm_bytes(data)):
        if key in col.explained:
            continue
        col.hit([key], f"@{off}", "file-bytes", "in a file that is not DICOM")
    return list(col.leaks.values())  # weak hits need a patient: a non-DICOM file has none


def search_names(rel_paths: Iterable[str], index: IdentifierIndex, show_values: bool,
                 ) -> tuple[list[Leak], list[tuple[Leak, bytes]]]:
    """Leaks in file and folder names (each folder reported once), and the weak hits
    (single words of names: leaks where a file below belongs to their patient)."""
    leaks: list[Leak] = []
    weak: list[tuple[Leak, bytes]] = []
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
            for key in [k for _, k in m.finditer(norm_text(part))]:
                info = index.lookup(key)
                if info is None:
                    continue
                src = sorted(info.sources)[0]
                leak = Leak(
                    path=where, location="file name" if is_file else "folder name", kind="path",
                    category=info.category, detail=f"{info.category} in a path component",
                    value=info.value if show_values else None, source=source_label(src),
                )
                if info.weak:
                    weak.append((leak, key))
                    continue
                leaks.append(leak)
                break
    return leaks, weak
