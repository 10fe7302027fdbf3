"""The two per-file passes of verify, written to run in worker processes.

Pass 1 (originals) builds a partial identifier index and the file records; pass 2 (outputs)
searches each file with the merged index and builds its record. Both take a chunk of paths
and return plain data, so a process pool can share the work across cores.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.dataset import Dataset

from pacsguard.dicom.fswalk import rel_posix
from pacsguard.dicom.reader import read_dicom_file
from pacsguard.dicom.settings import pydicom_scope
from pacsguard.dicom.tags import PIXEL_DATA, PIXEL_DATA_TAGS, is_overlay_group
from pacsguard.discover.elements import walk
from pacsguard.discover.findings import Leak
from pacsguard.discover.identifiers import IdentifierIndex
from pacsguard.discover.records import FileRecord, make_record
from pacsguard.discover.risk import pixel_risk
from pacsguard.discover.search import search_bytes, search_dicom
from pacsguard.errors import CorruptDicom, NotDicom

__all__ = ["IndexPart", "SearchPart", "index_chunk", "search_chunk", "set_worker_index"]


@dataclass
class IndexPart:
    """What pass 1 learnt from a chunk of originals."""

    index: IdentifierIndex = field(default_factory=IdentifierIndex)
    records: list[FileRecord] = field(default_factory=list)
    risky: set[str] = field(default_factory=set)


@dataclass
class SearchPart:
    """What pass 2 found in a chunk of outputs."""

    leaks: list[Leak] = field(default_factory=list)
    #: hits of weak identifiers, with their key: leaks only in their patients' files
    weak: list[tuple[Leak, bytes]] = field(default_factory=list)
    records: list[FileRecord] = field(default_factory=list)
    risky: set[str] = field(default_factory=set)
    #: rel -> structure signature (for sampling dciodvfy runs)
    shapes: dict[str, str] = field(default_factory=dict)
    dicom: int = 0
    other: int = 0


def index_chunk(root: str, paths: list[str], min_length: int) -> IndexPart:
    """Pass 1 over some originals."""
    index = IdentifierIndex(min_length=min_length)
    part = IndexPart()
    base = Path(root)
    with pydicom_scope():
        for name in paths:
            path = Path(name)
            try:
                df = read_dicom_file(path)
            except (NotDicom, CorruptDicom):
                continue
            elements = list(walk(df.ds))
            rel = rel_posix(path, base)
            record = make_record(df.ds, df.file_meta, rel, elements)
            index.add_dataset(df.ds, record.patient, elements)
            part.records.append(record)
            if _pixel_text_risk(df.ds):
                part.risky.add(rel)
    part.index = index.shed()
    return part


def _pixel_text_risk(ds: Dataset) -> bool:
    """Pixels worth reading for burned-in text: those deid calls risky (the one predicate,
    :func:`pacsguard.discover.risk.pixel_risk`), and any with an overlay plane."""
    if pixel_risk(ds) is not None:
        return True
    return any(t in ds for t in PIXEL_DATA_TAGS) and any(
        is_overlay_group(t.group) for t in list(ds.keys()))


_INDEX: IdentifierIndex | None = None
_SHOW = False
_ALL_PIXELS = False


def set_worker_index(index: IdentifierIndex, show_values: bool, all_pixels: bool) -> None:
    """Pool initializer: the merged index every pass-2 worker searches with."""
    global _INDEX, _SHOW, _ALL_PIXELS
    _INDEX, _SHOW, _ALL_PIXELS = index, show_values, all_pixels


def search_chunk(root: str, paths: list[str]) -> SearchPart:
    """Pass 2 over some outputs (after :func:`set_worker_index`)."""
    index = _INDEX
    assert index is not None, "set_worker_index was not called"
    part = SearchPart()
    base = Path(root)
    with pydicom_scope():
        for name in paths:
            path = Path(name)
            rel = rel_posix(path, base)
            try:
                df = read_dicom_file(path)
            except NotDicom:
                part.other += 1
                part.leaks.extend(search_bytes(path.read_bytes(), rel, index, _SHOW))
                continue
            except CorruptDicom:
                part.dicom += 1
                part.leaks.append(Leak(path=rel, location="file", kind="unreadable",
                                       detail="DICOM prefix but the dataset cannot be parsed"))
                part.leaks.extend(search_bytes(path.read_bytes(), rel, index, _SHOW))
                continue
            part.dicom += 1
            if df.damaged:
                part.leaks.append(Leak(path=rel, location="file", kind="unreadable",
                                       detail=df.damaged))
            elements = list(walk(df.ds))
            leaks, weak = search_dicom(df, rel, index, _SHOW, elements)
            part.leaks.extend(leaks)
            part.weak.extend(weak)
            part.records.append(make_record(df.ds, df.file_meta, rel, elements))
            shape = "|".join(f"{el.pattern}:{el.vr}:{0 if el.raw == b'' else 1}"
                             for el in elements)
            part.shapes[rel] = hashlib.blake2b(shape.encode(), digest_size=12).hexdigest()
            if _pixel_text_risk(df.ds) or (_ALL_PIXELS and PIXEL_DATA in df.ds):
                part.risky.add(rel)
    return part
